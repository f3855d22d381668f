"""个人中心: account information, purchase panel, footprints, favourites, customer service, points, security,
privacy choices — the paths the policy's clause 5.(1) describes."""

from __future__ import annotations

from typing import Annotated

from fastapi import APIRouter, File, Form, UploadFile
from fastapi.responses import HTMLResponse, RedirectResponse, Response

from lubpur import accounts, consultation, points, purchases, subscriptions
from lubpur.accounts import Profile
from lubpur.catalogue import services as catalogue
from lubpur.errors import InputError, NotFound
from lubpur.privacy import CHOICE_PURPOSES
from lubpur.purchases import PurchaseForm
from lubpur.web.deps import SESSION_COOKIE, CtxDep, redirect

router = APIRouter(prefix="/me")
F = Annotated[str, Form()]


@router.get("", response_class=HTMLResponse)
def profile(ctx: CtxDep) -> HTMLResponse:
    user = ctx.require_user()
    return ctx.render("me/profile.html", account=user, form=user.__dict__, balance=points.balance(ctx.session, user.id))


@router.post("", response_class=HTMLResponse)
def update_profile(ctx: CtxDep, *, csrf: F = "", name: F = "", phone: F = "", wechat: F = "", qq: F = "",
                   address: F = "", company: F = "", company_address: F = "", position: F = "") -> Response:
    ctx.check_csrf(csrf)
    user = ctx.require_user()
    form = Profile(name, phone, wechat, qq, address, company, company_address, position)
    try:
        earned = accounts.update_profile(ctx.session, user, form)
    except InputError as exc:
        ctx.session.rollback()
        return ctx.form_error("me/profile.html", exc, account=user, form=form.__dict__,
                              balance=points.balance(ctx.session, user.id))
    ctx.session.commit()
    return redirect("/me", ok="profile_points" if earned else "profile_saved")


@router.post("/avatar", response_class=HTMLResponse)
async def upload_avatar(ctx: CtxDep, *, avatar: Annotated[UploadFile, File()], csrf: F = "") -> Response:
    ctx.check_csrf(csrf)
    user = ctx.require_user()
    data = await avatar.read(accounts.AVATAR_MAX_BYTES + 1)
    try:
        accounts.set_avatar(user, data)
    except InputError as exc:
        ctx.session.rollback()
        return ctx.form_error("me/profile.html", exc, account=user, form=user.__dict__,
                              balance=points.balance(ctx.session, user.id))
    ctx.session.commit()
    return redirect("/me", ok="avatar_saved")


@router.get("/avatar")
def avatar(ctx: CtxDep) -> Response:
    user = ctx.require_user()
    if not user.avatar:
        raise NotFound
    return Response(user.avatar, media_type=user.avatar_type, headers={"Cache-Control": "private, no-store"})


@router.get("/purchases", response_class=HTMLResponse)
def purchase_panel(ctx: CtxDep) -> HTMLResponse:
    user = ctx.require_user()
    return ctx.render("me/purchases.html", requests=purchases.mine(ctx.session, user.id))


@router.get("/purchases/new", response_class=HTMLResponse)
def purchase_form(ctx: CtxDep, product: int | None = None) -> HTMLResponse:
    user = ctx.require_user()
    item = catalogue.product(ctx.session, product) if product else None
    form = {"product_id": str(item.id) if item else "", "product_text": ctx.request.query_params.get("text", ""),
            "contact_name": user.name, "contact_phone": user.phone, "contact_email": user.email,
            "contact_company": user.company, "unit": "drum", "quantity": "1"}
    return ctx.render("me/purchase_new.html", item=item, form=form, units=purchases.UNITS)


@router.post("/purchases/new", response_class=HTMLResponse)
def purchase_create(ctx: CtxDep, *, csrf: F = "", product_id: F = "", product_text: F = "", quantity: F = "",
                    unit: F = "", delivery_city: F = "", message: F = "", contact_name: F = "",
                    contact_phone: F = "", contact_email: F = "", contact_company: F = "",
                    contact_third_party: F = "", third_party_attested: F = "") -> Response:
    ctx.check_csrf(csrf)
    user = ctx.require_user()
    form = PurchaseForm(product_id, product_text, quantity, unit, delivery_city, message, contact_name,
                        contact_phone, contact_email, contact_company, contact_third_party == "yes",
                        third_party_attested == "yes")
    try:
        purchases.create(ctx.session, user, form)
    except InputError as exc:
        ctx.session.rollback()
        item = catalogue.find(ctx.session, product_id)
        return ctx.form_error("me/purchase_new.html", exc, item=item, form=form.__dict__, units=purchases.UNITS)
    ctx.session.commit()
    return redirect("/me/purchases", ok="purchase_sent")


@router.post("/purchases/{request_id}/delete")
def purchase_delete(ctx: CtxDep, request_id: int, *, csrf: F = "") -> RedirectResponse:
    ctx.check_csrf(csrf)
    user = ctx.require_user()
    purchases.delete_mine(ctx.session, user.id, request_id)
    ctx.session.commit()
    return redirect("/me/purchases", ok="deleted")


@router.get("/footprints", response_class=HTMLResponse)
def footprints(ctx: CtxDep) -> HTMLResponse:
    user = ctx.require_user()
    return ctx.render("me/footprints.html", rows=catalogue.footprints(ctx.session, user.id))


@router.post("/footprints/clear")
def footprints_clear(ctx: CtxDep, *, csrf: F = "") -> RedirectResponse:
    ctx.check_csrf(csrf)
    user = ctx.require_user()
    catalogue.clear_footprints(ctx.session, user.id)
    ctx.session.commit()
    return redirect("/me/footprints", ok="deleted")


@router.post("/footprints/{footprint_id}/delete")
def footprint_delete(ctx: CtxDep, footprint_id: int, *, csrf: F = "") -> RedirectResponse:
    ctx.check_csrf(csrf)
    user = ctx.require_user()
    catalogue.delete_footprint(ctx.session, user.id, footprint_id)
    ctx.session.commit()
    return redirect("/me/footprints", ok="deleted")


@router.get("/favourites", response_class=HTMLResponse)
def favourites(ctx: CtxDep) -> HTMLResponse:
    user = ctx.require_user()
    return ctx.render("me/favourites.html", rows=catalogue.favourites(ctx.session, user.id),
                      downloads=catalogue.downloads(ctx.session, user.id))


@router.get("/consultations", response_class=HTMLResponse)
def consultations(ctx: CtxDep) -> HTMLResponse:
    user = ctx.require_user()
    return ctx.render("me/consultations.html", rows=consultation.mine(ctx.session, user.id), form={})


@router.post("/consultations", response_class=HTMLResponse)
def consultation_start(ctx: CtxDep, *, csrf: F = "", subject: F = "", body: F = "") -> Response:
    ctx.check_csrf(csrf)
    user = ctx.require_user()
    try:
        conv = consultation.start(ctx.session, user.id, subject, body)
    except InputError as exc:
        ctx.session.rollback()
        return ctx.form_error("me/consultations.html", exc, rows=consultation.mine(ctx.session, user.id),
                              form={"subject": subject, "body": body})
    ctx.session.commit()
    return redirect(f"/me/consultations/{conv.id}", ok="message_sent")


@router.get("/consultations/{consultation_id}", response_class=HTMLResponse)
def consultation_view(ctx: CtxDep, consultation_id: int) -> HTMLResponse:
    user = ctx.require_user()
    conv = consultation.get(ctx.session, consultation_id, user_id=user.id)
    return ctx.render("me/consultation.html", conv=conv, messages=consultation.messages(ctx.session, conv.id))


@router.post("/consultations/{consultation_id}", response_class=HTMLResponse)
def consultation_reply(ctx: CtxDep, consultation_id: int, *, csrf: F = "", body: F = "") -> Response:
    ctx.check_csrf(csrf)
    user = ctx.require_user()
    conv = consultation.get(ctx.session, consultation_id, user_id=user.id)
    try:
        consultation.post(ctx.session, conv, body)
    except InputError as exc:
        ctx.session.rollback()
        return ctx.form_error("me/consultation.html", exc, conv=conv,
                              messages=consultation.messages(ctx.session, conv.id))
    ctx.session.commit()
    return redirect(f"/me/consultations/{conv.id}", ok="message_sent")


@router.get("/points", response_class=HTMLResponse)
def points_page(ctx: CtxDep) -> HTMLResponse:
    user = ctx.require_user()
    return ctx.render("me/points.html", balance=points.balance(ctx.session, user.id),
                      rows=points.history(ctx.session, user.id))


@router.get("/security", response_class=HTMLResponse)
def security(ctx: CtxDep) -> HTMLResponse:
    user = ctx.require_user()
    return ctx.render("me/security.html", records=accounts.login_records(ctx.session, user.id))


@router.post("/security/password", response_class=HTMLResponse)
def change_password(ctx: CtxDep, *, csrf: F = "", current_password: F = "", new_password: F = "") -> Response:
    ctx.check_csrf(csrf)
    user = ctx.require_user()
    try:
        accounts.change_password(user, current_password, new_password)
    except InputError as exc:
        ctx.session.rollback()
        return ctx.form_error("me/security.html", exc, records=accounts.login_records(ctx.session, user.id))
    ctx.session.commit()
    return redirect("/me/security", ok="password_changed")


@router.post("/security/report", response_class=HTMLResponse)
def report_unauthorised_use(ctx: CtxDep, *, csrf: F = "", password: F = "") -> Response:
    ctx.check_csrf(csrf)
    user = ctx.require_user()
    try:
        accounts.suspend_for_unauthorised_use(ctx.session, ctx.privacy, user, password)
    except InputError as exc:
        ctx.session.rollback()
        return ctx.form_error("me/security.html", exc, records=accounts.login_records(ctx.session, user.id))
    ctx.session.commit()
    response = ctx.render("message.html", title=ctx.t("suspended.title"), body=ctx.t("suspended.body"))
    response.delete_cookie(SESSION_COOKIE, path="/")
    return response


@router.get("/privacy", response_class=HTMLResponse)
def privacy_choices(ctx: CtxDep) -> HTMLResponse:
    user = ctx.require_user()
    sub = subscriptions.for_user(ctx.session, user)
    return ctx.render("me/privacy.html", choices=ctx.privacy.choices(ctx.subject()), subscription=sub)


@router.post("/privacy")
def save_privacy_choices(ctx: CtxDep, *, csrf: F = "", purpose: F = "", choice: F = "") -> RedirectResponse:
    ctx.check_csrf(csrf)
    user = ctx.require_user()
    if purpose not in CHOICE_PURPOSES or choice not in ("yes", "no"):
        raise NotFound
    if purpose == "marketing_email":
        sub = subscriptions.for_user(ctx.session, user)
        if sub is None or choice == "yes":
            return redirect("/me/privacy")  # subscribing goes through the double opt-in form
        subscriptions.unsubscribe(ctx.session, ctx.privacy, sub, ctx.evidence("personal_centre"))
    else:
        subject = ctx.subject()
        evidence = ctx.evidence("personal_centre")
        ctx.privacy.record_choice(subject, purpose, is_granted=choice == "yes", evidence=evidence)
        sub = subscriptions.for_user(ctx.session, user)
        if purpose == "email_tracking" and sub is not None and sub.email != user.email:
            subscriptions.set_tracking(ctx.privacy, sub, allow=choice == "yes", evidence=evidence)
    ctx.session.commit()
    return redirect("/me/privacy", ok="choice_saved")
