"""A newcomer reads a verification code in the dev inbox, in Chromium; a tracking pixel never loads."""

from __future__ import annotations

from typing import Any

from fastapi import FastAPI, Response

from charter.core.i18n import Lang
from charter.devmail import DevMail
from charter.outbox import Channel, Marketing, Outgoing, SmtpTransport, render
from tests.live import live_server


def _send(port: int, template: str, params: dict[str, object], *, to: str,
          marketing: Marketing | None = None) -> None:
    content = render(template, Lang.EN, {**params, "controller_name": "Lubpur"}, marketing=marketing)
    transport = SmtpTransport("127.0.0.1", port, mail_from="no-reply@lubpur.test")
    transport.send(Outgoing(id=f"m-{template}", controller_id="lubpur", controller_name="Lubpur",
                            channel=Channel.EMAIL, to=to, language=Lang.EN, template=template, content=content))
    transport.close()


def test_read_a_verification_code_in_the_web_inbox(page: Any) -> None:
    hits: list[str] = []
    tracker = FastAPI()

    @tracker.get("/open.gif")
    def pixel() -> Response:
        hits.append("open")
        return Response(b"GIF89a", media_type="image/gif")

    with DevMail() as mail, live_server(tracker) as tracker_url:
        _send(mail.smtp_port, "verification_code", {"code": "042917", "expires_minutes": 10}, to="wang@example.com")
        _send(mail.smtp_port, "newsletter", {"title": "Spring oils", "paragraphs": ["New grades."]},
              to="wang@example.com", marketing=Marketing("Lubpur", "400-820-0000", "https://lubpur.test/u",
                                                         allow_tracking=True,
                                                         tracking_pixel_url=f"{tracker_url}/open.gif"))
        mail.wait_for(2)
        page.goto(f"{mail.inbox_url}/?lang=zh-CN")
        assert page.text_content("h1") == "开发邮箱"
        page.click("text=English")
        assert page.text_content("h1") == "Dev inbox"
        assert page.text_content("#count") == "2"
        page.click("text=Your Lubpur verification code")
        assert page.text_content("#subject") == "Your Lubpur verification code"
        assert "Your verification code is: 042917" in page.text_content("#text")
        assert page.frame_locator("#html").locator("#code").text_content() == "042917"
        page.click("text=Back to the inbox")
        page.click("text=AD: Spring oils")
        assert page.frame_locator("#html").locator("h1").text_content() == "Spring oils"
        page.wait_for_timeout(300)
        assert hits == []  # the inbox's Content-Security-Policy keeps the pixel from loading
