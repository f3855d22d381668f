"""Where the Fides sample (data only, Apache-2.0) is kept for the tests and benchmarks."""

from __future__ import annotations

from pathlib import Path

SAMPLE = Path("/work/shared/peers/fides-sample")
DATASET = SAMPLE / "postgres_example_test_dataset.yml"
SQL = SAMPLE / "postgres_sample.sql"
