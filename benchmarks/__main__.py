"""`python -m benchmarks [--only NAME] [--quick]`: run the benchmarks and print one table."""

from __future__ import annotations

import argparse
import sys

from rich.console import Console
from rich.table import Table

from benchmarks import REGISTRY, Row
from benchmarks import consent_stats as _consent_stats  # noqa: F401 - registers
from benchmarks import decision as _decision  # noqa: F401 - registers
from benchmarks import http as _http  # noqa: F401 - registers
from benchmarks import ingest as _ingest  # noqa: F401 - registers
from benchmarks import requests as _requests  # noqa: F401 - registers
from benchmarks import retention as _retention  # noqa: F401 - registers


def _fmt(value: float | None, unit: str = "") -> str:
    if value is None:
        return "—"
    text = f"{value:,.0f}" if abs(value) >= 100 else f"{value:,.3g}"
    return f"{text} {unit}".strip()


def table(rows: list[Row]) -> Table:
    out = Table("benchmark", "metric", "measured", "baseline (same run)", "ratio", "target", "result")
    for r in rows:
        result = "—" if r.passed is None else ("[green]PASS[/]" if r.passed else "[red]MISS[/]")
        baseline = f"{_fmt(r.baseline, r.unit)} ({r.baseline_name})" if r.baseline is not None else "—"
        ratio = f"{r.ratio:.2f}×" if r.ratio is not None else "—"
        out.add_row(r.benchmark, r.metric, _fmt(r.value, r.unit), baseline, ratio, r.target or "—", result)
    return out


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m benchmarks", description=__doc__)
    parser.add_argument("--only", action="append", choices=sorted(REGISTRY), help="run only this benchmark")
    parser.add_argument("--quick", action="store_true", help="shorter runs (noisier numbers)")
    args = parser.parse_args(argv)
    console = Console(width=max(Console().width, 150))
    rows: list[Row] = []
    for name, (title, run) in REGISTRY.items():
        if args.only and name not in args.only:
            continue
        console.print(f"[bold]{name}[/]: {title} …")
        rows.extend(run(args.quick))
    console.print(table(rows))
    return 0


if __name__ == "__main__":
    sys.exit(main())
