"""The request steps carried out in Charter's own records, for real: withdrawal through the consent ledger,
restriction (PIPL art. 47) proven with a real decision, cancellation restricting what retention keeps, erasure
leaving the ledger's anonymised tombstones and a decision log that no longer names the person, and the consent
history in the access bundle."""

from __future__ import annotations

import json
from pathlib import Path

from sqlalchemy import select
from sqlalchemy.orm import Session, sessionmaker

from charter.consent.models import ConsentEvent, ConsentState
from charter.consent.schemas import ConsentIn
from charter.consent.services import ConsentLedger
from charter.core.crypto import Keyring
from charter.core.db import utcnow
from charter.decisions.core import Question
from charter.decisions.decider import Decider
from charter.decisions.models import DecisionRecord
from charter.decisions.services import SqlDecisionSource, load_terms
from charter.requests.bundle import as_html, as_json, collect
from charter.requests.models import DataRequest, RequestTask
from charter.requests.staff import StaffDesk
from charter.subjects.services import SubjectDirectory
from tests.requests.world import World, shop_world


def _grant(world: World, purpose: str = "marketing") -> str:
    with world.sessions() as session, session.begin():
        terms = load_terms(session, world.cid, utcnow().date())
        return ConsentLedger(session, world.keyring).record(
            world.cid, ConsentIn(subject_id=world.ann, purpose=purpose, method="checkbox", channel="web"), terms,
            actor="host").record_id


def _decider(world: World) -> Decider:
    return Decider(SqlDecisionSource(world.sessions, world.keyring), refresh_every=0)


def _request(world: World, rid: str) -> DataRequest:
    with world.sessions() as session:
        found = session.get(DataRequest, rid)
        assert found is not None
        return found


def _records(world: World, rid: str) -> dict[str, dict[str, object]]:
    with world.sessions() as session:
        tasks = session.execute(select(RequestTask).where(RequestTask.request_id == rid)).scalars()
        return {t.operation: dict(t.record or {}) for t in tasks if t.collection is None}


def _finish_manual(world: World) -> None:
    with world.sessions() as session, session.begin():
        desk = StaffDesk(session, world.keyring, queue=world.worker)
        for manual in desk.manual_tasks(world.cid):
            desk.complete_manual_task(world.cid, manual.id, rows_affected=1, actor="staff")
    assert world.worker.wait_idle()


def test_withdrawal_request_withdraws_through_the_ledger_and_the_next_decision_denies(
        sessions: sessionmaker[Session], keyring: Keyring, tmp_path: Path) -> None:
    with shop_world(sessions, keyring, tmp_path) as world:
        _grant(world)
        decider = _decider(world)
        assert decider.decide(world.cid, world.ann, Question("marketing")).allowed
        rid, _token = world.submit_verified("withdrawal", purposes=["marketing", "payouts"])
        request = _request(world, rid)
        assert request.status == "completed"
        assert _records(world, rid)["withdraw"] == {"withdrawn": 1, "not_granted": 1}
        decider.refresh()
        denied = decider.decide(world.cid, world.ann, Question("marketing"))
        assert (denied.allowed, denied.reasons) == (False, ("consent_withdrawn",))
        with sessions() as session:
            ledger = ConsentLedger(session, keyring)
            history = ledger.history(world.cid, world.ann)
            assert [(e.action, e.purpose) for e in history] == [("grant", "marketing"), ("withdraw", "marketing")]
            assert history[1].notice == f"request:{request.reference}"
            assert history[1].request_id == request.reference
            assert ledger.verify(world.cid).ok
        decider.close()


def test_restriction_request_leaves_only_storage_and_security(sessions: sessionmaker[Session], keyring: Keyring,
                                                              tmp_path: Path) -> None:
    with shop_world(sessions, keyring, tmp_path) as world:
        _grant(world)
        rid, _token = world.submit_verified("restriction")
        assert _request(world, rid).status == "completed"
        assert _records(world, rid)["restrict"] == {"restricted": True}
        with sessions() as session:
            assert SubjectDirectory(session, keyring).flags(world.cid, world.ann).is_restricted
        decider = _decider(world)
        for purpose in ("marketing", "account"):
            denied = decider.decide(world.cid, world.ann, Question(purpose))
            assert not denied.allowed and "subject_restricted" in denied.reasons
        assert decider.decide(world.cid, world.ann, Question("marketing", kind="store")).allowed
        assert decider.decide(world.cid, world.ann, Question("account", kind="secure")).allowed
        decider.close()


def test_erasure_leaves_consent_tombstones_and_a_decision_log_without_the_person(
        sessions: sessionmaker[Session], keyring: Keyring, tmp_path: Path) -> None:
    with shop_world(sessions, keyring, tmp_path) as world:
        record_id = _grant(world)
        decider = _decider(world)
        assert decider.decide(world.cid, world.ann, Question("marketing")).is_logged
        assert decider.flush() == 1
        decider.close()
        rid, _token = world.submit_verified("erasure")
        _finish_manual(world)
        assert _request(world, rid).status == "completed_with_held_items"
        assert _records(world, rid)["tombstone_consent"] == {"consent_events": 1, "decisions": 1}
        with sessions() as session:
            event = session.execute(select(ConsentEvent).where(ConsentEvent.record_id == record_id)).scalar_one()
            assert (event.subject_id, event.salt, event.evidence_encrypted) == (None, None, None)
            assert event.erased_at is not None and event.subject_commitment
            assert session.execute(select(ConsentState).where(ConsentState.controller_id == world.cid,
                                                              ConsentState.subject_id == world.ann)).first() is None
            assert ConsentLedger(session, keyring).verify(world.cid).ok
            logged = session.execute(select(DecisionRecord).where(DecisionRecord.controller_id == world.cid)).scalars()
            assert [(d.subject_id, d.consent_record_id) for d in logged] == [(None, record_id)]
            # An erasure, not a cancellation: nothing is restricted.
            assert not SubjectDirectory(session, keyring).flags(world.cid, world.ann).is_restricted


def test_cancellation_restricts_what_retention_keeps(sessions: sessionmaker[Session], keyring: Keyring,
                                                     tmp_path: Path) -> None:
    with shop_world(sessions, keyring, tmp_path) as world:
        _grant(world)
        rid, _token = world.submit_verified("cancellation")
        _finish_manual(world)
        assert _request(world, rid).status == "completed_with_held_items"
        records = _records(world, rid)
        assert records["disable_login"] == {"webhook": False}
        assert records["restrict"] == {"restricted": True}
        assert records["tombstone_consent"]["consent_events"] == 1
        decider = _decider(world)
        used = decider.decide(world.cid, world.ann, Question("account"))
        assert not used.allowed and "subject_restricted" in used.reasons
        assert decider.decide(world.cid, world.ann, Question("account", kind="store")).allowed
        decider.close()


def test_access_bundle_carries_the_consent_history_in_json_and_html(sessions: sessionmaker[Session],
                                                                    keyring: Keyring, tmp_path: Path) -> None:
    with shop_world(sessions, keyring, tmp_path) as world:
        record_id = _grant(world)
        with sessions() as session, session.begin():
            terms = load_terms(session, world.cid, utcnow().date())
            ConsentLedger(session, keyring).record(world.cid, ConsentIn(
                subject_id=world.ann, purpose="marketing", action="withdraw"), terms, actor="host")
        rid, _token = world.submit_verified("access")
        _finish_manual(world)
        with sessions() as session:
            request = session.get(DataRequest, rid)
            assert request is not None and request.status == "completed"
            bundle = collect(session, keyring, request)
        history = as_json(bundle)["consent_history"]
        assert [(e["purpose"], e["action"]) for e in history] == [("marketing", "grant"), ("marketing", "withdraw")]
        assert history[0]["record_id"] == record_id and history[0]["channel"] == "web"
        json.dumps(history)
        html = as_html(bundle)
        assert "Your consent history" in html and "Marketing email" in html and "Withdrawn" in html


def test_a_decision_logged_before_an_erasure_but_written_after_it_does_not_name_the_person(
        sessions: sessionmaker[Session], keyring: Keyring, tmp_path: Path) -> None:
    """The decider writes its log in batches off the request path: a decision queued before the erasure and
    flushed after it (or posted late by an embedded decider) must not bring the erased person's id back. One
    made after the erasure, for the person's new relationship, still names them."""
    with shop_world(sessions, keyring, tmp_path) as world:
        record_id = _grant(world)
        decider = _decider(world)
        assert decider.decide(world.cid, world.ann, Question("marketing")).is_logged
        assert decider.pending() == 1  # queued, not written yet
        rid, _token = world.submit_verified("erasure")
        _finish_manual(world)
        assert _request(world, rid).status == "completed_with_held_items"
        assert decider.flush() == 1
        with sessions() as session:
            logged = session.execute(select(DecisionRecord).where(DecisionRecord.controller_id == world.cid)).scalars()
            assert [(d.subject_id, d.consent_record_id) for d in logged] == [(None, record_id)]
        again = _grant(world)  # the person comes back and consents anew
        decider.refresh()
        assert decider.decide(world.cid, world.ann, Question("marketing")).is_logged
        decider.close()
        with sessions() as session:
            logged = session.execute(select(DecisionRecord).where(DecisionRecord.controller_id == world.cid)
                                     .order_by(DecisionRecord.id)).scalars()
            assert [(d.subject_id, d.consent_record_id) for d in logged] == [(None, record_id), (world.ann, again)]
