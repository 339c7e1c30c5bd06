"""Reports: each computed once from the analyses, then written as tables, layers and maps.

One module per report (``patrol``, ``problems``, ``water``, ``landuse``, ``demolitions``,
``catchments``, ``landsurvey``) over ``_common`` (staged outputs, options, table writing);
every public name is re-exported here.

The presentation layer's report objects sit between the analyses and the command line:

* :class:`PatrolReport` — coverage, uncovered stretches, compliance and tracks from
  one :func:`dongping_geo.patrol.analyse` (tracks and rivers are intersected once);
  writes the tables, ``uncovered.gpkg``, one map per chief (river, region) and an
  index page.
* :class:`WaterQualityReport` — the GB 3838-2002 assessment of sections and rivers
  and the compliance summary, with the water-quality map.
* :class:`LanduseReport` — the land-use checks of a building survey (red lines,
  farmland, setbacks, rebuilt sites, land-cover change), with the violations map.
* :class:`CatchmentsReport` — section catchments, the land cover behind each
  section's class, greening candidates and the small-watershed sheet, with the map.

Every ``write`` puts its files in a staging folder beside the target and moves them
in only when all were written (:func:`staged_outputs`): a report's files appear
together or not at all, and none may replace a file the report read.
"""

from __future__ import annotations

from ._common import (
    MapOptions,
    OutputOptions,
    Progress,
    TableSpec,
    safe_filename,
    save_charts,
    staged_outputs,
    write_rejected,
    write_report_tables,
    write_styled_layers,
)
from .catchments import CatchmentsReport
from .demolitions import DemolitionReport
from .landsurvey import LandAccountsReport
from .landuse import LANDUSE_CHECK_LAYERS, LANDUSE_CHECKS, LanduseReport
from .patrol import PatrolReport
from .problems import ProblemsReport
from .water import WaterQualityReport

__all__ = [
    "CatchmentsReport",
    "DemolitionReport",
    "LANDUSE_CHECKS",
    "LANDUSE_CHECK_LAYERS",
    "LandAccountsReport",
    "LanduseReport",
    "MapOptions",
    "OutputOptions",
    "PatrolReport",
    "Progress",
    "ProblemsReport",
    "TableSpec",
    "WaterQualityReport",
    "safe_filename",
    "save_charts",
    "staged_outputs",
    "write_rejected",
    "write_report_tables",
    "write_styled_layers",
]
