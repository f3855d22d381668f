"""Where the Fides sample (data only, Apache-2.0) is kept: `../shared/peers/fides-sample/` beside the repository,
or wherever `CHARTER_FIDES_SAMPLE` points. Tests that need it skip when it is absent."""

from __future__ import annotations

import os
from pathlib import Path

_ROOT = Path(__file__).resolve().parents[2]
_CANDIDATES = [Path(os.environ["CHARTER_FIDES_SAMPLE"])] if os.environ.get("CHARTER_FIDES_SAMPLE") else []
_CANDIDATES += [_ROOT.parent / "shared" / "peers" / "fides-sample", Path("/work/shared/peers/fides-sample")]

SAMPLE = next((p for p in _CANDIDATES if p.is_dir()), _CANDIDATES[0])
DATASET = SAMPLE / "postgres_example_test_dataset.yml"
SQL = SAMPLE / "postgres_sample.sql"
