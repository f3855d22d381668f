"""The development mail server over real SMTP and HTTP."""

from __future__ import annotations

import smtplib
from email.message import EmailMessage
from pathlib import Path

import httpx
import pytest

from charter.devmail import DevMail


def _send(port: int, to: str = "wang@example.com", subject: str = "你好 hello", body: str = "code 042917",
          **smtp: str) -> None:
    msg = EmailMessage()
    msg["From"], msg["To"], msg["Subject"] = "超润 <no-reply@lubpur.example>", to, subject
    msg.set_content(body)
    msg.add_alternative(f"<p>{body}</p><img src='http://127.0.0.1:9/pixel.gif'>", subtype="html")
    with smtplib.SMTP("127.0.0.1", port, timeout=5) as client:
        if smtp:
            client.login(smtp["user"], smtp["password"])
        client.send_message(msg)


def test_receives_and_parses_mail() -> None:
    with DevMail(web_port=None) as mail:
        assert mail.inbox_url is None
        _send(mail.smtp_port)
        [received] = mail.wait_for(1)
        assert received.rcpt_tos == ["wang@example.com"]
        assert received.mail_from == "no-reply@lubpur.example"
        assert received.subject == "你好 hello"
        assert received.sender == "超润 <no-reply@lubpur.example>"
        assert received.text.strip() == "code 042917"
        assert received.html is not None and "<p>code 042917</p>" in received.html
        assert ("To", "wang@example.com") in received.headers
        mail.clear()
        assert mail.messages == []


def test_wait_for_says_how_many_came() -> None:
    with DevMail(web_port=None) as mail, pytest.raises(TimeoutError, match="0 of 1"):
        mail.wait_for(1, timeout=0.2)


def test_refused_addresses_get_the_code_asked_for() -> None:
    with DevMail(web_port=None) as mail:
        mail.refuse("Gone@Example.com", 550)
        mail.refuse("busy@example.com", 451)
        with pytest.raises(smtplib.SMTPRecipientsRefused) as err:
            _send(mail.smtp_port, to="gone@example.com")
        assert err.value.recipients["gone@example.com"][0] == 550
        with pytest.raises(smtplib.SMTPRecipientsRefused) as err:
            _send(mail.smtp_port, to="busy@example.com")
        assert err.value.recipients["busy@example.com"][0] == 451
        mail.accept("busy@example.com")
        _send(mail.smtp_port, to="busy@example.com")
        assert [m.rcpt_tos for m in mail.wait_for(1)] == [["busy@example.com"]]


def test_login_can_be_required() -> None:
    with DevMail(web_port=None, login=("charter", "s3cret-pass")) as mail:
        with pytest.raises(smtplib.SMTPSenderRefused) as err:
            _send(mail.smtp_port)
        assert err.value.smtp_code == 530
        with pytest.raises(smtplib.SMTPAuthenticationError):
            _send(mail.smtp_port, user="charter", password="wrong")
        _send(mail.smtp_port, user="charter", password="s3cret-pass")
        assert len(mail.wait_for(1)) == 1


def test_a_sqlite_store_keeps_mail_across_restarts(tmp_path: Path) -> None:
    store = tmp_path / "inbox.db"
    with DevMail(web_port=None, store_path=store) as mail:
        _send(mail.smtp_port, subject="kept")
        mail.wait_for(1)
    with DevMail(web_port=None, store_path=store) as mail:
        assert [m.subject for m in mail.messages] == ["kept"]


def test_web_inbox_lists_and_shows_messages_in_zh_and_en() -> None:
    with DevMail() as mail:
        assert mail.inbox_url is not None
        empty = httpx.get(mail.inbox_url + "/?lang=en")
        assert "No messages yet." in empty.text
        _send(mail.smtp_port, subject="Your <code>", body="code 042917 & more")
        mail.wait_for(1)
        listing = httpx.get(mail.inbox_url + "/", headers={"Accept-Language": "zh-CN,zh;q=0.9"})
        assert listing.status_code == 200
        assert "开发邮箱" in listing.text and "Your &lt;code&gt;" in listing.text
        assert "img-src data:" in listing.headers["content-security-policy"]
        assert "<script" not in listing.text and "://" not in listing.text  # no external assets
        page = httpx.get(mail.inbox_url + "/messages/1?lang=en")
        assert "Plain text" in page.text and "code 042917 &amp; more" in page.text
        assert 'sandbox=""' in page.text
        assert httpx.get(mail.inbox_url + "/messages/99").status_code == 404
        source = httpx.get(mail.inbox_url + "/messages/1/source")
        assert "Subject: Your <code>" in source.text
        [api] = httpx.get(mail.inbox_url + "/api/messages").json()
        assert (api["id"], api["subject"], api["rcpt_tos"]) == (1, "Your <code>", ["wang@example.com"])
        assert "042917" in api["text"]
        cleared = httpx.post(mail.inbox_url + "/clear?lang=en", follow_redirects=True)
        assert "No messages yet." in cleared.text
