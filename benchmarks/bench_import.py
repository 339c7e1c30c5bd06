"""Time `import dongping_geo` in fresh interpreters: this tree against another checkout.

Usage: python benchmarks/bench_import.py [OTHER_TREE]  (e.g. a worktree of v0.1.0)

Each run starts a new Python that imports the package from the given tree and reports
wall time (median of N runs), the modules loaded and whether heavy libraries came along.
"""

from __future__ import annotations

import json
import statistics
import subprocess
import sys
from pathlib import Path

from _machine import cpu_model

HEAVY = ("folium", "branca", "rasterio", "matplotlib", "dask", "exactextract", "openpyxl")
CODE = (
    "import sys, time, json; t = time.perf_counter(); import dongping_geo; "
    "dt = time.perf_counter() - t; "
    f"print(json.dumps([dt, len(sys.modules), [m for m in {list(HEAVY)!r} if m in sys.modules]]))"
)


def measure(tree: Path, runs: int = 15) -> tuple[float, int, list[str]]:
    times, mods, heavy = [], 0, []
    for _ in range(runs):
        out = subprocess.run([sys.executable, "-c", CODE], cwd=tree, capture_output=True, text=True, check=True)
        dt, mods, heavy = json.loads(out.stdout)
        times.append(dt)
    return statistics.median(times), mods, heavy


def main() -> None:
    here = Path(__file__).resolve().parents[1]
    trees = [("this tree", here)]
    if len(sys.argv) > 1:
        trees.append(("baseline", Path(sys.argv[1]).resolve()))
    print(f"machine: {cpu_model()}")
    results = {}
    for label, tree in trees:
        t, n, heavy = measure(tree)
        results[label] = t
        print(f"{label:10s} {tree}: median {t * 1000:.0f} ms, {n} modules, heavy: {', '.join(heavy) or 'none'}")
    if len(results) == 2:
        print(f"ratio baseline / this tree: {results['baseline'] / results['this tree']:.2f}x")


if __name__ == "__main__":
    main()
