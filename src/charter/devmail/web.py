"""The web inbox: list the messages, read one (plain text, the HTML in a sandboxed frame, headers, source).

Self-contained pages (inline CSS, no scripts, no external assets); a Content-Security-Policy keeps a message's
images and tracking pixels from loading. zh and en, picked by `?lang=` or the browser's Accept-Language.
"""

from __future__ import annotations

from pathlib import Path
from typing import Annotated, Any

from fastapi import FastAPI, Header, HTTPException, Query
from fastapi.responses import HTMLResponse, PlainTextResponse, RedirectResponse, Response
from jinja2 import Environment, FileSystemLoader

from charter.core.i18n import Lang, Text
from charter.devmail.store import MailStore, ReceivedMail

LangQuery = Annotated[str | None, Query(alias="lang")]
AcceptLanguage = Annotated[str | None, Header()]
_CSP = "default-src 'none'; style-src 'unsafe-inline'; img-src data:; frame-src 'self'; form-action 'self'"
_PAGES = Environment(loader=FileSystemLoader(Path(__file__).parent / "templates"), autoescape=True,
                     trim_blocks=True, lstrip_blocks=True)

UI: dict[str, Text] = {
    "title": Text(zh="开发邮箱", en="Dev inbox", zh_tw="開發郵箱"),
    "intro": Text(zh="本机 SMTP 服务器收到的邮件（仅供开发和演示，不会外发）。",
                  zh_tw="本機 SMTP 伺服器收到的郵件（僅供開發和示範，不會外發）。",
                  en="Mail received by the local SMTP server (for development and demos; nothing is sent on)."),
    "smtp": Text(zh="SMTP 端口", en="SMTP port", zh_tw="SMTP 連接埠"),
    "empty": Text(zh="还没有邮件。", en="No messages yet.", zh_tw="還沒有郵件。"),
    "from": Text(zh="发件人", en="From", zh_tw="寄件人"),
    "to": Text(zh="收件人", en="To", zh_tw="收件人"),
    "subject": Text(zh="主题", en="Subject", zh_tw="主旨"),
    "received": Text(zh="收到时间", en="Received", zh_tw="收到時間"),
    "text": Text(zh="纯文本", en="Plain text", zh_tw="純文字"),
    "html": Text(zh="HTML 正文", en="HTML body", zh_tw="HTML 內文"),
    "headers": Text(zh="邮件头", en="Headers", zh_tw="郵件標頭"),
    "source": Text(zh="原始邮件", en="Raw source", zh_tw="原始郵件"),
    "back": Text(zh="返回收件箱", en="Back to the inbox", zh_tw="返回收件匣"),
    "clear": Text(zh="清空收件箱", en="Clear the inbox", zh_tw="清空收件匣"),
    "refresh": Text(zh="刷新", en="Refresh", zh_tw="重新整理"),
    "count": Text(zh="封邮件", en="message(s)", zh_tw="封郵件"),
}


def _lang(query: str | None, accept: str | None) -> Lang:
    for candidate in (query, *(accept or "").split(",")):
        if candidate:
            try:
                return Lang.parse(candidate.split(";")[0])
            except ValueError:
                continue
    return Lang.ZH_CN


def _page(name: str, lang: Lang, **context: Any) -> HTMLResponse:
    ui = {k: v.get(lang) for k, v in UI.items()}
    html = _PAGES.get_template(name).render(ui=ui, lang=lang.value, **context)
    return HTMLResponse(html, headers={"Content-Security-Policy": _CSP, "Cache-Control": "no-store"})


def _summary(mail: ReceivedMail) -> dict[str, Any]:
    return {"id": mail.id, "received_at": mail.received_at.isoformat(), "mail_from": mail.mail_from,
            "rcpt_tos": mail.rcpt_tos, "from": mail.sender, "to": mail.to, "subject": mail.subject,
            "text": mail.text, "html": mail.html, "headers": mail.headers}


def create_inbox_app(store: MailStore, *, smtp_port: int | None = None) -> FastAPI:
    app = FastAPI(title="Charter dev inbox", docs_url=None, redoc_url=None, openapi_url=None)
    def found(mail_id: int) -> ReceivedMail:
        mail = store.get(mail_id)
        if mail is None:
            raise HTTPException(404, "no such message")
        return mail

    @app.get("/", response_class=HTMLResponse)
    def inbox(lang: LangQuery = None, accept_language: AcceptLanguage = None) -> HTMLResponse:
        mails = list(reversed(store.all()))
        return _page("inbox.html", _lang(lang, accept_language), mails=mails, smtp_port=smtp_port)

    @app.get("/messages/{mail_id}", response_class=HTMLResponse)
    def read(mail_id: int, lang: LangQuery = None, accept_language: AcceptLanguage = None) -> HTMLResponse:
        return _page("message.html", _lang(lang, accept_language), mail=found(mail_id))

    @app.get("/messages/{mail_id}/source")
    def source(mail_id: int) -> Response:
        return PlainTextResponse(found(mail_id).raw.decode("utf-8", "replace"))

    @app.post("/clear")
    def clear(lang: LangQuery = None) -> RedirectResponse:
        store.clear()
        return RedirectResponse(f"/?lang={_lang(lang, None).value}", status_code=303)

    @app.get("/api/messages")
    def api_list() -> list[dict[str, Any]]:
        """Every message, oldest first, with its text and HTML: what a demo script reads codes from."""
        return [_summary(m) for m in store.all()]

    @app.get("/api/messages/{mail_id}")
    def api_read(mail_id: int) -> dict[str, Any]:
        return _summary(found(mail_id))

    return app
