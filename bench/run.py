"""Benchmark runner: `python bench/run.py NAME [--runs N]` or `python bench/run.py all`.

Every figure is printed as a ratio against a baseline measured in the same run (machines here
are noisy), using the median of several runs. Benchmarks live in `bench/bench_<name>.py` and
define `measure(runs: int) -> list[Figure]`. Benchmarks are never timed assertions in tests.
"""

from __future__ import annotations

import argparse
import importlib.util
import json
import statistics
import sys
from dataclasses import dataclass, field
from pathlib import Path

HERE = Path(__file__).resolve().parent
sys.path.insert(0, str(HERE.parent))


@dataclass
class Figure:
    """One measured figure: our samples against baseline samples, with an optional target."""

    name: str
    samples: list[float]
    baseline_name: str | None = None
    baseline: list[float] = field(default_factory=list)
    unit: str = "s"
    target_ratio: float | None = None
    target_value: float | None = None

    @property
    def median(self) -> float:
        return statistics.median(self.samples)

    @property
    def ratio(self) -> float | None:
        if not self.baseline:
            return None
        base = statistics.median(self.baseline)
        return self.median / base if base else None

    def verdict(self) -> str:
        ok = True
        if self.target_ratio is not None and self.ratio is not None:
            ok = ok and self.ratio <= self.target_ratio
        if self.target_value is not None:
            ok = ok and self.median <= self.target_value
        if self.target_ratio is None and self.target_value is None:
            return "-"
        return "meets target" if ok else "MISSES target"


def _fmt(value: float, unit: str) -> str:
    if unit == "s":
        return f"{value * 1000:.1f} ms" if value < 10 else f"{value:.2f} s"
    return f"{value:.1f} {unit}"


def available() -> list[str]:
    return sorted(p.stem.removeprefix("bench_") for p in HERE.glob("bench_*.py"))


def load(name: str):
    path = HERE / f"bench_{name}.py"
    spec = importlib.util.spec_from_file_location(f"bench_{name}", path)
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


def report(figures: list[Figure]) -> None:
    for f in figures:
        line = f"{f.name}: median {_fmt(f.median, f.unit)} over {len(f.samples)} runs"
        if f.ratio is not None:
            base = statistics.median(f.baseline)
            line += f"; baseline {f.baseline_name} {_fmt(base, f.unit)}; ratio {f.ratio:.2f}"
        targets = []
        if f.target_ratio is not None:
            targets.append(f"ratio <= {f.target_ratio}")
        if f.target_value is not None:
            targets.append(f"median <= {_fmt(f.target_value, f.unit)}")
        if targets:
            line += f" (target {', '.join(targets)}: {f.verdict()})"
        print(line, flush=True)


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("name", help=f"one of: all, {', '.join(available())}")
    parser.add_argument("--runs", type=int, default=7)
    parser.add_argument("--json", action="store_true", help="also print the figures as JSON")
    args = parser.parse_args(argv)
    names = available() if args.name == "all" else [args.name]
    unknown = [n for n in names if n not in available()]
    if unknown:
        parser.error(f"unknown benchmark {unknown[0]!r}; choose from: {', '.join(available())}")
    all_figures: list[Figure] = []
    for name in names:
        print(f"== {name}", flush=True)
        figures = load(name).measure(args.runs)
        report(figures)
        all_figures.extend(figures)
    if args.json:
        print(json.dumps([{**f.__dict__, "median": f.median, "ratio": f.ratio} for f in all_figures]))
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
