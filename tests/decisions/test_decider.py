"""The in-process decider against Charter's own database: answers from memory, forgetting a subject the moment a
watched session commits a change, following other processes' changes on refresh, and the time an answer lasts."""

from __future__ import annotations

import datetime as dt

from sqlalchemy.orm import Session, sessionmaker

from charter.consent.schemas import ConsentIn
from charter.consent.services import ConsentLedger
from charter.core.crypto import Keyring
from charter.core.db import session_factory, transaction
from charter.decisions.core import Question
from charter.decisions.decider import Decider
from charter.decisions.services import SqlDecisionSource, load_terms
from charter.policy.services import PolicyStore
from charter.subjects.services import SubjectDirectory
from tests.factories import example_policy_text, make_controller


class Clock:
    def __init__(self) -> None:
        self.now = dt.datetime.now(dt.UTC).timestamp()

    def __call__(self) -> float:
        return self.now


def _person(sessions: sessionmaker[Session], keyring: Keyring) -> tuple[str, str]:
    with transaction(sessions) as s:
        cid = make_controller(s)
        PolicyStore(s).publish(cid, example_policy_text(cid), source="test", actor="test")
        subject = SubjectDirectory(s, keyring).resolve(cid, "email", "x@example.com", actor="test").id
    return cid, subject


def _grant(sessions: sessionmaker[Session], keyring: Keyring, cid: str, subject: str, **extra: object) -> None:
    with transaction(sessions) as s:
        terms = load_terms(s, cid, dt.date.today())
        ConsentLedger(s, keyring).record(cid, ConsentIn(subject_id=subject, purpose="analytics", **extra), terms,
                                         actor="test")


def test_watched_commits_reach_the_next_decision_and_others_reach_it_on_refresh(
        sessions: sessionmaker[Session], keyring: Keyring) -> None:
    cid, subject = _person(sessions, keyring)
    watched = session_factory(sessions.kw["bind"])
    decider = Decider(SqlDecisionSource(sessions, keyring))
    decider.watch(watched)
    decider.policy(cid)
    ask = Question("analytics")
    assert decider.decide(cid, subject, ask).reasons == ("no_consent",)
    _grant(watched, keyring, cid, subject)  # this process, through a watched factory: at once
    assert decider.decide(cid, subject, ask).allowed
    _grant(sessions, keyring, cid, subject, action="withdraw")  # "another process": not watched
    assert decider.decide(cid, subject, ask).allowed  # still the remembered answer
    decider.refresh()
    assert decider.decide(cid, subject, ask).reasons == ("consent_withdrawn",)
    with transaction(sessions) as s:
        SubjectDirectory(s, keyring).suspend(cid, subject, "user_report", actor="test")
    decider.refresh()
    assert decider.decide(cid, subject, Question("personalisation")).reasons == ("account_suspended", "no_consent")


def test_an_answer_lasts_until_the_consent_ends(sessions: sessionmaker[Session], keyring: Keyring) -> None:
    cid, subject = _person(sessions, keyring)
    clock = Clock()
    decider = Decider(SqlDecisionSource(sessions, keyring), clock=clock)
    _grant(sessions, keyring, cid, subject,
           valid_until=dt.datetime.fromtimestamp(clock.now, dt.UTC) + dt.timedelta(hours=1))
    assert decider.decide(cid, subject, Question("analytics")).allowed
    assert decider.cached(cid, subject, Question("analytics")) is not None
    clock.now += 3601
    assert decider.cached(cid, subject, Question("analytics")) is None
    assert decider.decide(cid, subject, Question("analytics")).reasons == ("consent_expired",)


def test_a_new_policy_version_is_compiled_once_it_takes_effect(
        sessions: sessionmaker[Session], keyring: Keyring) -> None:
    cid, subject = _person(sessions, keyring)
    _grant(sessions, keyring, cid, subject)
    clock = Clock()
    decider = Decider(SqlDecisionSource(sessions, keyring), clock=clock)
    assert decider.decide(cid, subject, Question("analytics")).allowed
    tomorrow = (dt.datetime.fromtimestamp(clock.now, dt.UTC) + dt.timedelta(days=1)).date()

    def widen(doc: dict[str, object]) -> None:
        purposes = doc["purposes"]
        assert isinstance(purposes, list)
        next(p for p in purposes if p["id"] == "analytics")["categories"].append("identity.ip")

    with transaction(sessions) as s:
        PolicyStore(s).publish(cid, example_policy_text(cid, version="next", effective=tomorrow.isoformat(),
                                                        edit=widen), source="test", actor="test")
    decider.refresh()
    assert decider.decide(cid, subject, Question("analytics")).allowed  # not in force yet
    clock.now += 86400
    answer = decider.decide(cid, subject, Question("analytics"))
    assert (answer.allowed, answer.reasons) == (False, ("needs_reconsent",))
