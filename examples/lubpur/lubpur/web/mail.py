"""Subscription (double opt-in), unsubscribe (one click, RFC 8058), stop tracking, and the tracking endpoints."""

from __future__ import annotations

import base64
from typing import Annotated

from fastapi import APIRouter, Form
from fastapi.responses import HTMLResponse, RedirectResponse, Response

from lubpur import mailer, subscriptions
from lubpur.errors import InputError, NotFound
from lubpur.web.deps import CtxDep, redirect

router = APIRouter()
F = Annotated[str, Form()]
PIXEL = base64.b64decode("R0lGODlhAQABAIAAAAAAAP///yH5BAEAAAAALAAAAAABAAEAAAIBRAA7")


@router.post("/subscribe", response_class=HTMLResponse)
def subscribe(ctx: CtxDep, csrf: F = "", email: F = "") -> Response:
    ctx.check_csrf(csrf)
    try:
        mails = subscriptions.subscribe(ctx.session, email, ctx.lang, ctx.user, ctx.settings.base_url)
    except InputError as exc:
        ctx.session.rollback()
        return ctx.render("message.html", status=400, title=ctx.t("subscribe.title"), body=ctx.t(exc.key))
    ctx.session.commit()
    mailer.send(ctx.settings, mails)
    return ctx.render("message.html", title=ctx.t("subscribe.title"), body=ctx.t("subscribe.check_inbox"))


@router.get("/subscribe/confirm", response_class=HTMLResponse)
def confirm_form(ctx: CtxDep, token: str = "") -> HTMLResponse:
    sub = subscriptions.pending(ctx.session, token)
    return ctx.render("subscribe_confirm.html", token=token, email=sub.email)


@router.post("/subscribe/confirm", response_class=HTMLResponse)
def confirm(ctx: CtxDep, csrf: F = "", token: F = "", tracking: F = "") -> HTMLResponse:
    ctx.check_csrf(csrf)
    subscriptions.confirm(ctx.session, ctx.privacy, token, allow_tracking=tracking == "yes",
                          evidence=ctx.evidence("double_opt_in"))
    ctx.session.commit()
    return ctx.render("message.html", title=ctx.t("subscribe.done.title"), body=ctx.t("subscribe.done.body"))


@router.get("/unsubscribe", response_class=HTMLResponse)
def unsubscribe_form(ctx: CtxDep, token: str = "") -> HTMLResponse:
    try:
        sub = subscriptions.by_manage_token(ctx.session, token)
    except NotFound:
        return ctx.render("message.html", title=ctx.t("unsubscribe.title"), body=ctx.t("unsubscribe.already"))
    return ctx.render("unsubscribe.html", token=token, email=sub.email)


@router.post("/unsubscribe", response_class=HTMLResponse)
def unsubscribe(ctx: CtxDep, token: F = "") -> HTMLResponse:
    """Token-authenticated (the token is in the mail), so no CSRF cookie is needed; takes effect at once."""
    try:
        sub = subscriptions.by_manage_token(ctx.session, token)
    except NotFound:
        return ctx.render("message.html", title=ctx.t("unsubscribe.title"), body=ctx.t("unsubscribe.already"))
    subscriptions.unsubscribe(ctx.session, ctx.privacy, sub, ctx.evidence("unsubscribe_link"))
    ctx.session.commit()
    return ctx.render("message.html", title=ctx.t("unsubscribe.title"), body=ctx.t("unsubscribe.done"))


@router.post("/unsubscribe/one-click")
def unsubscribe_one_click(ctx: CtxDep, token: str = "") -> Response:
    """RFC 8058: the mail client POSTs `List-Unsubscribe=One-Click` to the List-Unsubscribe URL."""
    try:
        sub = subscriptions.by_manage_token(ctx.session, token)
    except NotFound:
        return Response(status_code=200)
    subscriptions.unsubscribe(ctx.session, ctx.privacy, sub, ctx.evidence("list_unsubscribe_one_click"))
    ctx.session.commit()
    return Response(status_code=200)


@router.get("/email/tracking/stop", response_class=HTMLResponse)
def stop_tracking_form(ctx: CtxDep, token: str = "") -> HTMLResponse:
    sub = subscriptions.by_manage_token(ctx.session, token)
    return ctx.render("tracking_stop.html", token=token, email=sub.email)


@router.post("/email/tracking/stop", response_class=HTMLResponse)
def stop_tracking(ctx: CtxDep, token: F = "") -> HTMLResponse:
    sub = subscriptions.by_manage_token(ctx.session, token)
    subscriptions.set_tracking(ctx.privacy, sub, allow=False, evidence=ctx.evidence("email_link"))
    ctx.session.commit()
    return ctx.render("message.html", title=ctx.t("tracking.stopped.title"), body=ctx.t("tracking.stopped.body"))


@router.get("/t/o/{tracking}.gif")
def open_pixel(ctx: CtxDep, tracking: str) -> Response:
    subscriptions.record_open(ctx.session, ctx.privacy, tracking)
    ctx.session.commit()
    return Response(PIXEL, media_type="image/gif", headers={"Cache-Control": "no-store"})


@router.get("/t/c/{tracking}/{n}")
def click(ctx: CtxDep, tracking: str, n: int) -> RedirectResponse:
    path = subscriptions.record_click(ctx.session, ctx.privacy, tracking, n)
    ctx.session.commit()
    return RedirectResponse(path, status_code=302)


@router.get("/subscribe")
def subscribe_page() -> RedirectResponse:
    return redirect("/#subscribe")
