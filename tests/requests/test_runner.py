"""Requests carried out for real: the shop's tables (SQLite, PostgreSQL, MariaDB), the in-process worker, the
outbox, and the audit chain."""

from __future__ import annotations

import datetime as dt
import json
import threading
import time
import zipfile
from io import BytesIO
from pathlib import Path

import psycopg
import pytest
from sqlalchemy import Engine, create_engine, event, text, update
from sqlalchemy.exc import DBAPIError
from sqlalchemy.orm import Session, sessionmaker

from charter.audit.models import AuditEvent
from charter.audit.services import AuditLog
from charter.core.crypto import Keyring
from charter.core.errors import CharterError
from charter.disclosures.services import DisclosureLog
from charter.requests import tasks as tasks_module
from charter.requests.bundle import as_csv, as_html, as_json, as_zip, collect
from charter.requests.models import DataRequest, RecipientNotice, RequestTask
from charter.requests.planning import Operation
from charter.requests.runner import Batch, Carried, Claim, TaskRunner
from charter.requests.staff import StaffDesk
from charter.requests.status import describe
from tests.connectors.shop_tables import customers, order_items, orders, table_rows
from tests.requests.world import ANN_EMAIL, World, shop_world
from tests.statements import statements_run


def _request(world: World, rid: str) -> DataRequest:
    with world.sessions() as session:
        found = session.get(DataRequest, rid)
        assert found is not None
        return found


def _rename_street(world: World, old: str, new: str) -> None:
    """Make the data map name a column the shop's table no longer has (or has again)."""
    engine = create_engine(world.shop_url)
    with engine.begin() as conn:
        conn.execute(text(f"ALTER TABLE addresses RENAME COLUMN {old} TO {new}"))
    engine.dispose()


def _finish_manual(world: World) -> None:
    with world.sessions() as session, session.begin():
        desk = StaffDesk(session, world.keyring, queue=world.worker)
        for manual in desk.manual_tasks(world.cid):
            desk.complete_manual_task(world.cid, manual.id, rows_affected=1, actor="staff")
    assert world.worker.wait_idle()


@pytest.mark.parametrize("backend", ["sqlite", "postgresql", "mariadb"])
def test_erasure_runs_across_the_store_holds_what_retention_locks_and_tells_the_person(
        sessions: sessionmaker[Session], keyring: Keyring, tmp_path: Path, backend: str) -> None:
    with shop_world(sessions, keyring, tmp_path, backend=backend) as world:
        with sessions() as session, session.begin():
            DisclosureLog(session).record(world.cid, world.ann, recipient_id="mailer", categories=["contact.email"],
                                          actor="host")
        rid, _token = world.submit_verified("erasure")
        assert _request(world, rid).status == "executing"  # the manual archive waits for staff
        _finish_manual(world)
        request = _request(world, rid)
        assert request.status == "completed_with_held_items"
        ann = next(r for r in table_rows(world.shop_url, customers) if r["id"] == 1)
        assert ann["email"].startswith("hmac:") and ann["phone"] is None and ann["name"] == "(erased)"
        assert str(ann["birth_date"]) == "1990-01-01"
        kept = [r for r in table_rows(world.shop_url, orders) if r["customer_id"] == 1]
        assert {str(r["total"]) for r in kept} == {"99.50", "10.00"} and all(r["note"] is None for r in kept)
        bob = next(r for r in table_rows(world.shop_url, customers) if r["id"] == 2)
        assert bob["email"] == "bob@example.com"
        with sessions() as session:
            status = describe(session, keyring, request, for_staff=False)
            assert {(h.collection, h.field) for h in status.held_items} == {
                ("shop_db.orders", "total"), ("archive.contracts", "phone")}
            assert "ten years" in status.held_items[0].reason
            notices = session.query(RecipientNotice).filter_by(request_id=rid).all()
            assert [(n.recipient_id, n.action) for n in notices] == [("mailer", "erasure")]
            assert AuditLog(session).verify(world.cid).ok
            completed = session.query(AuditEvent).filter_by(controller_id=world.cid, action="request.completed")
            assert completed.count() == 1
        assert world.templates().count("request_completed") == 1
        assert "recipient_notice" in world.templates()


def test_running_a_finished_task_again_changes_nothing_and_records_nothing(sessions: sessionmaker[Session],
                                                                          keyring: Keyring, tmp_path: Path) -> None:
    with shop_world(sessions, keyring, tmp_path) as world:
        rid, _ = world.submit_verified("erasure")
        _finish_manual(world)
        before = table_rows(world.shop_url, customers)
        with sessions() as session:
            task_ids = [t.id for t in session.query(RequestTask).filter_by(request_id=rid)]
            events = session.query(AuditEvent).filter_by(controller_id=world.cid).count()
        runner = TaskRunner(sessions, keyring, world.worker.runner.pool)
        for task_id in task_ids:
            runner.run(task_id)
        assert table_rows(world.shop_url, customers) == before
        with sessions() as session:
            assert session.query(AuditEvent).filter_by(controller_id=world.cid).count() == events


def test_a_task_interrupted_after_its_write_is_run_again_without_double_effect(
        sessions: sessionmaker[Session], keyring: Keyring, tmp_path: Path) -> None:
    """A worker that died after erasing but before recording: the lease runs out and the sweeper's re-run erases
    nothing more (the strategies are fixed points), then the request completes once."""
    with shop_world(sessions, keyring, tmp_path) as world:
        rid, _ = world.submit_verified("erasure")
        with sessions() as session, session.begin():
            # Pretend the customers' erasure ran but its worker died before settling.
            task = session.query(RequestTask).filter_by(request_id=rid, operation="erase",
                                                        collection="shop_db.customers").one()
            session.execute(update(RequestTask).where(RequestTask.id == task.id).values(
                status="running", lease_until=dt.datetime.now(dt.UTC) - dt.timedelta(seconds=1)))
            task_id = task.id
        before = table_rows(world.shop_url, customers)
        runner = world.worker.runner
        runner.run(task_id)
        _finish_manual(world)
        assert _request(world, rid).status == "completed_with_held_items"
        with sessions() as session:
            assert session.get(RequestTask, task_id).attempts == 2  # type: ignore[union-attr]
        assert table_rows(world.shop_url, customers) == before


def test_access_builds_a_bundle_with_json_csv_and_a_report_in_the_persons_language(
        sessions: sessionmaker[Session], keyring: Keyring, tmp_path: Path) -> None:
    with shop_world(sessions, keyring, tmp_path) as world:
        with sessions() as session, session.begin():
            DisclosureLog(session).record(world.cid, world.ann, recipient_id="mailer", categories=["contact.email"],
                                          actor="host")
        rid, _ = world.submit_verified("access")
        _finish_manual(world)
        with sessions() as session:
            request = session.get(DataRequest, rid)
            assert request is not None and request.status == "completed"
            bundle = collect(session, keyring, request)
        data = as_json(bundle)
        assert data["collections"]["shop_db.customers"][0]["email"] == ANN_EMAIL
        assert len(data["collections"]["shop_db.order_items"]) == 3
        assert data["recipients"][0]["name"] == "Mail provider"
        assert "shop_db.orders.csv" in as_csv(bundle)
        html = as_html(bundle)
        assert "A copy of your personal data" in html and "Who received your data" in html
        names = zipfile.ZipFile(BytesIO(as_zip(bundle))).namelist()
        assert {"bundle.json", "report.html", "csv/shop_db.customers.csv"} <= set(names)
        assert ANN_EMAIL not in json.dumps(_audit(world))


def _audit(world: World) -> list[dict[str, object]]:
    with world.sessions() as session:
        return [e.data for e in session.query(AuditEvent).filter_by(controller_id=world.cid)]


def test_rectification_is_propagated_to_every_store_and_recipient(sessions: sessionmaker[Session],
                                                                 keyring: Keyring, tmp_path: Path) -> None:
    with shop_world(sessions, keyring, tmp_path) as world:
        with sessions() as session, session.begin():
            DisclosureLog(session).record(world.cid, world.ann, recipient_id="mailer", categories=["contact.email"],
                                          actor="host")
        rid, _ = world.submit_verified("rectification", category="contact.name", value="Ann Lee")
        assert _request(world, rid).status == "completed"
        assert next(r for r in table_rows(world.shop_url, customers) if r["id"] == 1)["name"] == "Ann Lee"
        with sessions() as session:
            assert session.query(RecipientNotice).filter_by(request_id=rid, action="rectification").count() == 1


def test_a_map_naming_a_missing_column_fails_the_request_with_a_clear_error(
        sessions: sessionmaker[Session], keyring: Keyring, tmp_path: Path) -> None:
    with shop_world(sessions, keyring, tmp_path) as world:
        _rename_street(world, "street", "street_line")
        rid, _ = world.submit_verified("erasure")
        request = _request(world, rid)
        assert request.status == "failed"
        assert request.error_code == "datamap_missing_column"
        assert "street" in (request.error_message or "") and "shop_db.addresses" in (request.error_message or "")
        with sessions() as session:
            status = describe(session, keyring, request, for_staff=True)
            assert status.error and status.tasks is not None
            assert any(t.status == "failed" for t in status.tasks)


def test_refusal_needs_an_enumerated_ground_and_is_told_to_the_person(sessions: sessionmaker[Session],
                                                                      keyring: Keyring, tmp_path: Path) -> None:
    with shop_world(sessions, keyring, tmp_path) as world:
        with sessions() as session, session.begin():
            desk = StaffDesk(session, keyring, queue=world.worker)
            desk.set_needs_approval(world.cid, True, actor="staff")
        rid, _ = world.submit_verified("erasure")
        assert _request(world, rid).status == "identity_verified"
        with sessions() as session, pytest.raises(CharterError) as err:
            StaffDesk(session, keyring).requests.refuse(world.cid, rid, ground=None, actor="staff")
        assert err.value.field == "ground" and "national_security" in err.value.fix
        with sessions() as session, pytest.raises(CharterError, match="not a refusal ground"):
            StaffDesk(session, keyring).requests.refuse(world.cid, rid, ground="trade_secret", actor="staff")
        with sessions() as session, session.begin():
            StaffDesk(session, keyring).requests.refuse(world.cid, rid, ground="national_security", actor="staff")
        assert _request(world, rid).status == "refused"
        assert "request_refused" in world.templates()


def test_an_unknown_person_gets_the_same_answer_and_no_code(sessions: sessionmaker[Session], keyring: Keyring,
                                                           tmp_path: Path) -> None:
    with shop_world(sessions, keyring, tmp_path) as world:
        answers = []
        for email in (ANN_EMAIL, "nobody@example.com"):
            with sessions() as session, session.begin():
                submitted = world.service(session).submit(world.cid, kind="access", identity_kind="email",
                                                          identity_value=email, actor="t")
                answers.append((submitted.request.status, submitted.token, submitted.request.due_on))
        assert answers[0] == answers[1]
        assert world.templates() == ["verification_code"]
        with sessions() as session, pytest.raises(CharterError, match="unknown identity type"):
            world.service(session).submit(world.cid, kind="access", identity_kind="fax", identity_value="1",
                                          actor="t")


def test_due_dates_follow_the_jurisdiction_and_hk_needs_a_written_reason(sessions: sessionmaker[Session],
                                                                        keyring: Keyring, tmp_path: Path) -> None:
    with shop_world(sessions, keyring, tmp_path, jurisdictions=["CN", "HK"]) as hk:
        with sessions() as session, session.begin():
            StaffDesk(session, keyring).set_needs_approval(hk.cid, True, actor="t")
        rid, _ = hk.submit_verified("access")
        request = _request(hk, rid)
        assert request.jurisdictions == ["CN", "HK"] and (request.due_on - request.received_on).days <= 40
        assert request.due_rule  # the earliest of the two regimes' deadlines
        with sessions() as session:
            late = describe(session, keyring, request, for_staff=True, today=request.due_on - dt.timedelta(days=3))
            assert late.needs_late_reason and not late.is_overdue
        with sessions() as session, session.begin():
            StaffDesk(session, keyring).requests.record_late_reason(hk.cid, rid, "Archive retrieval takes longer",
                                                                    actor="staff")
        with sessions() as session:
            request = _request(hk, rid)
            after = describe(session, keyring, request, for_staff=True, today=request.due_on + dt.timedelta(days=1))
            assert not after.needs_late_reason and after.is_overdue and after.late_reason_recorded


def _aware(at: dt.datetime) -> dt.datetime:
    return at if at.tzinfo is not None else at.replace(tzinfo=dt.UTC)


def _tasks(world: World, rid: str) -> list[RequestTask]:
    with world.sessions() as session:
        return list(session.query(RequestTask).filter_by(request_id=rid).order_by(RequestTask.position))


def test_the_access_pass_is_stored_before_anything_is_erased_and_every_task_is_audited_once(
        sessions: sessionmaker[Session], keyring: Keyring, tmp_path: Path) -> None:
    """Store tasks run in batches, but a batch never erases after a retrieve: the keys later lookups need are
    recorded before the first change, so a crash cannot lose them."""
    with shop_world(sessions, keyring, tmp_path) as world:
        rid, _ = world.submit_verified("erasure")
        _finish_manual(world)
        tasks = _tasks(world, rid)
        reads = [t for t in tasks if t.operation == "retrieve"]
        changes = [t for t in tasks if t.operation == "erase" and t.record and not t.record.get("manual")]
        assert reads and changes and all(t.result_encrypted for t in reads)
        assert max(_aware(t.finished_at) for t in reads if t.finished_at) <= min(
            _aware(t.started_at) for t in changes if t.started_at)
        assert all(t.attempts == 1 for t in tasks)
        with sessions() as session:
            done = session.query(AuditEvent).filter_by(controller_id=world.cid, action="request.task_done",
                                                       target=f"request:{rid}").all()
            assert sorted(int(e.data["task"]) for e in done) == sorted(  # type: ignore[call-overload]
                t.position for t in tasks if not (t.record or {}).get("manual"))
            assert AuditLog(session).verify(world.cid).ok


def test_a_first_batch_that_only_reads_starts_before_its_claim_commits_and_settles_after(
        sessions: sessionmaker[Session], keyring: Keyring, tmp_path: Path) -> None:
    """The access pass starts while the planning transaction is still open (its reads overlap the rest of it), is
    settled only once that commits, and is dropped, recording nothing, if it rolls back."""
    with shop_world(sessions, keyring, tmp_path) as world:
        with sessions() as session, session.begin():
            rid = world.service(session).submit(world.cid, kind="access", identity_kind="email",
                                                identity_value=ANN_EMAIL, language="en", actor="t").request.id
        code = world.last_code()

        class Undone(Exception):
            pass

        with pytest.raises(Undone), sessions() as session, session.begin():
            world.service(session).verify(world.cid, rid, code, actor="t")
            assert not world.worker.wait_idle(0.3)  # its first batch is under way, waiting for this commit
            raise Undone
        assert world.worker.wait_idle(10)  # dropped at the rollback, not left waiting for its lease
        assert _request(world, rid).status == "received" and _tasks(world, rid) == []
        with sessions() as session, session.begin():
            world.service(session).verify(world.cid, rid, code, actor="t")
            assert not world.worker.wait_idle(0.3)
            assert _tasks(world, rid) == []  # written, claimed and read from, but not visible before the commit
        assert world.worker.wait_idle(30)
        _finish_manual(world)  # the shop keeps one store staff must read
        tasks = _tasks(world, rid)
        assert _request(world, rid).status == "completed" and tasks and all(
            t.status == "done" and t.attempts == 1 for t in tasks)
        with sessions() as session:
            assert AuditLog(session).verify(world.cid).ok


def _submit_as_ann(world: World, kind: str) -> str:
    """Submit as Ann, not verified yet; the request's id."""
    with world.sessions() as session, session.begin():
        return world.service(session).submit(world.cid, kind=kind, identity_kind="email", identity_value=ANN_EMAIL,
                                             language="en", actor="t").request.id


def _submit_and_verify(world: World, kind: str) -> str:
    """Submit as Ann and verify in a second transaction (where the request is planned); its id."""
    rid = _submit_as_ann(world, kind)
    with world.sessions() as session, session.begin():
        world.service(session).verify(world.cid, rid, world.last_code(), actor="t")
    return rid


def test_a_first_batch_done_before_its_planning_transaction_ends_is_settled_in_it(
        sessions: sessionmaker[Session], keyring: Keyring, tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    """The access pass starts at its claim; the planning transaction waits for it at its end and records it itself,
    so when that transaction has committed every read is recorded, with no transaction of the worker's."""
    monkeypatch.setattr(tasks_module, "INLINE_WAIT", 30.0)  # however slow the machine, the reads end within it
    with shop_world(sessions, keyring, tmp_path) as world:
        committed_by: list[str] = []

        def count(_session: Session) -> None:
            committed_by.append(threading.current_thread().name)

        event.listen(Session, "after_commit", count)
        try:
            rid = _submit_and_verify(world, "access")
            reads = [t for t in _tasks(world, rid) if t.operation == "retrieve"]  # before the worker is waited for
            assert reads and all(t.status in ("done", "waiting") and t.attempts == 1 for t in reads)
            assert world.worker.wait_idle(30)
        finally:
            event.remove(Session, "after_commit", count)
        assert not [name for name in committed_by if name.startswith("charter-requests")]
        with sessions() as session:
            events = session.query(AuditEvent).filter_by(controller_id=world.cid, action="request.task_done").all()
            assert len([e for e in events if e.target == f"request:{rid}"]) == len(
                [t for t in reads if t.status == "done"])
        _finish_manual(world)
        assert _request(world, rid).status == "completed"
        assert all(t.attempts == 1 for t in _tasks(world, rid))
        with sessions() as session:
            assert AuditLog(session).verify(world.cid).ok


def test_a_first_batch_slower_than_the_wait_is_settled_by_the_worker_after_the_commit(
        sessions: sessionmaker[Session], keyring: Keyring, tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    """A store that does not answer within the wait leaves the planning transaction free to commit; the worker
    records the reads when they come. An erasure's changes start only after its access pass is recorded."""
    monkeypatch.setattr(tasks_module, "INLINE_WAIT", 0.2)
    with shop_world(sessions, keyring, tmp_path, backend="postgresql") as world:
        locker = psycopg.connect(world.shop_url.replace("postgresql+psycopg://", "postgresql://"))
        try:
            locker.execute("LOCK TABLE customers IN ACCESS EXCLUSIVE MODE")  # the reads wait for this
            rid = _submit_and_verify(world, "erasure")
            assert _request(world, rid).status == "executing"
            assert not any(t.status == "done" for t in _tasks(world, rid))
        finally:
            locker.rollback()
            locker.close()
        assert world.worker.wait_idle(30)
        _finish_manual(world)
        assert _request(world, rid).status == "completed_with_held_items"
        done = _tasks(world, rid)
        last_read = max(t.finished_at for t in done if t.operation == "retrieve" and t.finished_at)
        assert all(t.started_at and t.started_at >= last_read for t in done if t.operation == "erase")
        with sessions() as session:
            assert AuditLog(session).verify(world.cid).ok


def _shop(world: World) -> list[list[dict[str, object]]]:
    """The shop's orders and order lines, whatever order the database returns them in."""
    return [sorted(table_rows(world.shop_url, table), key=repr) for table in (orders, order_items)]


def test_an_erasure_run_before_its_planning_transaction_commits_keeps_nothing_if_that_rolls_back(
        sessions: sessionmaker[Session], keyring: Keyring, tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    """The access pass is settled where the erasure is planned, and the erasures start at once, but the stores
    commit them only after that transaction commits: they are under way (the rows they changed are locked), and a
    rollback leaves the shop's data, and Charter's, as they were."""
    monkeypatch.setattr(tasks_module, "INLINE_WAIT", 30.0)
    with shop_world(sessions, keyring, tmp_path, backend="postgresql") as world:
        rid = _submit_as_ann(world, "erasure")
        before = _shop(world)
        other = psycopg.connect(world.shop_url.replace("postgresql+psycopg://", "postgresql://"), autocommit=True)
        other.execute("SET lock_timeout = '200ms'")

        class Undone(Exception):
            pass

        try:
            with pytest.raises(Undone), sessions() as session, session.begin():
                world.service(session).verify(world.cid, rid, world.last_code(), actor="t")
                with pytest.raises(psycopg.errors.LockNotAvailable):  # the erasure holds Ann's order
                    for _ in range(100):  # until the erasure has reached the orders
                        other.execute("UPDATE orders SET note = note WHERE id = 'o1'")
                        time.sleep(0.05)
                assert _shop(world) == before
                raise Undone
        finally:
            other.close()
        assert world.worker.wait_idle(30)
        assert _shop(world) == before
        assert _request(world, rid).status == "received" and _tasks(world, rid) == []


def test_an_erasure_claims_its_changes_before_recording_its_access_pass_and_reads_back_none_of_its_rows(
        engine: Engine, sessions: sessionmaker[Session], keyring: Keyring, tmp_path: Path,
        monkeypatch: pytest.MonkeyPatch) -> None:
    """The planning transaction knows the tasks it wrote: settling the access pass in it reads neither them nor the
    request back, and the erasures are claimed (and start) before the access pass is recorded."""
    monkeypatch.setattr(tasks_module, "INLINE_WAIT", 30.0)
    with shop_world(sessions, keyring, tmp_path) as world:
        rid = _submit_as_ann(world, "erasure")
        with statements_run(engine) as seen, sessions() as session, session.begin():
            world.service(session).verify(world.cid, rid, world.last_code(), actor="t")
            planning = list(seen)  # this transaction's, before it commits: the worker has written nothing yet
        assert world.worker.wait_idle(30)
        _finish_manual(world)
        assert _request(world, rid).status == "completed_with_held_items"
        with sessions() as session:
            assert AuditLog(session).verify(world.cid).ok
    written = next(i for i, sql in enumerate(planning) if sql.startswith("INSERT INTO request_tasks"))
    claim = next(i for i, sql in enumerate(planning) if "attempts=(request_tasks.attempts +" in sql)
    record = next(i for i, sql in enumerate(planning) if "result_encrypted=" in sql)
    assert written < claim < record
    read_back = [sql for sql in planning[written:] if sql.startswith("SELECT") and (
        "FROM request_tasks" in sql or "FROM requests" in sql)]
    assert read_back == []


def test_a_planning_transaction_that_fails_after_its_erasures_started_leaves_them_nothing_to_wait_for(
        engine: Engine, sessions: sessionmaker[Session], keyring: Keyring, tmp_path: Path,
        monkeypatch: pytest.MonkeyPatch) -> None:
    """Recording the access pass fails after the erasures it claimed have started: they roll back at once (not
    after the minute they would wait to hear of a commit), and the shop's data and Charter's stay as they were."""
    monkeypatch.setattr(tasks_module, "INLINE_WAIT", 30.0)
    with shop_world(sessions, keyring, tmp_path, backend="postgresql") as world:
        rid = _submit_as_ann(world, "erasure")
        before = _shop(world)
        with engine.begin() as conn:
            for statement in _REFUSE_RECORDED_READS[engine.dialect.name]:
                conn.execute(text(statement))
        try:
            with pytest.raises(DBAPIError, match="refused by the test"), sessions() as session, session.begin():
                world.service(session).verify(world.cid, rid, world.last_code(), actor="t")
            assert world.worker.wait_idle(10)
        finally:
            with engine.begin() as conn:
                conn.execute(text("DROP TRIGGER refuse_recorded_reads" +
                                  (" ON request_tasks" if engine.dialect.name == "postgresql" else "")))
        assert _shop(world) == before
        assert _request(world, rid).status == "received" and _tasks(world, rid) == []


_REFUSE_RECORDED_READS = {
    "sqlite": ["CREATE TRIGGER refuse_recorded_reads BEFORE UPDATE OF result_encrypted ON request_tasks "
               "WHEN NEW.result_encrypted IS NOT NULL BEGIN SELECT RAISE(ABORT, 'refused by the test'); END"],
    "postgresql": ["CREATE OR REPLACE FUNCTION refuse_recorded_reads() RETURNS trigger AS $$ BEGIN "
                   "RAISE EXCEPTION 'refused by the test'; END $$ LANGUAGE plpgsql",
                   "CREATE TRIGGER refuse_recorded_reads BEFORE UPDATE OF result_encrypted ON request_tasks "
                   "FOR EACH ROW WHEN (NEW.result_encrypted IS NOT NULL) EXECUTE FUNCTION refuse_recorded_reads()"],
}
"""Charter's own database refusing to record what a retrieve task read."""


def test_a_failed_task_leaves_the_rest_unclaimed_and_a_retry_finishes_the_request(
        sessions: sessionmaker[Session], keyring: Keyring, tmp_path: Path) -> None:
    with shop_world(sessions, keyring, tmp_path) as world:
        _rename_street(world, "street", "street_line")
        rid, _ = world.submit_verified("erasure")
        tasks = _tasks(world, rid)
        failed = next(t for t in tasks if t.status == "failed")
        assert failed.collection == "shop_db.addresses"
        after = [t for t in tasks if t.position > failed.position]
        assert after and all(t.status == "pending" and t.attempts == 0 and t.started_at is None for t in after)
        assert all(t.status in ("done", "waiting") for t in tasks if t.position < failed.position)
        _rename_street(world, "street_line", "street")
        with sessions() as session, session.begin():
            StaffDesk(session, keyring, queue=world.worker).retry(world.cid, rid, actor="staff")
        assert world.worker.wait_idle()
        _finish_manual(world)
        assert _request(world, rid).status == "completed_with_held_items"
        assert next(r for r in table_rows(world.shop_url, customers) if r["id"] == 1)["phone"] is None


def _phone_required(world: World, backend: str, *, required: bool) -> None:
    """Make the shop's database refuse (or accept again) a customer without a phone: the erasure nullifies it."""
    statements = {
        ("postgresql", True): "ALTER TABLE customers ALTER COLUMN phone SET NOT NULL",
        ("postgresql", False): "ALTER TABLE customers ALTER COLUMN phone DROP NOT NULL",
        ("sqlite", True): "CREATE TRIGGER phone_required BEFORE UPDATE OF phone ON customers "
                          "WHEN NEW.phone IS NULL BEGIN SELECT RAISE(ABORT, 'phone required'); END",
        ("sqlite", False): "DROP TRIGGER phone_required",
    }
    engine = create_engine(world.shop_url)
    with engine.begin() as conn:
        conn.execute(text(statements[backend, required]))
    engine.dispose()


@pytest.mark.parametrize("backend", ["sqlite", "postgresql"])
def test_a_task_failing_in_a_batch_of_changes_rolls_back_the_batch_and_records_nothing_done(
        backend: str, sessions: sessionmaker[Session], keyring: Keyring, tmp_path: Path) -> None:
    """The erasures of a batch commit together: when the customers' erasure is refused, the order lines deleted and
    the order notes nulled before it in the same batch are rolled back, and those tasks are handed back, not
    recorded as done. A retry then erases everything."""
    with shop_world(sessions, keyring, tmp_path, backend=backend) as world:
        _phone_required(world, backend, required=True)
        before = {name: table_rows(world.shop_url, table) for name, table in (("orders", orders),
                                                                             ("items", order_items))}
        rid, _ = world.submit_verified("erasure")

        request = _request(world, rid)
        assert request.status == "failed" and "shop_db.customers" in (request.error_message or "")
        assert table_rows(world.shop_url, orders) == before["orders"]
        assert table_rows(world.shop_url, order_items) == before["items"]
        tasks = _tasks(world, rid)
        failed = next(t for t in tasks if t.status == "failed")
        assert failed.operation == "erase" and failed.collection == "shop_db.customers"
        changes_before = [t for t in tasks if t.operation == "erase" and t.position < failed.position]
        assert {t.collection for t in changes_before} >= {"shop_db.orders", "shop_db.order_items"}
        assert all(t.status == "pending" and t.attempts == 0 and t.result_encrypted is None
                   for t in changes_before)
        assert all(t.status == "done" for t in tasks if t.operation == "retrieve")

        _phone_required(world, backend, required=False)
        with sessions() as session, session.begin():
            StaffDesk(session, keyring, queue=world.worker).retry(world.cid, rid, actor="staff")
        assert world.worker.wait_idle()
        _finish_manual(world)
        assert _request(world, rid).status == "completed_with_held_items"
        assert not [r for r in table_rows(world.shop_url, order_items) if r["order_id"] in ("o1", "o2")]
        assert next(r for r in table_rows(world.shop_url, orders) if r["id"] == "o1")["note"] is None
        with sessions() as session:
            assert AuditLog(session).verify(world.cid).ok


def test_a_batch_whose_commit_is_refused_fails_whole_and_changes_nothing(
        sessions: sessionmaker[Session], keyring: Keyring, tmp_path: Path) -> None:
    """A check the database makes only at COMMIT (a deferred constraint trigger) refuses the batch: every statement
    had succeeded, yet none of its changes is kept or recorded as done, and the request says the commit failed."""
    with shop_world(sessions, keyring, tmp_path, backend="postgresql") as world:
        engine = create_engine(world.shop_url)
        with engine.begin() as conn:
            conn.execute(text("CREATE FUNCTION phone_kept() RETURNS trigger AS $$ BEGIN IF NEW.phone IS NULL THEN "
                              "RAISE EXCEPTION 'phone required'; END IF; RETURN NEW; END $$ LANGUAGE plpgsql"))
            conn.execute(text("CREATE CONSTRAINT TRIGGER phone_kept AFTER UPDATE ON customers DEFERRABLE "
                              "INITIALLY DEFERRED FOR EACH ROW EXECUTE FUNCTION phone_kept()"))
        engine.dispose()
        before = table_rows(world.shop_url, order_items), table_rows(world.shop_url, customers)
        rid, _ = world.submit_verified("erasure")

        request = _request(world, rid)
        assert request.status == "failed" and "committing the batch's changes" in (request.error_message or "")
        assert (table_rows(world.shop_url, order_items), table_rows(world.shop_url, customers)) == before
        erasures = [t for t in _tasks(world, rid) if t.operation == "erase"]
        assert [t.status for t in erasures].count("failed") == 1 and not any(t.status == "done" for t in erasures)


def test_a_batch_past_half_its_lease_hands_back_the_tasks_it_did_not_start(
        sessions: sessionmaker[Session], keyring: Keyring, tmp_path: Path) -> None:
    """With no time left on the lease after one task, each batch runs one task and releases the rest, which are
    claimed again in the same settle: the request still completes and no attempt is counted twice."""
    with shop_world(sessions, keyring, tmp_path) as world:
        world.worker.runner.lease = dt.timedelta(0)
        rid, _ = world.submit_verified("erasure")
        _finish_manual(world)
        assert _request(world, rid).status == "completed_with_held_items"
        assert all(t.attempts == 1 for t in _tasks(world, rid))


def test_a_task_under_another_workers_lease_is_left_to_that_worker(
        sessions: sessionmaker[Session], keyring: Keyring, tmp_path: Path) -> None:
    with shop_world(sessions, keyring, tmp_path) as world:
        rid, _ = world.submit_verified("erasure")
        with sessions() as session, session.begin():
            task = session.query(RequestTask).filter_by(request_id=rid, operation="erase",
                                                        collection="shop_db.customers").one()
            session.execute(update(RequestTask).where(RequestTask.id == task.id).values(
                status="running", attempts=1, lease_until=dt.datetime.now(dt.UTC) + dt.timedelta(minutes=5)))
            task_id = task.id
            events = session.query(AuditEvent).filter_by(controller_id=world.cid).count()
        before = table_rows(world.shop_url, customers)
        world.worker.runner.run(task_id)
        with sessions() as session:
            again = session.get(RequestTask, task_id)
            assert again is not None and (again.status, again.attempts) == ("running", 1)
            assert session.query(AuditEvent).filter_by(controller_id=world.cid).count() == events
        assert table_rows(world.shop_url, customers) == before


def _batch(*claims: tuple[Operation, str]) -> Batch:
    carried = Carried(request_id="r", controller_id="c", subject_id=None, params={}, identities={}, found={},
                      login_webhook=None)
    return Batch(carried, tuple(Claim(i, 1, i, operation, f"d.c{i}", {"task": {"connection": {"kind": kind}}})
                                for i, (operation, kind) in enumerate(claims)))


def test_only_changes_all_made_in_sql_stores_are_held_in_transactions_and_may_start_early() -> None:
    erase, read = Operation.ERASE, Operation.RETRIEVE
    assert _batch((erase, "postgresql"), (erase, "mysql"), (erase, "sqlite"), (erase, "manual")).atomic
    for other in ("webhook", "redis"):
        assert not _batch((erase, "postgresql"), (erase, other)).atomic
        assert not _batch((erase, other)).may_start_early
    assert not _batch((Operation.DISABLE_LOGIN, "postgresql")).atomic
    assert not _batch((read, "postgresql")).atomic
    assert _batch((read, "redis"), (read, "webhook")).may_start_early  # reads change nothing
