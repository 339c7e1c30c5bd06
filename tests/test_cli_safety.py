"""Every command protects its inputs and fails loudly with exit 2 (issue 14, the command line).

For every command: an output into the dataset folder, onto an input file, and into an
unwritable place (under a regular file; a read-only folder) exits 2 with a short message,
and the bytes of every input file are unchanged. Then: arguments are checked before any
output, ``--on-error report`` writes ``rejected.csv``, ``check-landuse`` names the checks
it could not run, ``validate`` agrees with the commands, and bad files never end in a
traceback.
"""

from __future__ import annotations

import hashlib
import os
import shutil
from pathlib import Path

import pandas as pd
import pyogrio
import pytest
from click.testing import CliRunner

from dongping_geo.cli import cli

SAMPLE = Path(__file__).resolve().parents[1] / "data" / "shapefiles"
_LAYERS = ("rivers", "sections", "redlines", "demolitions", "regions")


def _copy_shp(stem: str, src: Path, dst: Path, new_stem: str | None = None) -> None:
    for f in src.glob(f"{stem}.*"):
        shutil.copy(f, dst / f"{new_stem or stem}{f.suffix}")


@pytest.fixture(scope="module")
def inputs(tmp_path_factory) -> Path:
    """A copy of the sample's vector layers and measurements (no patrol files: they are
    given with --patrols), and a sibling folder ``ext`` of files given on their own."""
    root = tmp_path_factory.mktemp("safety")
    data, ext = root / "data", root / "ext"
    data.mkdir()
    ext.mkdir()
    for stem in (*_LAYERS, "town"):
        _copy_shp(stem, SAMPLE, data)
    for name in ("measurements.csv", "problems.csv", "signboards.gpkg", "landcover_2022.tif"):
        shutil.copy(SAMPLE / name, data)
    shutil.copytree(SAMPLE / "dltb_2020.gdb", ext / "dltb_2020.gdb")
    for stem in ("buildings_2020", "buildings_2022"):
        _copy_shp(stem, SAMPLE, ext)
    for name in ("patrols_2022-06.csv", "landcover_2020.tif", "landcover_2022.tif"):
        shutil.copy(SAMPLE / name, ext)
    shutil.copy(SAMPLE.parents[1] / "dongping_geo" / "data" / "patrol_rules.yaml", ext / "rules.yaml")
    return root


def _hashes(*folders: Path) -> dict[str, str]:
    return {str(p): hashlib.sha256(p.read_bytes()).hexdigest()
            for folder in folders for p in sorted(folder.rglob("*")) if p.is_file()}


def _args(command: str, root: Path, out: Path) -> list[str]:
    """Arguments of ``command`` on the test inputs, writing to ``out``."""
    data, ext = root / "data", root / "ext"
    args = {
        "map": ["map", data, "--out", out, "--basemap", "none"],
        "patrol-report": ["patrol-report", data, "--start", "2022-06-01", "--end", "2022-06-30",
                          "--patrols", ext / "patrols_2022-06.csv", "--rules", ext / "rules.yaml",
                          "--out", out, "--basemap", "none"],
        "water-quality": ["water-quality", data, "--out", out, "--basemap", "none"],
        "check-landuse": ["check-landuse", data, "--survey", ext / "buildings_2022.shp",
                          "--before", ext / "buildings_2020.shp",
                          "--landcover-before", ext / "landcover_2020.tif",
                          "--landcover-after", ext / "landcover_2022.tif", "--out", out, "--basemap", "none"],
        "sample-data": ["sample-data", out],
        "demo": ["demo", "--data", data, "--out", out],
        "problems": ["problems", data, "--start", "2022-01-01", "--end", "2022-12-31", "--out", out,
                     "--basemap", "none"],
        "catchments": ["catchments", data, "--year", "2022", "--out", out, "--basemap", "none"],
        "land-accounts": ["land-accounts", ext / "dltb_2020.gdb", "--out", out],
        "demolition-summary": ["demolition-summary", data, "--out", out],
    }[command]
    return [str(a) for a in args]


# An output onto an input file: for each command, the input it would destroy.
_ONTO_INPUT = {
    "map": "data/rivers.shp",
    "patrol-report": "ext/patrols_2022-06.csv",
    "water-quality": "data/measurements.csv",
    "check-landuse": "ext/buildings_2022.shp",
    "sample-data": "data/rivers.shp",
    "demo": "data/rivers.shp",
    "problems": "data/problems.csv",
    "catchments": "data/landcover_2022.tif",
    "land-accounts": "ext/dltb_2020.gdb",
    "demolition-summary": "data/demolitions.shp",
}
_WRITERS = list(_ONTO_INPUT)
_FILE_OUT = {"map"}  # --out is a file; the others write a folder


def _assert_refused(result, before: dict[str, str], root: Path) -> None:
    assert result.exit_code == 2, (result.exit_code, result.output, result.exception)
    assert result.exception is None or isinstance(result.exception, SystemExit), repr(result.exception)
    assert "Traceback" not in result.output
    message = [line for line in result.stderr.splitlines() if line.strip() and not line[:4].isdigit()]
    assert 1 <= len(message) <= 2, result.stderr  # one or two lines (log lines aside)
    assert _hashes(root / "data", root / "ext") == before  # nothing changed, nothing added


@pytest.mark.parametrize("command", [c for c in _WRITERS if c != "land-accounts"])  # it reads no dataset folder
def test_output_into_the_dataset_folder_is_refused(command, inputs):
    out = inputs / "data" / ("overview.html" if command in _FILE_OUT else "out")
    if command == "sample-data":
        out = inputs / "data"  # a folder that holds layers
    before = _hashes(inputs / "data", inputs / "ext")
    result = CliRunner().invoke(cli, _args(command, inputs, out))
    _assert_refused(result, before, inputs)


@pytest.mark.parametrize("command", _WRITERS)
def test_output_onto_an_input_file_is_refused(command, inputs):
    before = _hashes(inputs / "data", inputs / "ext")
    result = CliRunner().invoke(cli, _args(command, inputs, inputs / _ONTO_INPUT[command]))
    _assert_refused(result, before, inputs)


@pytest.mark.parametrize("command", _WRITERS)
def test_output_under_a_regular_file_is_refused(command, inputs, tmp_path):
    a_file = tmp_path / "note.txt"
    a_file.write_text("not a folder")
    out = a_file / ("map.html" if command in _FILE_OUT else "out")
    before = _hashes(inputs / "data", inputs / "ext")
    result = CliRunner().invoke(cli, _args(command, inputs, out))
    _assert_refused(result, before, inputs)
    assert "note.txt" in result.stderr
    assert a_file.read_text() == "not a folder"


@pytest.mark.parametrize("command", _WRITERS)
def test_output_in_a_read_only_folder_is_refused(command, inputs, tmp_path, monkeypatch):
    # We run as root, who may write anywhere: the folder is made read-only for os.access.
    locked = tmp_path / "locked"
    locked.mkdir()
    real_access = os.access
    monkeypatch.setattr(os, "access", lambda p, mode, **kw: False if Path(p) == locked
                        else real_access(p, mode, **kw))
    out = locked / ("map.html" if command in _FILE_OUT else "out")
    before = _hashes(inputs / "data", inputs / "ext")
    result = CliRunner().invoke(cli, _args(command, inputs, out))
    _assert_refused(result, before, inputs)
    assert "read-only" in result.stderr
    assert not list(locked.iterdir())


@pytest.mark.parametrize("command", ["validate", "info"])
def test_reading_commands_change_nothing(command, inputs):
    before = _hashes(inputs / "data", inputs / "ext")
    result = CliRunner().invoke(cli, [command, str(inputs / "data")])
    assert result.exit_code == 0, result.output
    assert _hashes(inputs / "data", inputs / "ext") == before


def test_map_out_onto_a_shapefile_names_the_input(inputs):
    result = CliRunner().invoke(cli, _args("map", inputs, inputs / "data" / "rivers.shp"))
    assert result.exit_code == 2
    assert "refusing to write inside an input folder" in result.stderr
    assert str(inputs / "data") in result.stderr


def test_patrol_report_out_under_the_patrols_csv(inputs):
    before = _hashes(inputs / "data", inputs / "ext")
    result = CliRunner().invoke(cli, _args("patrol-report", inputs, inputs / "ext" / "patrols_2022-06.csv" / "x"))
    _assert_refused(result, before, inputs)
    assert "refusing to overwrite an input file" in result.stderr


def test_sample_data_needs_force_for_a_folder_with_layers(inputs, tmp_path, monkeypatch):
    import dongping_geo.sample as sample

    folder = tmp_path / "old"
    folder.mkdir()
    _copy_shp("rivers", SAMPLE, folder)
    refused = CliRunner().invoke(cli, ["sample-data", str(folder)])
    assert refused.exit_code == 2 and "--force" in refused.stderr and "rivers.shp" in refused.stderr
    calls = []
    counts = dict.fromkeys(("rivers", "sections", "demolitions", "demolished_area_m2", "patrols_2022",
                            "buildings_2022"), 0)
    monkeypatch.setattr(sample, "make_sample", lambda out, seed: calls.append(out) or {"counts": counts})
    forced = CliRunner().invoke(cli, ["sample-data", str(folder), "--force"])
    assert forced.exit_code == 0, forced.output
    assert calls == [folder]


# --- arguments are checked before any output ------------------------------------------------------


def _filled(out: Path) -> dict[str, str]:
    out.mkdir(parents=True, exist_ok=True)
    for name in ("assessment.csv", "coverage.csv", "violations.csv", "index.html"):
        (out / name).write_text(f"earlier {name}\n")
    return _hashes(out)


@pytest.mark.parametrize(("command", "extra"), [
    ("water-quality", ["--map-period", "2022-13"]),
    ("water-quality", ["--map-period", "2031Q1"]),  # well formed, but not assessed: checked after compute
    ("water-quality", ["--date-format", "dd/mm/YYYY"]),
    ("patrol-report", ["--end", "2022-02-30"]),
    ("patrol-report", ["--tolerance", "-5"]),
    ("check-landuse", ["--skip-missing", "redlines"]),
    ("check-landuse", ["--setback-m", "0"]),
])
def test_bad_arguments_leave_earlier_outputs_alone(command, extra, inputs, tmp_path):
    out = tmp_path / "out"
    earlier = _filled(out)
    before = _hashes(inputs / "data", inputs / "ext")
    result = CliRunner().invoke(cli, _args(command, inputs, out) + extra)
    assert result.exit_code == 2, (result.output, result.exception)
    assert result.exception is None or isinstance(result.exception, SystemExit)
    assert _hashes(out) == earlier
    assert not [p for p in tmp_path.iterdir() if p.name != "out"]  # no staging folder left
    assert _hashes(inputs / "data", inputs / "ext") == before


@pytest.mark.parametrize("content", [b"town: {per: fortnight}\n", b"a: [unclosed\n", b"\x8d\xff\x00binary"])
def test_bad_rules_file_leaves_earlier_outputs_alone(content, inputs, tmp_path):
    out = tmp_path / "out"
    earlier = _filled(out)
    rules = tmp_path / "rules.yaml"
    rules.write_bytes(content)
    args = _args("patrol-report", inputs, out)
    args[args.index("--rules") + 1] = str(rules)
    result = CliRunner().invoke(cli, args)
    assert result.exit_code == 2, result.output
    assert result.exception is None or isinstance(result.exception, SystemExit)
    assert "rules.yaml" in result.stderr and len(_message_lines(result)) == 1
    assert _hashes(out) == earlier


def test_an_unexpected_os_error_is_two_lines_and_exit_2(inputs, tmp_path, monkeypatch):
    # The net under the library's own errors: never a traceback, never exit 1.
    from dongping_geo import loaders

    def denied(folder, **kwargs):
        raise PermissionError(13, "Permission denied", str(folder))

    monkeypatch.setattr(loaders, "load_dataset", denied)
    result = CliRunner().invoke(cli, _args("water-quality", inputs, tmp_path / "wq"))
    assert result.exit_code == 2, (result.output, result.exception)
    lines = _message_lines(result)
    assert len(lines) == 2 and "Permission denied" in lines[0] and str(inputs / "data") in lines[0]


# --- --on-error report ---------------------------------------------------------------------------------


@pytest.fixture()
def bad_measurements(inputs, tmp_path) -> Path:
    """The dataset with two bad measurement rows: 1e400 (line 4) and 9999-12-31 (line 5)."""
    data = tmp_path / "data"
    shutil.copytree(inputs / "data", data)
    lines = (data / "measurements.csv").read_text(encoding="utf-8").splitlines()
    header = lines[0].split(",")
    first = lines[1].split(",")
    huge = list(first)
    huge[header.index("value")] = "1e400"
    late = list(first)
    late[header.index("sampled_at")] = "9999-12-31"
    lines[3:3] = [",".join(huge), ",".join(late)]
    (data / "measurements.csv").write_text("\n".join(lines) + "\n", encoding="utf-8")
    return data


def test_water_quality_on_error_raise_and_report(bad_measurements, tmp_path):
    raised = CliRunner().invoke(cli, ["water-quality", str(bad_measurements), "--out", str(tmp_path / "a"),
                                      "--basemap", "none"])
    assert raised.exit_code == 2 and "1e400" in raised.stderr and "row 4" in raised.stderr
    assert not (tmp_path / "a").exists()
    out = tmp_path / "b"
    reported = CliRunner().invoke(cli, ["water-quality", str(bad_measurements), "--out", str(out),
                                        "--basemap", "none", "--on-error", "report"])
    assert reported.exit_code == 1, reported.output
    assert "2 rows rejected" in reported.output
    rejected = pd.read_csv(out / "rejected.csv", encoding="utf-8-sig")
    assert list(rejected.columns) == ["file", "row", "field", "value", "reason", "fix"]
    assert rejected[["row", "field", "value"]].astype(str).values.tolist() == [
        ["4", "value", "1e400"], ["5", "sampled_at", "9999-12-31"]]
    assert {"assessment.csv", "water_quality.html", "rejected.csv"} <= {p.name for p in out.iterdir()}


def test_map_report_writes_rejected_beside_the_map(bad_measurements, tmp_path):
    out = tmp_path / "maps" / "overview.html"
    result = CliRunner().invoke(cli, ["map", str(bad_measurements), "--out", str(out), "--basemap", "none",
                                      "--on-error", "report"])
    assert result.exit_code == 1, result.output
    assert len(pd.read_csv(out.parent / "rejected.csv", encoding="utf-8-sig")) == 2
    assert out.stat().st_size > 1000


def test_report_with_nothing_rejected_exits_as_usual(inputs, tmp_path):
    out = tmp_path / "wq"
    result = CliRunner().invoke(cli, _args("water-quality", inputs, out) + ["--on-error", "report"])
    assert result.exit_code == 0, result.output
    assert "0 rows rejected" in result.output
    assert len(pd.read_csv(out / "rejected.csv", encoding="utf-8-sig")) == 0


def test_patrol_report_rejects_fixes_out_of_range(inputs, tmp_path):
    patrols = tmp_path / "patrols.csv"
    lines = (inputs / "ext" / "patrols_2022-06.csv").read_text(encoding="utf-8").splitlines()
    header = lines[0].split(",")
    time_col = next(i for i, h in enumerate(header) if h.lower() in ("time", "timestamp", "时间"))
    bad = lines[1].split(",")
    bad[time_col] = "0022-03-05 10:00:00"
    patrols.write_text("\n".join([lines[0], lines[1], ",".join(bad), *lines[2:]]) + "\n", encoding="utf-8")
    args = _args("patrol-report", inputs, tmp_path / "p")
    args[args.index("--patrols") + 1] = str(patrols)
    raised = CliRunner().invoke(cli, args)
    assert raised.exit_code == 2 and "0022-03-05" in raised.stderr, raised.output
    reported = CliRunner().invoke(cli, args + ["--on-error", "report"])
    assert reported.exit_code == 1, reported.output
    rejected = pd.read_csv(tmp_path / "p" / "rejected.csv", encoding="utf-8-sig")
    assert rejected["row"].astype(str).tolist() == ["3"] and "0022-03-05" in rejected["value"].iloc[0]


# --- check-landuse: a check's layer missing or misnamed ------------------------------------------------


@pytest.fixture()
def misnamed_redlines(inputs, tmp_path) -> Path:
    data = tmp_path / "data"
    data.mkdir()
    for stem in ("rivers", "demolitions"):
        _copy_shp(stem, inputs / "data", data)
    _copy_shp("redlines", inputs / "data", data, new_stem="redline")
    return data


def test_check_landuse_names_the_checks_that_did_not_run(misnamed_redlines, inputs, tmp_path):
    args = ["check-landuse", str(misnamed_redlines), "--survey", str(inputs / "ext" / "buildings_2022.shp"),
            "--basemap", "none"]
    out = tmp_path / "out"
    result = CliRunner().invoke(cli, [*args, "--out", str(out)])
    assert result.exit_code == 2, result.output
    assert "checks not run" in result.stderr and "redline, farmland" in result.stderr
    assert "redline looks like the redlines layer" in result.stderr
    layers = dict(pyogrio.list_layers(out / "violations.gpkg"))
    checks = ["redline", "farmland", "setback", "rebuilt"]  # whole footprints, overlaps, QGIS styles
    assert list(layers) == [n for c in checks for n in (c, f"{c}_overlap")] + ["layer_styles"]
    for name in ("redline", "farmland"):
        assert pyogrio.read_info(out / "violations.gpkg", layer=name)["features"] == 0
    skipped = CliRunner().invoke(cli, [*args, "--out", str(tmp_path / "out2"), "--skip-missing", "redline,farmland"])
    # The sample plants setback and rebuilt violations: with the missing checks named, exit 1 as usual.
    assert skipped.exit_code == 1, skipped.output
    assert "note: checks not run" in skipped.stderr
    partly = CliRunner().invoke(cli, [*args, "--out", str(tmp_path / "out3"), "--skip-missing", "redline"])
    assert partly.exit_code == 2 and "--skip-missing farmland" in partly.stderr


# --- every failure loud: bad files ---------------------------------------------------------------------


def _message_lines(result) -> list[str]:
    return [line for line in result.stderr.splitlines() if line.strip()]


@pytest.mark.parametrize("damage", ["empty", "truncated", "not a tiff"])
def test_info_and_check_landuse_refuse_a_bad_raster(damage, inputs, tmp_path):
    tif = tmp_path / "landcover_2022.tif"
    good = (inputs / "ext" / "landcover_2022.tif").read_bytes()
    tif.write_bytes({"empty": b"", "truncated": good[: len(good) // 3], "not a tiff": b"hello" * 100}[damage])
    info = CliRunner().invoke(cli, ["info", str(tif)])
    assert info.exit_code == 2, (info.output, info.exception)
    assert 1 <= len(_message_lines(info)) <= 2 and "landcover_2022.tif" in info.stderr
    args = _args("check-landuse", inputs, tmp_path / "out")
    args[args.index("--landcover-after") + 1] = str(tif)
    check = CliRunner().invoke(cli, args)
    assert check.exit_code == 2, (check.output, check.exception)
    assert not (tmp_path / "out").exists()


def test_negative_area_exits_2(inputs, tmp_path):
    import geopandas as gpd

    data = tmp_path / "data"
    shutil.copytree(inputs / "data", data)
    demolitions = gpd.read_file(data / "demolitions.shp", encoding="gbk")
    demolitions.loc[0, "面积"] = -5.0
    for f in data.glob("demolitions.*"):
        f.unlink()
    demolitions.to_file(data / "demolitions.gpkg", driver="GPKG")
    before = _hashes(data)
    result = CliRunner().invoke(cli, ["map", str(data), "--out", str(tmp_path / "m.html"), "--basemap", "none"])
    assert result.exit_code == 2, result.output
    assert 1 <= len(_message_lines(result)) <= 2 and "-5" in result.stderr and "area_m2" in result.stderr
    assert _hashes(data) == before and not (tmp_path / "m.html").exists()


# --- validate agrees with the commands -----------------------------------------------------------------


def test_validate_folder_as_the_commands_read_it(inputs, tmp_path):
    data = tmp_path / "data"
    data.mkdir()
    _copy_shp("rivers", inputs / "data", data, new_stem="河道2023")
    _copy_shp("sections", inputs / "data", data)
    # one file: the layer is told by its columns, and validate says so
    guessed = CliRunner().invoke(cli, ["validate", str(data / "河道2023.shp")])
    assert guessed.exit_code == 0, guessed.output
    assert "河道2023.shp: took it as the rivers layer from its columns" in guessed.output
    # in a folder the commands go by file names: validate says they will not use it as rivers
    folder = CliRunner().invoke(cli, ["validate", str(data)])
    assert folder.exit_code == 0, folder.output
    assert "河道2023.shp: the commands read it as an extra layer" in " ".join(folder.output.split())
    # measurements naming a section the sections layer lacks: water-quality refuses, validate finds it
    (data / "measurements.csv").write_text(
        "section_id,sampled_at,parameter,value,unit\nNOPE-1,2022-03-05,DO,6.1,mg/L\n", encoding="utf-8")
    unknown = CliRunner().invoke(cli, ["validate", str(data)])
    wq = CliRunner().invoke(cli, ["water-quality", str(data), "--out", str(tmp_path / "wq"), "--basemap", "none"])
    assert unknown.exit_code == 1 and "NOPE-1" in unknown.output
    assert wq.exit_code == 2 and "NOPE-1" in wq.stderr
    # a stray unreadable GeoPackage: every command fails, and so does validate
    (data / "measurements.csv").unlink()
    (data / "old_export.gpkg").write_bytes(b"SQLite format 3\x00" + b"\x00" * 200)
    stray = CliRunner().invoke(cli, ["validate", str(data)])
    mapped = CliRunner().invoke(cli, ["map", str(data), "--out", str(tmp_path / "m.html"), "--basemap", "none"])
    assert stray.exit_code == 2 and "old_export.gpkg" in stray.output
    assert mapped.exit_code == 2 and "old_export.gpkg" in mapped.stderr


def test_validate_lists_every_bad_csv_row_with_its_file_line(tmp_path):
    csv = tmp_path / "measurements.csv"
    csv.write_text("section_id,sampled_at,parameter,value,unit\n"
                   "S1,2022-03-05,DO,6.1,mg/L\n"
                   "\n"
                   "S1,2022-03-06,DO,abc,mg/L\n"
                   "\n"
                   "S1,2022-03-07,DO,inf,mg/L\n", encoding="utf-8")
    result = CliRunner().invoke(cli, ["validate", str(csv)])
    assert result.exit_code == 1, result.output
    out = " ".join(result.output.split())
    assert "line 4" in out and "abc" in out and "line 6" in out and "inf" in out


def test_date_format_reaches_every_loader(inputs, tmp_path):
    # Day-first dates are refused as ambiguous; --date-format says what the files use. It applies
    # to every date of every file read, so these folders hold no other dated layer (demolitions).
    plain, day_first = tmp_path / "plain", tmp_path / "day_first"
    for folder in (plain, day_first):
        folder.mkdir()
        for stem in ("rivers", "sections"):
            _copy_shp(stem, inputs / "data", folder)
    shutil.copy(inputs / "data" / "measurements.csv", plain)
    m = pd.read_csv(plain / "measurements.csv", dtype=str, keep_default_na=False)
    m["sampled_at"] = pd.to_datetime(m["sampled_at"]).dt.strftime("%d/%m/%Y %H:%M")
    m.to_csv(day_first / "measurements.csv", index=False)
    wq = ["water-quality", "--basemap", "none"]
    refused = CliRunner().invoke(cli, [*wq, str(day_first), "--out", str(tmp_path / "a")])
    assert refused.exit_code == 2 and "sampled_at" in refused.stderr, refused.output
    read = CliRunner().invoke(cli, [*wq, str(day_first), "--out", str(tmp_path / "b"),
                                    "--date-format", "%d/%m/%Y %H:%M"])
    assert read.exit_code == 0, read.output
    assert CliRunner().invoke(cli, [*wq, str(plain), "--out", str(tmp_path / "c")]).exit_code == 0
    assert (tmp_path / "b" / "assessment.csv").read_bytes() == (tmp_path / "c" / "assessment.csv").read_bytes()
    # patrol fixes given with --patrols
    rivers_only = tmp_path / "rivers_only"
    rivers_only.mkdir()
    _copy_shp("rivers", inputs / "data", rivers_only)
    fixes = pd.read_csv(inputs / "ext" / "patrols_2022-06.csv", dtype=str)
    fixes["time"] = pd.to_datetime(fixes["time"]).dt.strftime("%d/%m/%Y %H:%M:%S")
    fixes.to_csv(tmp_path / "patrols.csv", index=False)
    p_args = _args("patrol-report", inputs, tmp_path / "p")
    p_args[1] = str(rivers_only)
    p_args[p_args.index("--patrols") + 1] = str(tmp_path / "patrols.csv")
    assert CliRunner().invoke(cli, p_args).exit_code == 2
    ok = CliRunner().invoke(cli, [*p_args, "--date-format", "%d/%m/%Y %H:%M:%S"])
    assert ok.exit_code == 0, ok.output
