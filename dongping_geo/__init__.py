"""dongping_geo: geospatial analysis for land, river and ecology management in Dongping Town.

Import it as ``import dongping_geo as dg``::

    import dongping_geo as dg

    ds = dg.load_dataset("data/shapefiles")           # every layer, validated, EPSG:4549
    cov = dg.river_coverage(ds.rivers, ds.patrols)     # patrol coverage per river
    wq = dg.assess_sections(ds.measurements, ds.sections, period="Q")
    v = dg.check_violations(ds.buildings[2022], ds.redlines)
    dg.maps.coverage_map(ds.rivers, cov)               # folium map, inline in notebooks

Modules: :mod:`~dongping_geo.io`, :mod:`~dongping_geo.schemas`, :mod:`~dongping_geo.crs`,
:mod:`~dongping_geo.loaders`, :mod:`~dongping_geo.patrol`, :mod:`~dongping_geo.water_quality`,
:mod:`~dongping_geo.landuse`, :mod:`~dongping_geo.raster`, :mod:`~dongping_geo.maps`,
:mod:`~dongping_geo.sample`; :mod:`~dongping_geo.scale` (dask engine) is imported on demand.
"""

from __future__ import annotations

__version__ = "0.1.0"

from . import (  # noqa: E402
    crs,
    errors,
    io,
    landuse,
    loaders,
    maps,
    patrol,
    problems,
    raster,
    sample,
    schemas,
    water_quality,
)
from .crs import WORK_CRS, gcj02_to_wgs84, get_work_crs, set_work_crs, wgs84_to_gcj02  # noqa: E402
from .errors import DongpingGeoError  # noqa: E402
from .io import read_layer, write_layer, write_layers, write_table  # noqa: E402
from .landuse import (  # noqa: E402
    check_violations,
    demolition_summary,
    new_structures,
    rebuilt_on_demolished,
    river_setback_violations,
)
from .loaders import (  # noqa: E402
    Dataset,
    inspect_file,
    load_buildings,
    load_dataset,
    load_demolitions,
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
from .patrol import clean_fixes, compliance, patrol_tracks, river_coverage, uncovered_segments  # noqa: E402
from .raster import detect_change, zonal_stats  # noqa: E402
from .sample import make_sample  # noqa: E402
from .water_quality import (  # noqa: E402
    assess_rivers,
    assess_sections,
    classify_samples,
    compliance_summary,
)

__all__ = [
    "__version__",
    # modules
    "crs",
    "errors",
    "io",
    "landuse",
    "loaders",
    "maps",
    "patrol",
    "problems",
    "raster",
    "sample",
    "schemas",
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
