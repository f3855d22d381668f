"""Real-name authentication over HTTP: validation naming the field, nothing stored on bad input, ID numbers and
photos encrypted at rest, every photo read recorded."""

from __future__ import annotations

from pathlib import Path

import pytest
from fastapi.testclient import TestClient
from sqlalchemy import func, select, text

from landups.db import unit_of_work
from landups.models import DataRead, IdPhoto, RealNameRecord, User
from landups.web.context import AppState
from tests.examples.landups.factories import (
    VALID_CN_RIC,
    VALID_HKID,
    VALID_USCC,
    field_error,
    photo_bytes,
    post,
    real_name_form,
    register,
)


def _submit(web: TestClient, form: dict[str, str], photo: bytes | None = None, name: str = "id.jpg",
            content_type: str = "image/jpeg") -> object:
    files = {"id_photo": (name, photo if photo is not None else photo_bytes(), content_type)}
    return post(web, "/real-name", form, files=files)


def _user_id(state: AppState, email: str) -> int:
    with unit_of_work(state.factory) as session:
        return session.scalars(select(User.id).where(User.email == email)).one()


def _counts(state: AppState, user_id: int) -> tuple[int, int]:
    with unit_of_work(state.factory) as session:
        records = session.scalar(select(func.count()).select_from(RealNameRecord)
                                 .where(RealNameRecord.user_id == user_id)) or 0
        photos = session.scalar(select(func.count()).select_from(IdPhoto).where(IdPhoto.user_id == user_id)) or 0
        return records, photos


@pytest.mark.parametrize(("id_type", "number"), [("hkid", VALID_HKID), ("cn_ric", VALID_CN_RIC)])
def test_valid_submission_is_sealed_at_rest(web: TestClient, state: AppState, photo_dir: Path, id_type: str,
                                            number: str) -> None:
    email = register(web)
    original = photo_bytes("PNG")
    response = _submit(web, real_name_form(id_type, number), original, "card.png", "image/png")
    assert response.status_code == 303  # type: ignore[attr-defined]
    page = web.get("/real-name")
    assert "Awaiting review" in page.text and number not in page.text
    user_id = _user_id(state, email)
    with state.engine.connect() as conn:   # the raw columns, as a database administrator would see them
        raw = conn.execute(text("SELECT id_number_sealed, photo_id FROM real_name_records WHERE user_id = :u"),
                           {"u": user_id}).one()
        stored_name = conn.execute(text("SELECT stored_name FROM id_photos WHERE id = :p"), {"p": raw[1]}).scalar()
    digits = number.replace("(", "").replace(")", "")
    assert number not in raw[0] and digits not in raw[0] and digits[1:7] not in raw[0]
    sealed = (photo_dir / str(stored_name)).read_bytes()
    assert original not in sealed and b"\x89PNG" not in sealed and b"IHDR" not in sealed


def test_company_needs_a_valid_uscc(web: TestClient, state: AppState) -> None:
    email = register(web, account_type="company")
    bad = _submit(web, real_name_form(company_name="Landups Demo Ltd", uscc="91110000600037341M"))
    assert bad.status_code == 400  # type: ignore[attr-defined]
    assert field_error(bad.text, "uscc") == (  # type: ignore[attr-defined]
        "Unified Social Credit Code: The last character of the code does not match: please check it.")
    assert _counts(state, _user_id(state, email)) == (0, 0)
    good = _submit(web, real_name_form(company_name="Landups Demo Ltd", uscc=VALID_USCC))
    assert good.status_code == 303  # type: ignore[attr-defined]
    with unit_of_work(state.factory) as session:
        record = session.scalars(select(RealNameRecord).where(RealNameRecord.user_id == _user_id(state, email))).one()
        assert (record.company_name, record.uscc) == ("Landups Demo Ltd", VALID_USCC)


@pytest.mark.parametrize(("form", "field", "message"), [
    (real_name_form("hkid", "A123456(4)"), "id_number",
     "ID number: The check digit does not match: please check the number."),
    (real_name_form("hkid", "A12345"), "id_number", None),
    (real_name_form("cn_ric", "110105194912310021"), "id_number",
     "ID number: The check digit does not match: please check the number."),
    (real_name_form("cn_ric", "11010519491331002X"), "id_number", None),
    (real_name_form("passport", "E12345678"), "id_type", "ID document: Choose the kind of ID document."),
    (real_name_form(full_name=""), "full_name", "Full name as on the ID document: This is required."),
])
def test_bad_identity_is_refused_and_nothing_is_stored(web: TestClient, state: AppState, photo_dir: Path,
                                                      form: dict[str, str], field: str, message: str | None) -> None:
    email = register(web)
    files_before = set(photo_dir.glob("*.sealed")) if photo_dir.exists() else set()
    response = _submit(web, form)
    assert response.status_code == 400  # type: ignore[attr-defined]
    shown = field_error(response.text, field)  # type: ignore[attr-defined]
    assert shown is not None
    if message:
        assert shown == message
    assert f'value="{form["id_number"]}"' not in response.text  # type: ignore[attr-defined]  # never echoed
    assert _counts(state, _user_id(state, email)) == (0, 0)
    assert (set(photo_dir.glob("*.sealed")) if photo_dir.exists() else set()) == files_before


@pytest.mark.parametrize(("photo", "name", "content_type", "message"), [
    (b"%PDF-1.7\n...", "id.pdf", "application/pdf", "ID photo: The file is not a JPEG, PNG or WebP image."),
    (b"MZ\x90\x00 executable", "id.jpg", "image/jpeg", "ID photo: The file is not a JPEG, PNG or WebP image."),
    (photo_bytes("JPEG", size=(150, 100)), "id.jpg", "image/jpeg",
     "ID photo: The photo must be at least 200 pixels on each side."),
    (b"\xff\xd8\xff" + b"\x00" * (5 * 1024 * 1024), "big.jpg", "image/jpeg",
     "ID photo: The photo is larger than 5 MB."),
])
def test_bad_photo_is_refused(web: TestClient, state: AppState, photo: bytes, name: str, content_type: str,
                              message: str) -> None:
    email = register(web)
    response = _submit(web, real_name_form(), photo, name, content_type)
    assert response.status_code == 400  # type: ignore[attr-defined]
    assert field_error(response.text, "id_photo") == message  # type: ignore[attr-defined]
    assert _counts(state, _user_id(state, email)) == (0, 0)


def test_missing_photo_is_refused(web: TestClient, state: AppState) -> None:
    email = register(web)
    response = post(web, "/real-name", real_name_form())
    assert response.status_code == 400
    assert field_error(response.text, "id_photo") == "ID photo: Attach a photo of the ID document."
    assert _counts(state, _user_id(state, email)) == (0, 0)


def test_owner_read_of_the_photo_is_recorded(web: TestClient, state: AppState, landups_app: object) -> None:
    email = register(web)
    _submit(web, real_name_form(), photo_bytes("JPEG", exif_gps=True))
    response = web.get("/real-name/photo")
    assert response.status_code == 200 and response.headers["content-type"] == "image/jpeg"
    assert response.headers["cache-control"] == "no-store"
    assert b"CameraMaker" not in response.content   # EXIF was stripped before sealing
    user_id = _user_id(state, email)
    with unit_of_work(state.factory) as session:
        reads = session.scalars(select(DataRead).where(DataRead.user_id == user_id)).all()
        assert [(r.reader, r.record.split(":")[0]) for r in reads] == [("owner", "id_photos")]
    stranger = TestClient(landups_app, base_url="https://testserver", follow_redirects=False)  # type: ignore[arg-type]
    register(stranger)
    assert stranger.get("/real-name/photo").status_code == 404   # someone else's photo is never reachable


def test_second_submission_is_refused_while_pending(web: TestClient) -> None:
    register(web)
    assert _submit(web, real_name_form()).status_code == 303  # type: ignore[attr-defined]
    again = _submit(web, real_name_form())
    assert again.status_code == 400  # type: ignore[attr-defined]
