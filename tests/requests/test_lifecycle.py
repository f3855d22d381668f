"""The pure state machine and task drafting: no database."""

from __future__ import annotations

import datetime as dt

import pytest

from charter.core.errors import CharterError, Conflict
from charter.datamap.plan import plan_request
from charter.jurisdictions import RequestKind
from charter.requests.deadlines import deadline_flags
from charter.requests.lifecycle import Event, Status, advance, can, transition
from charter.requests.planning import Operation, draft_tasks
from tests.datamap.maps import shop


def test_the_happy_path_and_what_each_step_refuses() -> None:
    status = Status.RECEIVED
    for event in (Event.VERIFY, Event.APPROVE, Event.PLAN, Event.START, Event.COMPLETE):
        status = transition(status, event)
    assert status is Status.COMPLETED and status.is_final
    with pytest.raises(Conflict, match="cannot be approved") as err:
        transition(Status.RECEIVED, Event.APPROVE)
    assert "identity_verified" in err.value.fix
    assert not can(Status.COMPLETED, Event.REFUSE)
    assert can(Status.IDENTITY_VERIFIED, Event.REFUSE)
    assert transition(Status.FAILED, Event.RETRY) is Status.EXECUTING


def test_approval_is_automatic_unless_the_controller_requires_staff() -> None:
    assert advance(Status.IDENTITY_VERIFIED, needs_approval=False) is Status.APPROVED
    assert advance(Status.IDENTITY_VERIFIED, needs_approval=True) is Status.IDENTITY_VERIFIED


def test_erasure_reads_keys_first_then_erases_children_first_then_tells_recipients() -> None:
    plan = plan_request(shop(), ["email", "phone"])
    drafts = draft_tasks(RequestKind.ERASURE, plan, {})
    ops = [d.operation for d in drafts]
    assert ops.index(Operation.ERASE) > max(i for i, o in enumerate(ops) if o is Operation.RETRIEVE)
    erased = [d.collection for d in drafts if d.operation is Operation.ERASE]
    assert erased.index("shop_db.order_items") < erased.index("shop_db.orders") < erased.index("shop_db.customers")
    assert ops[-2:] == [Operation.NOTIFY_RECIPIENTS, Operation.TOMBSTONE_CONSENT]
    retrieved = [d.collection for d in drafts if d.operation is Operation.RETRIEVE]
    assert "archive.contracts" not in retrieved  # a manual store cannot hand keys back
    cancel = [d.operation for d in draft_tasks(RequestKind.CANCELLATION, plan, {})]
    assert cancel[0] is Operation.DISABLE_LOGIN and cancel[-1] is Operation.RESTRICT


def test_rectification_reaches_every_store_holding_the_category() -> None:
    plan = plan_request(shop(), ["email", "phone"])
    drafts = draft_tasks(RequestKind.RECTIFICATION, plan, {"category": "contact.phone", "value": "+8613700137000"})
    assert [(d.collection, d.spec["field"]) for d in drafts if d.operation is Operation.RECTIFY] == [
        ("shop_db.customers", "phone"), ("archive.contracts", "phone")]
    # the phone is an identity: after the stores, Charter's own directory is corrected, then recipients told
    assert [(d.operation, d.spec.get("kind")) for d in drafts][-2:] == [
        (Operation.CORRECT_IDENTITY, "phone"), (Operation.NOTIFY_RECIPIENTS, None)]
    with pytest.raises(CharterError, match="no store") as err:
        draft_tasks(RequestKind.RECTIFICATION, plan, {"category": "nothing.here", "value": "x"})
    assert err.value.field == "category"


def test_a_kind_that_needs_a_data_map_without_one_is_a_clear_error() -> None:
    with pytest.raises(CharterError, match="no published data map"):
        draft_tasks(RequestKind.ACCESS, None, {})
    assert [d.operation for d in draft_tasks(RequestKind.RESTRICTION, None, {})] == [Operation.RESTRICT]


def test_deadline_flags_overdue_and_hong_kongs_written_reason() -> None:
    due = dt.date(2025, 3, 10)
    flags = deadline_flags(is_done=False, jurisdictions=["HK"], due_on=due, late_reason_on=None,
                           today=dt.date(2025, 3, 5))
    assert (flags.is_overdue, flags.needs_late_reason) == (False, True)
    recorded = deadline_flags(is_done=False, jurisdictions=["HK"], due_on=due, late_reason_on=dt.date(2025, 3, 6),
                              today=dt.date(2025, 3, 11))
    assert (recorded.is_overdue, recorded.needs_late_reason, recorded.late_reason_in_time) == (True, False, True)
    cn = deadline_flags(is_done=False, jurisdictions=["CN"], due_on=due, late_reason_on=None, today=due)
    assert not cn.needs_late_reason
    assert not deadline_flags(is_done=True, jurisdictions=["HK"], due_on=due, late_reason_on=None,
                              today=dt.date(2026, 1, 1)).is_overdue
