from __future__ import annotations

from pathlib import Path

import pytest

from charter.core.crypto import Keyring


@pytest.fixture
def cli_keyring(cli_env: Path, monkeypatch: pytest.MonkeyPatch) -> Keyring:
    """The keyring the CLI will load, written where CHARTER_KEYRING_FILE points."""
    keyring = Keyring.generate()
    (cli_env / "keys.json").write_text(keyring.to_json())
    monkeypatch.setenv("COLUMNS", "250")  # the tables are wide; Rich folds them to the terminal
    return keyring
