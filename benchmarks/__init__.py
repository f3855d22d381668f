"""Speed targets, measured: `python -m benchmarks` (or `make bench`) runs every registered benchmark and prints
one table with each measured value, the baseline measured in the same run, their ratio, the target, and whether
it was met. `--only NAME` runs one. Benchmarks are not tests: nothing here fails the build.

A benchmark is a function registered with `@benchmark("name")` that returns `Row`s.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass

__all__ = ["REGISTRY", "Row", "benchmark"]


@dataclass(frozen=True)
class Row:
    benchmark: str
    metric: str
    value: float
    unit: str
    baseline: float | None = None
    baseline_name: str = ""
    target: str = ""
    passed: bool | None = None
    """None: informational, no target."""

    @property
    def ratio(self) -> float | None:
        return self.value / self.baseline if self.baseline else None


Runner = Callable[[bool], list[Row]]
REGISTRY: dict[str, tuple[str, Runner]] = {}


def benchmark(name: str, title: str) -> Callable[[Runner], Runner]:
    def register(run: Runner) -> Runner:
        REGISTRY[name] = (title, run)
        return run

    return register
