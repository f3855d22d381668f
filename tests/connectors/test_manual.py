from __future__ import annotations

from charter.connectors.base import Lookup, Operation
from charter.connectors.manual import ManualConnector
from charter.core.i18n import Text
from charter.datamap.plan import plan_request
from tests.datamap.maps import shop


def test_every_operation_asks_staff_to_act_with_the_instructions() -> None:
    task = next(t for t in plan_request(shop(), ["phone"]).erasure if t.key == "archive.contracts")
    assert task.connection.instructions is not None
    connector = ManualConnector(task.connection.instructions)
    lookup = Lookup(values={"phone": ("+8613800138000",)})
    assert connector.test_connection().ok
    retrieved = connector.retrieve(task.collection, lookup)
    assert retrieved.rows == ()
    assert retrieved.manual is not None
    assert retrieved.manual.operation is Operation.RETRIEVE
    assert "Shanghai office" in retrieved.manual.instructions.en
    erased = connector.erase(task.collection, lookup)
    assert erased.manual is not None
    assert erased.manual.operation is Operation.ERASE
    assert [h.rule for h in erased.held] == ["tax_records"]
    fixed = connector.rectify(task.collection, lookup, "phone", "+8613900139000")
    assert fixed.manual is not None
    assert fixed.manual.fields == ("phone",)


def test_collection_instructions_win_over_the_datasets() -> None:
    task = next(t for t in plan_request(shop(), ["phone"]).access if t.key == "archive.contracts")
    spec = task.collection.model_copy(update={"instructions": Text(zh="看第三个柜子", en="Look in cabinet 3")})
    action = ManualConnector(Text(zh="档案", en="Archive")).retrieve(spec, Lookup(values={})).manual
    assert action is not None
    assert action.instructions.en == "Look in cabinet 3"
