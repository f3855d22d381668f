"""A signed-in user's own pages: console, profile, login records, bank account, linked accounts, privacy choices."""

from __future__ import annotations

from fastapi import APIRouter
from fastapi.responses import HTMLResponse, RedirectResponse, Response

from landups.billing import BillingService
from landups.catalogue import BY_SKU, format_hkd
from landups.engagement import Engagement
from landups.forms import ValidationFailed
from landups.i18n import Lang
from landups.links import SITE, LinkService, subject_of
from landups.market import MarketService
from landups.realname import PhotoService, RealNameService
from landups.web.context import Ctx, UserCtx
from landups.web.context import PostedForm as Posted
from landups.web.pages_public import evidence_of

router = APIRouter()


def realname_service(ctx: Ctx) -> RealNameService:
    photos = PhotoService(ctx.db, ctx.state.vault, ctx.state.settings.max_photo_bytes)
    return RealNameService(ctx.db, photos, ctx.state.keys.fields)


@router.get("/console", response_class=HTMLResponse)
def console(ctx: UserCtx) -> Response:
    engagement = Engagement(ctx.db, ctx.privacy)
    engagement.track(ctx.subject, "console", ctx.client)
    market = MarketService(ctx.db)
    return ctx.render(
        "console.html", real_name=realname_service(ctx).current(ctx.me), orders=market.orders(ctx.me)[:5],
        invitations=engagement.invitations(ctx.me, ctx.subject),
        recommendations=engagement.recommendations(ctx.me, ctx.subject), products=BY_SKU, format_hkd=format_hkd,
        centre_available=ctx.privacy.is_connected)


@router.get("/account/profile", response_class=HTMLResponse)
def profile_form(ctx: UserCtx) -> Response:
    return ctx.render("profile.html", values=_profile_values(ctx))


def _profile_values(ctx: Ctx) -> dict[str, str]:
    user = ctx.me
    return {"name": user.name, "phone": user.phone or "", "qq": user.qq or "", "address": user.address or "",
            "language": user.language}


@router.post("/account/profile")
def profile(ctx: UserCtx, form: Posted) -> Response:
    try:
        ctx.accounts.update_profile(ctx.me, form)
    except ValidationFailed as exc:
        return ctx.render("profile.html", status=400, errors=exc.errors, values=form.fields)
    ctx.request.state.set_lang = ctx.me.language
    ctx.lang = Lang.parse(ctx.me.language) or ctx.lang
    return ctx.render("profile.html", values=_profile_values(ctx), saved=True)


@router.get("/account/logins", response_class=HTMLResponse)
def login_records(ctx: UserCtx) -> Response:
    return ctx.render("logins.html", logins=ctx.accounts.login_records(ctx.me),
                      views=ctx.accounts.page_views(ctx.me))


@router.get("/billing", response_class=HTMLResponse)
def billing_form(ctx: UserCtx) -> Response:
    return ctx.render("billing.html", account=BillingService(ctx.db, ctx.state.keys.fields).masked(ctx.me))


@router.post("/billing")
def billing(ctx: UserCtx, form: Posted) -> Response:
    service = BillingService(ctx.db, ctx.state.keys.fields)
    try:
        service.save(ctx.me, form)
    except ValidationFailed as exc:
        # The account number is never echoed back, not even into the form it was typed in.
        values = {k: v for k, v in form.fields.items() if k != "account_number"}
        return ctx.render("billing.html", status=400, errors=exc.errors, values=values,
                          account=service.masked(ctx.me))
    return ctx.render("billing.html", account=service.masked(ctx.me), saved=True)


@router.get("/account/links", response_class=HTMLResponse)
def links_page(ctx: UserCtx) -> Response:
    return ctx.render("links.html", linked=LinkService(ctx.db).linked(ctx.me), site=SITE)


@router.post("/account/links")
def link(ctx: UserCtx, form: Posted) -> Response:
    service = LinkService(ctx.db)
    try:
        account = service.link(ctx.me, form)
    except ValidationFailed as exc:
        return ctx.render("links.html", status=400, errors=exc.errors, values={"username": form.text("username")},
                          linked=service.linked(ctx.me), site=SITE)
    ctx.privacy.link_identity(ctx.me, subject_of(ctx.db, ctx.me), SITE, account.username)
    return ctx.redirect("/account/links")


@router.post("/account/links/remove")
def unlink(ctx: UserCtx, form: Posted) -> Response:
    subject = subject_of(ctx.db, ctx.me)
    account = LinkService(ctx.db).unlink(ctx.me)
    if account is not None:
        ctx.privacy.unlink_identity(ctx.me, subject, SITE, account.username)
    return ctx.redirect("/account/links")


@router.get("/account/privacy", response_class=HTMLResponse)
def privacy_choices(ctx: UserCtx) -> Response:
    return _privacy_page(ctx)


def _privacy_page(ctx: Ctx, status: int = 200, **values: object) -> Response:
    purposes = ctx.state.policy.consent_purposes()
    decisions = {p.id: ctx.privacy.may_use(ctx.subject, p.id) for p in purposes}
    return ctx.render("privacy_choices.html", status=status, purposes=purposes, decisions=decisions,
                      last=ctx.privacy.last_choices(ctx.me), connected=ctx.privacy.is_connected, **values)


@router.get("/account/privacy-centre")
def open_privacy_centre(ctx: UserCtx) -> Response:
    """Into Charter's privacy centre, signed in as this person: a fresh single-use link minted for this click
    (`Client.privacy_centre_link`), so no link that signs anyone in is ever written into a page."""
    link = ctx.privacy.centre_link(ctx.subject, ctx.lang)
    if link is None:
        return _privacy_page(ctx, status=503, centre_unavailable=True)
    return RedirectResponse(link, status_code=303)


@router.post("/account/privacy")
def change_choice(ctx: UserCtx, form: Posted) -> Response:
    purpose = ctx.state.policy.purposes.get(form.text("purpose"))
    if purpose is None or not purpose.needs_consent or form.text("choice") not in ("grant", "withdraw"):
        return ctx.redirect("/account/privacy")
    ctx.privacy.record_choice(ctx.me, ctx.subject, purpose.id, granted=form.text("choice") == "grant",
                              evidence=evidence_of(ctx), notice="privacy-choices")
    return ctx.redirect("/account/privacy")
