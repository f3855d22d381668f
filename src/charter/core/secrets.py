"""Named secrets (database URLs with passwords, signing keys), never written in a YAML document.

A document names a secret (`connection: {secret: LUBPUR_DB}`); its value comes from the environment variable
`CHARTER_SECRET_LUBPUR_DB`, or else from the secrets file named by `CHARTER_SECRETS_FILE` (a YAML or JSON
mapping of name → value). The environment wins, so a deployment can override one value of a shared file.
"""

from __future__ import annotations

import os
import re
from collections.abc import Mapping
from dataclasses import dataclass, field
from pathlib import Path

import yaml

from charter.core.errors import CharterError

__all__ = ["ENV_PREFIX", "FILE_VARIABLE", "SECRET_NAME", "MissingSecret", "Secrets", "is_secret_name"]

SECRET_NAME = r"^[A-Z][A-Z0-9_]{0,62}$"  # noqa: S105 - the pattern of a secret's name, not a secret
ENV_PREFIX = "CHARTER_SECRET_"
FILE_VARIABLE = "CHARTER_SECRETS_FILE"


class MissingSecret(CharterError):
    code = "secret_missing"


def is_secret_name(name: str) -> bool:
    return re.fullmatch(SECRET_NAME, name) is not None


@dataclass
class Secrets:
    """Where named secrets are looked up: an environment mapping and, optionally, a secrets file."""

    environ: Mapping[str, str] = field(default_factory=dict)
    file: Path | None = None
    _file_values: dict[str, str] | None = field(default=None, init=False, repr=False)

    @classmethod
    def from_environment(cls, environ: Mapping[str, str] | None = None) -> Secrets:
        """The process environment (or `environ`), with the file `CHARTER_SECRETS_FILE` names, if any."""
        env = dict(os.environ if environ is None else environ)
        path = env.get(FILE_VARIABLE)
        return cls(environ=env, file=Path(path) if path else None)

    def get(self, name: str) -> str:
        """The value of secret `name`; `MissingSecret` says where to put it when it is nowhere."""
        value = self.environ.get(ENV_PREFIX + name)
        if value is None:
            value = self._from_file().get(name)
        if value is None or not value.strip():
            where = f"add `{name}` to the secrets file {self.file}" if self.file else (
                f"or point {FILE_VARIABLE} at a YAML/JSON file of name: value pairs that holds `{name}`")
            raise MissingSecret(f"the secret {name} is not set", field=name,
                                fix=f"Set the environment variable {ENV_PREFIX}{name}, {where}.")
        return value

    def _from_file(self) -> dict[str, str]:
        if self._file_values is None:
            self._file_values = _read_file(self.file) if self.file else {}
        return self._file_values


def _read_file(path: Path) -> dict[str, str]:
    try:
        loaded = yaml.safe_load(path.read_text(encoding="utf-8"))
    except OSError as exc:
        raise MissingSecret(f"the secrets file {path} cannot be read ({exc.strerror})",
                            fix=f"Check {FILE_VARIABLE} and the file's permissions.") from exc
    except yaml.YAMLError as exc:
        raise MissingSecret(f"the secrets file {path} is not valid YAML or JSON",
                            fix="Write it as `NAME: value` lines (or a JSON object).") from exc
    if loaded is None:
        return {}
    if not isinstance(loaded, dict):
        raise MissingSecret(f"the secrets file {path} is not a mapping of names to values",
                            fix="Write it as `NAME: value` lines (or a JSON object).")
    return {str(k): str(v) for k, v in loaded.items() if v is not None}
