from __future__ import annotations

import json
from pathlib import Path

import pytest

from charter.core.secrets import MissingSecret, Secrets


def test_the_environment_wins_over_the_file(tmp_path: Path) -> None:
    file = tmp_path / "secrets.yaml"
    file.write_text("SHOP_DB: sqlite:///from-file.db\nOTHER: x\n", encoding="utf-8")
    secrets = Secrets.from_environment({"CHARTER_SECRETS_FILE": str(file),
                                        "CHARTER_SECRET_SHOP_DB": "sqlite:///from-env.db"})
    assert secrets.get("SHOP_DB") == "sqlite:///from-env.db"
    assert secrets.get("OTHER") == "x"


def test_a_json_secrets_file_works(tmp_path: Path) -> None:
    file = tmp_path / "secrets.json"
    file.write_text(json.dumps({"KEY": "value"}), encoding="utf-8")
    assert Secrets(file=file).get("KEY") == "value"


def test_a_missing_secret_says_where_to_put_it(tmp_path: Path) -> None:
    with pytest.raises(MissingSecret) as caught:
        Secrets.from_environment({}).get("SHOP_DB")
    assert caught.value.message == "the secret SHOP_DB is not set"
    assert "CHARTER_SECRET_SHOP_DB" in caught.value.fix
    assert "CHARTER_SECRETS_FILE" in caught.value.fix
    file = tmp_path / "s.yaml"
    file.write_text("{}", encoding="utf-8")
    with pytest.raises(MissingSecret) as caught:
        Secrets(file=file).get("SHOP_DB")
    assert str(file) in caught.value.fix


def test_a_broken_secrets_file_never_echoes_its_content(tmp_path: Path) -> None:
    file = tmp_path / "s.yaml"
    file.write_text("SHOP_DB: [postgresql://u:hunter2@db\n", encoding="utf-8")
    with pytest.raises(MissingSecret) as caught:
        Secrets(file=file).get("SHOP_DB")
    assert "hunter2" not in str(caught.value)
    file.write_text("- a list\n", encoding="utf-8")
    with pytest.raises(MissingSecret, match="not a mapping"):
        Secrets(file=file).get("SHOP_DB")
