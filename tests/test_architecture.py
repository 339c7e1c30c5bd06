"""The package's structure: light import, version from the metadata, layers without cycles."""

from __future__ import annotations

import json
import subprocess
import sys
from importlib.metadata import version

import pytest

import dongping_geo as dg

HEAVY = ("folium", "branca", "rasterio", "matplotlib", "dask", "exactextract", "openpyxl")


def test_import_does_not_load_heavy_libraries():
    code = (
        "import sys, json, dongping_geo;"
        f"print(json.dumps([m for m in {list(HEAVY)!r} if m in sys.modules]))"
    )
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True)
    assert json.loads(out.stdout) == []


@pytest.mark.parametrize(
    ("name", "module"),
    [("maps", "folium"), ("raster", "rasterio"), ("zonal_stats", "rasterio"), ("scale", "dongping_geo.scale"), ("make_sample", "dongping_geo.sample")],
)
def test_lazy_names_load_on_first_use(name, module):
    code = f"import sys, dongping_geo as dg; dg.{name}; print({module!r} in sys.modules)"
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True)
    assert out.stdout.strip() == "True"


def test_every_public_name_resolves():
    for name in dg.__all__:
        assert getattr(dg, name) is not None, name
    with pytest.raises(AttributeError):
        dg.no_such_name  # noqa: B018


def test_version_comes_from_the_installed_metadata():
    assert dg.__version__ == version("dongping-geo")


def test_public_import_paths_of_0_1_0_still_work():
    from dongping_geo.cli import cli, main  # noqa: F401
    from dongping_geo.maps import (  # noqa: F401
        PALETTES,
        VALUE_LABELS,
        coverage_map,
        save_map,
        violations_map,
        water_quality_map,
    )
    from dongping_geo.patrol import compliance, river_coverage, uncovered_segments  # noqa: F401
    from dongping_geo.sample import make_sample  # noqa: F401
    from dongping_geo.scale import (  # noqa: F401
        check_violations_dask,
        is_dask,
        river_coverage_dask,
        use_dask,
    )
    from dongping_geo.water_quality import assess_sections  # noqa: F401

    assert dg.load_rivers is dg.loaders.load_rivers
    assert dg.maps.coverage_map is coverage_map


def test_import_linter_contracts_hold():
    lint = pytest.importorskip("importlinter")
    del lint
    proc = subprocess.run(["lint-imports"], capture_output=True, text=True)
    assert proc.returncode == 0, proc.stdout[-2000:]


def test_map_styles_come_from_the_schemas_tables():
    from dongping_geo.maps import PALETTES, VALUE_LABELS, VIOLATION_COLOURS, WATER_CLASS_COLOURS
    from dongping_geo.schemas import CATEGORY_COLOURS, CATEGORY_LABELS

    assert PALETTES["level"] == CATEGORY_COLOURS["level"]
    assert WATER_CLASS_COLOURS == CATEGORY_COLOURS["water_class"]
    assert VIOLATION_COLOURS == CATEGORY_COLOURS["check"]
    zh, en = CATEGORY_LABELS["tier"]["national"]
    assert VALUE_LABELS["tier"]["national"] == f"{zh} {en}"
