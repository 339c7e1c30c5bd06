"""The dask engine (dongping_geo.scale) gives exactly the in-memory results.

Every comparison runs on a LocalCluster of 2 workers started here, as threads of the
test process (processes=False: worker processes would add ~5 s of start-up and
imports per session for no difference in the computation, which is the same code
in both cases). The expected values are the in-memory functions' results (an
independent code path: one call on the whole data, no partitions, no merge) and,
for hand-made cases, exact shapely geometry.
"""

from __future__ import annotations

import logging

import geopandas as gpd
import numpy as np
import pandas as pd
import pytest
import shapely

dask_geopandas = pytest.importorskip("dask_geopandas")
pytest.importorskip("distributed")

from dongping_geo import landuse, patrol, scale  # noqa: E402
from dongping_geo._landuse_check import sorted_rows  # noqa: E402
from dongping_geo.errors import (  # noqa: E402
    ConfigError,
    GeometryError,
    OutputError,
    SchemaError,
)

CRS = "EPSG:4549"
X0, Y0 = 630_000.0, 3_505_000.0
RTOL = 1e-9


@pytest.fixture(scope="module")
def client():
    # p2p shuffles log a WARNING per shuffle; keep the test output readable.
    logging.getLogger("distributed.shuffle").setLevel(logging.ERROR)
    # In-process workers would measure the memory of the whole test process
    # against their limit (and pause): no limit here.
    with scale.client_for(n_workers=2, processes=False, memory_limit=None) as c:
        assert len(c.scheduler_info()["workers"]) == 2
        yield c


def assert_same_coverage(expected: pd.DataFrame, got: pd.DataFrame) -> None:
    assert list(got.columns) == list(expected.columns)
    assert got["river_id"].tolist() == expected["river_id"].tolist()
    pd.testing.assert_frame_equal(got, expected, rtol=RTOL, atol=0, check_exact=False)


# --------------------------------------------------------------------------------------
# Synthetic coverage data: rivers and patrols built so that partitions split them
# --------------------------------------------------------------------------------------
def make_rivers() -> gpd.GeoDataFrame:
    geoms = [
        shapely.LineString([(X0, Y0), (X0 + 2000, Y0)]),
        shapely.LineString([(X0, Y0 + 500), (X0 + 800, Y0 + 520), (X0 + 1600, Y0 + 480)]),
        shapely.MultiLineString([[(X0 + 100, Y0 - 800), (X0 + 100, Y0 - 100)],
                                 [(X0 + 100, Y0 + 100), (X0 + 100, Y0 + 400)]]),
        shapely.LineString([(X0 + 3000, Y0), (X0 + 3000, Y0 + 1500)]),
        shapely.LineString([(X0 + 5000, Y0), (X0 + 6000, Y0 + 1000)]),  # never patrolled
    ]
    return gpd.GeoDataFrame(
        {
            "river_id": [f"R{i}" for i in range(len(geoms))],
            "name": [f"河{i}" for i in range(len(geoms))],
            "level": ["town", "village", "village", "district", "village"],
            "chief": ["王", "李", "李", "张", "赵"],
        },
        geometry=geoms,
        crs=CRS,
    )


def make_fixes(seed: int = 7) -> gpd.GeoDataFrame:
    """Patrols walking along the rivers, with every case the track builder handles."""
    rng = np.random.default_rng(seed)
    rows = []
    t0 = pd.Timestamp("2024-03-04 08:00", tz="Asia/Shanghai")

    def walk(pid, chief, xs, ys, start, step_s=20.0):
        for k, (x, y) in enumerate(zip(xs, ys, strict=True)):
            rows.append((pid, chief, start + pd.Timedelta(seconds=step_s * k), x, y))

    # p1: the whole of R0, 10 m off the bank, fixes every ~25 m.
    xs = np.linspace(X0 - 20, X0 + 2020, 80)
    walk("p1", "王", xs, Y0 + 10 + rng.normal(0, 3, xs.size), t0)
    # p2: half of R1 with a 10-minute signal gap in the middle (not joined).
    xs = np.linspace(X0, X0 + 800, 40)
    ys = Y0 + 500 + xs * 0 + rng.normal(0, 3, xs.size)
    walk("p2", "李", xs[:20], ys[:20], t0 + pd.Timedelta(hours=1))
    walk("p2", "李", xs[20:], ys[20:], t0 + pd.Timedelta(hours=1, minutes=17))
    # p3: sparse fixes 200 m apart along R3 (covered in between), one GPS jump.
    ys = np.arange(Y0, Y0 + 1501, 200.0)
    walk("p3", "张", X0 + 3005 + ys * 0, ys, t0 + pd.Timedelta(days=1), step_s=150.0)
    jump_t = t0 + pd.Timedelta(days=1, seconds=75)
    rows.append(("p3", "张", jump_t, X0 + 8000, Y0 + 5000))
    # p4: the far bank of R0, 40 m off (outside a 30 m tolerance): covers nothing of R0.
    xs = np.linspace(X0, X0 + 1000, 30)
    walk("p4", "王", xs, Y0 - 40 + xs * 0, t0 + pd.Timedelta(days=2))
    # Fixes without patrol_id: split into patrols per chief at time gaps.
    ys = np.linspace(Y0 - 800, Y0 + 400, 50)
    walk(None, "李", X0 + 95 + ys * 0, ys, t0 + pd.Timedelta(days=3))
    walk(None, "李", X0 + 105 + ys[:10] * 0, ys[:10], t0 + pd.Timedelta(days=5))
    # A lone fix (a disc), two fixes at the same instant, and a fix outside the period.
    rows.append(("p5", "张", t0 + pd.Timedelta(days=4), X0 + 3010, Y0 + 700))
    rows.append(("p6", "王", t0 + pd.Timedelta(days=4, hours=1), X0 + 1500, Y0 + 5))
    rows.append(("p6", "王", t0 + pd.Timedelta(days=4, hours=1), X0 + 1520, Y0 + 5))
    rows.append(("p6", "王", t0 + pd.Timedelta(days=4, hours=1, seconds=30), X0 + 1540, Y0 + 5))
    rows.append(("p7", "王", t0 - pd.Timedelta(days=40), X0 + 500, Y0))
    pid, chief, ts, x, y = zip(*rows, strict=True)
    fixes = gpd.GeoDataFrame(
        {"patrol_id": pid, "chief": chief, "timestamp": pd.DatetimeIndex(ts)},
        geometry=shapely.points(x, y),
        crs=CRS,
    )
    # Shuffle the rows: the engine must not rely on the input order.
    return fixes.iloc[rng.permutation(len(fixes))].reset_index(drop=True)


def split_spatially(fixes: gpd.GeoDataFrame, npartitions: int):
    """Partition the fixes by Hilbert distance, so patrols span partitions.

    Sorted in pandas and cut into contiguous chunks: the same layout as dask-geopandas'
    spatial_shuffle, without a shuffle per test.
    """
    order = np.argsort(fixes.hilbert_distance().to_numpy(), kind="stable")
    return dask_geopandas.from_geopandas(fixes.iloc[order], npartitions=npartitions, sort=False)


def test_is_dask() -> None:
    fixes = make_fixes()
    assert scale.is_dask(dask_geopandas.from_geopandas(fixes, npartitions=2))
    assert not scale.is_dask(fixes)
    assert not scale.is_dask(pd.DataFrame())
    assert not scale.is_dask("fixes/")


@pytest.mark.parametrize("spatial", [True, False])
@pytest.mark.parametrize("npartitions", [1, 3, 7])
def test_coverage_equals_in_memory_synthetic(client, spatial, npartitions) -> None:
    rivers, fixes = make_rivers(), make_fixes()
    ddf = split_spatially(fixes, npartitions)
    expected = patrol.river_coverage(rivers, ddf.compute())
    if npartitions > 1:
        # The test must split patrols across partitions to mean anything.
        per_part = [set(p["patrol_id"].dropna()) for p in ddf.to_delayed()
                    for p in [p.compute(scheduler="sync")]]
        assert any(len({i for i, s in enumerate(per_part) if pid in s}) > 1 for pid in ("p1", "p3"))
    got = scale.river_coverage_dask(rivers, ddf, spatial=spatial)
    assert_same_coverage(expected, got)
    # And the values are the ones the geometry says (not just two equal bugs).
    assert got.loc[got.river_id == "R0", "coverage"].item() == pytest.approx(1.0, abs=0.01)
    assert got.loc[got.river_id == "R4", "covered_m"].item() == 0.0
    assert got["patrols_covering"].sum() > 0


def test_coverage_options_and_period(client) -> None:
    rivers, fixes = make_rivers(), make_fixes()
    ddf = split_spatially(fixes, 4)
    kw = dict(tolerance_m=45.0, start="2024-03-04", end="2024-03-06", min_share=0.3,
              max_gap_s=900.0, max_speed_kmh=20.0)
    expected = patrol.river_coverage(rivers, ddf.compute(), **kw)
    got = scale.river_coverage_dask(rivers, ddf, npartitions=3, **kw)
    assert_same_coverage(expected, got)


def test_coverage_matches_exact_geometry(client) -> None:
    # One straight walk along R0 + R3: covered = length(river ∩ buffer(track, 30 m)).
    rivers = make_rivers()
    xs = np.linspace(X0 - 100, X0 + 1200, 60)
    t = pd.date_range("2024-03-05 09:00", periods=60, freq="15s", tz="Asia/Shanghai")
    fixes = gpd.GeoDataFrame({"patrol_id": "w", "chief": "王", "timestamp": t},
                             geometry=shapely.points(xs, Y0 + 12.0), crs=CRS)
    got = scale.river_coverage_dask(rivers, split_spatially(fixes, 3))
    track = shapely.LineString(np.column_stack([xs, np.full(xs.size, Y0 + 12.0)]))
    exact = shapely.length(shapely.intersection(rivers.geometry.values,
                                                track.buffer(30.0, quad_segs=256)))
    np.testing.assert_allclose(got["covered_m"].to_numpy(), exact, rtol=0, atol=0.05)


def test_coverage_empty_period_and_other_crs(client) -> None:
    rivers, fixes = make_rivers(), make_fixes()
    # No fix in the period: every partition is empty after the filter.
    got = scale.river_coverage_dask(rivers, split_spatially(fixes, 3), start="2030-01-01")
    assert_same_coverage(patrol.river_coverage(rivers, fixes, start="2030-01-01"), got)
    assert (got["covered_m"] == 0).all() and got["last_patrolled"].isna().all()
    # Fixes in geographic CGCS2000 are reprojected to the rivers' CRS, as in memory.
    geo = fixes.to_crs("EPSG:4490")
    assert_same_coverage(patrol.river_coverage(rivers, geo),
                         scale.river_coverage_dask(rivers, split_spatially(geo, 3)))


def test_coverage_from_geoparquet_folder(client, tmp_path) -> None:
    rivers, fixes = make_rivers(), make_fixes()
    folder = scale.write_partitioned(fixes, tmp_path / "fixes", npartitions=3)
    assert len(list(folder.glob("*.parquet"))) == 3
    expected = patrol.river_coverage(rivers, fixes)
    assert_same_coverage(expected, scale.river_coverage_dask(rivers, folder))
    # Rivers as a path too.
    rivers.to_parquet(tmp_path / "rivers.parquet")
    assert_same_coverage(expected, scale.river_coverage_dask(tmp_path / "rivers.parquet", folder))


def test_coverage_patrols_partitioned(client) -> None:
    # Files written per patrol: the patrol shuffle can be skipped.
    rivers, fixes = make_rivers(), make_fixes()
    fixes = fixes.assign(_k=fixes["patrol_id"].fillna("~" + fixes["chief"])).sort_values("_k")
    cut = fixes["_k"].ne(fixes["_k"].shift()).cumsum()
    parts = [g.drop(columns="_k") for _, g in fixes.groupby(cut % 3)]
    import dask.dataframe as dd

    ddf = dd.concat([dask_geopandas.from_geopandas(p, npartitions=1) for p in parts])
    expected = patrol.river_coverage(rivers, ddf.compute())
    got = scale.river_coverage_dask(rivers, ddf, patrols_partitioned=True)
    assert_same_coverage(expected, got)


def test_coverage_bad_input(client) -> None:
    rivers, fixes = make_rivers(), make_fixes()
    with pytest.raises(SchemaError, match="timestamp"):
        scale.river_coverage_dask(rivers, dask_geopandas.from_geopandas(
            fixes.drop(columns="timestamp"), npartitions=2))
    with pytest.raises(SchemaError, match="tolerance"):
        scale.river_coverage_dask(rivers, fixes, tolerance_m=0)
    lines = fixes.copy()
    lines.loc[3, "geometry"] = shapely.LineString([(X0, Y0), (X0 + 1, Y0)])
    with pytest.raises(GeometryError, match="points"):
        scale.river_coverage_dask(rivers, dask_geopandas.from_geopandas(lines, npartitions=2))
    with pytest.raises(SchemaError, match="GeoDataFrame"):
        scale.river_coverage_dask(rivers, [1, 2, 3])


def test_coverage_on_sample_dataset(client, sample_dataset) -> None:
    d = sample_dataset
    ddf = split_spatially(d.patrols, 4)
    expected = patrol.river_coverage(d.rivers, d.patrols)
    got = scale.river_coverage_dask(d.rivers, ddf)
    assert_same_coverage(expected, got)
    assert len(got) == 74 and got["covered_m"].sum() > 0


# --------------------------------------------------------------------------------------
# Land-use violations
# --------------------------------------------------------------------------------------
def make_zones() -> gpd.GeoDataFrame:
    return gpd.GeoDataFrame(
        {"zone_id": ["Z1", "Z2", "Z3"], "category": ["eco_redline", "basic_farmland", "eco_space_2"]},
        geometry=[
            shapely.box(X0, Y0, X0 + 500, Y0 + 500),
            shapely.MultiPolygon([shapely.box(X0 + 500, Y0, X0 + 900, Y0 + 300),
                                  shapely.box(X0 + 2000, Y0 + 2000, X0 + 2300, Y0 + 2300)]),
            shapely.Point(X0 + 1500, Y0 + 1500).buffer(200, quad_segs=32),
        ],
        crs=CRS,
    )


def make_buildings(n: int = 600, seed: int = 3) -> gpd.GeoDataFrame:
    rng = np.random.default_rng(seed)
    x = X0 - 100 + rng.uniform(0, 2600, n)
    y = Y0 - 100 + rng.uniform(0, 2600, n)
    w, h = rng.uniform(5, 40, n), rng.uniform(5, 40, n)
    b = gpd.GeoDataFrame({"building_id": [f"B{i:04d}" for i in range(n)]},
                         geometry=shapely.box(x, y, x + w, y + h), crs=CRS)
    # One straddling Z1 and Z2, one touching Z1 only along an edge (no row).
    extra = gpd.GeoDataFrame({"building_id": ["S1", "S2"]}, crs=CRS, geometry=[
        shapely.box(X0 + 490, Y0 + 100, X0 + 510, Y0 + 120),
        shapely.box(X0 - 20, Y0 + 100, X0, Y0 + 120)])
    return pd.concat([b, extra], ignore_index=True)


def assert_same_violations(expected: gpd.GeoDataFrame, got: gpd.GeoDataFrame) -> None:
    assert list(got.columns) == list(expected.columns)
    pd.testing.assert_frame_equal(
        pd.DataFrame(got.drop(columns="geometry")), pd.DataFrame(expected.drop(columns="geometry")),
        rtol=RTOL, check_exact=False,
    )
    # The same overlaps to a square millimetre: a partition tiles its intersections by its own
    # extent, so a vertex may differ in the last bits (topological equality then fails at random).
    diff = shapely.area(shapely.symmetric_difference(got.geometry.values, expected.geometry.values))
    assert diff.max(initial=0.0) < 1e-6
    assert got.crs == expected.crs


@pytest.mark.parametrize("shuffle", [True, False])
def test_violations_equal_in_memory_synthetic(client, shuffle) -> None:
    zones, buildings = make_zones(), make_buildings()
    expected = landuse.check_violations(buildings, zones)
    assert {"S1"} <= set(expected["building_id"]) and "S2" not in set(expected["building_id"])
    assert (expected["building_id"] == "S1").sum() == 2
    ddf = dask_geopandas.from_geopandas(buildings, npartitions=5)
    got = scale.check_violations_dask(ddf, zones, spatial_shuffle=shuffle)
    assert_same_violations(expected, got)
    # Options pass through.
    kw = dict(categories=["basic_farmland", "eco_space_2"], min_overlap_m2=50.0)
    assert_same_violations(landuse.check_violations(buildings, zones, **kw),
                           scale.check_violations_dask(ddf, zones, **kw))


def test_violations_lazy_to_geoparquet(client, tmp_path) -> None:
    zones, buildings = make_zones(), make_buildings()
    lazy = scale.check_violations_dask(dask_geopandas.from_geopandas(buildings, npartitions=3),
                                       zones, lazy=True)
    assert scale.is_dask(lazy)
    out = scale.write_partitioned(lazy, tmp_path / "violations")
    back = gpd.read_parquet(out)
    expected = landuse.check_violations(buildings, zones)
    back = sorted_rows(back, ["building_id", "zone_id"])
    assert_same_violations(expected, back)
    with pytest.raises(OutputError, match="exists"):
        scale.write_partitioned(lazy, out)


def test_violations_bad_input(client) -> None:
    zones, buildings = make_zones(), make_buildings()
    ddf = dask_geopandas.from_geopandas(buildings.drop(columns="building_id"), npartitions=2)
    with pytest.raises(SchemaError, match="id column"):
        scale.check_violations_dask(ddf, zones)
    with pytest.raises(SchemaError, match="zone_id"):
        scale.check_violations_dask(buildings, zones.drop(columns="zone_id"))
    with pytest.raises(ConfigError, match="category"):
        scale.check_violations_dask(buildings, zones, categories=["nature_park"])


def test_violations_on_sample_dataset(client, sample_dataset) -> None:
    d = sample_dataset
    survey = d.buildings[max(d.buildings)]
    expected = landuse.check_violations(survey, d.redlines)
    got = scale.check_violations_dask(dask_geopandas.from_geopandas(survey, npartitions=4),
                                      d.redlines)
    assert_same_violations(expected, got)
    assert len(got) > 0


# --------------------------------------------------------------------------------------
# Client, generator
# --------------------------------------------------------------------------------------
def test_client_for_unreachable_scheduler() -> None:
    with pytest.raises(ConfigError, match="scheduler"):
        with scale.client_for("tcp://127.0.0.1:9", timeout_s=1):
            pass


def test_client_for_existing_scheduler(client) -> None:
    # In-process workers have an inproc:// address, reachable from this process.
    with scale.client_for(client.scheduler.address) as c2:
        assert len(c2.scheduler_info()["workers"]) == 2


def test_make_district_inputs(client, tmp_path) -> None:
    paths = scale.make_district_inputs(tmp_path / "a", n_towns=2, n_fixes=2_300, n_buildings=1_500,
                                       seed=5, rows_per_file=1_000)
    rivers = gpd.read_parquet(paths["rivers"])
    assert len(rivers) == 148 and rivers["river_id"].is_unique and rivers.crs == CRS
    fixes = dask_geopandas.read_parquet(paths["fixes"])
    assert fixes.npartitions == 3 and len(fixes) == 2_300
    assert len(dask_geopandas.read_parquet(paths["buildings"])) == 1_500
    zones = gpd.read_parquet(paths["zones"])
    assert set(zones["category"]) == {"eco_redline", "basic_farmland"}
    # Deterministic for a seed.
    again = scale.make_district_inputs(tmp_path / "b", n_towns=2, n_fixes=2_300, n_buildings=10,
                                       seed=5, rows_per_file=1_000)
    pd.testing.assert_frame_equal(gpd.read_parquet(paths["fixes"]), gpd.read_parquet(again["fixes"]))
    # Whole patrols per file: the promise of patrols_partitioned holds.
    per_file = [set(gpd.read_parquet(f)["patrol_id"]) for f in sorted(paths["fixes"].glob("*.parquet"))]
    assert all(not (a & b) for i, a in enumerate(per_file) for b in per_file[i + 1:])
    expected = patrol.river_coverage(rivers, fixes.compute())
    assert_same_coverage(expected, scale.river_coverage_dask(rivers, paths["fixes"],
                                                             patrols_partitioned=True))


@pytest.fixture(scope="module")
def sample_dataset(sample_dir):
    from dongping_geo.loaders import load_dataset

    return load_dataset(sample_dir)


def test_public_functions_dispatch_to_dask(client) -> None:
    """dg.river_coverage / dg.check_violations run the dask engine for dask inputs."""
    import dongping_geo as dg
    from dongping_geo.errors import ConfigError

    rivers, fixes = make_rivers(), make_fixes()
    ddf = split_spatially(fixes, 3)
    assert_same_coverage(patrol.river_coverage(rivers, fixes), dg.river_coverage(rivers, ddf))
    assert_same_coverage(patrol.river_coverage(rivers, fixes),
                         dg.river_coverage(rivers, fixes, engine="dask"))
    zones, buildings = make_zones(), make_buildings()
    bddf = dask_geopandas.from_geopandas(buildings, npartitions=4)
    assert_same_violations(landuse.check_violations(buildings, zones), dg.check_violations(bddf, zones))
    with pytest.raises(ConfigError, match="unknown engine"):
        dg.river_coverage(rivers, fixes, engine="spark")


@pytest.mark.slow
def test_patrol_report_cli_on_dask_scheduler(client, sample_dir, tmp_path) -> None:
    """--scheduler runs the report's one analysis on an existing cluster; same tables as in memory."""
    from click.testing import CliRunner

    from dongping_geo.cli import cli

    args = ["patrol-report", str(sample_dir), "--start", "2022-06-01", "--end", "2022-06-30",
            "--patrols", str(sample_dir / "patrols_2022-06.csv"), "--basemap", "none", "--by", "region"]
    mem = CliRunner().invoke(cli, [*args, "--out", str(tmp_path / "mem")])
    assert mem.exit_code == 0, mem.output
    dsk = CliRunner().invoke(cli, [*args, "--out", str(tmp_path / "dask"),
                                   "--scheduler", client.scheduler.address])
    assert dsk.exit_code == 0, dsk.output
    for name in ("coverage.csv", "compliance.csv", "compliance_by_chief.csv"):
        a = pd.read_csv(tmp_path / "mem" / name, encoding="utf-8-sig")
        b = pd.read_csv(tmp_path / "dask" / name, encoding="utf-8-sig")
        pd.testing.assert_frame_equal(a, b, rtol=RTOL, check_exact=False)
    ga = gpd.read_file(tmp_path / "mem" / "uncovered.gpkg")
    gb = gpd.read_file(tmp_path / "dask" / "uncovered.gpkg")
    pd.testing.assert_frame_equal(pd.DataFrame(ga.drop(columns="geometry")),
                                  pd.DataFrame(gb.drop(columns="geometry")), rtol=RTOL, check_exact=False)


def test_patrol_analysis_on_dask_equals_in_memory(client) -> None:
    """One distributed intersection gives every table the in-memory analysis gives."""
    rivers, fixes = make_rivers(), make_fixes()
    kw = dict(start="2024-03-01", end="2024-03-31")
    mem = patrol.analyse(rivers, fixes, **kw)
    dsk = patrol.analyse(rivers, dask_geopandas.from_geopandas(fixes, npartitions=3), **kw)
    assert dsk.tracks is None
    assert_same_coverage(mem.coverage(), dsk.coverage())
    um, ud = mem.uncovered(), dsk.uncovered()
    pd.testing.assert_frame_equal(pd.DataFrame(um.drop(columns="geometry")),
                                  pd.DataFrame(ud.drop(columns="geometry")), rtol=RTOL, check_exact=False)
    assert shapely.equals(um.geometry.values, ud.geometry.values).all()
    cm, cd = mem.compliance(), dsk.compliance()
    assert cm.by_river["patrols_counted"].sum() > 0  # the comparison is not vacuous
    pd.testing.assert_frame_equal(cm.by_river, cd.by_river)
    pd.testing.assert_frame_equal(cm.by_chief, cd.by_chief)


# --------------------------------------------------------------------------------------
# Settings travel into the tasks: worker *processes* do not share set_work_crs
# --------------------------------------------------------------------------------------
def test_work_crs_reaches_worker_processes() -> None:
    """After set_work_crs(4550) the dask result on process workers equals the in-memory one.

    Worker processes import dongping_geo afresh, where the working CRS is the default
    EPSG:4549; before 0.2 the partitions computed in 4549 whatever the client chose.
    """
    from dongping_geo import crs as crs_module

    zones = make_zones().to_crs(4490)  # geographic: every engine must reproject itself
    buildings = make_buildings().to_crs(4490)
    previous = crs_module.get_work_crs()
    crs_module.set_work_crs(4550)
    try:
        expected = landuse.check_violations(buildings, zones)
        assert expected.crs.to_epsg() == 4550
        with scale.client_for(n_workers=2, processes=True, threads_per_worker=1) as c:
            assert all(w.get("type") != "thread" for w in c.scheduler_info()["workers"].values())
            pids = set(c.run(__import__("os").getpid).values())
            assert __import__("os").getpid() not in pids  # really other processes
            got = landuse.check_violations(dask_geopandas.from_geopandas(buildings, npartitions=3),
                                           zones, engine="dask")
    finally:
        crs_module.set_work_crs(previous)
    assert got.crs.to_epsg() == 4550
    cols = [c for c in expected.columns if c != "geometry"]
    pd.testing.assert_frame_equal(pd.DataFrame(got[cols]), pd.DataFrame(expected[cols]), rtol=RTOL,
                                  check_exact=False)
    # Same overlaps to a square millimetre (partitions tile the intersections differently, so
    # vertices may differ in the last bits); computed in EPSG:4549 they would be ~280 km off.
    diff = shapely.area(shapely.symmetric_difference(got.geometry.values, expected.geometry.values))
    assert diff.max() < 1e-6
