"""The data map store on a real database (SQLite and PostgreSQL)."""

from __future__ import annotations

import pytest
from sqlalchemy.orm import Session

from charter.audit.services import AuditLog
from charter.core.errors import CharterError, Conflict, NotFound
from charter.datamap.services import DataMapInvalid, DataMapStore, as_datamap
from charter.policy.services import PolicyStore
from tests.datamap.maps import edit, load, shop_policy_text, shop_text
from tests.factories import make_controller


def _controller_with_policy(session: Session) -> str:
    cid = make_controller(session)
    PolicyStore(session).publish(cid, shop_policy_text(cid), source="policy.yaml", actor="test")
    return cid


def test_publish_is_checked_immutable_and_idempotent(session: Session) -> None:
    cid = _controller_with_policy(session)
    store = DataMapStore(session)
    first = store.publish(cid, shop_text(cid), source="datamap.yaml", actor="test")
    assert first.created
    assert first.record.policy_version == "1.0"
    assert first.record.content_hash.startswith("sha256:")
    again = store.publish(cid, "# same content, other text\n" + shop_text(cid), source="datamap.yaml", actor="test")
    assert (again.created, again.record.id) == (False, first.record.id)
    changed = edit(shop_text(cid), ("erasure: {strategy: mask, value: \"-\"}", "erasure: nullify"))
    with pytest.raises(Conflict, match="immutable"):
        store.publish(cid, changed, source="datamap.yaml", actor="test")
    store.publish(cid, changed.replace('version: "1"', 'version: "2"'), source="datamap.yaml", actor="test")
    assert [r.version for r in store.list(cid)] == ["1", "2"]
    assert store.current(cid).version == "2"
    assert as_datamap(store.get(cid, "1")) == load(shop_text(cid)).document
    assert AuditLog(session).verify(cid).ok
    session.rollback()


def test_a_map_that_fails_its_checks_is_not_stored(session: Session) -> None:
    cid = _controller_with_policy(session)
    store = DataMapStore(session)
    broken = edit(shop_text(cid), ("categories: [profile.birth_date]", "categories: [profile.birthdate]"))
    with pytest.raises(DataMapInvalid) as caught:
        store.publish(cid, broken, source="datamap.yaml", actor="test")
    assert caught.value.problems[0].path.endswith("fields[4].categories[0]")
    with pytest.raises(DataMapInvalid):
        store.publish(cid, "schema: charter.datamap/v1\n", source="datamap.yaml", actor="test")
    assert store.list(cid) == []
    with pytest.raises(NotFound, match="no published data map"):
        store.current(cid)
    session.rollback()


def test_a_map_needs_a_policy_and_its_own_controller(session: Session) -> None:
    cid = make_controller(session)
    with pytest.raises(CharterError, match="no policy in force"):
        DataMapStore(session).publish(cid, shop_text(cid), source="d.yaml", actor="test")
    other = _controller_with_policy(session)
    with pytest.raises(CharterError, match="is for controller") as caught:
        DataMapStore(session).publish(other, shop_text(cid), source="d.yaml", actor="test")
    assert caught.value.field == "controller"
    session.rollback()


def test_versions_are_per_controller(session: Session) -> None:
    a, b = _controller_with_policy(session), _controller_with_policy(session)
    DataMapStore(session).publish(a, shop_text(a), source="d.yaml", actor="test")
    assert DataMapStore(session).list(b) == []
    with pytest.raises(NotFound):
        DataMapStore(session).get(b, "1")
    session.rollback()
