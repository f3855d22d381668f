"""Policies in the console: publish by upload, refusals that say why, the text, diffs and promise coverage."""

from __future__ import annotations

from fastapi.testclient import TestClient
from sqlalchemy import func, select
from sqlalchemy.orm import Session, sessionmaker

from charter.policy.models import PolicyVersionRecord
from tests.factories import make_controller, make_staff, policy_text, publish_policy
from tests.web.pages import post_form, sign_in


def _officer(web: TestClient, sessions: sessionmaker[Session]) -> str:
    with sessions() as s, s.begin():
        cid = make_controller(s)
    sign_in(web, make_staff(sessions, cid, "privacy_officer"))
    web.cookies.set("lang", "en")
    return cid


def _upload(web: TestClient, text: str, name: str = "policy.yaml") -> tuple[int, str]:
    r = post_form(web, "/admin/policies", "/admin/policies",
                  files={"policy": (name, text.encode(), "application/yaml")})
    return r.status_code, r.headers.get("location", r.text)


def _count(sessions: sessionmaker[Session], cid: str) -> int:
    with sessions() as s:
        return s.execute(select(func.count()).select_from(PolicyVersionRecord)
                         .where(PolicyVersionRecord.controller_id == cid)).scalar_one()


def test_publish_by_upload_then_read_diff_and_coverage(web: TestClient, sessions: sessionmaker[Session]) -> None:
    cid = _officer(web, sessions)
    assert _upload(web, policy_text(cid, "1.0")) == (303, "/admin/policies/v/1.0?published=1")
    status, location = _upload(web, policy_text(cid, "2.0", extra_purpose=True, effective="2024-06-01"))
    assert (status, location) == (303, "/admin/policies/v/2.0?published=1")
    page = web.get(location)
    assert "Version 2.0 is published." in page.text
    assert "What we collect" in page.text  # the rendered clauses
    assert "/admin/policies/diff?from=1.0&amp;to=2.0" in page.text
    diff = web.get("/admin/policies/diff?from=1.0&to=2.0").text
    assert "Needs fresh consent" in diff
    assert "surveys" in diff
    assert "PIPL art. 14" in diff  # the rule that decided it
    assert "Overall: people must consent again" in diff
    promises = web.get("/admin/policies/v/2.0/promises").text
    assert "Promise coverage of version 2.0" in promises
    listing = web.get("/admin/policies").text
    assert "in force" in listing
    assert _count(sessions, cid) == 2


def test_uploading_the_same_content_again_changes_nothing(web: TestClient, sessions: sessionmaker[Session]) -> None:
    cid = _officer(web, sessions)
    _upload(web, policy_text(cid, "1.0"))
    assert _upload(web, policy_text(cid, "1.0")) == (303, "/admin/policies/v/1.0?published=0")
    assert _count(sessions, cid) == 1


def test_an_invalid_policy_is_refused_with_its_problems_and_lines(web: TestClient,
                                                                  sessions: sessionmaker[Session]) -> None:
    cid = _officer(web, sessions)
    text = policy_text(cid).replace("- contact.email\n", "- contact.mail\n", 1)
    status, body = _upload(web, text, "broken.yaml")
    assert status == 400
    assert "The policy has problems; nothing was published." in body
    assert "contact.mail" in body
    assert "broken.yaml:" in body
    assert _count(sessions, cid) == 0


def test_other_refusals_say_why(web: TestClient, sessions: sessionmaker[Session]) -> None:
    cid = _officer(web, sessions)
    _upload(web, policy_text(cid, "1.0"))
    status, body = _upload(web, policy_text(cid, "1.0", extra_purpose=True))
    assert status == 409
    assert "already published with different content" in body
    status, body = _upload(web, policy_text("someone-else", "5.0"))
    assert status == 400
    assert "names another controller" in body
    assert _upload(web, "")[0] == 400
    status, body = _upload(web, "\xff\xfe".encode("latin-1").decode("latin-1"))
    assert status == 400
    r = post_form(web, "/admin/policies", "/admin/policies",
                  files={"policy": ("p.yaml", b"\xff\xfe\x00", "application/yaml")})
    assert "not UTF-8" in r.text
    assert _count(sessions, cid) == 1


def test_publishing_is_audited_with_the_staff_member_as_actor(web: TestClient,
                                                               sessions: sessionmaker[Session]) -> None:
    cid = _officer(web, sessions)
    _upload(web, policy_text(cid, "1.0"))
    audit = web.get("/admin/audit").text
    assert "policy.published" in audit
    with sessions() as s:
        record = s.execute(select(PolicyVersionRecord).where(PolicyVersionRecord.controller_id == cid)).scalar_one()
        assert record.published_by.startswith("staff:")


def test_a_scheduled_version_is_marked_on_the_dashboard(web: TestClient, sessions: sessionmaker[Session]) -> None:
    cid = _officer(web, sessions)
    publish_policy(sessions, cid, "1.0")
    publish_policy(sessions, cid, "2.0", extra_purpose=True, effective="2999-01-01")
    dashboard = web.get("/admin").text
    assert "Version 2.0 takes effect on January 1, 2999." in dashboard
    assert "scheduled" in web.get("/admin/policies").text
