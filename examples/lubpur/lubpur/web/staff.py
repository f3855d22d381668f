"""Customer service: staff log in, answer consultations and purchase requests, and send newsletters."""

from __future__ import annotations

from typing import Annotated

from fastapi import APIRouter, Form
from fastapi.responses import HTMLResponse, RedirectResponse, Response

from lubpur import accounts, consultation, mailer, purchases, subscriptions
from lubpur.errors import InputError
from lubpur.models import User
from lubpur.subscriptions import IssueForm
from lubpur.web.deps import STAFF_COOKIE, CtxDep, redirect, set_cookie

router = APIRouter(prefix="/staff")
F = Annotated[str, Form()]


@router.get("/login", response_class=HTMLResponse)
def login_form(ctx: CtxDep) -> HTMLResponse:
    return ctx.render("staff/login.html", email="")


@router.post("/login", response_class=HTMLResponse)
def login(ctx: CtxDep, *, csrf: F = "", email: F = "", password: F = "") -> Response:
    ctx.check_csrf(csrf)
    try:
        member = accounts.authenticate_staff(ctx.session, email, password)
    except InputError as exc:
        return ctx.form_error("staff/login.html", exc, email=email)
    token = accounts.open_session(ctx.session, staff_id=member.id)
    ctx.session.commit()
    response = redirect("/staff")
    set_cookie(response, ctx.settings, STAFF_COOKIE, token)
    return response


@router.post("/logout")
def logout(ctx: CtxDep, *, csrf: F = "") -> RedirectResponse:
    ctx.check_csrf(csrf)
    accounts.close_session(ctx.session, ctx.request.cookies.get(STAFF_COOKIE, ""))
    ctx.session.commit()
    response = redirect("/staff/login")
    response.delete_cookie(STAFF_COOKIE, path="/")
    return response


@router.get("", response_class=HTMLResponse)
def inbox(ctx: CtxDep) -> HTMLResponse:
    ctx.require_staff()
    rows = consultation.inbox(ctx.session)
    names = consultation.customer_names(ctx.session, {c.user_id for c in rows})
    return ctx.render("staff/inbox.html", rows=rows, names=names)


@router.get("/consultations/{consultation_id}", response_class=HTMLResponse)
def conversation(ctx: CtxDep, consultation_id: int) -> HTMLResponse:
    ctx.require_staff()
    conv = consultation.get(ctx.session, consultation_id)
    customer = ctx.session.get(User, conv.user_id)
    return ctx.render("staff/consultation.html", conv=conv, customer=customer,
                      messages=consultation.messages(ctx.session, conv.id))


@router.post("/consultations/{consultation_id}", response_class=HTMLResponse)
def answer(ctx: CtxDep, consultation_id: int, *, csrf: F = "", body: F = "") -> Response:
    ctx.check_csrf(csrf)
    member = ctx.require_staff()
    conv = consultation.get(ctx.session, consultation_id)
    try:
        consultation.post(ctx.session, conv, body, staff_id=member.id)
    except InputError as exc:
        ctx.session.rollback()
        return ctx.form_error("staff/consultation.html", exc, conv=conv, customer=ctx.session.get(User, conv.user_id),
                              messages=consultation.messages(ctx.session, conv.id))
    ctx.session.commit()
    return redirect(f"/staff/consultations/{conv.id}", ok="message_sent")


@router.get("/purchases", response_class=HTMLResponse)
def purchase_requests(ctx: CtxDep) -> HTMLResponse:
    ctx.require_staff()
    return ctx.render("staff/purchases.html", rows=purchases.all_requests(ctx.session))


@router.post("/purchases/{request_id}", response_class=HTMLResponse)
def quote(ctx: CtxDep, request_id: int, *, csrf: F = "", reply: F = "") -> Response:
    ctx.check_csrf(csrf)
    ctx.require_staff()
    try:
        purchases.reply(ctx.session, request_id, reply)
    except InputError as exc:
        ctx.session.rollback()
        return ctx.form_error("staff/purchases.html", exc, rows=purchases.all_requests(ctx.session))
    ctx.session.commit()
    return redirect("/staff/purchases", ok="message_sent")


@router.get("/newsletters", response_class=HTMLResponse)
def newsletters(ctx: CtxDep) -> HTMLResponse:
    ctx.require_staff()
    return ctx.render("staff/newsletters.html", issues=subscriptions.recent_issues(ctx.session), form={})


@router.post("/newsletters", response_class=HTMLResponse)
def send_newsletter(ctx: CtxDep, *, csrf: F = "", subject_zh: F = "", subject_en: F = "", body_zh: F = "",
                    body_en: F = "", links: F = "") -> Response:
    ctx.check_csrf(csrf)
    ctx.require_staff()
    form = IssueForm(subject_zh, subject_en, body_zh, body_en, links)
    try:
        issue = subscriptions.create_issue(ctx.session, form)
    except InputError as exc:
        ctx.session.rollback()
        return ctx.form_error("staff/newsletters.html", exc, issues=subscriptions.recent_issues(ctx.session),
                              form=form.__dict__)
    mails = subscriptions.send_issue(ctx.session, ctx.privacy, issue, ctx.settings.base_url)
    ctx.session.commit()
    mailer.send(ctx.settings, mails)
    return redirect("/staff/newsletters", ok="newsletter_sent")


