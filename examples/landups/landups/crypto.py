"""Encryption at rest: AES-256-GCM for sensitive columns and for ID photo files.

Two keys, each from the environment (`LANDUPS_FIELD_KEY`, `LANDUPS_FILE_KEY`, base64 of 32 bytes) or else from
a local key file created on first use with mode 0600. Every sealed value carries its key id, so a key can be
rotated later, and is bound through the associated data to where it is stored: a ciphertext copied into another
row or another file no longer opens.
"""

from __future__ import annotations

import base64
import json
import os
from dataclasses import dataclass
from pathlib import Path

from cryptography.exceptions import InvalidTag
from cryptography.hazmat.primitives.ciphers.aead import AESGCM

from landups.settings import Settings

NONCE_BYTES = 12
KEY_ID = "k1"


class KeyProblem(Exception):
    """A key is missing, malformed, or a sealed value does not open with it."""


def _decode_key(text: str, name: str) -> bytes:
    try:
        key = base64.b64decode(text.strip(), validate=True)
    except ValueError as exc:
        raise KeyProblem(f"{name} is not base64") from exc
    if len(key) != 32:
        raise KeyProblem(f"{name} must be 32 bytes (base64 of 32 random bytes), got {len(key)}")
    return key


@dataclass(frozen=True)
class Sealer:
    """AES-256-GCM with a key id: `kid || nonce || ciphertext+tag`."""

    kid: str
    key: bytes

    def seal(self, data: bytes, context: str) -> bytes:
        nonce = os.urandom(NONCE_BYTES)
        head = self.kid.encode("ascii")
        return bytes([len(head)]) + head + nonce + AESGCM(self.key).encrypt(nonce, data, context.encode())

    def open(self, blob: bytes, context: str) -> bytes:
        size = blob[0] if blob else 0
        kid = blob[1:1 + size].decode("ascii", "replace")
        if kid != self.kid:
            raise KeyProblem(f"sealed with key {kid!r}, which this installation does not hold")
        body = blob[1 + size:]
        try:
            return AESGCM(self.key).decrypt(body[:NONCE_BYTES], body[NONCE_BYTES:], context.encode())
        except InvalidTag as exc:
            raise KeyProblem("a sealed value failed authentication: it was altered or moved") from exc

    def seal_text(self, text: str, context: str) -> str:
        return base64.b64encode(self.seal(text.encode("utf-8"), context)).decode("ascii")

    def open_text(self, token: str, context: str) -> str:
        return self.open(base64.b64decode(token), context).decode("utf-8")


@dataclass(frozen=True)
class Keys:
    fields: Sealer
    files: Sealer

    @classmethod
    def load(cls, settings: Settings) -> Keys:
        stored = _key_file(settings.key_file) if not (settings.field_key and settings.file_key) else {}
        field = settings.field_key or stored["field_key"]
        file = settings.file_key or stored["file_key"]
        return cls(fields=Sealer(KEY_ID, _decode_key(field, "LANDUPS_FIELD_KEY")),
                   files=Sealer(KEY_ID, _decode_key(file, "LANDUPS_FILE_KEY")))


def new_key() -> str:
    return base64.b64encode(AESGCM.generate_key(256)).decode("ascii")


def _key_file(path: Path) -> dict[str, str]:
    if not path.exists():
        path.parent.mkdir(parents=True, exist_ok=True)
        fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
        with os.fdopen(fd, "w", encoding="utf-8") as out:
            json.dump({"field_key": new_key(), "file_key": new_key()}, out, indent=2)
    raw = json.loads(path.read_text(encoding="utf-8"))
    if not isinstance(raw, dict) or not {"field_key", "file_key"} <= raw.keys():
        raise KeyProblem(f"{path} must hold field_key and file_key")
    return {"field_key": str(raw["field_key"]), "file_key": str(raw["file_key"])}
