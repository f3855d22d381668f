"""`charter datamap …` the way an operator uses it, against real files, databases and secrets."""

from __future__ import annotations

from pathlib import Path

import pytest
from sqlalchemy import create_engine

from tests.cli.run import charter
from tests.connectors.shop_tables import seed
from tests.datamap.fides_paths import DATASET
from tests.datamap.maps import SHOP, edit, shop_policy_text, shop_text
from tests.factories import new_controller_id
from tests.services import require_file


def _policy(tmp_path: Path, cid: str = "acme") -> Path:
    path = tmp_path / "policy.yaml"
    path.write_text(shop_policy_text(cid), encoding="utf-8")
    return path


def test_check_passes_a_good_map_and_locates_each_problem(tmp_path: Path) -> None:
    policy = _policy(tmp_path)
    code, out = charter("datamap", "check", str(SHOP), "--policy", str(policy))
    assert (code, "ok" in out) == (0, True), out
    broken = tmp_path / "broken.yaml"
    broken.write_text(edit(shop_text(), ("region: CN\n        retention: tax_records", "region: US\n        retention: "
                                                                                      "tax_records")), encoding="utf-8")
    code, out = charter("datamap", "check", str(broken), "--policy", str(policy))
    assert code == 1
    flat = " ".join(out.split())
    assert "systems[1].datasets[1].region" in flat
    assert "outside the policy's storage regions (CN)" in flat
    assert "1 problem(s)" in flat


def test_import_fides_writes_a_map_and_reports(tmp_path: Path) -> None:
    require_file("the Fides sample", DATASET)
    out_file = tmp_path / "datamap.yaml"
    code, out = charter("datamap", "import-fides", str(DATASET), "--region", "CN", "--out", str(out_file))
    assert code == 0, out
    assert "11 collection(s)" in " ".join(out.split())
    assert "not mapped as it was" in out
    assert "user.contact.email" in out
    assert out_file.read_text(encoding="utf-8").count("- name: ") > 11
    code, out = charter("datamap", "import-fides", str(SHOP))
    assert code == 1
    assert "no Fides dataset" in " ".join(out.split())


def test_plan_shows_both_passes(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("COLUMNS", "240")
    code, out = charter("datamap", "plan", str(SHOP), "--identity", "phone")
    assert code == 0, out
    assert "shop_db.order_items" in out
    assert "not reachable from these identities: helpdesk.tickets" in " ".join(out.split())


def test_publish_and_list(cli_env: Path) -> None:
    cid = new_controller_id()
    assert charter("controller", "create", cid, "Acme")[0] == 0
    datamap = cli_env / "datamap.yaml"
    datamap.write_text(shop_text(cid), encoding="utf-8")
    code, out = charter("datamap", "publish", str(datamap), "--controller", cid)
    assert code == 1
    assert "no policy in force" in out
    assert charter("policy", "publish", str(_policy(cli_env, cid)), "--controller", cid)[0] == 0
    code, out = charter("datamap", "publish", str(datamap), "--controller", cid)
    assert (code, "published:" in out, "policy 1.0" in out) == (0, True, True), out
    code, out = charter("datamap", "publish", str(datamap), "--controller", cid)
    assert "no change" in out
    code, out = charter("datamap", "list", "--controller", cid)
    assert code == 0
    assert "sha256:" in out


def test_test_connects_and_finds_a_missing_column(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    db = tmp_path / "shop.db"
    engine = create_engine(f"sqlite:///{db}")
    seed(engine)
    engine.dispose()
    only_sql = tmp_path / "sql.yaml"
    text = shop_text().replace("kind: postgresql", "kind: sqlite")
    only_sql.write_text(text[:text.index("      - id: sessions")], encoding="utf-8")
    secrets = tmp_path / "secrets.yaml"
    secrets.write_text(f"SHOP_DB: sqlite:///{db}\nSHOP_HASH_KEY: a hash key long enough\n", encoding="utf-8")
    monkeypatch.setenv("CHARTER_SECRETS_FILE", str(secrets))
    code, out = charter("datamap", "test", str(only_sql))
    assert code == 0, out
    assert "shop_db: connected to sqlite" in out
    only_sql.write_text(text[:text.index("      - id: sessions")].replace("- name: postcode", "- name: zip"),
                        encoding="utf-8")
    code, out = charter("datamap", "test", str(only_sql))
    assert code == 1
    assert "zip" in out
    monkeypatch.delenv("CHARTER_SECRETS_FILE")
    code, out = charter("datamap", "test", str(only_sql))
    assert code == 1
    assert "CHARTER_SECRET_SHOP_DB" in " ".join(out.split())
