"""Foundation: schemas, io, loaders and their errors (issue 2).

Every bad input of the issue gets a test here; expected values are written by hand.
"""

from __future__ import annotations

import os
from pathlib import Path

import geopandas as gpd
import pandas as pd
import pyogrio
import pytest
import shapely
from hypothesis import given
from hypothesis import strategies as st

import dongping_geo as dg
from dongping_geo.errors import (
    CRSError,
    DongpingGeoError,
    EncodingError,
    GeometryError,
    InputFileError,
    OutputError,
    SchemaError,
)
from dongping_geo.schemas import SCHEMAS, normalize_water_class, parse_datetime

# A town-sized box in EPSG:4549 (CGCS2000 / GK CM 120E) on Chongming's north shore.
X0, Y0 = 640_000.0, 3_510_000.0


def rivers_gdf(n: int = 3, **overrides) -> gpd.GeoDataFrame:
    data = {
        "river_id": [f"R{i:02d}" for i in range(n)],
        "name": [f"河{i}" for i in range(n)],
        "level": ["town"] * n,
        "target_class": ["III"] * n,
    }
    data.update(overrides)
    geoms = [shapely.LineString([(X0, Y0 + 500 * i), (X0 + 1000, Y0 + 500 * i)]) for i in range(n)]
    return gpd.GeoDataFrame(data, geometry=geoms, crs=4549)


# --- schemas -------------------------------------------------------------------------

@pytest.mark.parametrize(
    "raw, expected",
    [("III", "III"), ("Ⅲ", "III"), ("Ⅲ类", "III"), ("3", "III"), ("三类", "III"), ("劣V", "劣V"),
     ("劣Ⅴ", "劣V"), ("Ⅰ类", "I"), ("ii", "II"), (" Ⅳ ", "IV"), ("5", "V"), ("五类", "V")],
)
def test_water_class_spellings(raw, expected):
    assert normalize_water_class(raw) == expected


@pytest.mark.parametrize("raw", ["VI", "劣III", "good", "", "0", "6", "7"])
def test_water_class_garbage_is_refused(raw):
    with pytest.raises(SchemaError, match="water-quality class"):
        normalize_water_class(raw)


@given(st.sampled_from(["I", "II", "III", "IV", "V"]), st.sampled_from(["{}", "{}类", " {} "]))
def test_water_class_idempotent(cls, fmt):
    once = normalize_water_class(fmt.format(cls))
    assert once == cls and normalize_water_class(once) == once


def test_short_field_names_fit_dbf():
    for schema in SCHEMAS.values():
        for f in schema.fields:
            assert len(f.short.encode("ascii")) <= 10, (schema.name, f.name)


def test_dates_in_chinese_formats_are_tz_aware():
    parsed, bad = parse_datetime(pd.Series(["2022-03-05", "2022/3/5", "2022年3月5日", "2022-03-05T00:00:00+08:00"]))
    assert not bad.any()
    assert parsed.dt.tz is not None
    assert (parsed == pd.Timestamp("2022-03-05", tz="Asia/Shanghai")).all()


# --- io ------------------------------------------------------------------------------

def test_missing_file(tmp_path):
    with pytest.raises(InputFileError, match="file not found") as exc:
        dg.load_rivers(tmp_path / "rivers.shp")
    assert isinstance(exc.value, FileNotFoundError)  # also a built-in
    assert "rivers.shp" in str(exc.value)


@pytest.mark.parametrize("sidecar", [".dbf", ".shx"])
def test_shapefile_without_sidecar(tmp_path, sidecar):
    path = tmp_path / "rivers.shp"
    dg.write_layer(rivers_gdf(), path, layer="rivers")
    (tmp_path / f"rivers{sidecar}").unlink()
    with pytest.raises(InputFileError, match=f"no \\{sidecar}"):
        dg.load_rivers(path)


def test_no_prj_needs_crs(tmp_path):
    path = tmp_path / "rivers.shp"
    dg.write_layer(rivers_gdf(), path, layer="rivers")
    (tmp_path / "rivers.prj").unlink()
    with pytest.raises(CRSError, match="no CRS") as exc:
        dg.load_rivers(path)
    assert "4549" in str(exc.value) and "4550" in str(exc.value)  # names both candidate zones
    assert dg.load_rivers(path, crs=4549).crs.to_epsg() == 4549


def test_no_prj_geographic_coordinates_hint(tmp_path):
    gdf = rivers_gdf().to_crs(4490)
    path = tmp_path / "rivers.shp"
    dg.write_layer(gdf, path, layer="rivers")
    (tmp_path / "rivers.prj").unlink()
    with pytest.raises(CRSError, match="longitude/latitude"):
        dg.load_rivers(path)


def test_gbk_without_cpg_loads_correctly(tmp_path):
    gdf = rivers_gdf(name=["东风中心河", "洪林河", "老北横引河"], level=["区管", "镇管", "村管"])
    path = tmp_path / "rivers.shp"
    dg.write_layer(gdf, path, layer="rivers", encoding="GBK", field_names="zh")
    (tmp_path / "rivers.cpg").unlink()
    rivers = dg.load_rivers(path)
    assert rivers["name"].tolist() == ["东风中心河", "洪林河", "老北横引河"]
    assert rivers["level"].tolist() == ["district", "town", "village"]
    assert rivers.attrs["encoding"] == "gb18030"
    assert "guessed" in rivers.attrs["encoding_source"]


def test_gbk_with_cpg_and_ldid(tmp_path):
    gdf = rivers_gdf(name=["东风中心河", "洪林河", "老北横引河"])
    path = tmp_path / "rivers.shp"
    dg.write_layer(gdf, path, layer="rivers", encoding="GBK", field_names="zh")
    assert (tmp_path / "rivers.cpg").read_text().strip().upper() == "GBK"
    assert dg.load_rivers(path).attrs["encoding_source"] == ".cpg"
    # Without .cpg but with the DBF language driver id 0x4D (cp936), as ArcGIS writes it.
    (tmp_path / "rivers.cpg").unlink()
    with open(tmp_path / "rivers.dbf", "r+b") as fh:
        fh.seek(29)
        fh.write(bytes([0x4D]))
    loaded = dg.load_rivers(path)
    assert loaded.attrs["encoding_source"] == "DBF language driver id"
    assert loaded["name"].iloc[0] == "东风中心河"


def test_undecodable_text_with_wrong_cpg(tmp_path):
    gdf = rivers_gdf(name=["东风中心河", "洪林河", "老北横引河"])
    path = tmp_path / "rivers.shp"
    dg.write_layer(gdf, path, layer="rivers", encoding="GBK")
    (tmp_path / "rivers.cpg").write_text("UTF-8")
    with pytest.raises(EncodingError):
        dg.load_rivers(path)


@pytest.mark.parametrize("suffix", [".shp", ".gpkg", ".parquet", ".geojson"])
def test_round_trip_every_format(tmp_path, suffix):
    gdf = rivers_gdf(target_class=["II", "III", "IV"])
    path = tmp_path / f"rivers{suffix}"
    dg.write_layer(gdf, path, layer="rivers")
    back = dg.load_rivers(path)
    assert back["river_id"].tolist() == gdf["river_id"].tolist()
    assert back["target_class"].tolist() == ["II", "III", "IV"]  # tgt_class mapped back
    assert shapely.equals_exact(back.geometry.values, gdf.geometry.values, tolerance=1e-6).all()


def test_geopackage_any_layer(tmp_path):
    path = tmp_path / "town.gpkg"
    dg.write_layers({"rivers": rivers_gdf(), "other": rivers_gdf(1)}, path)
    assert len(dg.load_layer(path, "rivers", file_layer="rivers")) == 3
    assert len(dg.load_layer(path, "rivers", file_layer="other")) == 1
    with pytest.raises(InputFileError):
        dg.load_layer(path, "rivers", file_layer="nope")


def test_refuses_to_overwrite_input(tmp_path):
    path = tmp_path / "rivers.gpkg"
    dg.write_layer(rivers_gdf(), path)
    gdf = dg.read_layer(path)
    before = path.read_bytes()
    with pytest.raises(OutputError, match="overwrite an input"):
        dg.write_layer(gdf, path)
    assert path.read_bytes() == before


def test_atomic_write_leaves_nothing_on_failure(tmp_path, monkeypatch):
    final = tmp_path / "out.gpkg"
    dg.write_layer(rivers_gdf(1), final)
    before = final.read_bytes()

    def half_write(df, path, **kwargs):
        Path(path).write_bytes(b"half a file")
        raise OSError("disk full")

    monkeypatch.setattr(pyogrio, "write_dataframe", half_write)
    with pytest.raises(OutputError, match="disk full"):
        dg.write_layer(rivers_gdf(), final)
    assert [p.name for p in tmp_path.iterdir()] == ["out.gpkg"]  # no temp file left
    assert final.read_bytes() == before  # the previous output is intact


def test_write_table_has_bom(tmp_path):
    path = dg.write_table(pd.DataFrame({"河道": ["洪林河"]}), tmp_path / "t.csv")
    assert path.read_bytes().startswith(b"\xef\xbb\xbf")


# --- validation ------------------------------------------------------------------------

def _shp(tmp_path: Path, gdf, name="rivers", layer="rivers") -> Path:
    path = tmp_path / f"{name}.shp"
    pyogrio.write_dataframe(gdf, path)
    return path


def test_duplicate_ids(tmp_path):
    gdf = rivers_gdf(river_id=["R1", "R2", "R1"])
    with pytest.raises(SchemaError, match="duplicate id") as exc:
        dg.load_rivers(_shp(tmp_path, gdf))
    assert "R1" in str(exc.value) and "river_id" in str(exc.value)


def test_unknown_category_names_value_and_allowed(tmp_path):
    gdf = rivers_gdf(level=["town", "county", "区管"])
    with pytest.raises(SchemaError) as exc:
        dg.load_rivers(_shp(tmp_path, gdf))
    msg = str(exc.value)
    assert "'county'" in msg and "R01" in msg and "level" in msg
    for allowed in ("district", "town", "village", "区管"):
        assert allowed in msg


def test_wrong_geometry_type(tmp_path):
    gdf = gpd.GeoDataFrame(rivers_gdf().drop(columns="geometry"),
                           geometry=shapely.points([(X0, Y0)] * 3), crs=4549)
    with pytest.raises(GeometryError, match="wrong geometry type") as exc:
        dg.load_rivers(_shp(tmp_path, gdf))
    assert "Point" in str(exc.value)


def test_empty_layer(tmp_path):
    with pytest.raises(SchemaError, match="empty"):
        dg.load_rivers(_shp(tmp_path, rivers_gdf().iloc[:0]))


def test_missing_required_field(tmp_path):
    with pytest.raises(SchemaError, match="required field is missing") as exc:
        dg.load_rivers(_shp(tmp_path, rivers_gdf().drop(columns="level")))
    assert "河道等级" in str(exc.value)


def test_self_intersecting_polygon_reported_and_repaired(tmp_path):
    bowtie = shapely.Polygon([(X0, Y0), (X0 + 100, Y0 + 100), (X0 + 100, Y0), (X0, Y0 + 100)])
    gdf = gpd.GeoDataFrame({"zone_id": ["Z1", "Z2"], "category": ["eco_redline", "永久基本农田"]},
                           geometry=[bowtie, shapely.box(X0, Y0, X0 + 10, Y0 + 10)], crs=4549)
    path = _shp(tmp_path, gdf, name="redlines")
    with pytest.raises(GeometryError, match="invalid geometry") as exc:
        dg.load_redlines(path)
    assert "Z1" in str(exc.value) and "Self-intersection" in str(exc.value)
    fixed = dg.load_redlines(path, repair=True)
    assert fixed.is_valid.all()
    assert fixed["category"].tolist() == ["eco_redline", "basic_farmland"]
    # The bow tie's two triangles: 2 × (100 × 50 / 2) = 5000 m².
    assert fixed.area.iloc[0] == pytest.approx(5000.0)
    assert any("Z1" in r for r in fixed.attrs["repairs"])


def test_patrol_csv_lon_lat_swapped(tmp_path):
    path = tmp_path / "patrols.csv"
    pd.DataFrame({"lon": [31.7, 31.7001], "lat": [121.5, 121.5], "time": ["2022-06-01 08:00", "2022-06-01 08:01"],
                  "patrol_id": ["P1", "P1"]}).to_csv(path, index=False)
    with pytest.raises(GeometryError, match="outside China") as exc:
        dg.load_patrols(path)
    assert "swapped" in str(exc.value)


def test_patrol_csv_unparseable_timestamp(tmp_path):
    path = tmp_path / "patrols.csv"
    pd.DataFrame({"lon": [121.5, 121.5], "lat": [31.7, 31.7], "time": ["2022-06-01 08:00", "昨天"],
                  "patrol_id": ["P1", "P1"]}).to_csv(path, index=False)
    with pytest.raises(SchemaError, match="cannot parse date") as exc:
        dg.load_patrols(path)
    assert "row 3" in str(exc.value) and "昨天" in str(exc.value)  # the CSV line


def test_patrol_csv_local_time_and_gpx_utc_agree(tmp_path):
    csv = tmp_path / "p.csv"
    pd.DataFrame({"经度": [121.5], "纬度": [31.7], "时间": ["2022/6/1 08:00:00"], "patrol_id": ["P1"],
                  "chief": ["张三"]}).to_csv(csv, index=False, encoding="gb18030")
    gpx = tmp_path / "p.gpx"
    gpx.write_text(
        '<?xml version="1.0"?><gpx version="1.1" creator="t" xmlns="http://www.topografix.com/GPX/1/1">'
        '<trk><name>P1</name><desc>张三</desc><trkseg><trkpt lat="31.7" lon="121.5">'
        "<time>2022-06-01T00:00:00Z</time></trkpt></trkseg></trk></gpx>", encoding="utf-8")
    a, b = dg.load_patrols(csv), dg.load_patrols(gpx)
    assert a["timestamp"].iloc[0] == b["timestamp"].iloc[0] == pd.Timestamp("2022-06-01 08:00", tz="Asia/Shanghai")
    assert a["chief"].iloc[0] == b["chief"].iloc[0] == "张三"
    assert a.geometry.iloc[0].distance(b.geometry.iloc[0]) < 1e-6


def test_patrols_recorded_in_gcj02_are_shifted_back(tmp_path):
    lon, lat = dg.wgs84_to_gcj02(pd.Series([121.5]).to_numpy(), pd.Series([31.7]).to_numpy())
    path = tmp_path / "p.csv"
    pd.DataFrame({"lon": lon, "lat": lat, "time": ["2022-06-01 08:00"], "patrol_id": ["P"]}).to_csv(path, index=False)
    true = gpd.GeoSeries([shapely.Point(121.5, 31.7)], crs=4326).to_crs(4549).iloc[0]
    assert dg.load_patrols(path, shift="gcj02").geometry.iloc[0].distance(true) < 0.01
    assert dg.load_patrols(path).geometry.iloc[0].distance(true) > 300  # unshifted: hundreds of metres off


def test_errors_share_a_base_class():
    for cls in (InputFileError, SchemaError, CRSError, GeometryError, OutputError, EncodingError):
        assert issubclass(cls, DongpingGeoError)


def test_load_dataset_missing_layers_are_none(tmp_path):
    dg.write_layer(rivers_gdf(), tmp_path / "rivers.shp", layer="rivers")
    ds = dg.load_dataset(tmp_path)
    assert len(ds.rivers) == 3
    assert ds.sections is None and ds.measurements is None and ds.patrols is None
    assert ds.buildings == {} and ds.landcover == {}


def test_load_dataset_years(tmp_path):
    b = gpd.GeoDataFrame({"building_id": ["B1"]}, geometry=[shapely.box(X0, Y0, X0 + 10, Y0 + 10)], crs=4549)
    dg.write_layer(b, tmp_path / "buildings_2020.shp", layer="buildings")
    dg.write_layer(b, tmp_path / "buildings_2022.gpkg", layer="buildings")
    (tmp_path / "landcover_2022.tif").write_bytes(b"")
    ds = dg.load_dataset(tmp_path)
    assert sorted(ds.buildings) == [2020, 2022]
    assert ds.landcover == {2022: tmp_path / "landcover_2022.tif"}


def test_env_independent_of_cwd(tmp_path, monkeypatch):
    monkeypatch.chdir(tmp_path)
    dg.write_layer(rivers_gdf(), "rivers.gpkg")
    assert os.path.exists("rivers.gpkg")


# --- real-world delivery shapes -------------------------------------------------------

def test_patrol_csv_with_unix_time(tmp_path):
    path = tmp_path / "patrols.csv"
    # 1654041600 = 2022-06-01 00:00:00 UTC = 08:00 in Shanghai; the second file in ms.
    pd.DataFrame({"lng": [121.5, 121.5001], "lat": [31.7, 31.7], "gps_time": ["1654041600", "1654041610"],
                  "patrol_id": ["P1", "P1"]}).to_csv(path, index=False)
    fixes = dg.load_patrols(path)
    assert fixes["timestamp"].iloc[0] == pd.Timestamp("2022-06-01 08:00", tz="Asia/Shanghai")
    path_ms = tmp_path / "patrols_ms.csv"
    pd.DataFrame({"lon": [121.5], "lat": [31.7], "time": ["1654041600000"], "patrol_id": ["P1"]}).to_csv(
        path_ms, index=False)
    assert dg.load_patrols(path_ms)["timestamp"].iloc[0] == pd.Timestamp("2022-06-01 08:00", tz="Asia/Shanghai")


def test_gpx_with_waypoints_only(tmp_path):
    gpx = tmp_path / "patrol_张三.gpx"
    gpx.write_text(
        '<?xml version="1.0"?><gpx version="1.1" creator="t" xmlns="http://www.topografix.com/GPX/1/1">'
        '<wpt lat="31.7" lon="121.5"><time>2022-06-01T00:00:00Z</time></wpt>'
        '<wpt lat="31.7" lon="121.501"><time>2022-06-01T00:00:10Z</time></wpt></gpx>', encoding="utf-8")
    fixes = dg.load_patrols(gpx, chief="张三")
    assert len(fixes) == 2 and (fixes["patrol_id"] == "patrol_张三").all() and (fixes["chief"] == "张三").all()
    assert fixes["timestamp"].iloc[1] == pd.Timestamp("2022-06-01 08:00:10", tz="Asia/Shanghai")


def test_dataset_as_one_geopackage_with_chinese_layer_names(tmp_path):
    sections = gpd.GeoDataFrame(
        {"断面编码": ["S1"], "断面名称": ["东风中心河1号"], "考核级别": ["镇考"], "水质目标": ["Ⅲ类"]},
        geometry=[shapely.Point(X0 + 500, Y0)], crs=4549)
    buildings = gpd.GeoDataFrame({"building_id": ["B1"]}, geometry=[shapely.box(X0, Y0, X0 + 9, Y0 + 9)], crs=4549)
    dg.write_layers({"河道": rivers_gdf(), "断面": sections, "buildings_2022": buildings}, tmp_path / "东平镇.gpkg")
    ds = dg.load_dataset(tmp_path)
    assert len(ds.rivers) == 3
    assert ds.sections["tier"].tolist() == ["town"] and ds.sections["target_class"].tolist() == ["III"]
    assert list(ds.buildings) == [2022]


def test_dataset_with_chinese_file_names(tmp_path):
    dg.write_layer(rivers_gdf(), tmp_path / "河道.shp", layer="rivers", encoding="GBK", field_names="zh")
    ds = dg.load_dataset(tmp_path)
    assert ds.rivers["river_id"].tolist() == ["R00", "R01", "R02"]
