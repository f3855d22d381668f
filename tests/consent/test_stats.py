"""Consent statistics on real databases (SQLite and PostgreSQL): the counts the database gives match a replay of the
ledger in Python, re-consent after a change that needed fresh consent counts re-grants only by the same person
after the change, a guardian's grant counts as a grant, an erased person is never a re-grant, and the period
filter bounds events but not what stands granted now."""

from __future__ import annotations

import datetime as dt
from collections import Counter
from dataclasses import dataclass
from typing import Any

import yaml
from sqlalchemy import select
from sqlalchemy.orm import Session, sessionmaker

from charter.consent.models import ConsentEvent
from charter.consent.schemas import ConsentIn, GuardianIn
from charter.consent.services import ConsentLedger
from charter.consent.stats import ConsentStatistics, consent_statistics
from charter.core.crypto import Keyring
from charter.core.db import transaction, utcnow
from charter.decisions.services import load_terms
from charter.policy.services import PolicyStore
from charter.subjects.services import SubjectDirectory
from tests.factories import make_controller, policy_text

GUARDIAN = {"name": "Parent", "relationship": "parent", "contact": "parent@example.com",
            "verification_method": "id_document", "verified_at": "2024-05-01T10:00:00+00:00", "rules_version": "1.0"}


def widened(controller_id: str) -> str:
    """Version 2.0: marketing now also uses the person's name, a change that needs fresh consent for it."""
    doc: dict[str, Any] = yaml.safe_load(policy_text(controller_id, "2.0", effective="2024-06-01"))
    doc["categories"].append({"id": "contact.name", "label": {"zh": "姓名", "en": "Name"}})
    next(p for p in doc["purposes"] if p["id"] == "marketing")["categories"].append("contact.name")
    return yaml.safe_dump(doc, allow_unicode=True, sort_keys=False)


@dataclass(frozen=True)
class Ledger:
    controller_id: str
    people: list[str]


def _record(sessions: sessionmaker[Session], keyring: Keyring, cid: str, *events: tuple[str, str, str]) -> None:
    with transaction(sessions) as s:
        terms = load_terms(s, cid, dt.date.today())
        items = [ConsentIn(subject_id=who, purpose=purpose, action=action,  # type: ignore[arg-type]
                           guardian=GuardianIn.model_validate(GUARDIAN) if action == "guardian_grant" else None)
                 for who, purpose, action in events]
        ConsentLedger(s, keyring).record_many(cid, items, terms, actor="test")


def _ledger(sessions: sessionmaker[Session], keyring: Keyring) -> Ledger:
    """Seven people choose under 1.0; 2.0 widens marketing; the sweep sets aside the four standing marketing
    grants; two of those four grant again, one refuses; one other is erased."""
    with transaction(sessions) as s:
        cid = make_controller(s)
        PolicyStore(s).publish(cid, policy_text(cid, "1.0"), source="test", actor="test")
        directory = SubjectDirectory(s, keyring)
        people = [directory.resolve(cid, "email", f"p{n}@example.com", actor="test").id for n in range(7)]
    p = people
    _record(sessions, keyring, cid, *[(who, "marketing", "grant") for who in p[:5]], (p[5], "marketing", "refuse"),
            (p[1], "marketing", "withdraw"), (p[0], "payouts", "grant"), (p[2], "payouts", "grant"),
            (p[3], "payouts", "refuse"), (p[6], "payouts", "guardian_grant"))
    with transaction(sessions) as s:
        PolicyStore(s).publish(cid, widened(cid), source="test", actor="test")
    with transaction(sessions) as s:
        superseded = ConsentLedger(s, keyring).supersede_outdated(cid, load_terms(s, cid, dt.date.today()),
                                                                  actor="test")
        assert sorted(r.subject_id for r in superseded) == sorted([p[0], p[2], p[3], p[4]])
    _record(sessions, keyring, cid, (p[0], "marketing", "grant"), (p[3], "marketing", "grant"),
            (p[2], "marketing", "refuse"), (p[5], "marketing", "grant"))
    with transaction(sessions) as s:
        ConsentLedger(s, keyring).erase_subject(cid, p[4], actor="test")
    return Ledger(cid, people)


def _stats(sessions: sessionmaker[Session], cid: str, **period: dt.datetime) -> ConsentStatistics:
    with sessions() as s:
        return consent_statistics(s, cid, now=utcnow(), **period)


def _replayed(sessions: sessionmaker[Session], cid: str) -> dict[tuple[str, str], int]:
    """The oracle: (purpose, action) counts from the ledger's rows, counted in Python."""
    with sessions() as s:
        rows = s.execute(select(ConsentEvent.purpose, ConsentEvent.action)
                         .where(ConsentEvent.controller_id == cid)).all()
    return dict(Counter((purpose, action) for purpose, action in rows))


def test_the_counts_match_a_replay_of_the_ledger(sessions: sessionmaker[Session], keyring: Keyring) -> None:
    world = _ledger(sessions, keyring)
    stats = _stats(sessions, world.controller_id)
    replay = _replayed(sessions, world.controller_id)
    for purpose in ("marketing", "payouts"):
        counts = stats.counts(purpose)
        assert counts.grants == replay.get((purpose, "grant"), 0) + replay.get((purpose, "guardian_grant"), 0)
        assert counts.guardian_grants == replay.get((purpose, "guardian_grant"), 0)
        assert counts.refusals == replay.get((purpose, "refuse"), 0)
        assert counts.withdrawals == replay.get((purpose, "withdraw"), 0)
    marketing, payouts = stats.counts("marketing"), stats.counts("payouts")
    assert (marketing.grants, marketing.refusals, marketing.withdrawals) == (8, 2, 1)
    assert (payouts.grants, payouts.guardian_grants, payouts.refusals) == (3, 1, 1)
    # Standing now: marketing re-granted by p0 and p3, granted fresh by p5 (who had refused); payouts p0, p2, p6.
    assert (marketing.granted_now, payouts.granted_now) == (3, 3)


def test_the_reconsent_rate_counts_regrants_by_the_same_person_after_the_change(
        sessions: sessionmaker[Session], keyring: Keyring) -> None:
    world = _ledger(sessions, keyring)
    [rate] = _stats(sessions, world.controller_id).reconsent
    # Asked: p0, p2, p3, p4. Re-granted: p0 and p3. p2 refused; p4 was erased; p5 granted but was never asked.
    assert (rate.purpose, rate.policy_version, rate.asked, rate.regranted) == ("marketing", "2.0", 4, 2)
    assert rate.rate == 0.5


def test_the_period_bounds_events_but_not_what_stands_now(sessions: sessionmaker[Session], keyring: Keyring) -> None:
    world = _ledger(sessions, keyring)
    now = utcnow()
    before = _stats(sessions, world.controller_id, until=now - dt.timedelta(days=1))
    after = _stats(sessions, world.controller_id, since=now + dt.timedelta(days=1))
    inside = _stats(sessions, world.controller_id, since=now - dt.timedelta(days=1), until=now + dt.timedelta(days=1))
    for stats in (before, after):
        marketing = stats.counts("marketing")
        assert (marketing.grants, marketing.refusals, marketing.withdrawals) == (0, 0, 0)
        assert marketing.granted_now == 3
        assert stats.reconsent == []
    assert inside.counts("marketing") == _stats(sessions, world.controller_id).counts("marketing")
    assert [(r.asked, r.regranted) for r in inside.reconsent] == [(4, 2)]


def test_another_controllers_ledger_is_not_counted(sessions: sessionmaker[Session], keyring: Keyring) -> None:
    _ledger(sessions, keyring)
    with transaction(sessions) as s:
        empty = make_controller(s)
    stats = _stats(sessions, empty)
    assert stats.purposes == {} and stats.reconsent == []
