"""Benchmark: river coverage at district scale on dask, next to the in-memory path.

For each size (default 1M, 3M, 10M GPS fixes) on synthetic district-scale rivers
(18 towns x 74 rivers, written by dongping_geo.scale.make_district_inputs as
partitioned GeoParquet, 250,000 fixes per file), in one run:

* dask:      scale.river_coverage_dask(rivers, "fixes/") on a fresh 2-worker
             LocalCluster (processes, 1 thread each) with a per-worker memory limit
             (default 1 GiB) below the size of the input in memory; reads the files.
* in-memory: patrol.river_coverage(rivers, gpd.read_parquet("fixes/")) in a forked
             child (its own peak RSS), where it fits (--max-in-memory).
* kernels:   the engine's per-partition steps run once on the whole in-memory input
             (same kernels, no dask): what the engine costs over its own kernels.

Prints time, throughput (fixes/s) and peak memory per size: driver RSS (sampled),
each worker's peak RSS (ru_maxrss, fresh cluster per size) and the children's peak
RSS; checks that the results agree (rtol 1e-9). The machine is shared: the load
average is printed before and after.

Usage::

    python benchmarks/bench_dask_coverage.py                      # 1M 3M 10M
    python benchmarks/bench_dask_coverage.py --sizes 1000000 --memory-limit 768MiB
"""

from __future__ import annotations

import argparse
import logging
import multiprocessing as mp
import os
import platform
import resource
import threading
import time
from pathlib import Path

import geopandas as gpd
import numpy as np
import pandas as pd
import psutil
from _machine import cpu_model

from dongping_geo import scale

RTOL = 1e-9
ROWS_PER_FILE = 250_000  # one partition per file: small tasks keep worker memory low


def _mib(b: float) -> str:
    return f"{b / 2**20:,.0f} MiB"


def _gen(folder: str, n: int, towns: int, q) -> None:
    scale.make_district_inputs(folder, n_towns=towns, n_fixes=n, n_buildings=10, seed=0,
                               rows_per_file=ROWS_PER_FILE)
    q.put(True)


def ensure_data(root: Path, n: int, towns: int) -> dict[str, Path]:
    folder = root / f"fixes_{n}_towns_{towns}_rows_{ROWS_PER_FILE}"
    done = folder / ".complete"
    if not done.exists():
        t0 = time.perf_counter()
        ctx = mp.get_context("fork")
        q = ctx.Queue()
        p = ctx.Process(target=_gen, args=(str(folder), n, towns, q))
        p.start()
        q.get()
        p.join()
        done.write_text("ok")
        print(f"  generated {n:,} fixes in {time.perf_counter() - t0:.0f} s -> {folder}")
    return {"rivers": folder / "rivers.parquet", "fixes": folder / "fixes"}


def _in_memory(paths, mode, q) -> None:
    from dongping_geo import _patrol_core as core
    from dongping_geo import _scale_coverage as sc
    from dongping_geo import patrol
    from dongping_geo._patrol_tracks import check_rivers

    rss0 = psutil.Process().memory_info().rss
    t0 = time.perf_counter()
    rivers = gpd.read_parquet(paths["rivers"])
    fixes = gpd.read_parquet(paths["fixes"])
    t_read = time.perf_counter() - t0
    size = int(fixes.memory_usage(deep=True).sum())
    rss_in = psutil.Process().memory_info().rss - rss0
    t0 = time.perf_counter()
    if mode == "patrol":
        out = patrol.river_coverage(rivers, fixes)
    else:  # the engine's kernels, one partition, no dask
        rivers = check_rivers(rivers)
        rs = core.explode_rivers(rivers.geometry.values)
        d = sc.prepare_fixes(fixes, rivers_crs=rivers.crs, lo=None, hi=None)
        del fixes
        seg = sc.fix_segments(d, max_gap_s=300.0, max_speed_kmh=60.0)
        del d
        part = sc.segment_intervals(seg, rs=rs, tolerance_m=30.0)
        out = scale._coverage_table(rivers, rs, sc.merge_partials(part, rs), 0.5)
    t_run = time.perf_counter() - t0
    peak = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss * 1024
    q.put({"t_read": t_read, "t_run": t_run, "peak": peak, "input_bytes": size,
           "input_rss": rss_in, "out": out})


def run_in_memory(paths, mode):
    ctx = mp.get_context("fork")
    q = ctx.Queue()
    p = ctx.Process(target=_in_memory, args=(paths, mode, q))
    p.start()
    res = q.get()
    p.join()
    return res


class Sampler:
    """Peak RSS of this process and of every worker, sampled every 0.2 s."""

    def __init__(self, client):
        self.client = client
        self.driver = 0
        self.workers: dict[str, int] = {}
        self._stop = threading.Event()
        self._t = threading.Thread(target=self._run, daemon=True)

    def _run(self):
        me = psutil.Process()
        while not self._stop.is_set():
            self.driver = max(self.driver, me.memory_info().rss)
            try:
                for w, r in self.client.run(lambda: psutil.Process().memory_info().rss).items():
                    self.workers[w] = max(self.workers.get(w, 0), r)
            except Exception:  # noqa: BLE001 - a worker restarting: keep sampling
                pass
            self._stop.wait(0.2)

    def __enter__(self):
        self._t.start()
        return self

    def __exit__(self, *exc):
        self._stop.set()
        self._t.join()


def _warm() -> None:
    import dask_geopandas  # noqa: F401
    import pyarrow.parquet  # noqa: F401

    import dongping_geo.landuse  # noqa: F401
    import dongping_geo.patrol  # noqa: F401
    from dongping_geo import _scale_coverage  # noqa: F401


def run_dask(paths, n, args):
    kw = {"patrols_partitioned": args.patrols_partitioned, "spatial": not args.no_spatial}
    with scale.client_for(n_workers=2, threads_per_worker=1, memory_limit=args.memory_limit) as client:
        # Workers up and the libraries imported before timing (a long-lived cluster
        # pays this once).
        client.run(_warm)
        times = []
        with Sampler(client) as s:
            for _ in range(args.repeat):
                t0 = time.perf_counter()
                out = scale.river_coverage_dask(paths["rivers"], paths["fixes"], **kw)
                times.append(time.perf_counter() - t0)
        worker_peak = client.run(lambda: resource.getrusage(resource.RUSAGE_SELF).ru_maxrss * 1024)
        limit = next(iter(client.scheduler_info()["workers"].values()))["memory_limit"]
    return out, times, s.driver, s.workers, worker_peak, limit


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--sizes", type=int, nargs="+", default=[1_000_000, 3_000_000, 10_000_000])
    ap.add_argument("--towns", type=int, default=18)
    ap.add_argument("--memory-limit", default="1GiB", help="per dask worker")
    ap.add_argument("--max-in-memory", type=int, default=3_000_000,
                    help="run patrol.river_coverage in memory up to this many fixes")
    ap.add_argument("--max-kernels", type=int, default=10_000_000,
                    help="run the engine's kernels in memory up to this many fixes")
    ap.add_argument("--repeat", type=int, default=2, help="dask runs per size (same cluster)")
    ap.add_argument("--data-dir", default="/tmp/dongping_district")
    ap.add_argument("--patrols-partitioned", action="store_true",
                    help="files hold whole patrols: skip the shuffle by patrol")
    ap.add_argument("--no-spatial", action="store_true", help="skip the Hilbert range shuffle")
    args = ap.parse_args()
    logging.getLogger("distributed.shuffle").setLevel(logging.ERROR)
    print(f"machine: nproc {len(os.sched_getaffinity(0))}, {cpu_model()}, "
          f"{psutil.virtual_memory().total / 2**30:.0f} GiB RAM, Python {platform.python_version()}")
    print(f"load average at start: {os.getloadavg()} (shared machine)")
    print(f"dask: 2 workers x 1 thread, memory_limit {args.memory_limit} per worker, "
          f"patrols_partitioned={args.patrols_partitioned}, spatial={not args.no_spatial}")
    root = Path(args.data_dir)
    root.mkdir(parents=True, exist_ok=True)
    rows = []
    for n in args.sizes:
        print(f"\n== {n:,} fixes, {args.towns} towns x 74 rivers ==")
        paths = ensure_data(root, n, args.towns)
        out, times, drv, wsampled, wpeak, limit = run_dask(paths, n, args)
        dt = min(times)
        print(f"  dask:      {dt:7.1f} s  {n / dt:>10,.0f} fixes/s  (runs: "
              f"{', '.join(f'{t:.1f}' for t in times)} s) driver peak {_mib(drv)}, "
              f"worker peak RSS {', '.join(_mib(v) for v in wpeak.values())} "
              f"(limit {_mib(limit)} each)")
        row = {"fixes": n, "dask_s": dt, "dask_fps": n / dt, "driver": drv,
               "worker_max": max(wpeak.values())}
        modes = [m for m, cap in (("patrol", args.max_in_memory), ("kernels", args.max_kernels))
                 if n <= cap]
        if n > args.max_in_memory:
            print(f"  in-memory: skipped (> --max-in-memory {args.max_in_memory:,})")
        if modes:
            for mode in modes:
                label = {"patrol": "in-memory", "kernels": "kernels"}[mode]
                r = run_in_memory(paths, mode)
                pd.testing.assert_frame_equal(out, r["out"], rtol=RTOL, check_exact=False)
                print(f"  {label + ':':10s} {r['t_run']:7.1f} s  {n / r['t_run']:>10,.0f} fixes/s "
                      f"(+ read {r['t_read']:.1f} s: {n / (r['t_run'] + r['t_read']):,.0f} fixes/s), "
                      f"peak RSS {_mib(r['peak'])}; input in memory: RSS +{_mib(r['input_rss'])} "
                      f"[results equal]")
                row[f"{mode}_s"] = r["t_run"] + r["t_read"]
                row[f"{mode}_peak"] = r["peak"]
                row["input"] = r["input_rss"]
        rows.append(row)
    print(f"\nload average at end: {os.getloadavg()}")
    print("\nsummary (times include reading the GeoParquet):")
    print("| fixes | input in memory | dask s | dask fixes/s | worker peak RSS | driver peak RSS "
          "| in-memory s | in-memory peak | kernels s | kernels peak | dask/in-memory | dask/kernels |")
    print("|" + "---|" * 12)

    def mib(r, k):
        return _mib(r[k]) if k in r else "-"

    for r in rows:
        im = r.get("patrol_s", np.nan)
        ks = r.get("kernels_s", np.nan)
        print(f"| {r['fixes']:,} | {mib(r, 'input')} | {r['dask_s']:.1f} | {r['dask_fps']:,.0f} "
              f"| {_mib(r['worker_max'])} | {_mib(r['driver'])} | {im:.1f} | {mib(r, 'patrol_peak')} "
              f"| {ks:.1f} | {mib(r, 'kernels_peak')} | {r['dask_s'] / im:.2f} | {r['dask_s'] / ks:.2f} |")


if __name__ == "__main__":
    main()
