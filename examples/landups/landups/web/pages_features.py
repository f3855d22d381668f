"""Real-name authentication and the optional features: website filing, cloud market, offline delivery, product
testing, membership upgrade. Refusing any of them never blocks the rest of the console."""

from __future__ import annotations

from fastapi import APIRouter
from fastapi.responses import HTMLResponse, Response

from landups.catalogue import BY_SKU, PRODUCTS, TERMS, format_hkd
from landups.engagement import Engagement
from landups.filing import SITE_CATEGORIES, FilingService
from landups.forms import ValidationFailed
from landups.market import LEVELS, MarketService
from landups.models import IdPhoto
from landups.realname import PhotoService
from landups.web.context import Ctx, UserCtx, hk_today
from landups.web.context import PostedForm as Posted
from landups.web.pages_account import realname_service
from landups.web.pages_public import evidence_of

router = APIRouter()


def photo_service(ctx: Ctx) -> PhotoService:
    return PhotoService(ctx.db, ctx.state.vault, ctx.state.settings.max_photo_bytes)


def _values_without_secrets(fields: dict[str, str]) -> dict[str, str]:
    return {k: v for k, v in fields.items() if k not in ("id_number", "csrf_token")}


# -- real-name authentication -------------------------------------------------------------------------------

@router.get("/real-name", response_class=HTMLResponse)
def real_name_form(ctx: UserCtx) -> Response:
    service = realname_service(ctx)
    record = service.current(ctx.me)
    return ctx.render("real_name.html", record=record,
                      masked=service.masked_id_number(record) if record else None)


@router.post("/real-name")
def real_name(ctx: UserCtx, form: Posted) -> Response:
    service = realname_service(ctx)
    try:
        service.submit(ctx.me, form)
    except ValidationFailed as exc:
        record = service.current(ctx.me)
        # The ID number is never echoed back into the page: the person types it again.
        return ctx.render("real_name.html", status=400, errors=exc.errors, values=_values_without_secrets(form.fields),
                          record=record, masked=service.masked_id_number(record) if record else None)
    return ctx.redirect("/real-name")


@router.get("/real-name/photo")
def real_name_photo(ctx: UserCtx) -> Response:
    """The owner's own ID photo; the read is recorded like a staff read."""
    record = realname_service(ctx).current(ctx.me)
    photo = ctx.db.get(IdPhoto, record.photo_id) if record else None
    if photo is None:
        return Response(status_code=404)
    data = photo_service(ctx).read(photo, staff=None, reason="owner viewed own ID photo")
    return Response(data, media_type=photo.content_type,
                    headers={"Cache-Control": "no-store", "Content-Disposition": "inline"})


# -- website filing -----------------------------------------------------------------------------------------

@router.get("/filing", response_class=HTMLResponse)
def filing_form(ctx: UserCtx) -> Response:
    return ctx.render("filing.html", filings=FilingService(ctx.db, photo_service(ctx)).filings(ctx.me),
                      categories=SITE_CATEGORIES)


@router.post("/filing")
def filing(ctx: UserCtx, form: Posted) -> Response:
    service = FilingService(ctx.db, photo_service(ctx))
    try:
        service.submit(ctx.me, form)
    except ValidationFailed as exc:
        return ctx.render("filing.html", status=400, errors=exc.errors, values=form.fields,
                          filings=service.filings(ctx.me), categories=SITE_CATEGORIES)
    return ctx.redirect("/filing")


# -- cloud market -------------------------------------------------------------------------------------------

def _market(ctx: Ctx, status: int = 200, **values: object) -> Response:
    return ctx.render("market.html", status=status, products=PRODUCTS, terms=TERMS, format_hkd=format_hkd,
                      recipient=ctx.state.policy.recipients["marketplace-provider-example"], **values)


@router.get("/market", response_class=HTMLResponse)
def market(ctx: UserCtx) -> Response:
    Engagement(ctx.db, ctx.privacy).track(ctx.subject, "market", ctx.client)
    return _market(ctx, values={"sku": ctx.request.query_params.get("sku", "")})


@router.post("/market/order")
def order(ctx: UserCtx, form: Posted) -> Response:
    try:
        placed, item = MarketService(ctx.db).place_order(ctx.me, form)
    except ValidationFailed as exc:
        return _market(ctx, status=400, errors=exc.errors, values=form.fields)
    if item.is_third_party:
        # The separate consent to share with the provider, given on this form for this order (share_third_parties).
        ctx.privacy.record_choice(ctx.me, ctx.subject, "share_third_parties", granted=True,
                                  evidence=evidence_of(ctx), notice=f"market-order:{item.sku}")
    return ctx.redirect(f"/orders?placed={placed.order_no}")


@router.get("/orders", response_class=HTMLResponse)
def orders(ctx: UserCtx) -> Response:
    service = MarketService(ctx.db)
    return ctx.render("orders.html", orders=service.orders(ctx.me), deliveries=service.deliveries(ctx.me),
                      tests=service.tests(ctx.me), upgrades=service.upgrades(ctx.me), products=BY_SKU,
                      format_hkd=format_hkd, placed=ctx.request.query_params.get("placed", "")[:20])


# -- offline delivery and product testing -------------------------------------------------------------------

def _delivery(ctx: Ctx, status: int = 200, **values: object) -> Response:
    deliverable = [o for o in MarketService(ctx.db).orders(ctx.me) if BY_SKU[o.sku].offers_offline_delivery]
    return ctx.render("delivery.html", status=status, orders=deliverable, products=BY_SKU, **values)


@router.get("/delivery", response_class=HTMLResponse)
def delivery_form(ctx: UserCtx) -> Response:
    return _delivery(ctx, values={"order_id": ctx.request.query_params.get("order", "")})


@router.post("/delivery")
def delivery(ctx: UserCtx, form: Posted) -> Response:
    try:
        MarketService(ctx.db).request_delivery(ctx.me, form, hk_today())
    except ValidationFailed as exc:
        return _delivery(ctx, status=400, errors=exc.errors, values=form.fields)
    return ctx.redirect("/orders")


@router.get("/testing", response_class=HTMLResponse)
def testing_form(ctx: UserCtx) -> Response:
    return ctx.render("testing.html", products=[p for p in PRODUCTS if p.offers_testing])


@router.post("/testing")
def testing(ctx: UserCtx, form: Posted) -> Response:
    try:
        MarketService(ctx.db).request_test(ctx.me, form, hk_today())
    except ValidationFailed as exc:
        return ctx.render("testing.html", status=400, errors=exc.errors, values=form.fields,
                          products=[p for p in PRODUCTS if p.offers_testing])
    return ctx.redirect("/orders")


# -- membership upgrade -------------------------------------------------------------------------------------

@router.get("/membership", response_class=HTMLResponse)
def membership_form(ctx: UserCtx) -> Response:
    return ctx.render("membership.html", levels=LEVELS, pending=MarketService(ctx.db).open_upgrade(ctx.me))


@router.post("/membership")
def membership(ctx: UserCtx, form: Posted) -> Response:
    service = MarketService(ctx.db)
    try:
        service.apply_upgrade(ctx.me, form)
    except ValidationFailed as exc:
        return ctx.render("membership.html", status=400, errors=exc.errors, values=form.fields, levels=LEVELS,
                          pending=service.open_upgrade(ctx.me))
    return ctx.redirect("/membership")
