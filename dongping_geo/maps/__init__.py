"""Folium maps: Chinese basemaps with GCJ-02 alignment, legends, safe popups, offline HTML.

The subpackage is the presentation layer of the maps:

* :mod:`~dongping_geo.maps.styles` — bilingual labels and colours of every category;
* ``_toolkit`` — :func:`base_map`, :func:`add_features` and its wrappers (styled by a
  :class:`FeatureStyle` or the same fields as keywords), legends,
  :func:`map_html` and :func:`save_map` (offline assets in ``_offline``);
* one private module per map: ``_overview`` (:func:`overview_map`), ``_patrol``
  (:func:`coverage_map`), ``_problems`` (:func:`problems_map`, :func:`add_problem_layers`),
  ``_water`` (:func:`water_quality_map`), ``_landuse`` (:func:`violations_map`) and
  ``_catchments`` (:func:`catchments_map`).

Every public name is re-exported here: ``dongping_geo.maps.coverage_map`` and
``from dongping_geo.maps import save_map`` keep working.

Attribute values are never trusted: every value shown in a tooltip, popup or legend
passes through :func:`html.escape`, so a feature named ``<script>…</script>`` shows
as text.
"""

from __future__ import annotations

from ._catchments import catchments_map
from ._landuse import VIOLATION_COLOURS, VIOLATION_LABELS, violations_map
from ._overview import overview_map
from ._panel import chainage
from ._patrol import coverage_map
from ._problems import add_problem_layers, problems_map
from ._toolkit import (
    BASEMAPS,
    DongpingMap,
    FeatureStyle,
    add_categorical_legend,
    add_continuous_legend,
    add_features,
    add_lines,
    add_points,
    add_polygons,
    base_map,
    map_html,
    prepare_for_web,
    save_map,
    uses_gcj02,
)
from ._water import (
    MISSED_TARGET_COLOUR,
    WATER_CLASS_COLOURS,
    WATER_GRADE_COLOURS,
    water_quality_map,
)
from .styles import DEFAULT_RAMP, FIELD_LABELS, PALETTES, VALUE_LABELS

__all__ = [
    "BASEMAPS",
    "FIELD_LABELS",
    "VALUE_LABELS",
    "PALETTES",
    "DEFAULT_RAMP",
    "DongpingMap",
    "FeatureStyle",
    "base_map",
    "uses_gcj02",
    "prepare_for_web",
    "add_features",
    "add_lines",
    "add_polygons",
    "add_points",
    "add_categorical_legend",
    "add_continuous_legend",
    "map_html",
    "save_map",
    "overview_map",
    "WATER_CLASS_COLOURS",
    "WATER_GRADE_COLOURS",
    "MISSED_TARGET_COLOUR",
    "water_quality_map",
    "VIOLATION_COLOURS",
    "VIOLATION_LABELS",
    "violations_map",
    "coverage_map",
    "chainage",
    "catchments_map",
    "problems_map",
    "add_problem_layers",
]
