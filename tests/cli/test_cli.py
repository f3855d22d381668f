"""The `charter` command line against a real database, the way an operator uses it."""

from __future__ import annotations

import datetime as dt
from pathlib import Path

import pytest
from sqlalchemy import select, update
from sqlalchemy.orm import Session, sessionmaker

from charter.accounts.models import StaffUser
from charter.audit.models import AuditEvent
from charter.core.crypto import Keyring
from charter.core.db import make_engine, session_factory
from charter.migrations import upgrade
from charter.sessions.services import SessionStore
from charter.subjects.models import Identity
from charter.subjects.services import SubjectDirectory
from tests.cli.run import charter
from tests.factories import make_staff, new_controller_id, policy_text


def test_bootstrap_a_controller_staff_and_keys(cli_env: Path) -> None:
    cid = new_controller_id()
    assert charter("controller", "create", cid, "Acme 示例")[0] == 0
    code, out = charter("admin", "create-user", "--controller", cid, "--email", "dpo@acme.example",
                        "--role", "privacy_officer", "--password-stdin", stdin="a long passphrase\n")
    assert code == 0, out
    code, out = charter("keys", "create", "--controller", cid, "--name", "web")
    assert code == 0, out
    token = out.strip().splitlines()[-1]
    assert token.startswith("chk_")
    key_id = token.split("_")[1]
    code, out = charter("keys", "list", "--controller", cid)
    assert key_id in out
    assert token.split("_", 2)[2] not in out
    assert charter("keys", "revoke", "--controller", cid, key_id)[0] == 0
    code, out = charter("admin", "create-user", "--controller", cid, "--email", "x@acme.example",
                        "--password-stdin", stdin="short\n")
    assert code == 1
    assert "shorter than" in out


def test_publish_twice_then_audit_verify_catches_tampering(
        cli_env: Path, sessions: sessionmaker[Session]) -> None:
    cid = new_controller_id()
    charter("controller", "create", cid, "Acme")
    policy = cli_env / "policy.yaml"
    policy.write_text(policy_text(cid), encoding="utf-8")
    code, out = charter("policy", "publish", str(policy), "--controller", cid)
    assert (code, "published:" in out) == (0, True), out
    code, out = charter("policy", "publish", str(policy), "--controller", cid)
    assert code == 0
    assert "no change" in out
    code, out = charter("audit", "verify", "--controller", cid)
    assert (code, "intact" in out) == (0, True), out
    with sessions() as s, s.begin():
        s.execute(update(AuditEvent).where(AuditEvent.controller_id == cid, AuditEvent.seq == 2)
                  .values(actor="intruder"))
    code, out = charter("audit", "verify", "--controller", cid)
    assert code == 1
    assert "broken at event 2" in out


def test_policy_diff_says_a_new_purpose_needs_fresh_consent(tmp_path: Path) -> None:
    old, new = tmp_path / "v1.yaml", tmp_path / "v2.yaml"
    old.write_text(policy_text("acme", "1.0"), encoding="utf-8")
    new.write_text(policy_text("acme", "2.0", extra_purpose=True), encoding="utf-8")
    code, out = charter("policy", "diff", str(old), str(new))
    assert code == 0, out
    line = next(row for row in out.splitlines() if "surveys" in row)
    assert "needs fresh consent" in line
    assert "overall: needs fresh consent" in " ".join(out.split())


def test_policy_check_reports_line_and_fix(tmp_path: Path) -> None:
    bad = tmp_path / "bad.yaml"
    bad.write_text(policy_text("acme").replace("legal_basis: contract", "legal_basis: legitimate_interest"),
                   encoding="utf-8")
    code, out = charter("policy", "check", str(bad))
    assert code == 1
    assert f"{bad}:" in " ".join(out.split())
    assert "legal_basis" in out


def test_render_writes_html(tmp_path: Path) -> None:
    src, out_file = tmp_path / "p.yaml", tmp_path / "p.html"
    src.write_text(policy_text("acme"), encoding="utf-8")
    code, _ = charter("policy", "render", str(src), "--lang", "en", "--out", str(out_file))
    assert code == 0
    assert "What we collect" in out_file.read_text(encoding="utf-8")


def test_keys_rotate_reencrypts_everything(fresh_database_url: str, tmp_path: Path,
                                           monkeypatch: pytest.MonkeyPatch) -> None:
    keyfile = tmp_path / "keys.json"
    monkeypatch.setenv("CHARTER_DATABASE_URL", fresh_database_url)
    monkeypatch.setenv("CHARTER_KEYRING_FILE", str(keyfile))
    monkeypatch.delenv("CHARTER_KEYRING", raising=False)
    upgrade(fresh_database_url)
    cid = new_controller_id()
    charter("controller", "create", cid, "Acme")
    old = Keyring.generate()
    keyfile.write_text(old.to_json())
    engine = make_engine(fresh_database_url)
    with session_factory(engine)() as s, s.begin():
        SubjectDirectory(s, old).resolve(cid, "phone", "13800138000", actor="t")
    code, out = charter("keys", "rotate")
    assert code == 0, out
    assert "1 value(s) re-encrypted" in out
    new = Keyring.from_json(keyfile.read_text())
    assert new.active == "k2"
    with session_factory(engine)() as s:
        assert s.execute(select(Identity.value_encrypted)).scalar_one().startswith("k2:")
        assert SubjectDirectory(s, new).find(cid, "phone", "+86 138 0013 8000") is not None
    engine.dispose()


def test_totp_reset_forgets_the_second_factor_and_ends_sessions(
        cli_env: Path, sessions: sessionmaker[Session]) -> None:
    cid = new_controller_id()
    charter("controller", "create", cid, "Acme")
    account = make_staff(sessions, cid, "admin")
    with sessions() as s, s.begin():
        opened = SessionStore(s).open(cid, kind="staff", principal=f"staff:{account.id}", stage="full",
                                      lifetime=dt.timedelta(hours=1), idle=dt.timedelta(hours=1))
    code, out = charter("admin", "totp-reset", "--controller", cid, "--email", account.email.upper())
    assert code == 0, out
    assert "1 session(s) ended" in out
    assert account.email not in out
    with sessions() as s:
        assert s.get(StaffUser, account.id).totp_secret is None  # type: ignore[union-attr]
        assert SessionStore(s).find(opened.token, kind="staff") is None
        actions = s.execute(select(AuditEvent.action).where(AuditEvent.controller_id == cid)).scalars().all()
        assert "staff.totp_reset" in actions
    code, out = charter("admin", "totp-reset", "--controller", cid, "--email", "nobody@x.example")
    assert code == 1
