"""Catchments: hand-made towns, rasters and sections with known answers; the sample chain."""

from __future__ import annotations

import geopandas as gpd
import numpy as np
import pandas as pd
import pytest
import rasterio
import shapely

from dongping_geo import catchments as c
from dongping_geo.errors import ConfigError
from dongping_geo.network import river_network, upstream
from dongping_geo.raster import LANDCOVER_LEGEND

L = shapely.LineString
CODE = {v.name: k for k, v in LANDCOVER_LEGEND.items()}


def rivers(rows, crs=4549):
    return gpd.GeoDataFrame(
        {"river_id": [r[0] for r in rows], "level": [r[1] for r in rows], "flows_to": [r[2] for r in rows]},
        geometry=[L(r[3]) for r in rows], crs=crs,
    )


def write_raster(path, grid, x0=0.0, y0=None, res=10.0):
    grid = np.asarray(grid, dtype="uint8")
    y0 = grid.shape[0] * res if y0 is None else y0
    transform = rasterio.Affine(res, 0, x0, 0, -res, y0)
    with rasterio.open(path, "w", driver="GTiff", width=grid.shape[1], height=grid.shape[0], count=1,
                       dtype="uint8", crs="EPSG:4549", transform=transform, nodata=0) as ds:
        ds.write(grid, 1)
    return path


# Town 0..1000 x 0..400; town river A along y=200 to the Yangtze at x=1000 (a river
# with both ends on the boundary would have two possible mouths);
# village tributaries T1 (x=300, from the north) and T2 (x=700, from the south).
TOWN = shapely.box(0, 0, 1000, 400)
COMB = [
    ("A", "town", "长江", [(10, 200), (1000, 200)]),  # its head 10 m inside the town
    ("T1", "village", None, [(300, 400), (300, 200)]),
    ("T2", "village", None, [(700, 0), (700, 200)]),
]
SECTIONS = gpd.GeoDataFrame(
    {"section_id": ["S_mid", "S_out", "S_t1", "S_at"], "river_id": ["A", "A", "T1", "A"], "target_class": "III"},
    geometry=[shapely.Point(500, 200.3), shapely.Point(950, 200), shapely.Point(300, 300), shapely.Point(300, 200)],
    crs=4549,
)


def test_two_parallel_rivers_split_the_town_halfway():
    r = rivers([("A", "district", "长江", [(10, 100), (1000, 100)]), ("B", "district", "长江", [(10, 300), (1000, 300)])])
    u = c.drainage_units(r, TOWN, spacing_m=25)
    assert u.sort_values("river_id")["area_m2"].tolist() == pytest.approx([200_000, 200_000], rel=1e-9)  # 1000 x 200 each


def test_units_partition_the_town_exactly():
    u = c.drainage_units(rivers(COMB), gpd.GeoDataFrame(geometry=[TOWN], crs=4549))
    assert u["area_m2"].sum() == pytest.approx(TOWN.area, rel=1e-9)
    assert shapely.symmetric_difference(u.union_all(), TOWN).area == pytest.approx(0, abs=1e-3)
    # no overlaps: the sum of areas equals the area of the union
    assert u.union_all().area == pytest.approx(u["area_m2"].sum(), rel=1e-9)


def _brute_force_share(rv, section_up, step=10.0):
    """Share of town points whose nearest river piece is upstream (independent of the Voronoi)."""
    xs, ys = np.meshgrid(np.arange(step / 2, 1000, step), np.arange(step / 2, 400, step))
    pts = shapely.points(xs.ravel(), ys.ravel())
    up_geom = section_up.union_all()
    d_up = shapely.distance(pts, up_geom)
    d_all = shapely.distance(pts, rv.union_all())
    return float(np.mean(d_up <= d_all + 1e-9))


def test_section_catchments_match_a_brute_force_nearest_river_allocation():
    rv = rivers(COMB)
    sc = c.section_catchments(rv, SECTIONS, TOWN, spacing_m=10)
    g = river_network(rv)
    for i, row in sc.iterrows():
        up = upstream(g, SECTIONS.iloc[[i]])
        share = _brute_force_share(rv, up)
        assert row["area_m2"] / TOWN.area == pytest.approx(share, abs=0.01), row["section_id"]
        assert row["upstream_length_m"] == pytest.approx(up["length_m"].sum())
        assert row["upstream_river_ids"] == ",".join(sorted(up["river_id"].unique()))
        assert row.geometry.area == pytest.approx(row["area_m2"], rel=1e-6)
    by = sc.set_index("section_id")
    assert by.at["S_mid", "upstream_river_ids"] == "A,T1"
    assert by.at["S_at", "upstream_river_ids"] == "A,T1"  # T1 joins exactly at the section
    assert by.at["S_out", "upstream_river_ids"] == "A,T1,T2"
    # Catchments nest down the river.
    assert by.at["S_mid", "geometry"].difference(by.at["S_out", "geometry"]).area == pytest.approx(0, abs=1e-3)
    # The outlet's catchment is almost the whole town (all but A's last 50 m).
    assert by.at["S_out", "area_m2"] == pytest.approx(TOWN.area * 0.95, rel=0.01)


def test_bank_strip_is_the_catchment_within_the_width():
    rv = rivers(COMB)
    sc = c.section_catchments(rv, SECTIONS, TOWN, spacing_m=10, strip_m=50)
    row = sc.set_index("section_id").loc["S_t1"]
    # T1 above the section: 100 m of river; strip = land within 50 m of it, on its unit.
    expected = shapely.LineString([(300, 400), (300, 300)]).buffer(50).intersection(row.geometry).area
    assert row["bank_strip_m2"] == pytest.approx(expected, rel=0.02)
    assert (sc["bank_strip_m2"] <= sc["area_m2"] + 1e-6).all()


def test_riparian_buffers():
    line = gpd.GeoDataFrame({"river_id": ["A"]}, geometry=[L([(0, 0), (100, 0)])], crs=4549)
    b = c.riparian_buffers(line, (30, 100))
    assert b["width_m"].tolist() == [30, 100]
    exact = [100 * 2 * w + np.pi * w**2 for w in (30, 100)]
    assert b["strip_m2"].tolist() == pytest.approx(exact, rel=5e-3)  # round caps as 32-gons
    rv = rivers(COMB)
    units = c.drainage_units(rv, TOWN)
    g = river_network(rv)
    st = g.graph["stretches"]
    lines = gpd.GeoDataFrame({"river_id": units["river_id"]}, geometry=st["geometry"].to_numpy(), crs=4549)
    clipped = c.riparian_buffers(lines, (30,), units=units)
    # clipped strips are disjoint: their areas add up to the area of their union
    assert clipped["strip_m2"].sum() == pytest.approx(clipped.union_all().area, rel=1e-6)
    with pytest.raises(ConfigError):
        c.riparian_buffers(line, (0,))


def test_landcover_shares_against_hand_arithmetic(tmp_path):
    # 10 x 10 pixels of 10 m: columns 0-4 farmland, 5-9 forest; one nodata pixel.
    grid = np.full((10, 10), CODE["forest"])
    grid[:, :5] = CODE["farmland"]
    grid[0, 0] = 0
    path = write_raster(tmp_path / "lc.tif", grid)
    zones = gpd.GeoDataFrame({"z": ["a", "b"]}, geometry=[shapely.box(0, 0, 55, 100), shapely.box(10, 0, 100, 50)],
                             crs=4549)
    s = c.landcover_shares(zones, path)
    # zone a: farmland 50 x 100 minus the nodata pixel (top-left), forest 5 x 100
    assert s.at[0, "area_m2_farmland"] == pytest.approx(5000 - 100)
    assert s.at[0, "area_m2_forest"] == pytest.approx(500)
    assert s.at[0, "share_farmland"] == pytest.approx(4900 / 5400)
    assert s.at[1, "share_forest"] == pytest.approx(50 / 90)
    assert s.at[1, "share_greenhouse"] == 0  # classes of the legend absent from the raster
    assert s["landcover_m2"].tolist() == pytest.approx([5400, 4500])


def _comb_raster(tmp_path):
    # North half (y > 200) greenhouse on x < 500, farmland elsewhere; 10 m pixels.
    grid = np.full((40, 100), CODE["farmland"])
    grid[:20, :50] = CODE["greenhouse"]
    return write_raster(tmp_path / "lc.tif", grid)


def _assessment():
    return pd.DataFrame({
        "section_id": ["S_mid", "S_out", "S_t1", "S_at", "S_t1"],
        "period": ["2022", "2022", "2021", "2022", "2022"],
        "water_class": ["IV", "III", "II", "III", "V"],
        "target_class": ["III"] * 5,
        "meets_target": [False, True, True, True, False],
        "class_NH3_N": ["IV", "III", "II", "III", "V"],
        "class_TP": ["III", "III", "II", "II", "II"],
        "class_TN": ["劣V"] * 5,  # reported only: never an exceeding item of a river
    })


def test_section_drivers(tmp_path):
    rv = rivers(COMB)
    sc = c.section_catchments(rv, SECTIONS, TOWN, spacing_m=10, strip_m=100)
    path = _comb_raster(tmp_path)
    dem = gpd.GeoDataFrame({"area_m2": [400.0, 900.0]},
                           geometry=[shapely.box(100, 300, 120, 320), shapely.box(900, 10, 930, 40)], crs=4549)
    d = c.section_drivers(_assessment(), sc, path, demolitions=dem).set_index("section_id")
    assert d.at["S_t1", "water_class"] == "V" and not d.at["S_t1", "meets_target"]  # last period
    assert d.at["S_t1", "exceeding_items"] == "NH3_N"
    assert d.at["S_mid", "exceeding_items"] == "NH3_N"
    assert d.at["S_out", "exceeding_items"] == ""
    # Independent: greenhouse share = area of the greenhouse block inside the catchment.
    gh = shapely.box(0, 200, 500, 400)
    for sid in ("S_mid", "S_t1"):
        geom = sc.set_index("section_id").at[sid, "geometry"]
        assert d.at[sid, "share_greenhouse"] == pytest.approx(geom.intersection(gh).area / geom.area, abs=1e-6)
        assert d.at[sid, "share_farmland"] + d.at[sid, "share_greenhouse"] == pytest.approx(1.0)
    assert d.at["S_out", "n_demolitions"] == 2 and d.at["S_out", "demolished_m2"] == 1300
    assert d.at["S_mid", "n_demolitions"] == 1
    assert np.isnan(d.at["S_mid", "n_violations"])


def test_greening_candidates_are_in_failing_strips(tmp_path):
    rv = rivers(COMB)
    sc = c.section_catchments(rv, SECTIONS, TOWN, spacing_m=10, strip_m=100)
    path = _comb_raster(tmp_path)
    d = c.section_drivers(_assessment(), sc, path)
    gc = c.greening_candidates(d, sc, path)
    assert gc["rank"].tolist() == list(range(1, len(gc) + 1))
    assert set(gc["landcover"]) <= {"farmland", "greenhouse"}
    strips = sc[sc["section_id"].isin(["S_mid", "S_t1"])].set_geometry("bank_strip").union_all()
    assert gc.union_all().difference(strips).area == pytest.approx(0, abs=1e-3)
    # All farmland/greenhouse in the failing strips is listed (the raster has nothing else).
    assert gc["area_m2"].sum() == pytest.approx(strips.area, rel=1e-6)
    assert gc["area_m2"].is_monotonic_decreasing
    with pytest.raises(ConfigError):
        c.greening_candidates(d, sc, path, classes=("rice",))


def test_small_watershed_indicators(tmp_path):
    rv = rivers(COMB)
    path = _comb_raster(tmp_path)
    rc = c.river_catchments(rv.assign(name=["甲河", "乙沟", "丙沟"]), TOWN, levels=("town",))
    assert rc["river_id"].tolist() == ["A"]
    assert rc["area_m2"].iat[0] == pytest.approx(TOWN.area, rel=1e-9)  # A drains the whole town
    sc = c.section_catchments(rv, SECTIONS, TOWN)
    d = c.section_drivers(_assessment(), sc, path)
    w = c.small_watershed_indicators(rc, path, drivers=d)
    v = w.set_index("indicator")
    assert v.at["outlet_class", "value"] == "III" and v.at["outlet_class", "note"] == "section S_out"
    assert v.at["outlet_meets_III", "value"] == 1.0
    assert v.at["vegetation_cover", "value"] == 0  # farmland and greenhouse only
    assert not w.loc[~w["computed"], "value"].notna().any()
    assert {"soil_erosion_control", "sewage_treatment"} <= set(w.loc[~w["computed"], "indicator"])


@pytest.mark.slow
def test_sample_dataset_chain(sample_dir):
    import dongping_geo as dg
    from dongping_geo import water_quality as wq

    ds = dg.load_dataset(sample_dir)
    town = ds.extra["town"]
    units = c.drainage_units(ds.rivers, town, on_problem="report")
    assert units["area_m2"].sum() == pytest.approx(town.area.sum(), rel=1e-9)
    sc = c.section_catchments(ds.rivers, ds.sections, town, on_problem="report")
    assert len(sc) == len(ds.sections) == 55
    assert all(r in ups.split(",") for r, ups in zip(sc["river_id"], sc["upstream_river_ids"], strict=True))
    assert (sc["area_m2"] > 0).all() and (sc["bank_strip_m2"] <= sc["area_m2"]).all()
    a = wq.assess_sections(ds.measurements, ds.sections, period="Y")
    d = c.section_drivers(a, sc, ds.landcover[2022], demolitions=ds.demolitions)
    shares = d[[f"share_{g}" for g in c.COVER_GROUPS]].sum(axis=1)
    assert shares.to_numpy() == pytest.approx(1.0)
    # The sections failing in 2022 (the manifest, checked against GB 3838 in test_sample) drain
    # greenhouse-lined banks; the passing ones mostly do not.
    failing = {f["section_id"] for f in ds.manifest["water_quality"]["failures"]["Y"] if f["period"] == "2022"}
    assert set(d.loc[d["meets_target"].eq(False), "section_id"]) == failing
    fail = d["section_id"].isin(failing).to_numpy()
    assert d.loc[fail, "strip_share_greenhouse"].min() > 5 * d.loc[~fail, "strip_share_greenhouse"].mean()
    assert d.loc[fail, "share_greenhouse"].mean() > 5 * d.loc[~fail, "share_greenhouse"].mean()
    # Catchment shares against exactextract on the real sample raster.
    from exactextract import exact_extract

    some = sc.iloc[:6][["section_id", "geometry"]]
    ours = c.landcover_shares(some, ds.landcover[2022])
    ref = exact_extract(str(ds.landcover[2022]), some, ["unique", "frac"], output="pandas")
    for i in range(len(some)):
        expected = dict(zip(ref["unique"][i].astype(int), ref["frac"][i], strict=True))
        for code, cls in LANDCOVER_LEGEND.items():
            assert ours[f"share_{cls.name}"].iat[i] == pytest.approx(expected.get(code, 0.0), rel=1e-6, abs=1e-9)
    # The batched Euler-tour answer equals networkx ancestors section by section.
    g = river_network(ds.rivers, boundary=town, on_problem="report")
    for i in range(len(ds.sections)):
        up = upstream(g, ds.sections.iloc[[i]])
        assert sc["upstream_river_ids"].iat[i] == ",".join(sorted(up["river_id"].unique()))
        assert sc["upstream_length_m"].iat[i] == pytest.approx(up["length_m"].sum(), rel=1e-9)


def _per_river(frame):
    return frame.groupby("river_id")["length_m"].sum().round(6).to_dict()


def test_upstream_stretches_equal_upstream_section_by_section():
    rv = rivers(COMB)
    st = c.upstream_stretches(rv, SECTIONS, TOWN)
    assert list(dict.fromkeys(st["section_id"])) == SECTIONS["section_id"].tolist()  # input order
    g = river_network(rv, boundary=TOWN)
    for i, sid in enumerate(SECTIONS["section_id"]):
        assert _per_river(st[st["section_id"] == sid]) == _per_river(upstream(g, SECTIONS.iloc[[i]]))
    # by hand: S_mid at x=500 has A from its head (x=10) and T1; S_at (x=300) has T1 joining there
    assert _per_river(st[st["section_id"] == "S_mid"]) == {"A": 490.0, "T1": 200.0}
    assert _per_river(st[st["section_id"] == "S_at"]) == {"A": 290.0, "T1": 200.0}
    assert np.allclose(st.length, st["length_m"])  # each line is its stretch


@pytest.mark.slow
def test_upstream_stretches_on_the_sample(sample_dir):
    import dongping_geo as dg

    ds = dg.load_dataset(sample_dir, patrols=False)
    town = ds.extra["town"]
    st = c.upstream_stretches(ds.rivers, ds.sections, town, on_problem="report")
    g = river_network(ds.rivers, boundary=town, on_problem="report")
    for i, sid in enumerate(ds.sections["section_id"]):
        assert _per_river(st[st["section_id"] == sid]) == pytest.approx(_per_river(upstream(g, ds.sections.iloc[[i]])))
