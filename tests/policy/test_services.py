"""The policy in force, as services read it: once per transaction, and anew after a publication."""

from __future__ import annotations

from sqlalchemy.orm import Session, sessionmaker

from charter.policy.services import PolicyStore, policy_in_force
from tests.factories import make_controller, policy_text
from tests.statements import statements_run


def test_the_policy_in_force_is_looked_up_once_per_transaction_and_again_after_a_publication(
        sessions: sessionmaker[Session]) -> None:
    with sessions() as session, session.begin():
        cid = make_controller(session)
        PolicyStore(session).publish(cid, policy_text(cid, "1.0"), source="p.yaml", actor="t")
    with statements_run(sessions.kw["bind"]) as statements:
        with sessions() as session, session.begin():
            first = policy_in_force(session, cid)
            looked = len(statements)
            again = policy_in_force(session, cid)
            assert first is not None and again is first and len(statements) == looked  # no second lookup
            PolicyStore(session).publish(cid, policy_text(cid, "2.0", effective="2024-06-01"), source="p.yaml",
                                         actor="t")
            newer = policy_in_force(session, cid)
            assert newer is not None and newer.version == "2.0"
        with sessions() as session, session.begin():
            before = len(statements)
            found = policy_in_force(session, cid)
            assert found is not None and found.version == "2.0" and len(statements) > before  # a new transaction looks
