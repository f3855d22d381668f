"""The disclosure log read back per person, on SQLite and PostgreSQL: each recipient once, with every category it
received, and nobody else's hand-overs."""

from __future__ import annotations

from sqlalchemy.orm import Session, sessionmaker

from charter.core.crypto import Keyring
from charter.core.db import transaction
from charter.disclosures.services import DisclosureLog
from charter.policy.services import PolicyStore
from charter.subjects.services import SubjectDirectory
from tests.factories import example_policy_text, make_controller, new_controller_id


def test_recipients_of_a_person_merge_the_categories_each_received(sessions: sessionmaker[Session],
                                                                   keyring: Keyring) -> None:
    with transaction(sessions) as s:
        cid = make_controller(s)
        PolicyStore(s).publish(cid, example_policy_text(cid), source="test", actor="test")
        directory = SubjectDirectory(s, keyring)
        ann, bob, cat = (directory.resolve(cid, "email", f"{n}@example.com", actor="test").id
                         for n in ("ann", "bob", "cat"))
        log = DisclosureLog(s)
        log.record(cid, ann, recipient_id="example-supplier", categories=["basic.company"], actor="test")
        log.record(cid, ann, recipient_id="example-affiliate", categories=["basic.name"], actor="test")
        log.record(cid, ann, recipient_id="example-affiliate", categories=["basic.email", "basic.name"],
                   actor="test")
        log.record(cid, bob, recipient_id="example-ad-analytics-partner", categories=["device.cookie_id"],
                   actor="test")
    with sessions() as s:
        log = DisclosureLog(s)
        assert log.recipients_of(cid, ann) == [("example-affiliate", {"basic.email", "basic.name"}),
                                               ("example-supplier", {"basic.company"})]
        assert log.recipients_of(cid, bob) == [("example-ad-analytics-partner", {"device.cookie_id"})]
        assert log.recipients_of(cid, cat) == []
        assert log.recipients_of(new_controller_id(), ann) == []  # another controller: not its subject
