"""Benchmark: parsing a lab's measurement table (long and wide layouts).

Times, in one run and on the same in-memory tables (cells as strings, as ``read_table``
returns them):

* ``dongping_geo._measurements.parse_measurements`` (ours: aliases from the schemas,
  units, detection markers, not-measured markers, dates, duplicates, every record checked),
* plain pandas (the baseline a user would write without validation: rename the columns,
  map item names, ``pd.to_numeric(errors="coerce")`` and ``pd.to_datetime(format="mixed")``;
  for the wide table a ``melt`` first) — it checks nothing and silently turns bad cells
  into NaN/NaT.

Prints wall and CPU time (best of ``--repeat``), the ratio and the traced peak memory
(tracemalloc) of each.

Run::

    python benchmarks/bench_measurements.py [--lines 200000]
"""

from __future__ import annotations

import argparse
import os
import time
import tracemalloc
from collections.abc import Callable
from typing import Any

import numpy as np
import pandas as pd
from _machine import cpu_model

from dongping_geo._measurements import parse_measurements

ITEMS = {"氨氮": "NH3_N", "总磷": "TP", "高锰酸盐指数": "CODMn", "溶解氧": "DO", "pH": "pH",
         "化学需氧量": "COD"}


def make_tables(n: int, seed: int = 0) -> tuple[pd.DataFrame, pd.DataFrame]:
    """A long table of about ``n`` lines (55 sections, hourly times) and its wide pivot."""
    rng = np.random.default_rng(seed)
    dates = [f"2022-{m:02d}-{d:02d}" for m in range(1, 13) for d in (5, 20)]
    hours = pd.Series(rng.integers(0, 24, n)).astype(str).str.zfill(2)
    minutes = pd.Series(np.arange(n) % 60).astype(str).str.zfill(2)
    long = pd.DataFrame({
        "断面编码": rng.choice([f"S{i:02d}" for i in range(55)], n),
        "采样日期": rng.choice(dates, n) + " " + hours + ":" + minutes,
        "监测项目": rng.choice(list(ITEMS), n),
        "监测值": np.char.mod("%.3f", rng.uniform(0.01, 8, n)).astype(object),
        "单位": "mg/L",
    })
    long.loc[long["监测项目"] == "pH", "单位"] = "无量纲"
    long = long.drop_duplicates(["断面编码", "采样日期", "监测项目"]).reset_index(drop=True)
    wide = long.pivot_table(index=["断面编码", "采样日期"], columns="监测项目", values="监测值",
                            aggfunc="first").fillna("").reset_index()
    wide.columns.name = None
    return long.astype(object), wide.astype(object)


def plain_long(df: pd.DataFrame) -> pd.DataFrame:
    out = df.rename(columns={"断面编码": "section_id", "采样日期": "sampled_at",
                             "监测项目": "parameter", "监测值": "value", "单位": "unit"})
    out["parameter"] = out["parameter"].map(ITEMS)
    out["value"] = pd.to_numeric(out["value"], errors="coerce")
    out["sampled_at"] = pd.to_datetime(out["sampled_at"], format="mixed",
                                       errors="coerce").dt.tz_localize("Asia/Shanghai")
    return out


def plain_wide(df: pd.DataFrame) -> pd.DataFrame:
    long = df.melt(id_vars=["断面编码", "采样日期"], var_name="监测项目", value_name="监测值")
    long = long[long["监测值"] != ""]
    return plain_long(long.assign(单位="mg/L"))


def measure(fn: Callable[[], Any], repeat: int) -> tuple[float, float, float, Any]:
    best_wall = best_cpu = float("inf")
    out = None
    for _ in range(repeat):
        w, c = time.perf_counter(), time.process_time()
        out = fn()
        best_wall = min(best_wall, time.perf_counter() - w)
        best_cpu = min(best_cpu, time.process_time() - c)
    tracemalloc.start()
    fn()
    peak = tracemalloc.get_traced_memory()[1]
    tracemalloc.stop()
    return best_wall, best_cpu, peak / 2**20, out


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--lines", type=int, default=200_000)
    parser.add_argument("--repeat", type=int, default=3)
    args = parser.parse_args()
    print(f"CPU {cpu_model()}, {os.cpu_count()} cores, load {os.getloadavg()[0]:.1f}")
    long, wide = make_tables(args.lines)
    for name, table, ours, plain in (
        ("long", long, lambda: parse_measurements(long), lambda: plain_long(long)),
        ("wide", wide, lambda: parse_measurements(wide), lambda: plain_wide(wide)),
    ):
        w1, c1, m1, out = measure(ours, args.repeat)
        w2, c2, m2, base = measure(plain, args.repeat)
        print(f"{name}: {len(table):,} lines, {len(out):,} records (plain: {len(base):,})")
        print(f"  ours  {w1:6.2f} s wall {c1:6.2f} s CPU  peak {m1:5.0f} MiB")
        print(f"  plain {w2:6.2f} s wall {c2:6.2f} s CPU  peak {m2:5.0f} MiB")
        print(f"  ratio ours/plain {w1 / w2:.1f}x wall, {c1 / c2:.1f}x CPU")


if __name__ == "__main__":
    main()
