from __future__ import annotations

import time

import pyotp
import pytest
from sqlalchemy import select
from sqlalchemy.orm import Session, sessionmaker

from charter.accounts import totp
from charter.accounts.models import ApiKey, KeyKind, Role, StaffUser
from charter.accounts.services import ApiKeyService, ControllerService, StaffService
from charter.core.errors import CharterError, Conflict, Forbidden, NotFound, Unauthorized
from tests.factories import make_controller, new_controller_id


def test_staff_passwords_are_argon2id(sessions: sessionmaker[Session]) -> None:
    with sessions() as s, s.begin():
        cid = make_controller(s)
        StaffService(s).create(cid, "DPO@Acme.com", "correct horse battery", "privacy_officer", actor="t")
    with sessions() as s:
        user = s.execute(select(StaffUser).where(StaffUser.controller_id == cid)).scalar_one()
        assert user.password_hash.startswith("$argon2id$")
        assert StaffService(s).authenticate(cid, "dpo@acme.com", "correct horse battery").id == user.id
        with pytest.raises(Unauthorized):
            StaffService(s).authenticate(cid, "dpo@acme.com", "wrong password!")
        with pytest.raises(Unauthorized):
            StaffService(s).authenticate(cid, "nobody@acme.com", "correct horse battery")


@pytest.mark.parametrize(("email", "password", "role", "field"), [
    ("not-an-email", "long enough pw", "viewer", "email"),
    ("a@b.com", "short", "viewer", "password"),
    ("a@b.com", "long enough pw", "superuser", "role"),
])
def test_bad_staff_input_names_the_field_and_stores_nothing(
        sessions: sessionmaker[Session], email: str, password: str, role: str, field: str) -> None:
    with sessions() as s, s.begin():
        cid = make_controller(s)
    with sessions() as s, s.begin(), pytest.raises(CharterError) as err:
        StaffService(s).create(cid, email, password, role, actor="t")
    assert err.value.field == field
    with sessions() as s:
        assert s.execute(select(StaffUser).where(StaffUser.controller_id == cid)).first() is None


def test_role_order() -> None:
    assert Role.ADMIN.allows(Role.OPERATOR)
    assert not Role.VIEWER.allows(Role.OPERATOR)


def test_api_keys_hash_authenticate_and_revoke(sessions: sessionmaker[Session]) -> None:
    with sessions() as s, s.begin():
        cid = make_controller(s)
        issued = ApiKeyService(s).create(cid, "web", "secret", actor="t")
    with sessions() as s:
        stored = s.get(ApiKey, issued.id)
        assert stored is not None
        assert issued.token.split("_", 2)[2] not in stored.secret_hash
        principal = ApiKeyService(s).authenticate(issued.token)
        assert (principal.controller_id, principal.kind) == (cid, KeyKind.SECRET)
    with sessions() as s, s.begin():
        ApiKeyService(s).revoke(cid, issued.id, actor="t")
    with sessions() as s, pytest.raises(Unauthorized, match="revoked"):
        ApiKeyService(s).authenticate(issued.token)


def test_a_key_cannot_be_revoked_through_another_controller(sessions: sessionmaker[Session]) -> None:
    with sessions() as s, s.begin():
        a, b = make_controller(s), make_controller(s)
        issued = ApiKeyService(s).create(a, "web", actor="t")
    with sessions() as s, pytest.raises(NotFound):
        ApiKeyService(s).revoke(b, issued.id, actor="t")


def test_controller_ids_are_checked(sessions: sessionmaker[Session]) -> None:
    with sessions() as s, s.begin():
        with pytest.raises(CharterError, match="not valid"):
            ControllerService(s).create("Bad Id!", "x", actor="t")
        cid = new_controller_id()
        ControllerService(s).create(cid, "x", actor="t")
        with pytest.raises(Conflict):
            ControllerService(s).create(cid, "x", actor="t")


def test_roles_change_and_accounts_deactivate_but_an_admin_always_remains(sessions: sessionmaker[Session]) -> None:
    with sessions() as s, s.begin():
        cid = make_controller(s)
        staff = StaffService(s)
        boss = staff.create(cid, "boss@acme.example", "correct horse battery", "admin", actor="t")
        helper = staff.create(cid, "help@acme.example", "correct horse battery", "viewer", actor="t")
        with pytest.raises(Forbidden):
            staff.change_role(cid, boss.id, Role.VIEWER, actor="t")
        with pytest.raises(Forbidden):
            staff.deactivate(cid, boss.id, actor="t")
        staff.change_role(cid, helper.id, "admin", actor="t")
        staff.change_role(cid, boss.id, Role.OPERATOR, actor="t")
        assert (boss.role, helper.role) == ("operator", "admin")
        staff.deactivate(cid, boss.id, actor="t")
        assert boss.is_active is False
        with pytest.raises(Unauthorized):
            staff.authenticate(cid, "boss@acme.example", "correct horse battery")
        with pytest.raises(CharterError):
            staff.change_role(cid, helper.id, "owner", actor="t")
        assert [u.email for u in staff.list(cid)] == ["boss@acme.example", "help@acme.example"]


def test_staff_of_another_controller_are_not_found(sessions: sessionmaker[Session]) -> None:
    with sessions() as s, s.begin():
        mine, theirs = make_controller(s), make_controller(s)
        other = StaffService(s).create(theirs, "x@other.example", "correct horse battery", "viewer", actor="t")
        with pytest.raises(NotFound):
            StaffService(s).get(mine, other.id)
        with pytest.raises(NotFound):
            StaffService(s).change_role(mine, other.id, "admin", actor="t")


def test_totp_enrolment_check_and_reset(sessions: sessionmaker[Session]) -> None:
    with sessions() as s, s.begin():
        cid = make_controller(s)
        staff = StaffService(s)
        user = staff.create(cid, "t@acme.example", "correct horse battery", "viewer", actor="t")
        secret = totp.new_secret()
        assert not staff.enrol_totp(user, secret, "000000" if pyotp.TOTP(secret).now() != "000000" else "1",
                                    actor="t")
        assert user.totp_secret is None
        now = pyotp.TOTP(secret).now()
        assert staff.enrol_totp(user, secret, now, actor="t")
        assert not staff.check_totp(user, now)  # already used for enrolment
        assert staff.check_totp(user, pyotp.TOTP(secret).at(time.time() + 30))
        staff.reset_totp(cid, "T@acme.example", actor="t")
        assert (user.totp_secret, user.totp_last_step) == (None, None)
        assert not staff.check_totp(user, now)
