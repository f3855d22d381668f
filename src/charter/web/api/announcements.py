"""Announcements: the public page of each controller (HTML and JSON, no key) and the `/v1` API to publish."""

from __future__ import annotations

from typing import Annotated, Any

from fastapi import APIRouter, Header, Query
from fastapi.responses import HTMLResponse

from charter.accounts.services import ControllerService
from charter.announcements import Announcements, as_json, choose_language, offered_languages, policy_in_force
from charter.announcements import render_page as render_announcements
from charter.announcements.schemas import AnnouncementIn, AnnouncementOut
from charter.core.errors import NotFound
from charter.core.i18n import Text
from charter.web.deps import DbSession, SecretKey

public = APIRouter(tags=["announcements"])
router = APIRouter(prefix="/v1/announcements", tags=["announcements"])


def _known(session: DbSession, controller_id: str) -> str:
    try:
        return ControllerService(session).get(controller_id).name
    except NotFound as exc:
        raise NotFound("no such announcements page") from exc


@public.get("/announcements/{controller_id}.json")
def public_json(controller_id: str, session: DbSession) -> Any:
    """Every announcement in force, in every language, for machines and the privacy centre."""
    _known(session, controller_id)
    return as_json(controller_id, policy_in_force(session, controller_id),
                   Announcements(session).published(controller_id))


@public.get("/announcements/{controller_id}", response_class=HTMLResponse)
def public_page(controller_id: str, session: DbSession, lang: Annotated[str | None, Query()] = None,
                accept_language: Annotated[str | None, Header()] = None) -> HTMLResponse:
    """The controller's public announcements page, in `?lang=` or the browser's language if the policy offers it."""
    name = _known(session, controller_id)
    policy = policy_in_force(session, controller_id)
    language = choose_language(lang, accept_language, offered_languages(policy))
    html = render_announcements(controller_id, name, policy, Announcements(session).published(controller_id),
                                language)
    return HTMLResponse(html, headers={"Content-Language": language.value})


@router.post("", status_code=201, response_model=AnnouncementOut)
def publish(body: AnnouncementIn, session: DbSession, key: SecretKey) -> AnnouncementOut:
    row = Announcements(session).publish(
        key.controller_id, kind=body.kind, title=Text(**body.title.model_dump()), body=Text(**body.body.model_dump()),
        actor=f"api_key:{key.key_id}")
    return AnnouncementOut.of(row)


@router.get("", response_model=list[AnnouncementOut])
def list_announcements(session: DbSession, key: SecretKey,
                       include_withdrawn: Annotated[bool, Query(alias="all")] = False) -> list[AnnouncementOut]:
    return [AnnouncementOut.of(a) for a in Announcements(session).published(key.controller_id,
                                                                            include_withdrawn=include_withdrawn)]


@router.get("/{announcement_id}", response_model=AnnouncementOut)
def get_announcement(announcement_id: str, session: DbSession, key: SecretKey) -> AnnouncementOut:
    return AnnouncementOut.of(Announcements(session).get(key.controller_id, announcement_id))


@router.post("/{announcement_id}/withdraw", response_model=AnnouncementOut)
def withdraw(announcement_id: str, session: DbSession, key: SecretKey) -> AnnouncementOut:
    return AnnouncementOut.of(Announcements(session).withdraw(key.controller_id, announcement_id,
                                                              actor=f"api_key:{key.key_id}"))
