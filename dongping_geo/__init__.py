"""dongping_geo: geospatial analysis for land, river and ecology management in Dongping Town.

Import it as ``import dongping_geo as dg``::

    import dongping_geo as dg
    ds = dg.load_dataset("data/shapefiles")
    ds.rivers.head()
"""

from __future__ import annotations

__version__ = "0.1.0"

from . import crs, errors, io, schemas  # noqa: E402
from .crs import WORK_CRS, gcj02_to_wgs84, get_work_crs, set_work_crs, wgs84_to_gcj02  # noqa: E402
from .errors import DongpingGeoError  # noqa: E402
from .io import read_layer, write_layer, write_layers, write_table  # noqa: E402
from .loaders import (  # noqa: E402
    Dataset,
    inspect_file,
    load_buildings,
    load_dataset,
    load_demolitions,
    load_layer,
    load_measurements,
    load_patrols,
    load_redlines,
    load_regions,
    load_rivers,
    load_sections,
)

__all__ = [
    "__version__",
    "crs",
    "errors",
    "io",
    "schemas",
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
    "load_redlines",
    "load_regions",
    "load_rivers",
    "load_sections",
    "read_layer",
    "set_work_crs",
    "wgs84_to_gcj02",
    "write_layer",
    "write_layers",
    "write_table",
]
