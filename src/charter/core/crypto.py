"""Field encryption (AES-256-GCM with key ids, so keys can rotate) and blind indexes (keyed HMAC-SHA256).

A ciphertext reads `kid:base64(nonce || ciphertext+tag)`. The associated data binds it to where it is stored
(table, column, controller), so a value copied into another row or tenant no longer decrypts.
"""

from __future__ import annotations

import base64
import hashlib
import hmac
import json
import os
import secrets
from dataclasses import dataclass, field
from pathlib import Path

from cryptography.exceptions import InvalidTag
from cryptography.hazmat.primitives.ciphers.aead import AESGCM

from charter.core.errors import CharterError
from charter.core.settings import Settings

_NONCE = 12


class KeyringError(CharterError):
    code = "keyring"


def _b64(data: bytes) -> str:
    return base64.b64encode(data).decode("ascii")


def _unb64(text: str) -> bytes:
    return base64.b64decode(text.encode("ascii"), validate=True)


@dataclass
class Keyring:
    active: str
    keys: dict[str, bytes]
    index_key: bytes
    retired: list[str] = field(default_factory=list)
    _ciphers: dict[str, AESGCM] = field(default_factory=dict, repr=False, compare=False)
    """One AESGCM per key id: building one runs the key schedule, which costs more than a short encryption."""

    def _cipher(self, kid: str) -> AESGCM:
        cipher = self._ciphers.get(kid)
        if cipher is None:
            cipher = self._ciphers[kid] = AESGCM(self.keys[kid])
        return cipher

    @classmethod
    def generate(cls) -> Keyring:
        return cls(active="k1", keys={"k1": AESGCM.generate_key(256)}, index_key=secrets.token_bytes(32))

    @classmethod
    def from_json(cls, text: str) -> Keyring:
        try:
            raw = json.loads(text)
            return cls(
                active=raw["active"],
                keys={kid: _unb64(k) for kid, k in raw["keys"].items()},
                index_key=_unb64(raw["index_key"]),
            )
        except (ValueError, KeyError, TypeError) as exc:
            raise KeyringError(
                f"the keyring is not valid JSON of the expected shape ({exc})",
                fix='It must be {"active": KID, "keys": {KID: base64 key}, "index_key": base64}.',
            ) from exc

    def to_json(self) -> str:
        return json.dumps(
            {"active": self.active, "keys": {k: _b64(v) for k, v in self.keys.items()},
             "index_key": _b64(self.index_key)},
            indent=2,
        )

    def rotated(self) -> Keyring:
        """A keyring with a fresh active key; older keys stay so existing values still decrypt."""
        n = 1 + max(int(k[1:]) for k in self.keys if k[1:].isdigit())
        kid = f"k{n}"
        return Keyring(active=kid, keys={**self.keys, kid: AESGCM.generate_key(256)}, index_key=self.index_key)

    def encrypt(self, plaintext: str, context: str) -> str:
        nonce = os.urandom(_NONCE)
        sealed = self._cipher(self.active).encrypt(nonce, plaintext.encode("utf-8"), context.encode())
        return f"{self.active}:{_b64(nonce + sealed)}"

    def decrypt(self, token: str, context: str) -> str:
        kid, _, body = token.partition(":")
        if kid not in self.keys:
            raise KeyringError(f"no key {kid!r} in the keyring", fix="Restore the keyring that encrypted it.")
        raw = _unb64(body)
        try:
            return self._cipher(kid).decrypt(raw[:_NONCE], raw[_NONCE:], context.encode()).decode("utf-8")
        except InvalidTag as exc:
            raise KeyringError("a stored value failed authentication", fix="It was altered or moved.") from exc

    def key_id_of(self, token: str) -> str:
        return token.partition(":")[0]

    def blind_index(self, scope: str, value: str) -> str:
        return hmac.new(self.index_key, f"{scope}\x00{value}".encode(), hashlib.sha256).hexdigest()


def load_keyring(settings: Settings, *, create: bool = True) -> Keyring:
    """The keyring from `CHARTER_KEYRING`, else from the keyring file (created on first use)."""
    if settings.keyring:
        return Keyring.from_json(settings.keyring)
    path = settings.keyring_file
    if path.exists():
        return Keyring.from_json(path.read_text(encoding="utf-8"))
    if not create:
        raise KeyringError(f"no keyring at {path}", fix="Set CHARTER_KEYRING or CHARTER_KEYRING_FILE.")
    keyring = Keyring.generate()
    save_keyring(path, keyring)
    return keyring


def save_keyring(path: Path, keyring: Keyring) -> None:
    tmp = path.with_suffix(".tmp")
    fd = os.open(tmp, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o600)
    with os.fdopen(fd, "w", encoding="utf-8") as fh:
        fh.write(keyring.to_json())
    tmp.replace(path)
