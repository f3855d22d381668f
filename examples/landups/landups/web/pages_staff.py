"""The support desk (`/staff`): real-name review, handovers to third parties, upgrades, survey invitations.
Every read of a user's personal data here is recorded with the staff member and a reason (LAN-SECURITY)."""

from __future__ import annotations

from contextlib import suppress

from fastapi import APIRouter
from fastapi.responses import HTMLResponse, Response
from sqlalchemy import func, select
from starlette.background import BackgroundTask

from landups.billing import BillingService
from landups.engagement import SURVEYS, Engagement
from landups.forms import ValidationFailed, clean_int
from landups.identifiers import Invalid
from landups.market import MarketService
from landups.models import CharterCall, IdPhoto, MembershipApplication, RealNameRecord, User
from landups.staffdesk import HandoverService, StaffService
from landups.web.context import Ctx, PageCtx, StaffCtx
from landups.web.context import PostedForm as Posted
from landups.web.pages_account import realname_service
from landups.web.pages_features import photo_service

router = APIRouter(prefix="/staff")


@router.get("/login", response_class=HTMLResponse)
def login_form(ctx: PageCtx) -> Response:
    return ctx.render("staff/login.html")


@router.post("/login")
def login(ctx: PageCtx, form: Posted) -> Response:
    member = StaffService(ctx.db).authenticate(form.text("email"), form.raw("password"))
    if member is None:
        return ctx.render("staff/login.html", status=400, errors={"email": "err.login"},
                          values={"email": form.text("email")})
    ctx.start_session(staff=member)
    return ctx.redirect("/staff")


@router.post("/logout")
def logout(ctx: StaffCtx, form: Posted) -> Response:
    ctx.end_session()
    return ctx.redirect("/staff/login")


def _desk(ctx: Ctx, status: int = 200, **values: object) -> Response:
    pending_calls = ctx.db.scalar(select(func.count()).select_from(CharterCall)
                                  .where(CharterCall.delivered_at.is_(None))) or 0
    real_names = realname_service(ctx).pending()
    upgrades = StaffService(ctx.db).open_upgrades()
    ids = {r.user_id for r in real_names} | {u.user_id for u in upgrades}
    accounts = dict(ctx.db.execute(select(User.id, User.account_id).where(User.id.in_(ids))).all()) if ids else {}
    return ctx.render("staff/desk.html", status=status, real_names=real_names,
                      waiting=HandoverService(ctx.db, ctx.privacy).waiting(),
                      upgrades=upgrades, accounts=accounts, surveys=SURVEYS,
                      pending_calls=pending_calls, connected=ctx.privacy.is_connected, **values)


@router.get("", response_class=HTMLResponse)
def desk(ctx: StaffCtx) -> Response:
    return _desk(ctx)


@router.post("/users")
def find_user(ctx: StaffCtx, form: Posted) -> Response:
    if ctx.staff is None:
        return ctx.redirect("/staff/login")
    try:
        user = StaffService(ctx.db).find_user(ctx.staff, form.text("query"), form.text("reason"))
    except ValidationFailed as exc:
        return _desk(ctx, status=400, errors=exc.errors, values=form.fields)
    if user is None:
        return _desk(ctx, status=404, errors={"query": "err.not_found"}, values=form.fields)
    return ctx.render("staff/user.html", person=user, reads=StaffService(ctx.db).reads_of(user),
                      bank=BillingService(ctx.db, ctx.state.keys.fields).masked(user),
                      orders=MarketService(ctx.db).orders(user))


@router.get("/real-name/{record_id}", response_class=HTMLResponse)
def real_name(ctx: StaffCtx, record_id: int) -> Response:
    record = ctx.db.get(RealNameRecord, record_id)
    if record is None or ctx.staff is None:
        return Response(status_code=404)
    service = realname_service(ctx)
    StaffService(ctx.db).record_read(ctx.staff, record.user_id, f"real_name_records:{record.id}",
                                     "real-name review")
    return ctx.render("staff/real_name.html", record=record, masked=service.masked_id_number(record),
                      person=ctx.db.get(User, record.user_id))


@router.post("/real-name/{record_id}/photo")
def real_name_photo(ctx: StaffCtx, record_id: int, form: Posted) -> Response:
    """A staff member sees an ID photo only by giving a reason, which is recorded with the read."""
    record = ctx.db.get(RealNameRecord, record_id)
    photo = ctx.db.get(IdPhoto, record.photo_id) if record else None
    if photo is None:
        return Response(status_code=404)
    reason = form.text("reason")
    if len(reason) < 5:
        return ctx.redirect(f"/staff/real-name/{record_id}")
    data = photo_service(ctx).read(photo, staff=ctx.staff, reason=reason)
    return Response(data, media_type=photo.content_type,
                    headers={"Cache-Control": "no-store", "Content-Disposition": "inline"})


@router.post("/real-name/{record_id}/review")
def review(ctx: StaffCtx, record_id: int, form: Posted) -> Response:
    record = ctx.db.get(RealNameRecord, record_id)
    if record is None or ctx.staff is None or record.status != "pending":
        return ctx.redirect("/staff")
    realname_service(ctx).review(record, ctx.staff, approve=form.text("decision") == "approve")
    return ctx.redirect("/staff")


@router.post("/handover")
def handover(ctx: StaffCtx, form: Posted) -> Response:
    """Hand a request to its third party, if Charter allows; otherwise say why and keep it here."""
    try:
        decision = HandoverService(ctx.db, ctx.privacy).hand_over(
            form.text("table"), clean_int(form.text("record_id"), 1, 2**31 - 1))
    except (ValidationFailed, Invalid):
        return ctx.redirect("/staff")
    if decision.allowed:
        return ctx.redirect("/staff")
    return _desk(ctx, status=409, refused=decision)


@router.post("/complete")
def complete(ctx: StaffCtx, form: Posted) -> Response:
    with suppress(ValidationFailed, Invalid):   # a stale button: the desk shows the current state
        HandoverService(ctx.db, ctx.privacy).complete(form.text("table"),
                                                      clean_int(form.text("record_id"), 1, 2**31 - 1))
    return ctx.redirect("/staff")


@router.post("/upgrades/{application_id}/approve")
def approve_upgrade(ctx: StaffCtx, application_id: int, form: Posted) -> Response:
    application = ctx.db.get(MembershipApplication, application_id)
    if application is not None and application.status == "submitted":
        MarketService(ctx.db).approve_upgrade(application)
    return ctx.redirect("/staff")


@router.post("/surveys")
def invite(ctx: StaffCtx, form: Posted) -> Response:
    survey = form.text("survey")
    if survey not in SURVEYS:
        return ctx.redirect("/staff")
    run = Engagement(ctx.db, ctx.privacy).invite_all(survey, ctx.state.settings.base_url)
    response = _desk(ctx, survey_run=run, survey=survey)
    if run.letters:   # after the response, so after the commit: a rolled-back run mails no one
        response.background = BackgroundTask(ctx.state.mailer.send, run.letters)
    return response
