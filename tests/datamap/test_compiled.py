"""Compiled data maps on a real database (SQLite and PostgreSQL): the current or a named version, parsed once per
content, its plans the planner's own."""

from __future__ import annotations

import pytest
from sqlalchemy.orm import Session

from charter.core.errors import NotFound
from charter.datamap.compiled import compiled
from charter.datamap.plan import Planner
from charter.datamap.services import DataMapStore
from charter.policy.services import PolicyStore
from tests.datamap.maps import edit, load, shop_policy_text, shop_text
from tests.factories import make_controller


def test_the_current_version_is_compiled_once_and_a_new_one_is_picked_up(session: Session) -> None:
    cid = make_controller(session)
    PolicyStore(session).publish(cid, shop_policy_text(cid), source="policy.yaml", actor="test")
    with pytest.raises(NotFound, match="no published data map"):
        compiled(session, cid)
    store = DataMapStore(session)
    store.publish(cid, shop_text(cid), source="datamap.yaml", actor="test")
    first = compiled(session, cid)
    assert (first.version, first.datamap) == ("1", load(shop_text(cid)).document)
    again = compiled(session, cid)
    assert again.planner is first.planner and again.plan({"email"}) is first.plan({"email"})
    assert first.plan({"phone", "email"}) == Planner(first.datamap).plan({"email", "phone"})
    changed = edit(shop_text(cid), ('version: "1"', 'version: "2"'),
                   ("erasure: {strategy: mask, value: \"(erased)\"}", "erasure: nullify"))
    store.publish(cid, changed, source="datamap.yaml", actor="test")
    assert compiled(session, cid).version == "2" and compiled(session, cid).planner is not first.planner
    assert compiled(session, cid, "1").planner is first.planner
    with pytest.raises(NotFound, match="no published data map version '9'"):
        compiled(session, cid, "9")
    session.rollback()
