"""Map styles: bilingual field and value labels, category colours and ramps.

Every analysis map and legend takes its labels and colours from here, so the same
category looks the same everywhere (HTML maps, charts, QGIS layer styles).
"""

from __future__ import annotations

from typing import Any

from ..schemas import (
    CATEGORY_COLOURS,
    CATEGORY_LABELS,
    FALLBACK_COLOURS,
    MISSING_COLOUR,
    MISSING_LABEL,
    category_field,
)

__all__ = ["FIELD_LABELS", "VALUE_LABELS", "PALETTES", "DEFAULT_RAMP"]

#: Bilingual labels for canonical field names, used in tooltips and popups.
FIELD_LABELS: dict[str, str] = {
    "name": "名称 Name",
    "river_id": "河道编码 River ID",
    "level": "河道等级 Level",
    "region": "片区 Region",
    "chief": "河长 Chief",
    "target_class": "水质目标 Target class",
    "section_id": "断面编码 Section ID",
    "tier": "考核级别 Tier",
    "zone_id": "编号 Zone ID",
    "category": "类别 Category",
    "case_id": "案件编号 Case ID",
    "kind": "类型 Kind",
    "demolished_on": "拆除日期 Demolished on",
    "area_m2": "面积 Area (m²)",
    "length_m": "长度 Length (m)",
    "status": "状态 Status",
    "patrol_id": "巡河编号 Patrol ID",
    "timestamp": "时间 Time",
    "building_id": "建筑编号 Building ID",
    "surveyed_on": "调查日期 Surveyed on",
    "water_class": "水质类别 Water class",
}

def _bilingual(field: str) -> dict[Any, str]:
    """``{value: "中文 English"}`` of a category from the one table in :mod:`dongping_geo.schemas`."""
    return {v: f"{zh} {en}" for v, (zh, en) in CATEGORY_LABELS[field].items()}


# The categories the maps colour by; labels and colours are declared once, in schemas.
_MAP_FIELDS = ("level", "tier", "region", "category", "kind", "target_class", "water_class", "compliant",
               "meets_target")

#: Bilingual labels for category values, per canonical field (from ``schemas.CATEGORY_LABELS``).
VALUE_LABELS: dict[str, dict[Any, str]] = {f: _bilingual(category_field(f) or f) for f in _MAP_FIELDS}
_WATER_CLASS_LABELS: dict[Any, str] = VALUE_LABELS["water_class"]
_WATER_CLASS_COLOURS: dict[Any, str] = CATEGORY_COLOURS["water_class"]

#: Default colours per category value, per canonical field (from ``schemas.CATEGORY_COLOURS``;
#: legend colours in docs/maps.md).
PALETTES: dict[str, dict[Any, str]] = {f: CATEGORY_COLOURS[category_field(f) or f] for f in _MAP_FIELDS}

# Fallback qualitative palette for unknown categories, and the colour of missing values.
_QUALITATIVE: list[str] = list(FALLBACK_COLOURS)
_MISSING_COLOUR: str = MISSING_COLOUR
_MISSING_LABEL = " ".join(MISSING_LABEL)
#: Default continuous ramp (viridis stops).
DEFAULT_RAMP = ("#440154", "#3b528b", "#21918c", "#5ec962", "#fde725")
