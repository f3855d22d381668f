"""Sealing at rest: AES-256-GCM bound to where the value is stored; keys from the environment or a 0600 file."""

from __future__ import annotations

import stat
from pathlib import Path

import pytest

from landups.crypto import KeyProblem, Keys, Sealer, new_key
from landups.settings import Settings


def test_seal_round_trip_and_binding() -> None:
    keys = Keys.load(Settings(field_key=new_key(), file_key=new_key()))
    token = keys.fields.seal_text("A123456(3)", "real_name_records.id_number_sealed:1")
    assert "A123456" not in token
    assert keys.fields.open_text(token, "real_name_records.id_number_sealed:1") == "A123456(3)"
    with pytest.raises(KeyProblem):   # copied to another row: no longer opens
        keys.fields.open_text(token, "real_name_records.id_number_sealed:2")
    with pytest.raises(KeyProblem):   # the file key cannot open a field
        keys.files.open_text(token, "real_name_records.id_number_sealed:1")


def test_tampering_is_detected() -> None:
    sealer = Sealer("k1", bytes(32))
    blob = bytearray(sealer.seal(b"photo", "id_photos:x:1"))
    blob[-1] ^= 1
    with pytest.raises(KeyProblem):
        sealer.open(bytes(blob), "id_photos:x:1")


def test_key_file_is_created_private_and_reused(tmp_path: Path) -> None:
    settings = Settings(data_dir=tmp_path / "data")
    first = Keys.load(settings)
    assert stat.S_IMODE(settings.key_file.stat().st_mode) == 0o600
    second = Keys.load(settings)
    assert first.fields.key == second.fields.key and first.files.key == second.files.key
    assert first.fields.key != first.files.key


def test_keys_from_the_environment_win(tmp_path: Path) -> None:
    file_key = new_key()
    settings = Settings.from_env({"LANDUPS_DATA_DIR": str(tmp_path), "LANDUPS_FILE_KEY": file_key,
                                  "LANDUPS_FIELD_KEY": new_key()})
    keys = Keys.load(settings)
    assert not settings.key_file.exists()
    assert keys.files.open(Sealer("k1", keys.files.key).seal(b"x", "c"), "c") == b"x"


def test_bad_key_is_refused(tmp_path: Path) -> None:
    with pytest.raises(KeyProblem):
        Keys.load(Settings(data_dir=tmp_path, field_key="c2hvcnQ=", file_key=new_key()))


def test_database_url_normalisation() -> None:
    settings = Settings.from_env({"LANDUPS_DATABASE_URL": "mysql://root@127.0.0.1/landups"})
    assert settings.database_url == "mysql+pymysql://root@127.0.0.1/landups?charset=utf8mb4"
    assert Settings.from_env({}).cookie_secure is True
