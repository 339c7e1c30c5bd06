"""Map styles: bilingual field and value labels, category colours and ramps.

Every analysis map and legend takes its labels and colours from here, so the same
category looks the same everywhere (HTML maps, charts, QGIS layer styles).
"""

from __future__ import annotations

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

#: Bilingual labels for category values, per canonical field.
VALUE_LABELS: dict[str, dict[str, str]] = {
    "level": {"district": "区管 District", "town": "镇管 Town", "village": "村管 Village"},
    "tier": {
        "national": "国考 National",
        "municipal": "市考 Municipal",
        "district": "区考 District",
        "town": "镇考 Town",
    },
    "region": {
        "dongfeng": "东风 Dongfeng",
        "changjiang": "长江 Changjiang",
        "qianjin": "前进 Qianjin",
        "qianshao": "前哨 Qianshao",
    },
    "category": {
        "eco_redline": "生态保护红线 Ecological red line",
        "eco_space_1": "一类生态空间 Eco-space I",
        "eco_space_2": "二类生态空间 Eco-space II",
        "eco_space_3": "三类生态空间 Eco-space III",
        "eco_space_4": "四类生态空间 Eco-space IV",
        "basic_farmland": "永久基本农田 Basic farmland",
    },
    "kind": {
        "illegal_building": "违法建筑 Illegal building",
        "concrete_plant": "混凝土搅拌站 Concrete plant",
        "plastic_recycling": "废塑料加工点 Plastic recycling",
        "gravel_yard": "碎石加工场 Gravel yard",
        "greenhouse_housing": "大棚房 Greenhouse housing",
        "villa": "违建别墅 Illegal villa",
        "shack": "窝棚彩钢棚 Shack",
    },
}

# Water-quality classes (GB 3838-2002), shared by target and assessed classes.
_WATER_CLASS_LABELS: dict[str, str] = {
    "I": "Ⅰ类 Class I",
    "II": "Ⅱ类 Class II",
    "III": "Ⅲ类 Class III",
    "IV": "Ⅳ类 Class IV",
    "V": "Ⅴ类 Class V",
    "劣V": "劣Ⅴ类 Worse than V",
}
# Blue (I-II), green (III), yellow (IV), orange (V), red (worse than V): the colour
# scheme of China's surface-water quality assessment method.
_WATER_CLASS_COLOURS: dict[str, str] = {
    "I": "#00b0f0",
    "II": "#0070c0",
    "III": "#00b050",
    "IV": "#ffd700",
    "V": "#ff8c00",
    "劣V": "#e00000",
}
VALUE_LABELS["target_class"] = _WATER_CLASS_LABELS
VALUE_LABELS["water_class"] = _WATER_CLASS_LABELS

#: Default colours per category value, per canonical field (legend colours in docs/maps.md).
PALETTES: dict[str, dict[str, str]] = {
    "target_class": _WATER_CLASS_COLOURS,
    "water_class": _WATER_CLASS_COLOURS,
    "level": {"district": "#08306b", "town": "#2171b5", "village": "#6baed6"},
    "region": {
        "dongfeng": "#1b9e77",
        "changjiang": "#7570b3",
        "qianjin": "#d95f02",
        "qianshao": "#e7298a",
    },
    "tier": {
        "national": "#e31a1c",
        "municipal": "#ff7f00",
        "district": "#6a3d9a",
        "town": "#33a02c",
    },
    "category": {
        "eco_redline": "#d7191c",
        "eco_space_1": "#f46d43",
        "eco_space_2": "#fdae61",
        "eco_space_3": "#fee08b",
        "eco_space_4": "#d9ef8b",
        "basic_farmland": "#c8a800",
    },
    "kind": {
        "illegal_building": "#e41a1c",
        "concrete_plant": "#377eb8",
        "plastic_recycling": "#4daf4a",
        "gravel_yard": "#984ea3",
        "greenhouse_housing": "#ff7f00",
        "villa": "#a65628",
        "shack": "#f781bf",
    },
}

# Fallback qualitative palette (ColorBrewer Set1/Dark2 mix) for unknown categories.
_QUALITATIVE: list[str] = [
    "#1b9e77", "#d95f02", "#7570b3", "#e7298a", "#66a61e", "#e6ab02", "#a6761d",
    "#1f78b4", "#b2df8a", "#fb9a99", "#cab2d6", "#6a3d9a",
]  # fmt: skip
_MISSING_COLOUR: str = "#999999"
_MISSING_LABEL = "未知 Unknown"
#: Default continuous ramp (viridis stops).
DEFAULT_RAMP = ("#440154", "#3b528b", "#21918c", "#5ec962", "#fde725")
