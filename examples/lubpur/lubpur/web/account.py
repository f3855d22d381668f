"""Register (with a guardian's consent for minors), log in and out, accept a new policy version."""

from __future__ import annotations

from typing import Annotated

from fastapi import APIRouter, Form
from fastapi.responses import HTMLResponse, RedirectResponse, Response

from lubpur import accounts, mailer
from lubpur.accounts import Registration
from lubpur.errors import InputError
from lubpur.web.deps import SESSION_COOKIE, CtxDep, redirect, safe_next, set_cookie

router = APIRouter()
F = Annotated[str, Form()]
REGISTRATION_FIELDS = ("email", "phone", "name", "company", "birth_date", "guardian_name", "guardian_relationship",
                       "guardian_email", "guardian_phone")


@router.get("/register", response_class=HTMLResponse)
def register_form(ctx: CtxDep) -> HTMLResponse:
    return ctx.render("register.html", form={})


@router.post("/register", response_class=HTMLResponse)
def register(ctx: CtxDep, *, csrf: F = "", email: F = "", phone: F = "", password: F = "", name: F = "",
             company: F = "", birth_date: F = "", policy_version: F = "", accept_policy: F = "",
             personalisation: F = "", guardian_name: F = "", guardian_relationship: F = "", guardian_email: F = "",
             guardian_phone: F = "") -> Response:
    ctx.check_csrf(csrf)
    form = Registration(email=email, phone=phone, password=password, name=name, company=company,
                        birth_date=birth_date, policy_version=policy_version, is_policy_accepted=accept_policy == "yes",
                        wants_personalisation=personalisation == "yes", guardian_name=guardian_name,
                        guardian_relationship=guardian_relationship, guardian_email=guardian_email,
                        guardian_phone=guardian_phone)
    try:
        done = accounts.register(ctx.session, ctx.privacy, form, ctx.evidence("registration_form"),
                                 ctx.settings.base_url)
    except InputError as exc:
        ctx.session.rollback()
        values = {k: v for k, v in form.__dict__.items() if k in REGISTRATION_FIELDS}
        return ctx.form_error("register.html", exc, form=values)
    if done.needs_guardian:
        ctx.session.commit()
        mailer.send(ctx.settings, done.mails)
        return ctx.render("message.html", title=ctx.t("guardian.pending.title"), body=ctx.t("guardian.pending.body"))
    token = accounts.open_session(ctx.session, user_id=done.user.id)
    ctx.session.commit()
    response = redirect("/me", ok="registered")
    set_cookie(response, ctx.settings, SESSION_COOKIE, token)
    return response


@router.get("/guardian/confirm", response_class=HTMLResponse)
def guardian_form(ctx: CtxDep, token: str = "") -> HTMLResponse:
    consent, minor = accounts.pending_guardian_consent(ctx.session, token)
    return ctx.render("guardian.html", consent=consent, minor=minor, token=token)


@router.post("/guardian/confirm", response_class=HTMLResponse)
def guardian_confirm(ctx: CtxDep, *, csrf: F = "", token: F = "", agree: F = "") -> HTMLResponse:
    ctx.check_csrf(csrf)
    consent, minor = accounts.pending_guardian_consent(ctx.session, token)
    if agree != "yes":
        err = InputError("err.guardian_agree", "agree")
        return ctx.form_error("guardian.html", err, consent=consent, minor=minor, token=token)
    accounts.confirm_guardian_consent(ctx.session, ctx.privacy, token, ctx.evidence("guardian_email_link"))
    ctx.session.commit()
    return ctx.render("message.html", title=ctx.t("guardian.done.title"), body=ctx.t("guardian.done.body"))


@router.get("/login", response_class=HTMLResponse)
def login_form(ctx: CtxDep, next: str = "/me") -> HTMLResponse:
    return ctx.render("login.html", next=safe_next(next), login="")


@router.post("/login", response_class=HTMLResponse)
def login(ctx: CtxDep, *, csrf: F = "", login: F = "", password: F = "", next: F = "/me") -> Response:
    ctx.check_csrf(csrf)
    try:
        user = accounts.authenticate(ctx.session, ctx.privacy, login, password, ctx.evidence("login_form"))
    except InputError as exc:
        ctx.session.commit()  # the failed attempt's login record stays
        return ctx.form_error("login.html", exc, next=safe_next(next), login=login)
    token = accounts.open_session(ctx.session, user_id=user.id)
    ctx.session.commit()
    response = redirect(safe_next(next))
    set_cookie(response, ctx.settings, SESSION_COOKIE, token)
    return response


@router.post("/logout")
def logout(ctx: CtxDep, *, csrf: F = "") -> RedirectResponse:
    ctx.check_csrf(csrf)
    accounts.close_session(ctx.session, ctx.request.cookies.get(SESSION_COOKIE, ""))
    ctx.session.commit()
    response = redirect("/")
    response.delete_cookie(SESSION_COOKIE, path="/")
    return response


@router.get("/policy/accept", response_class=HTMLResponse)
def policy_accept_form(ctx: CtxDep) -> Response:
    if ctx.user is None:
        return redirect("/login")
    return ctx.render("policy_accept.html", accepted=ctx.user.policy_version)


@router.post("/policy/accept", response_class=HTMLResponse)
def policy_accept(ctx: CtxDep, *, csrf: F = "", policy_version: F = "", accept_policy: F = "") -> Response:
    ctx.check_csrf(csrf)
    if ctx.user is None:
        return redirect("/login")
    try:
        if accept_policy != "yes":
            raise InputError("err.accept_policy", "accept_policy")
        accounts.accept_current_policy(ctx.session, ctx.privacy, ctx.user, policy_version,
                                       ctx.evidence("policy_update_prompt"))
    except InputError as exc:
        return ctx.form_error("policy_accept.html", exc, accepted=ctx.user.policy_version)
    ctx.session.commit()
    return redirect("/me")
