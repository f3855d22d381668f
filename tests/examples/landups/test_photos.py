"""ID photos: only real images, re-encoded without metadata, sealed on disk."""

from __future__ import annotations

import io
from pathlib import Path

import pytest
from PIL import Image

from landups.crypto import Sealer
from landups.identifiers import Invalid
from landups.photos import PhotoVault, clean_photo
from tests.examples.landups.factories import photo_bytes

LIMIT = 512 * 1024


@pytest.mark.parametrize("fmt", ["JPEG", "PNG", "WEBP"])
def test_accepts_images(fmt: str) -> None:
    image = clean_photo(photo_bytes(fmt), LIMIT)
    assert (image.width, image.height) == (640, 400)
    assert image.content_type in ("image/jpeg", "image/png")


def test_exif_and_gps_are_dropped() -> None:
    original = photo_bytes("JPEG", exif_gps=True)
    assert Image.open(io.BytesIO(original)).getexif()
    cleaned = clean_photo(original, LIMIT)
    assert not Image.open(io.BytesIO(cleaned.data)).getexif()


@pytest.mark.parametrize(("data", "key"), [
    (b"", "err.photo_missing"),
    (b"%PDF-1.7 not an image", "err.photo_type"),
    (b"\xff\xd8\xff\xe0 truncated jpeg", "err.photo_type"),
    (photo_bytes("GIF"), "err.photo_type"),
    (photo_bytes("PNG", size=(120, 80)), "err.photo_dimensions"),
    (b"\x00" * (LIMIT + 1), "err.photo_too_large"),
])
def test_refuses_what_is_not_a_usable_photo(data: bytes, key: str) -> None:
    with pytest.raises(Invalid) as caught:
        clean_photo(data, LIMIT)
    assert caught.value.key == key


def test_vault_seals_files(tmp_path: Path) -> None:
    vault = PhotoVault(tmp_path / "photos", Sealer("k1", bytes(range(32))))
    image = clean_photo(photo_bytes("PNG"), LIMIT)
    name = vault.put("p1", 7, image)
    raw = (tmp_path / "photos" / name).read_bytes()
    assert image.data not in raw and b"PNG" not in raw[:64]
    assert vault.get(name, "p1", 7) == image.data
    assert (tmp_path / "photos" / name).stat().st_mode & 0o077 == 0
    vault.delete(name)
    assert vault.stored_names() == set()
    with pytest.raises(ValueError, match="not a stored photo name"):
        vault.path("../escape")
