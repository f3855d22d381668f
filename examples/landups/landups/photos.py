"""ID photos (LAN-COLLECT-ACCOUNT, LAN-COLLECT-OPTIONAL): checked, stripped of metadata, sealed in files.

An upload must be a JPEG, PNG or WebP image that Pillow can decode, within the size limit. It is re-encoded,
which drops EXIF (camera, time, GPS position: nothing the policy says we collect) and anything hidden after
the image data, then sealed with the file key (AES-256-GCM) under a random file name. The database holds only
that name; the plaintext never touches the disk.
"""

from __future__ import annotations

import io
import os
import secrets
from dataclasses import dataclass
from pathlib import Path

from PIL import Image, UnidentifiedImageError

from landups.crypto import Sealer
from landups.identifiers import Invalid

ACCEPTED = {"JPEG": "image/jpeg", "PNG": "image/png", "WEBP": "image/webp"}
MIN_SIDE = 200            # an ID document photo smaller than this cannot be read by a reviewer
MAX_PIXELS = 40_000_000   # refuse decompression bombs before decoding


@dataclass(frozen=True)
class CleanImage:
    data: bytes
    content_type: str
    width: int
    height: int


def clean_photo(data: bytes, max_bytes: int) -> CleanImage:
    """Check and re-encode an upload, or raise `Invalid` naming what is wrong."""
    if not data:
        raise Invalid("err.photo_missing")
    if len(data) > max_bytes:
        raise Invalid("err.photo_too_large")
    try:
        with Image.open(io.BytesIO(data)) as probe:
            kind = probe.format or ""
            if kind not in ACCEPTED:
                raise Invalid("err.photo_type")
            if probe.width * probe.height > MAX_PIXELS:
                raise Invalid("err.photo_dimensions")
            probe.verify()
        with Image.open(io.BytesIO(data)) as image:
            image.load()
            if min(image.size) < MIN_SIDE:
                raise Invalid("err.photo_dimensions")
            return _reencode(image, kind)
    except (UnidentifiedImageError, OSError, SyntaxError, ValueError, Image.DecompressionBombError) as exc:
        if isinstance(exc, Invalid):
            raise
        raise Invalid("err.photo_type") from exc


def _reencode(image: Image.Image, kind: str) -> CleanImage:
    out = io.BytesIO()
    if kind == "PNG":
        image.save(out, format="PNG", optimize=True)
        content_type = "image/png"
    else:
        rgb = image.convert("RGB")
        rgb.save(out, format="JPEG", quality=90)
        content_type = "image/jpeg"
    return CleanImage(out.getvalue(), content_type, image.width, image.height)


class PhotoVault:
    """Sealed ID photo files in one directory (mode 0700), bound to their photo id and owner."""

    def __init__(self, directory: Path, sealer: Sealer) -> None:
        self.directory = directory
        self._sealer = sealer

    @staticmethod
    def context(photo_id: str, user_id: int) -> str:
        return f"id_photos:{photo_id}:{user_id}"

    def put(self, photo_id: str, user_id: int, image: CleanImage) -> str:
        """Seal and write; returns the random file name to store in `id_photos.stored_name`."""
        self.directory.mkdir(parents=True, exist_ok=True, mode=0o700)
        name = secrets.token_hex(16) + ".sealed"
        sealed = self._sealer.seal(image.data, self.context(photo_id, user_id))
        fd = os.open(self.directory / name, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
        with os.fdopen(fd, "wb") as out:
            out.write(sealed)
        return name

    def get(self, stored_name: str, photo_id: str, user_id: int) -> bytes:
        return self._sealer.open(self.path(stored_name).read_bytes(), self.context(photo_id, user_id))

    def path(self, stored_name: str) -> Path:
        if "/" in stored_name or stored_name.startswith("."):
            raise ValueError("not a stored photo name")
        return self.directory / stored_name

    def delete(self, stored_name: str) -> None:
        self.path(stored_name).unlink(missing_ok=True)

    def stored_names(self) -> set[str]:
        if not self.directory.is_dir():
            return set()
        return {p.name for p in self.directory.iterdir() if p.suffix == ".sealed"}
