"""Public pages: home, language, what we collect and why, register, log in and out, and landups.com sign-up."""

from __future__ import annotations

from fastapi import APIRouter
from fastapi.responses import HTMLResponse, Response

from landups.accounts import parse_registration
from landups.catalogue import PRODUCTS, format_hkd
from landups.forms import ValidationFailed
from landups.i18n import Lang
from landups.links import LinkService, subject_of
from landups.models import User
from landups.privacy import VISITOR_COOKIE, Evidence, visitor_id_from_cookie
from landups.web.context import PageCtx, PostedForm

router = APIRouter()


def evidence_of(ctx: PageCtx) -> Evidence:
    return Evidence(ip=ctx.client.ip, user_agent=ctx.client.user_agent, language=ctx.lang.value,
                    gpc=ctx.request.headers.get("sec-gpc") == "1")


def _safe_next(value: str) -> str:
    """Only a path on this site: never an absolute URL (no open redirect)."""
    return value if value.startswith("/") and not value.startswith("//") and "\\" not in value else "/"


def _carry_banner_choices(ctx: PageCtx, user: User) -> None:
    visitor = visitor_id_from_cookie(ctx.request.cookies.get(VISITOR_COOKIE))
    if visitor is not None:
        ctx.privacy.link_visitor(user, subject_of(ctx.db, user), visitor)


@router.get("/healthz")
def healthz() -> dict[str, str]:
    """For process managers (and `charter demo`): the server is up. Touches no data."""
    return {"status": "ok"}


@router.get("/", response_class=HTMLResponse)
def home(ctx: PageCtx) -> Response:
    return ctx.render("home.html", products=PRODUCTS[:4], format_hkd=format_hkd)


@router.post("/language")
def choose_language(ctx: PageCtx, form: PostedForm) -> Response:
    lang = Lang.parse(form.text("lang"))
    if lang is not None:
        ctx.request.state.set_lang = lang.value
        if ctx.user is not None:
            ctx.user.language = lang.value   # a personal setting (purpose personal_settings)
    return ctx.redirect(_safe_next(form.text("next")))


@router.get("/privacy-notice", response_class=HTMLResponse)
def privacy_notice(ctx: PageCtx) -> Response:
    return ctx.render("privacy_notice.html", purposes=list(ctx.state.policy.purposes.values()))


@router.get("/register", response_class=HTMLResponse)
def register_form(ctx: PageCtx) -> Response:
    if ctx.user is not None:
        return ctx.redirect("/console")
    return ctx.render("register.html", consent_purposes=ctx.state.policy.consent_purposes_at_registration(),
                      values={"language": ctx.lang.value})


@router.post("/register")
def register(ctx: PageCtx, form: PostedForm) -> Response:
    policy = ctx.state.policy
    offered = policy.consent_purposes_at_registration()
    try:
        reg = parse_registration(form, [p.id for p in offered], ctx.lang)
        user = ctx.accounts.register(reg, policy_version=policy.version)
    except ValidationFailed as exc:
        values = {k: v for k, v in form.fields.items() if "password" not in k}
        return ctx.render("register.html", status=400, errors=exc.errors, values=values, consent_purposes=offered)
    subject = subject_of(ctx.db, user)
    ctx.privacy.register_subject(user, subject)
    ctx.privacy.record_registration_consent(user, subject, reg.choices, evidence_of(ctx))
    event = ctx.accounts.record_sign_in(user, ctx.client)
    ctx.privacy.report_login(user, subject, event.id, event.outcome)
    _carry_banner_choices(ctx, user)
    ctx.start_session(user=user)
    ctx.request.state.set_lang = reg.language.value
    return ctx.redirect("/console")


@router.get("/login", response_class=HTMLResponse)
def login_form(ctx: PageCtx) -> Response:
    if ctx.user is not None:
        return ctx.redirect("/console")
    return ctx.render("login.html")


@router.post("/login")
def login(ctx: PageCtx, form: PostedForm) -> Response:
    user, event = ctx.accounts.authenticate(form.text("email"), form.raw("password"), ctx.client)
    if event is not None:
        owner = ctx.accounts.owner_of(event)
        ctx.privacy.report_login(owner, subject_of(ctx.db, owner), event.id, event.outcome)
    if user is not None:
        _carry_banner_choices(ctx, user)
        ctx.start_session(user=user)
        return ctx.redirect("/console")
    error = "err.login_locked" if event is not None and event.outcome == "locked" else "err.login"
    return ctx.render("login.html", status=400, errors={"email": error}, values={"email": form.text("email")})


@router.post("/logout")
def logout(ctx: PageCtx, form: PostedForm) -> Response:
    ctx.end_session()
    return ctx.redirect("/")


@router.get("/site/register", response_class=HTMLResponse)
def site_register_form(ctx: PageCtx) -> Response:
    return ctx.render("site_register.html")


@router.post("/site/register")
def site_register(ctx: PageCtx, form: PostedForm) -> Response:
    try:
        account = LinkService(ctx.db).create_site_account(form)
    except ValidationFailed as exc:
        values = {k: v for k, v in form.fields.items() if "password" not in k}
        return ctx.render("site_register.html", status=400, errors=exc.errors, values=values)
    return ctx.render("site_register.html", created=account.username)
