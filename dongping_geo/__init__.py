"""dongping_geo: geospatial analysis for land, river and ecology management in Dongping Town.

Import it as ``import dongping_geo as dg``::

    import dongping_geo as dg

    ds = dg.load_dataset("data/shapefiles")           # every layer, validated, EPSG:4549
    cov = dg.river_coverage(ds.rivers, ds.patrols)     # patrol coverage per river
    wq = dg.assess_sections(ds.measurements, ds.sections, period="Q")
    v = dg.check_violations(ds.buildings[2022], ds.redlines)
    dg.maps.coverage_map(ds.rivers, cov)               # folium map, inline in notebooks

The package is built in layers, each importing only from those below it:
foundation (:mod:`~dongping_geo.errors`, :mod:`~dongping_geo.crs`,
:mod:`~dongping_geo.schemas`), input (:mod:`~dongping_geo.io`,
:mod:`~dongping_geo.loaders`), analysis (:mod:`~dongping_geo.patrol`,
:mod:`~dongping_geo.water_quality`, :mod:`~dongping_geo.landuse`,
:mod:`~dongping_geo.raster`), :mod:`~dongping_geo.scale` (dask), presentation
(:mod:`~dongping_geo.maps`, :mod:`~dongping_geo.reports`) and the command line.

``import dongping_geo`` stays light: the modules that need folium, rasterio,
matplotlib or dask (``maps``, ``raster``, ``reports``, ``sample``, ``scale``) and the
names they define are imported on first use (PEP 562).
"""

from __future__ import annotations

import importlib
from importlib.metadata import PackageNotFoundError, version
from typing import TYPE_CHECKING, Any

from . import crs, errors, io, landclass, landuse, loaders, patrol, problems, schemas, water_quality
from .crs import WORK_CRS, gcj02_to_wgs84, get_work_crs, set_work_crs, wgs84_to_gcj02
from .errors import DongpingGeoError
from .io import read_layer, write_layer, write_layers, write_table
from .landuse import (
    check_violations,
    demolition_summary,
    new_structures,
    rebuilt_on_demolished,
    river_setback_violations,
)
from .loaders import (
    Dataset,
    inspect_file,
    load_buildings,
    load_dataset,
    load_demolitions,
    load_land_survey,
    load_layer,
    load_measurements,
    load_patrols,
    load_problems,
    load_redlines,
    load_regions,
    load_rivers,
    load_sections,
    load_signboards,
)
from .patrol import clean_fixes, compliance, patrol_tracks, river_coverage, uncovered_segments
from .water_quality import (
    assess_rivers,
    assess_sections,
    classify_samples,
    compliance_summary,
)

if TYPE_CHECKING:  # pragma: no cover - the lazy names, for type checkers and IDEs
    from . import (
        catchments,
        charts,
        gb3838,
        maps,
        network,
        qgis_styles,
        raster,
        reports,
        sample,
        scale,
        tables,
    )
    from .raster import detect_change, zonal_stats
    from .sample import make_sample

try:
    __version__ = version("dongping-geo")
except PackageNotFoundError:  # pragma: no cover - running from a source tree without install
    __version__ = "0+unknown"

#: Modules imported on first attribute access (they load folium, rasterio or dask).
_LAZY_MODULES = (
    "catchments", "charts", "gb3838", "maps", "network", "qgis_styles", "raster", "reports", "sample",
    "scale", "tables",
)
#: Names re-exported from the lazy modules: name -> module.
_LAZY_NAMES = {"detect_change": "raster", "zonal_stats": "raster", "make_sample": "sample"}


def __getattr__(name: str) -> Any:
    """Import the heavy modules and their names on first use (PEP 562)."""
    if name in _LAZY_MODULES:
        return importlib.import_module(f".{name}", __name__)
    if name in _LAZY_NAMES:
        return getattr(importlib.import_module(f".{_LAZY_NAMES[name]}", __name__), name)
    raise AttributeError(f"module {__name__!r} has no attribute {name!r}")


def __dir__() -> list[str]:
    """List the eager and the lazy names."""
    return sorted(set(globals()) | set(_LAZY_MODULES) | set(_LAZY_NAMES))


__all__ = [
    "__version__",
    # modules
    "catchments",
    "crs",
    "gb3838",
    "network",
    "errors",
    "io",
    "landclass",
    "landuse",
    "loaders",
    "charts",
    "maps",
    "patrol",
    "problems",
    "qgis_styles",
    "raster",
    "reports",
    "sample",
    "schemas",
    "scale",
    "tables",
    "water_quality",
    # foundation
    "WORK_CRS",
    "DongpingGeoError",
    "Dataset",
    "gcj02_to_wgs84",
    "get_work_crs",
    "inspect_file",
    "load_buildings",
    "load_dataset",
    "load_demolitions",
    "load_land_survey",
    "load_layer",
    "load_measurements",
    "load_patrols",
    "load_problems",
    "load_redlines",
    "load_regions",
    "load_rivers",
    "load_sections",
    "load_signboards",
    "read_layer",
    "set_work_crs",
    "wgs84_to_gcj02",
    "write_layer",
    "write_layers",
    "write_table",
    # analyses
    "assess_rivers",
    "assess_sections",
    "check_violations",
    "classify_samples",
    "clean_fixes",
    "compliance",
    "compliance_summary",
    "demolition_summary",
    "detect_change",
    "make_sample",
    "new_structures",
    "patrol_tracks",
    "rebuilt_on_demolished",
    "river_coverage",
    "river_setback_violations",
    "uncovered_segments",
    "zonal_stats",
]
