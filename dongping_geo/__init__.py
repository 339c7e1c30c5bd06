"""dongping_geo: geospatial analysis for land, river and ecology management in Dongping Town.

Import it as ``import dongping_geo as dg``.
"""

from __future__ import annotations

__version__ = "0.1.0"

from . import crs, errors  # noqa: E402
from .crs import WORK_CRS, gcj02_to_wgs84, wgs84_to_gcj02  # noqa: E402
from .errors import DongpingGeoError  # noqa: E402

__all__ = [
    "__version__",
    "crs",
    "errors",
    "WORK_CRS",
    "DongpingGeoError",
    "gcj02_to_wgs84",
    "wgs84_to_gcj02",
]
