"""District and city scale: patrol coverage and violation checks on dask-geopandas.

The same analyses as :func:`dongping_geo.patrol.river_coverage` and
:func:`dongping_geo.landuse.check_violations`, for inputs larger than one machine's
memory: a year of a district's GPS fixes, a city's building footprints. The inputs
are dask-geopandas GeoDataFrames (or folders of partitioned GeoParquet); every
partition runs the in-memory kernels, and the partial results are merged exactly,
so the answer is the in-memory answer (up to floating-point summation order).

How coverage is partitioned (see :mod:`dongping_geo._scale_coverage`): fixes are
shuffled by patrol so each patrol is joined into track segments whole (time gaps and
GPS jumps depend on a patrol's neighbouring fixes); the segments are then
range-partitioned by the Hilbert distance of their midpoints, so each partition
meets only the river segments near it; each partition returns covered intervals per
(river part, patrol) with the last time seen; the intervals are unioned on the
client. A track segment whose fixes would have landed in different spatial
partitions is never lost, because segments are built before the spatial shuffle.

Functions
---------
is_dask
    Whether an object is a dask (geo)dataframe: the dispatch test for the public API.
client_for
    A dask.distributed Client on a LocalCluster or on an existing scheduler.
read_partitioned
    A dask-geopandas GeoDataFrame from a folder of GeoParquet files.
river_coverage_dask
    :func:`dongping_geo.patrol.river_coverage` on dask.
check_violations_dask
    :func:`dongping_geo.landuse.check_violations` on dask.
write_partitioned
    Write a (dask) GeoDataFrame as a folder of GeoParquet files, atomically.
make_district_inputs
    Synthetic district-scale rivers, fixes, buildings and zones as GeoParquet.
"""

from __future__ import annotations

import contextlib
import dataclasses
import os
import shutil
import uuid
from collections.abc import Iterable, Iterator
from pathlib import Path
from typing import TYPE_CHECKING, Any, TypedDict, Unpack

import geopandas as gpd
import numpy as np
import pandas as pd
import shapely

from . import _patrol_core as core
from . import _scale_coverage as sc
from ._engine import is_dask, use_dask
from ._landuse_check import check_violations_memory, sorted_rows
from ._patrol_tables import coverage_table
from ._patrol_tracks import (
    DEFAULT_MAX_GAP_S,
    DEFAULT_MAX_SPEED_KMH,
    check_fixes,
    check_rivers,
    period_bounds,
)
from .crs import get_work_crs, to_work_crs
from .errors import ConfigError, InputFileError, OutputError, SchemaError

if TYPE_CHECKING:  # pragma: no cover
    import dask_geopandas
    from distributed import Client

__all__ = [
    "CoverageOptions",
    "use_dask",
    "check_violations_dask",
    "client_for",
    "is_dask",
    "make_district_inputs",
    "patrol_analysis_dask",
    "read_partitioned",
    "river_coverage_dask",
    "write_partitioned",
]

_INSTALL = 'install the dask extra: pip install "dongping_geo[dask]"'


def _dask_modules() -> tuple[Any, Any]:
    try:
        import dask.dataframe as dd
        import dask_geopandas
    except ImportError as exc:  # pragma: no cover - the extra is installed in CI
        raise ConfigError(
            "the dask engine needs dask-geopandas",
            expected="dask-geopandas and distributed installed",
            found=str(exc),
            fix=_INSTALL,
        ) from None
    return dd, dask_geopandas


@contextlib.contextmanager
def client_for(
    scheduler: str | None = None,
    *,
    n_workers: int = 2,
    threads_per_worker: int = 1,
    memory_limit: str | int | None = "2GiB",
    processes: bool = True,
    timeout_s: float = 10.0,
) -> Iterator[Client]:
    """Start or connect to a dask.distributed Client for the duration of a ``with`` block.

    Parameters
    ----------
    scheduler : str, optional
        Address of a running scheduler (``tcp://HOST:PORT``). Default: start a
        LocalCluster and shut it down on exit.
    n_workers, threads_per_worker : int, default 2, 1
        LocalCluster size (ignored with ``scheduler``).
    memory_limit : str or int, default "2GiB"
        Memory limit per LocalCluster worker; workers spill to disk from 60 % of it
        and are restarted above 95 % (dask's defaults).
    processes : bool, default True
        Workers in separate processes (True) or threads of this process (False:
        starts faster, shares the GIL; fine for small data and tests).
    timeout_s : float, default 10
        How long to try to connect to ``scheduler``.

    Yields
    ------
    distributed.Client
        The client, also set as dask's default scheduler inside the block.

    Raises
    ------
    ConfigError
        If dask.distributed is missing or the scheduler cannot be reached.

    Examples
    --------
    >>> with client_for(n_workers=2, processes=False) as client:  # doctest: +SKIP
    ...     table = river_coverage_dask(rivers, "fixes/")
    """
    try:
        from distributed import Client, LocalCluster
    except ImportError as exc:  # pragma: no cover
        raise ConfigError("the dask engine needs distributed", found=str(exc), fix=_INSTALL) from None
    if scheduler:
        try:
            client = Client(scheduler, timeout=f"{timeout_s}s")
        except (OSError, TimeoutError) as exc:
            raise ConfigError(
                "cannot reach the dask scheduler",
                field="scheduler",
                expected="the address of a running dask scheduler, e.g. tcp://10.0.0.5:8786",
                found=scheduler,
                fix=f"start it with `dask scheduler` and workers with `dask worker {scheduler}` ({exc})",
            ) from None
        try:
            yield client
        finally:
            client.close()
        return
    cluster = LocalCluster(
        n_workers=n_workers,
        threads_per_worker=threads_per_worker,
        memory_limit=memory_limit,
        processes=processes,
        dashboard_address=None,
    )
    client = Client(cluster)
    try:
        yield client
    finally:
        client.close()
        cluster.close()


def read_partitioned(path: str | os.PathLike, *, layer: str = "layer") -> dask_geopandas.GeoDataFrame:
    """Open a folder (or glob) of GeoParquet files as a dask-geopandas GeoDataFrame.

    Parameters
    ----------
    path : str or PathLike
        A folder of ``*.parquet`` files, one file, or a glob.
    layer : str, default "layer"
        Layer name for error messages.

    Returns
    -------
    dask_geopandas.GeoDataFrame
        Lazy; one partition per file (row group splitting left to dask).

    Raises
    ------
    InputFileError
        If the path does not exist or holds no GeoParquet.

    Examples
    --------
    >>> fixes = read_partitioned("district/fixes", layer="patrols")  # doctest: +SKIP
    """
    _, dask_geopandas = _dask_modules()
    p = Path(path)
    if "*" not in str(p) and not p.exists():
        raise InputFileError(
            "no such file or folder", path=p, layer=layer,
            fix="pass a folder of GeoParquet files (see write_partitioned)",
        )
    try:
        return dask_geopandas.read_parquet(str(p))
    except (ValueError, OSError) as exc:
        raise InputFileError(
            "cannot read as GeoParquet", path=p, layer=layer, found=str(exc).splitlines()[0],
            fix="write the layer with dongping_geo.scale.write_partitioned or GeoDataFrame.to_parquet",
        ) from None


def _as_dask(obj: Any, *, layer: str, npartitions: int | None = None) -> Any:
    _, dask_geopandas = _dask_modules()
    if isinstance(obj, str | os.PathLike):
        return read_partitioned(obj, layer=layer)
    if is_dask(obj):
        return obj
    if isinstance(obj, gpd.GeoDataFrame):
        return dask_geopandas.from_geopandas(obj, npartitions=npartitions or 2)
    raise SchemaError(
        f"{layer} must be a GeoDataFrame",
        layer=layer,
        expected="a dask_geopandas.GeoDataFrame, a geopandas.GeoDataFrame or a GeoParquet folder",
        found=type(obj).__name__,
        fix="read it with dongping_geo.scale.read_partitioned(path)",
    )


def _as_pandas(obj: Any, *, layer: str) -> gpd.GeoDataFrame:
    """Small layers (rivers, zones) are gathered to the client."""
    if isinstance(obj, str | os.PathLike):
        obj = read_partitioned(obj, layer=layer)
    if is_dask(obj):
        obj = obj.compute()
    return obj


# --------------------------------------------------------------------------------------
# Patrol coverage
# --------------------------------------------------------------------------------------
class CoverageOptions(TypedDict, total=False):
    """Options :func:`river_coverage_dask` shares with :func:`dongping_geo.patrol.river_coverage`."""

    tolerance_m: float
    start: Any
    end: Any
    min_share: float
    max_gap_s: float | None
    max_speed_kmh: float | None


# The defaults of dongping_geo.patrol.river_coverage.
_COVERAGE_DEFAULTS: dict[str, Any] = {
    "tolerance_m": 30.0, "start": None, "end": None, "min_share": 0.5,
    "max_gap_s": DEFAULT_MAX_GAP_S, "max_speed_kmh": DEFAULT_MAX_SPEED_KMH,
}


def _coverage_options(options: CoverageOptions) -> dict[str, Any]:
    """Return the options with their defaults; an unknown keyword is a TypeError, as for any function."""
    unknown = sorted(set(options) - set(_COVERAGE_DEFAULTS))
    if unknown:
        raise TypeError(f"river_coverage_dask() got an unexpected keyword argument {unknown[0]!r}")
    return {**_COVERAGE_DEFAULTS, **options}


def river_coverage_dask(
    rivers: Any,
    fixes: Any,
    *,
    npartitions: int | None = None,
    spatial: bool = True,
    patrols_partitioned: bool = False,
    **options: Unpack[CoverageOptions],
) -> pd.DataFrame:
    """:func:`dongping_geo.patrol.river_coverage` for fixes that do not fit in memory.

    Runs on the current dask scheduler (the Client of :func:`client_for`, or dask's
    local threads when there is none). The result equals the in-memory result.

    Parameters
    ----------
    rivers : GeoDataFrame, dask GeoDataFrame or path
        Rivers, gathered to the client (tens of thousands of rivers fit easily).
    fixes : dask_geopandas.GeoDataFrame, GeoDataFrame or path
        GPS fixes (Point) with ``timestamp`` and usually ``patrol_id`` and ``chief``;
        a path is read with :func:`read_partitioned`.
    npartitions : int, optional
        Partitions of the patrol and spatial shuffles (default: those of ``fixes``).
    spatial : bool, default True
        Range-partition the track segments by Hilbert distance before the interval
        step (each partition then meets only nearby rivers). False keeps the patrol
        partitions, one shuffle fewer, every partition querying all rivers.
    patrols_partitioned : bool, default False
        Promise that every patrol's fixes (every chief's, for fixes without
        ``patrol_id``) already lie in one partition, e.g. files written per patrol
        or per chief: skips the shuffle by patrol. A broken promise splits patrols.
    **options
        ``tolerance_m``, ``start``, ``end``, ``min_share``, ``max_gap_s``,
        ``max_speed_kmh``: as for :func:`dongping_geo.patrol.river_coverage` (same
        meaning, same defaults; see :class:`CoverageOptions`).

    Returns
    -------
    DataFrame
        As :func:`dongping_geo.patrol.river_coverage`: one row per river in input
        order.

    Raises
    ------
    SchemaError, CRSError, GeometryError
        As for :func:`dongping_geo.patrol.river_coverage` (raised while computing
        for problems inside a partition).
    ConfigError
        If dask-geopandas is not installed.

    Examples
    --------
    >>> with client_for(n_workers=2) as client:  # doctest: +SKIP
    ...     table = river_coverage_dask(rivers, "district/fixes", start="2024-03-01", end="2024-03-31")
    """
    opts = _coverage_options(options)
    plan = _Plan.make(rivers, fixes, tolerance_m=opts["tolerance_m"], start=opts["start"], end=opts["end"],
                      max_gap_s=opts["max_gap_s"], max_speed_kmh=opts["max_speed_kmh"],
                      npartitions=npartitions, patrols_partitioned=patrols_partitioned)
    partials = plan.partials(spatial=spatial).compute()
    return _coverage_table(plan.rivers, plan.rs, sc.merge_partials(partials, plan.rs), opts["min_share"])


@dataclasses.dataclass
class _Plan:
    """The validated inputs and the fixes shuffled by patrol: the front of every patrol graph."""

    rivers: gpd.GeoDataFrame
    rs: core.RiverSegments
    reduced: Any  # dask DataFrame of prepared fixes, each patrol whole in one partition
    nparts: int
    tolerance_m: float
    max_gap_s: float
    max_speed_kmh: float
    lo: pd.Timestamp | None
    hi: pd.Timestamp | None

    @classmethod
    def make(cls, rivers: Any, fixes: Any, *, tolerance_m: float, start: Any, end: Any,
             max_gap_s: float | None, max_speed_kmh: float | None, npartitions: int | None,
             patrols_partitioned: bool) -> _Plan:
        if not tolerance_m > 0:
            raise SchemaError(
                "tolerance must be positive", field="tolerance_m", expected="a distance in metres > 0",
                found=repr(tolerance_m), fix="pass e.g. tolerance_m=30",
            )
        rivers = check_rivers(_as_pandas(rivers, layer="rivers"))
        ddf = _as_dask(fixes, layer="patrols")
        check_fixes(ddf._meta, rivers.crs)  # fields and CRS, before any work
        lo, hi = period_bounds(start, end)
        # Read only what the analysis needs from the (columnar) files.
        wanted = [c for c in ("patrol_id", "chief", "timestamp") if c in ddf.columns]
        ddf = ddf[[*wanted, ddf.geometry.name]]
        nparts = npartitions or ddf.npartitions
        reduced = ddf.map_partitions(
            sc.prepare_fixes, rivers_crs=rivers.crs, lo=lo, hi=hi,
            meta=sc.empty(sc.FIX_META), partition_info=True,
        )
        if not patrols_partitioned:
            reduced = reduced.shuffle(on="_key", npartitions=nparts, ignore_index=True)
        return cls(
            rivers=rivers, rs=core.explode_rivers(rivers.geometry.values), reduced=reduced, nparts=nparts,
            tolerance_m=tolerance_m, lo=lo, hi=hi,
            max_gap_s=DEFAULT_MAX_GAP_S if max_gap_s is None else max_gap_s,
            max_speed_kmh=DEFAULT_MAX_SPEED_KMH if max_speed_kmh is None else max_speed_kmh,
        )

    def partials(self, *, spatial: bool) -> Any:
        """Lazy covered intervals per (river part, patrol) over all partitions."""
        segs = self.reduced.map_partitions(
            sc.fix_segments, max_gap_s=self.max_gap_s, max_speed_kmh=self.max_speed_kmh,
            meta=sc.empty(sc.SEG_META), partition_info=True,
        )
        if spatial:
            extent = sc.river_extent(self.rs, self.tolerance_m)
            segs = segs.map_partitions(
                sc.segment_hilbert, origin=self.rs.origin, extent=extent,
                meta=sc.empty({**sc.SEG_META, "_h": "int64"}),
            )
            segs = segs.set_index("_h", divisions=sc.hilbert_divisions(self.rs, extent, self.nparts))
        return segs.map_partitions(
            sc.segment_intervals, rs=self.rs, tolerance_m=self.tolerance_m, meta=sc.empty(sc.PARTIAL_META),
        )

    def stats(self) -> Any:
        """Lazy per-patrol statistics (start, end, length, chief) with the codes of the partials."""
        return self.reduced.map_partitions(
            sc.fix_patrol_stats, max_gap_s=self.max_gap_s, max_speed_kmh=self.max_speed_kmh,
            meta=sc.empty(sc.STATS_META), partition_info=True,
        )


def patrol_analysis_dask(
    rivers: Any,
    fixes: Any,
    *,
    tolerance_m: float = 30.0,
    start: Any = None,
    end: Any = None,
    max_gap_s: float | None = None,
    max_speed_kmh: float | None = None,
    npartitions: int | None = None,
) -> dict[str, Any]:
    """Compute the pieces of :class:`dongping_geo.patrol.PatrolAnalysis` on dask.

    ``patrol.analyse(..., engine="dask")`` calls this: tracks and rivers are intersected
    once on the cluster, and the covered intervals, the per-(river, patrol) totals and
    the per-patrol statistics come back together, so coverage, uncovered stretches and
    compliance all derive from one distributed computation.

    Parameters
    ----------
    rivers, fixes
        As for :func:`river_coverage_dask`.
    tolerance_m, start, end, max_gap_s, max_speed_kmh, npartitions
        As for :func:`river_coverage_dask`.

    Returns
    -------
    dict
        Keyword arguments of ``PatrolAnalysis`` (without ``lo``/``hi``/``tracks``).

    Raises
    ------
    SchemaError, CRSError, GeometryError
        As for :func:`river_coverage_dask`.

    Examples
    --------
    >>> from dongping_geo import patrol
    >>> with client_for(n_workers=2) as client:  # doctest: +SKIP
    ...     analysis = patrol.analyse(rivers, "district/fixes", start="2024-03-01", end="2024-03-31",
    ...                               engine="dask")
    ...     table = analysis.compliance().by_river
    """
    import dask

    plan = _Plan.make(rivers, fixes, tolerance_m=tolerance_m, start=start, end=end, max_gap_s=max_gap_s,
                      max_speed_kmh=max_speed_kmh, npartitions=npartitions, patrols_partitioned=False)
    plan.reduced = plan.reduced.persist()  # both steps read the shuffled fixes once
    partials, stats = dask.compute(plan.partials(spatial=True), plan.stats())
    stats = stats.sort_values("patrol", kind="stable", ignore_index=True)
    merged = sc.merge_partials(partials, plan.rs, patrols=stats["patrol"].to_numpy())
    rs = plan.rs
    return {
        "rivers": plan.rivers, "rs": rs,
        "river_len": np.bincount(rs.part_river, weights=rs.part_len, minlength=rs.n_rivers),
        "rp_river": merged.rp_river, "rp_patrol": merged.rp_patrol, "rp_covered": merged.rp_covered,
        "rp_last_s": merged.rp_last_s, "patrol_names": stats["name"].to_numpy(dtype=str),
        "patrol_start_s": stats["start_s"].to_numpy(dtype=float),
        "patrol_end_s": stats["end_s"].to_numpy(dtype=float),
        "patrol_length_m": stats["length_m"].to_numpy(dtype=float),
        "patrol_chief": stats["chief"].to_numpy(dtype=object),
        "part": merged.part, "start": merged.start, "end": merged.end,
        "max_gap_s": plan.max_gap_s,
    }


def _coverage_table(
    rivers: gpd.GeoDataFrame, rs: core.RiverSegments, m: sc.Merged, min_share: float
) -> pd.DataFrame:
    length = np.bincount(rs.part_river, weights=rs.part_len, minlength=rs.n_rivers)
    return coverage_table(
        rivers, interval_river=rs.part_river[m.part], interval_m=m.end - m.start, river_len=length,
        rp_river=m.rp_river, rp_covered=m.rp_covered, rp_last_s=m.rp_last_s, min_share=min_share,
    )


# --------------------------------------------------------------------------------------
# Land-use violations
# --------------------------------------------------------------------------------------
def _violations_partition(
    features: gpd.GeoDataFrame, zones: gpd.GeoDataFrame, options: dict[str, Any]
) -> gpd.GeoDataFrame:
    if len(features):
        # Only the zones near this partition are validated and intersected.
        fx0, fy0, fx1, fy1 = features.total_bounds
        b = zones.geometry.bounds.to_numpy()
        near = (b[:, 0] <= fx1) & (b[:, 2] >= fx0) & (b[:, 1] <= fy1) & (b[:, 3] >= fy0)
        zones = zones[near]
    # Tasks on worker threads share the zones' geometry objects, and the kernel prepares
    # them: GEOS prepared geometries are not safe to build or use from two threads at
    # once (a segmentation fault). Each task works on its own exact copies.
    copies = shapely.from_wkb(shapely.to_wkb(np.asarray(zones.geometry.values, dtype=object)))
    zones = zones.copy(deep=False)
    zones[zones.geometry.name] = gpd.GeoSeries(copies, index=zones.index, crs=zones.crs)
    return check_violations_memory(features, zones, **options)


def check_violations_dask(
    features: Any,
    zones: Any,
    *,
    categories: str | Iterable[str] | None = None,
    min_overlap_m2: float = 1.0,
    id_field: str | None = None,
    repair: bool = False,
    spatial_shuffle: bool | None = None,
    lazy: bool = False,
    work_crs: Any = None,
) -> Any:
    """:func:`dongping_geo.landuse.check_violations` for surveys that do not fit in memory.

    Each partition of ``features`` is checked against the zones near it with the
    in-memory function; a feature lies in one partition, so the rows are exactly
    the in-memory rows.

    Parameters
    ----------
    features : dask_geopandas.GeoDataFrame, GeoDataFrame or path
        Structures (Polygon/MultiPolygon). They need an id column (``building_id``
        …, or ``id_field``): partition indexes are not unique.
    zones : GeoDataFrame, dask GeoDataFrame or path
        Protected zones with ``zone_id`` and ``category``, gathered to the client
        and validated there once.
    categories, min_overlap_m2, id_field, repair
        As for :func:`dongping_geo.landuse.check_violations`.
    spatial_shuffle : bool, optional
        Partition the features by Hilbert distance first (dask-geopandas
        ``spatial_shuffle``). Default: when they carry no spatial partitions yet.
    lazy : bool, default False
        Return the lazy dask GeoDataFrame (sorted within partitions only), e.g. to
        pass to :func:`write_partitioned`, instead of the sorted GeoDataFrame.
    work_crs : object, optional
        Metric CRS of the check (default: :func:`dongping_geo.crs.get_work_crs` on the
        client at call time). It travels into every task as an argument: worker
        processes do not share the client's :func:`~dongping_geo.crs.set_work_crs`.

    Returns
    -------
    GeoDataFrame or dask_geopandas.GeoDataFrame
        As :func:`dongping_geo.landuse.check_violations`, sorted by feature id then
        zone id (unless ``lazy``).

    Raises
    ------
    SchemaError, ConfigError, GeometryError, CRSError
        As for :func:`dongping_geo.landuse.check_violations`.

    Examples
    --------
    >>> with client_for() as client:  # doctest: +SKIP
    ...     found = check_violations_dask("city/buildings", redlines)
    """
    ddf = _as_dask(features, layer="features")
    zones = _as_pandas(zones, layer="zones")
    work_crs = get_work_crs() if work_crs is None else work_crs
    options: dict[str, Any] = {"categories": categories, "min_overlap_m2": min_overlap_m2,
                               "id_field": id_field, "repair": repair, "work_crs": work_crs}
    # Validates the zones and options once, on the client, and gives the meta.
    meta = check_violations_memory(ddf._meta, zones, **options)
    id_name = meta.columns[0]
    # Empty arrays lose their dtype (object); give the meta the source dtypes, which
    # the computed partitions have (an object meta cannot be written to Parquet).
    sources = {"zone_id": zones["zone_id"], "category": zones["category"]}
    if id_name in ddf._meta.columns:
        sources[id_name] = ddf._meta[id_name]
    for col, src in sources.items():
        if meta[col].dtype == object and src.dtype != object:
            meta[col] = meta[col].astype(src.dtype)
    if id_name == "feature_id" and id_field is None and "feature_id" not in ddf.columns:
        raise SchemaError(
            "features need an id column on the dask engine",
            layer="features",
            field="building_id",
            expected="building_id, case_id, feature_id or id (or id_field=...)",
            found=", ".join(map(str, ddf.columns)),
            fix="add an id column: the row index is not unique across partitions",
        )
    if spatial_shuffle is None:
        spatial_shuffle = getattr(ddf, "spatial_partitions", None) is None and ddf.npartitions > 1
    if spatial_shuffle:
        ddf = ddf.spatial_shuffle()
    zones_w = to_work_crs(zones, work_crs=work_crs)
    if ddf.crs is not None and zones_w.crs != ddf.crs:
        ddf = ddf.to_crs(zones_w.crs)
    out = ddf.map_partitions(_violations_partition, zones_w, options, meta=meta)
    if lazy:
        return out
    result = out.compute()
    return sorted_rows(gpd.GeoDataFrame(result, geometry="geometry", crs=meta.crs), [id_name, "zone_id"])


# --------------------------------------------------------------------------------------
# Output
# --------------------------------------------------------------------------------------
def write_partitioned(
    data: Any,
    path: str | os.PathLike,
    *,
    npartitions: int | None = None,
    overwrite: bool = False,
) -> Path:
    """Write a GeoDataFrame or dask GeoDataFrame as a folder of GeoParquet files.

    The folder is written next to its destination and renamed into place, so no
    half-written result is ever visible.

    Parameters
    ----------
    data : GeoDataFrame or dask_geopandas.GeoDataFrame
        What to write (a lazy frame is computed partition by partition).
    path : str or PathLike
        Destination folder.
    npartitions : int, optional
        Split an in-memory GeoDataFrame into this many files (default: one per
        million rows).
    overwrite : bool, default False
        Replace an existing folder.

    Returns
    -------
    Path
        The folder written.

    Raises
    ------
    OutputError
        If the destination exists (without ``overwrite``) or cannot be written.

    Examples
    --------
    >>> write_partitioned(violations, "out/violations")  # doctest: +SKIP
    """
    _, dask_geopandas = _dask_modules()
    dest = Path(path)
    if dest.exists() and not overwrite:
        raise OutputError("the output folder exists", path=dest, fix="pass overwrite=True or choose another folder")
    if isinstance(data, gpd.GeoDataFrame):
        n = npartitions or max(1, -(-len(data) // 1_000_000))
        data = data.copy()
        data.attrs = {}  # a loaded layer's attrs (file, rejected rows) are not GeoParquet metadata
        data = dask_geopandas.from_geopandas(data, npartitions=n)
    elif not is_dask(data):
        raise SchemaError("cannot write this as GeoParquet", expected="a (dask) GeoDataFrame",
                          found=type(data).__name__, fix="pass a GeoDataFrame")
    tmp = dest.with_name(f".{dest.name}.{uuid.uuid4().hex[:8]}.tmp")
    try:
        dest.parent.mkdir(parents=True, exist_ok=True)
        data.to_parquet(str(tmp), write_index=False)
        _move_into_place(tmp, dest)
    except OSError as exc:
        shutil.rmtree(tmp, ignore_errors=True)
        raise OutputError("cannot write the GeoParquet folder", path=dest, fix=str(exc)) from None
    return dest


def _move_into_place(tmp: Path, dest: Path) -> None:
    """Rename the written folder ``tmp`` to ``dest``, replacing an existing ``dest``."""
    if dest.exists():
        old = dest.with_name(f".{dest.name}.{uuid.uuid4().hex[:8]}.old")
        dest.rename(old)
        tmp.rename(dest)
        shutil.rmtree(old, ignore_errors=True)
    else:
        tmp.rename(dest)


def make_district_inputs(
    out_dir: str | os.PathLike,
    *,
    n_towns: int = 18,
    n_fixes: int = 1_000_000,
    n_buildings: int = 100_000,
    seed: int = 0,
    rows_per_file: int = 500_000,
) -> dict[str, Path]:
    """Write synthetic district-scale inputs as GeoParquet (for benchmarks).

    ``n_towns`` towns in a grid (Chongming has 18), each with 74 canal-like rivers;
    patrols of 500 fixes walking along random rivers; small building footprints
    and red-line / farmland zones. Everything is synthetic, in EPSG:4549, and
    generated file by file so memory stays bounded for any ``n_fixes``.

    Parameters
    ----------
    out_dir : str or PathLike
        Folder to write ``rivers.parquet``, ``zones.parquet``, ``fixes/`` and
        ``buildings/`` into.
    n_towns : int, default 18
        Number of towns (74 rivers each).
    n_fixes, n_buildings : int
        Number of GPS fixes and building footprints.
    seed : int, default 0
        Random seed (the output is deterministic).
    rows_per_file : int, default 500,000
        Rows per GeoParquet file of ``fixes/`` and ``buildings/``; fixes files
        hold whole patrols.

    Returns
    -------
    dict
        Paths keyed ``rivers``, ``zones``, ``fixes``, ``buildings``.

    Raises
    ------
    OutputError
        If ``out_dir`` cannot be written.

    Examples
    --------
    >>> paths = make_district_inputs("/tmp/district", n_fixes=1_000_000)  # doctest: +SKIP
    """
    from ._scale_synth import write_inputs

    try:
        return write_inputs(
            Path(out_dir), n_towns=n_towns, n_fixes=n_fixes, n_buildings=n_buildings,
            seed=seed, rows_per_file=rows_per_file,
        )
    except OSError as exc:
        raise OutputError("cannot write the synthetic inputs", path=out_dir, fix=str(exc)) from None
