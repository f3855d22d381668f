"""Public pages: home, language, policy, catalogue, product, data sheet, favourites, analytics, privacy centre."""

from __future__ import annotations

import datetime as dt
from typing import Annotated

from fastapi import APIRouter, Form, Query
from fastapi.responses import HTMLResponse, RedirectResponse, Response
from sqlalchemy import select

from lubpur import recommendations
from lubpur.catalogue import datasheet
from lubpur.catalogue import services as catalogue
from lubpur.errors import InputError
from lubpur.models import PageViewCount
from lubpur.web.deps import LANG_COOKIE, CtxDep, redirect, safe_next, set_cookie

router = APIRouter()


@router.get("/healthz")
def healthz() -> dict[str, str]:
    return {"status": "ok"}


@router.get("/", response_class=HTMLResponse)
def home(ctx: CtxDep) -> HTMLResponse:
    recs = recommendations.for_subject(ctx.session, ctx.privacy, ctx.subject(), k=8)
    ctx.session.commit()
    return ctx.render("home.html", recs=recs)


@router.get("/lang/{code}")
def switch_language(ctx: CtxDep, code: str, next: str = "/") -> RedirectResponse:
    lang = "en" if code == "en" else "zh-CN"
    response = RedirectResponse(safe_next(next), status_code=303)
    set_cookie(response, ctx.settings, LANG_COOKIE, lang, max_age=365 * 86400, http_only=False)
    if ctx.user is not None:
        ctx.user.lang = lang
        ctx.session.commit()
    return response


@router.get("/policy", response_class=HTMLResponse)
def policy(ctx: CtxDep) -> HTMLResponse:
    return ctx.render("policy.html")


@router.get("/products", response_class=HTMLResponse)
def products(ctx: CtxDep, q: str = "", category: str = "", page: Annotated[int, Query(ge=1, le=1000)] = 1
             ) -> HTMLResponse:
    try:
        found = catalogue.browse(ctx.session, query=q, category=category, page=page)
    except InputError as exc:
        return ctx.form_error("products.html", exc, found=None, q=q, category="")
    return ctx.render("products.html", found=found, q=q, category=category)


@router.get("/products/{product_id}", response_class=HTMLResponse)
def product(ctx: CtxDep, product_id: int) -> HTMLResponse:
    item = catalogue.product(ctx.session, product_id)
    is_favourite = False
    if ctx.user is not None:
        catalogue.record_view(ctx.session, ctx.user.id, item.id)
        is_favourite = catalogue.is_favourite(ctx.session, ctx.user.id, item.id)
    recs = recommendations.for_subject(ctx.session, ctx.privacy, ctx.subject(), k=4, exclude={item.id})
    ctx.session.commit()
    return ctx.render("product.html", item=item, is_favourite=is_favourite, recs=recs)


@router.get("/products/{product_id}/datasheet.pdf")
def download_datasheet(ctx: CtxDep, product_id: int) -> Response:
    item = catalogue.product(ctx.session, product_id)
    catalogue.record_download(ctx.session, ctx.user.id if ctx.user else None, item.id, ctx.lang)
    ctx.session.commit()
    pdf = datasheet.render(catalogue.as_dict(item))
    headers = {"Content-Disposition": f'attachment; filename="{datasheet.filename(item.sku)}"'}
    return Response(pdf, media_type="application/pdf", headers=headers)


@router.post("/products/{product_id}/favourite")
def favourite(ctx: CtxDep, product_id: int, csrf: Annotated[str, Form()] = "",
              action: Annotated[str, Form()] = "add") -> RedirectResponse:
    ctx.check_csrf(csrf)
    user = ctx.require_user()
    if action == "remove":
        catalogue.remove_favourite(ctx.session, user.id, product_id)
    else:
        catalogue.add_favourite(ctx.session, user.id, product_id)
    ctx.session.commit()
    return redirect(f"/products/{product_id}", ok="favourite_removed" if action == "remove" else "favourite_added")


@router.post("/a/pv", status_code=204)
def page_view(ctx: CtxDep, path: Annotated[str, Form()] = "/") -> Response:
    """The analytics script (active only after consent in Charter's banner) counts a page, never a person."""
    path = path[:200] if path.startswith("/") else "/"
    today = dt.date.today()
    row = ctx.session.scalars(select(PageViewCount).where(PageViewCount.day == today,
                                                          PageViewCount.path == path)).first()
    if row is None:
        ctx.session.add(PageViewCount(day=today, path=path, count=1))
    else:
        row.count += 1
    ctx.session.commit()
    return Response(status_code=204)


@router.get("/privacy-centre", response_class=HTMLResponse)
def privacy_centre(ctx: CtxDep) -> Response:
    """Each click mints a new single-use link for the logged-in person and sends them there (never cached)."""
    user = ctx.require_user()
    link = ctx.privacy.privacy_centre_link(ctx.subject(), ctx.lang)
    if link:
        return RedirectResponse(link, status_code=303, headers={"Cache-Control": "no-store"})
    return ctx.render("privacy_centre.html", account=user)
