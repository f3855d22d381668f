"""The retention sweep end to end: a published data map, real stores, legal holds, the run recorded and audited."""

from __future__ import annotations

import datetime as dt
from pathlib import Path

import pytest
from sqlalchemy.orm import Session, sessionmaker

from charter.audit.services import AuditLog
from charter.core.crypto import Keyring
from charter.core.secrets import Secrets
from charter.retention import LegalHolds, RetentionRuns, RetentionSweep, TargetStatus
from tests.retention.estate import NOW, accounts, estate, visits


def _sweep(sessions: sessionmaker[Session], keyring: Keyring, secrets: Secrets, *,
           at: dt.datetime = NOW) -> RetentionSweep:
    return RetentionSweep(sessions, keyring, secrets, clock=lambda: at, chunk_size=3)


def test_every_rule_is_applied_and_a_second_sweep_finds_nothing(sessions: sessionmaker[Session], keyring: Keyring,
                                                                tmp_path: Path) -> None:
    with estate(sessions, keyring, tmp_path) as place:
        report = _sweep(sessions, keyring, place.secrets).run(place.controller_id, actor="test")
        by_key = {o.key: o for o in report.outcomes}
        assert (by_key["logs_db.visits"].rows_deleted, by_key["logs_db.visits"].status) == (8, TargetStatus.SWEEP)
        assert by_key["accounts_db.accounts"].rows_changed == 1  # Bob closed his account long ago; Cai last week
        assert [v["id"] for v in place.rows(visits)] == [12, 22, 32, 42]
        bob = next(a for a in place.rows(accounts) if a["id"] == 2)
        assert (bob["name"], bob["phone"]) == ("(erased)", None)
        assert str(bob["email"]).startswith("hmac:")
        assert next(a for a in place.rows(accounts) if a["id"] == 3)["email"] == "cai@example.com"
        again = _sweep(sessions, keyring, place.secrets, at=NOW + dt.timedelta(minutes=1)).run(place.controller_id,
                                                                                           actor="test")
        assert (again.rows_deleted, again.rows_changed, again.errors) == (0, 0, 0)
        with sessions() as session:
            runs = RetentionRuns(session).latest(place.controller_id)
            assert [r.id for r in runs] == [again.run_id, report.run_id]
            assert runs[1].rows_deleted == 8
            events = [e.action for e in AuditLog(session).events(place.controller_id)]
            assert events.count("retention.swept") == 2
            assert AuditLog(session).verify(place.controller_id).ok


def test_a_dry_run_counts_what_would_go_and_changes_nothing(sessions: sessionmaker[Session], keyring: Keyring,
                                                            tmp_path: Path) -> None:
    with estate(sessions, keyring, tmp_path) as place:
        report = _sweep(sessions, keyring, place.secrets).run(place.controller_id, dry_run=True, actor="test")
        assert (report.rows_deleted, report.rows_changed) == (8, 1)
        assert len(place.rows(visits)) == 12
        with sessions() as session:
            assert RetentionRuns(session).get(place.controller_id, report.run_id).is_dry_run
            assert AuditLog(session).events(place.controller_id)[0].action == "retention.swept_dry_run"


def test_legal_holds_keep_what_they_cover_and_are_reported(sessions: sessionmaker[Session], keyring: Keyring,
                                                           tmp_path: Path) -> None:
    with estate(sessions, keyring, tmp_path) as place:
        cid = place.controller_id
        with sessions() as session, session.begin():
            holds = LegalHolds(session, keyring)
            whole = holds.place(cid, dataset="accounts_db", reason="Court order 2025-17", actor="dpo",
                                expires_at=NOW + dt.timedelta(days=90)).id
            ann = holds.place(cid, dataset="logs_db", collection="visits", subject_id=place.subjects["ann@example.com"],
                              reason="Fraud investigation", actor="dpo", expires_at=NOW + dt.timedelta(days=90)).id
        report = _sweep(sessions, keyring, place.secrets).run(cid, actor="test")
        by_key = {o.key: o for o in report.outcomes}
        assert (by_key["accounts_db.accounts"].status, by_key["accounts_db.accounts"].holds) == (TargetStatus.HELD,
                                                                                               (whole,))
        assert by_key["logs_db.visits"].rows_deleted == 6  # Ann's two old visits are held
        assert [v["id"] for v in place.rows(visits)] == [10, 11, 12, 22, 32, 42]
        assert report.held == {"accounts_db.accounts": (whole,), "logs_db.visits": (ann,)}
        assert next(a for a in place.rows(accounts) if a["id"] == 2)["name"] == "Bob"


def test_an_expired_or_released_hold_no_longer_keeps_anything(sessions: sessionmaker[Session], keyring: Keyring,
                                                              tmp_path: Path) -> None:
    with estate(sessions, keyring, tmp_path) as place:
        cid = place.controller_id
        with sessions() as session, session.begin():
            holds = LegalHolds(session, keyring)
            holds.place(cid, dataset="logs_db", reason="Short review", actor="dpo",
                        expires_at=NOW + dt.timedelta(hours=1))
            released = holds.place(cid, dataset="accounts_db", reason="Lifted", actor="dpo",
                                   expires_at=NOW + dt.timedelta(days=9))
            holds.release(cid, released.id, actor="dpo")
        later = _sweep(sessions, keyring, place.secrets, at=NOW + dt.timedelta(hours=2)).run(cid, actor="test")
        assert (later.rows_deleted, later.rows_changed, later.held) == (8, 1, {})


@pytest.mark.parametrize("backend", ["postgresql", "mariadb"])
def test_other_stores_and_redis_are_swept_the_same_way(sessions: sessionmaker[Session], keyring: Keyring,
                                                       tmp_path: Path, backend: str) -> None:
    with estate(sessions, keyring, tmp_path, backend, with_redis=True) as place:
        report = _sweep(sessions, keyring, place.secrets).run(place.controller_id, actor="test")
        by_key = {o.key: o for o in report.outcomes}
        assert by_key["cache.sessions"].rows_deleted == 2
        assert place.session_keys() == ["session:2", "session:4"]
        assert by_key["logs_db.visits"].rows_deleted == 8
        assert report.errors == 0


def test_a_store_that_fails_is_reported_and_the_others_still_swept(sessions: sessionmaker[Session],
                                                                   keyring: Keyring, tmp_path: Path) -> None:
    with estate(sessions, keyring, tmp_path, with_redis=True) as place:
        environ = {k: v for k, v in place.secrets.environ.items() if not k.endswith("_REDIS")}
        report = _sweep(sessions, keyring, Secrets(environ=environ)).run(place.controller_id, actor="test")
        by_key = {o.key: o for o in report.outcomes}
        assert by_key["cache.sessions"].error is not None
        assert "is not set" in by_key["cache.sessions"].error
        assert by_key["logs_db.visits"].rows_deleted == 8
        assert report.errors == 1
