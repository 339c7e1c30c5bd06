"""Layer schemas: one declaration per layer of the town's data.

Each :class:`LayerSchema` lists the canonical fields with their dtype, whether they
are required, the allowed values (with Chinese value aliases), the Shapefile short
name (DBF field names hold 10 bytes) and the Chinese field aliases that files
delivered by Chinese agencies use. :func:`standardize` renames aliases, normalises
values and checks everything; the loaders in :mod:`dongping_geo.loaders` call it.

``docs/data-model.md`` documents every field; a test keeps it in step with this module.
"""

from __future__ import annotations

import re
import unicodedata
from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import Any

import numpy as np
import pandas as pd

from .errors import SchemaError

__all__ = [
    "DATE_FORMS",
    "DATE_YEARS",
    "LOCAL_TZ",
    "Field",
    "LayerSchema",
    "NOT_MEASURED",
    "QUALIFIERS",
    "PROBLEM_OPEN_STATUSES",
    "SCHEMAS",
    "WATER_CLASSES",
    "date_problems",
    "get_schema",
    "normalize_ids",
    "normalize_water_class",
    "parse_datetime",
    "parse_excel_serial",
    "rename_aliases",
    "standardize",
]

#: Water-quality classes of GB 3838-2002, best to worst.
WATER_CLASSES: tuple[str, ...] = ("I", "II", "III", "IV", "V", "劣V")


@dataclass(frozen=True)
class Field:
    """One canonical field of a layer.

    Attributes
    ----------
    name : str
        Canonical (English) field name.
    dtype : str
        One of ``str``, ``int``, ``float``, ``date``, ``datetime``, ``water_class``.
    zh : str
        Chinese name, used as the field alias in delivered files and in labels.
    required : bool
        Whether the field must be present.
    unique : bool
        Whether values must be unique (ids).
    values : dict
        Allowed canonical values mapped to their accepted aliases (empty: any value).
    short : str
        Shapefile name (at most 10 characters).
    aliases : tuple of str
        Further accepted field names (besides ``zh`` and ``short``).
    description : str
        What the field holds.
    minimum : float, optional
        Smallest allowed value of a number field (``area_m2``: 0).
    """

    name: str
    dtype: str
    zh: str
    required: bool = True
    unique: bool = False
    values: Mapping[str, tuple[str, ...]] = field(default_factory=dict)
    short: str = ""
    aliases: tuple[str, ...] = ()
    description: str = ""
    minimum: float | None = None

    def __post_init__(self) -> None:
        short = self.short or self.name
        if len(short) > 10:
            raise ValueError(f"field {self.name}: Shapefile name {short!r} exceeds 10 characters")
        object.__setattr__(self, "short", short)

    @property
    def all_names(self) -> tuple[str, ...]:
        """Every name this field may arrive under (canonical first)."""
        # name[:10]: what GDAL/ArcGIS leave of a long name written to a Shapefile.
        return (self.name, self.short, self.zh, *self.aliases, self.name[:10])

    @property
    def value_aliases(self) -> dict[str, str]:
        """Map of every accepted spelling (lower-cased) to the canonical value."""
        out: dict[str, str] = {}
        for canonical, aliases in self.values.items():
            for spelling in (canonical, *aliases):
                out[spelling.strip().lower()] = canonical
        return out


@dataclass(frozen=True)
class LayerSchema:
    """Declaration of one layer: geometry type, id field and fields.

    Attributes
    ----------
    name : str
        Layer name (``rivers``, ``sections`` …).
    zh : str
        Chinese layer name.
    geometry : tuple of str or None
        Allowed geometry types, or ``None`` for a table without geometry.
    id_field : str or None
        The unique id field used in messages.
    fields : tuple of Field
        The canonical fields.
    """

    name: str
    zh: str
    geometry: tuple[str, ...] | None
    id_field: str | None
    fields: tuple[Field, ...]

    def field(self, name: str) -> Field:
        """Return the field called ``name``.

        Parameters
        ----------
        name : str
            Canonical field name.

        Returns
        -------
        Field
            The field declaration.

        Raises
        ------
        KeyError
            If the layer has no such field.
        """
        for f in self.fields:
            if f.name == name:
                return f
        raise KeyError(f"layer {self.name} has no field {name!r}")

    @property
    def field_names(self) -> tuple[str, ...]:
        """Canonical field names in declaration order."""
        return tuple(f.name for f in self.fields)


_LEVELS = {
    "district": ("区管", "区级", "区管河道", "区级河道"),
    "town": ("镇管", "镇级", "镇管河道", "镇级河道"),
    "village": ("村管", "村级", "村管河道", "村级河道"),
}
_REGIONS = {
    "dongfeng": ("东风", "东风片区", "东风片", "东风农场"),
    "changjiang": ("长江", "长江片区", "长江片", "长江农场"),
    "qianjin": ("前进", "前进片区", "前进片", "前进农场"),
    "qianshao": ("前哨", "前哨片区", "前哨片", "前哨农场"),
}
_TIERS = {
    "national": ("国考", "国控", "国考断面"),
    "municipal": ("市考", "市控", "市考断面"),
    "district": ("区考", "区控", "区考断面"),
    "town": ("镇考", "镇控", "镇考断面"),
}
_CATEGORIES = {
    "eco_redline": ("生态保护红线", "生态红线", "生态保护红线区"),
    "eco_space_1": ("一类生态空间",),
    "eco_space_2": ("二类生态空间",),
    "eco_space_3": ("三类生态空间",),
    "eco_space_4": ("四类生态空间",),
    "basic_farmland": ("永久基本农田", "基本农田", "永久基本农田保护区"),
}
_KINDS = {
    "illegal_building": ("违法建筑", "违章建筑", "违法建设"),
    "concrete_plant": ("混凝土搅拌站", "搅拌站"),
    "plastic_recycling": ("废塑料加工点", "废塑料加工场"),
    "gravel_yard": ("碎石加工场", "碎石加工点"),
    "greenhouse_housing": ("大棚房",),
    "villa": ("违建别墅",),
    "shack": ("窝棚彩钢棚", "窝棚", "彩钢棚"),
}

#: Measurement qualifiers: ``"<"`` (below the detection limit; the value, if any, is the
#: limit) and ``"="`` or blank (a measured value; parsed tables write ``""``). The spellings
#: of ``"<"`` also stand alone in a value cell (``ND``, ``未检出``) for a below-detection
#: result without a number.
QUALIFIERS = {
    "<": ("＜", "l", "nd", "n.d.", "n.d", "未检出", "<dl", "低于检出限", "below detection limit"),
    "=": ("检出",),
}
#: Value cells that mean "not measured" in a measurement table (no row, neither an error
#: nor a zero). Compared after Unicode NFKC normalisation (full-width ``－`` is ``-``).
NOT_MEASURED: tuple[str, ...] = ("", "-", "－", "—", "——", "–", "/")

# River-chief problems (巡河问题): kinds as river-chief apps export them, and the
# handling states. The 四乱 terms (乱占、乱采、乱堆、乱建) of the river-chief system map
# onto encroachment and dumping.
_PROBLEM_KINDS = {
    "floating_debris": ("水面漂浮物", "漂浮物", "河面漂浮物", "水面垃圾"),
    "outfall": ("排污口", "偷排", "偷排漏排", "污水直排", "排口"),
    "encroachment": ("涉河违建", "违章搭建", "违法搭建", "乱建", "乱占"),
    "dumping": ("乱堆乱放", "乱堆放", "乱堆", "乱倒垃圾"),
    "bank_damage": ("护岸损坏", "河岸坍塌", "护岸坍塌"),
    "water_anomaly": ("水体异常", "水体黑臭", "水体发黑", "水质异常"),
    "signboard_damage": ("公示牌破损", "公示牌损坏"),
    "other": ("其他", "其它"),
}
_PROBLEM_STATUSES = {
    "reported": ("已上报", "上报", "待处理", "未处理", "待交办"),
    "assigned": ("已交办", "交办", "处理中", "已派单", "整改中"),
    "resolved": ("已办结", "办结", "已处理", "已整改"),
    "closed": ("已销号", "销号", "已关闭"),
}
#: Problem states that are still open (not yet handled): overdue is counted on these.
PROBLEM_OPEN_STATUSES: tuple[str, ...] = ("reported", "assigned")
_LINES = ("LineString", "MultiLineString")
_POLYGONS = ("Polygon", "MultiPolygon")

SCHEMAS: dict[str, LayerSchema] = {
    s.name: s
    for s in (
        LayerSchema(
            "rivers", "河道", _LINES, "river_id",
            (
                Field("river_id", "str", "河道编码", unique=True, aliases=("河道代码",), description="River code, unique"),
                Field("name", "str", "河道名称", description="River name"),
                Field("level", "str", "河道等级", values=_LEVELS, description="Management level"),
                Field("region", "str", "片区", required=False, values=_REGIONS, description="Farm region of the town"),
                Field("chief", "str", "河长", required=False, description="River chief (河长) responsible"),
                Field("target_class", "water_class", "水质目标", required=False, short="tgt_class", description="Target water-quality class I…V"),
                Field("flows_to", "str", "下游河道", required=False, description="river_id it drains into, or the outlet (长江, a sluice) where it leaves the town"),
            ),
        ),
        LayerSchema(
            "sections", "断面", ("Point",), "section_id",
            (
                Field("section_id", "str", "断面编码", unique=True, description="Section code, unique"),
                Field("name", "str", "断面名称", description="Section name"),
                Field("tier", "str", "考核级别", values=_TIERS, description="Assessment tier"),
                Field("river_id", "str", "河道编码", required=False, description="River the section lies on"),
                Field("target_class", "water_class", "水质目标", short="tgt_class", description="Target water-quality class I…V"),
            ),
        ),
        LayerSchema(
            "measurements", "监测数据", None, None,
            (
                Field("section_id", "str", "断面编码", aliases=("断面编号", "断面代码", "断面id", "section", "station_id"), description="Section code"),
                Field("sampled_at", "datetime", "采样日期", aliases=("采样时间", "监测日期", "监测时间", "日期", "date", "sample_date"), description="Sampling date/time (Asia/Shanghai); Excel serial day numbers accepted"),
                Field("parameter", "str", "监测项目", aliases=("项目", "指标", "监测指标", "item"), description="GB 3838 item code (pH, DO, NH3_N …) or its Chinese name"),
                Field("value", "float", "监测值", aliases=("测定值", "浓度", "结果", "监测结果", "result"), description="Measured value (detection limit when qualifier is '<'); " + ", ".join(repr(m) for m in NOT_MEASURED) + " mean not measured"),
                Field("unit", "str", "单位", required=False, aliases=("units",), description="Unit (mg/L, µg/L …), normalised to mg/L"),
                Field("qualifier", "str", "标识", required=False, values=QUALIFIERS, aliases=("修饰符", "限定符", "flag"), description="'<' for below the detection limit; '=' or blank for a measured value"),
                Field("detection_limit", "float", "检出限", required=False, short="det_limit", aliases=("方法检出限", "最低检出限", "dl", "mdl"), description="Detection limit of a below-detection result (in the row's unit); also the label of a limits row under the item names of a wide table"),
            ),
        ),
        LayerSchema(
            "redlines", "生态红线", _POLYGONS, "zone_id",
            (
                Field("zone_id", "str", "区块编码", unique=True, aliases=("图斑编号",), description="Zone id, unique"),
                Field("name", "str", "名称", required=False, description="Zone name"),
                Field("category", "str", "类别", values=_CATEGORIES, aliases=("管控类别",), description="Protection category"),
            ),
        ),
        LayerSchema(
            "demolitions", "拆违", _POLYGONS, "case_id",
            (
                Field("case_id", "str", "案件编号", unique=True, description="Demolition case id, unique"),
                Field("kind", "str", "类型", values=_KINDS, aliases=("违建类型",), description="Kind of illegal structure"),
                Field("demolished_on", "date", "拆除日期", short="demol_on", description="Date demolished"),
                Field("area_m2", "float", "面积", aliases=("拆除面积", "面积m2"), description="Demolished area in m²",
                      minimum=0.0),
                Field("region", "str", "片区", required=False, values=_REGIONS, description="Farm region"),
                Field("status", "str", "状态", required=False, description="Case status"),
            ),
        ),
        LayerSchema(
            "patrols", "巡河轨迹", ("Point",), None,
            (
                Field("patrol_id", "str", "巡河编号", description="Patrol (trip) id"),
                Field("chief", "str", "河长", required=False, description="River chief who patrolled"),
                Field("timestamp", "datetime", "时间", aliases=("time", "定位时间"), description="Time of the GPS fix (tz-aware)"),
            ),
        ),
        LayerSchema(
            "buildings", "建筑", _POLYGONS, "building_id",
            (
                Field("building_id", "str", "建筑编号", unique=True, short="bldg_id", description="Building id, unique within a survey"),
                Field("surveyed_on", "date", "调查日期", required=False, short="survey_on", description="Survey date"),
            ),
        ),
        LayerSchema(
            "regions", "片区", _POLYGONS, "region",
            (
                Field("region", "str", "片区", unique=True, values=_REGIONS, description="Farm region"),
                Field("name", "str", "名称", required=False, description="Region name"),
            ),
        ),
        LayerSchema(
            "problems", "巡河问题", ("Point",), "problem_id",
            (
                Field("problem_id", "str", "问题编号", unique=True, aliases=("事件编号", "工单编号"), description="Problem (case) id, unique"),
                Field("river_id", "str", "河道编码", required=False, aliases=("河道代码",), description="River the problem was reported on"),
                Field("reported_at", "datetime", "上报时间", short="report_at", aliases=("发现时间",), description="When it was reported (Asia/Shanghai)"),
                Field("kind", "str", "问题类型", values=_PROBLEM_KINDS, aliases=("问题类别", "事件类型"), description="Kind of problem"),
                Field("reporter", "str", "上报人", required=False, description="Who reported it (usually the river chief)"),
                Field("status", "str", "处理状态", values=_PROBLEM_STATUSES, aliases=("状态", "办理状态"), description="Handling state"),
                Field("resolved_at", "datetime", "办结时间", required=False, short="resolv_at", aliases=("处理时间",), description="When it was resolved (empty while open)"),
                Field("description", "str", "问题描述", required=False, short="descr", description="Free-text description"),
                Field("photo", "str", "照片", required=False, aliases=("图片", "照片链接"), description="Photo URL or file name"),
            ),
        ),
        LayerSchema(
            "signboards", "河长公示牌", ("Point",), "board_id",
            (
                Field("board_id", "str", "公示牌编号", unique=True, aliases=("编号",), description="Signboard id, unique"),
                Field("river_id", "str", "河道编码", aliases=("河道代码",), description="River the board names"),
                Field("chief_on_board", "str", "公示河长", short="board_chf", aliases=("河长",), description="Chief named on the board"),
                Field("updated_on", "date", "更新日期", required=False, description="Date the board was last updated"),
            ),
        ),
    )
}


# --- the land survey (第三次全国国土调查 / 年度变更调查), layer 地类图斑 DLTB -----------------
# Standard field names of the survey database (国土调查数据库标准) are the Shapefile names, so a
# layer written back to a Shapefile carries DLBM, TBMJ …; land-class codes and their first-level
# classes live in dongping_geo.landclass (the loader normalises and checks the codes).

from .landclass import FIRST_LEVEL as _LAND_FIRST_LEVEL  # noqa: E402

SCHEMAS["land_survey"] = LayerSchema(
    "land_survey", "地类图斑", _POLYGONS, "parcel_id",
    (
        Field("object_id", "str", "标识码", required=False, unique=True, short="BSM", description="Database object id (BSM), unique"),
        Field("parcel_id", "str", "图斑编号", short="TBBH", description="Parcel number (TBBH), unique within its village"),
        Field("land_code", "str", "地类编码", short="DLBM", description="Land-class code (DLBM), GB/T 21010-2017 / 三调 working classification"),
        Field("land_name", "str", "地类名称", required=False, short="DLMC", description="Land-class name (DLMC)"),
        Field("land_class", "str", "一级地类", required=False, values={k: (v[1], v[0], v[2]) for k, v in _LAND_FIRST_LEVEL.items()}, short="YJDL", description="First-level class, derived from land_code"),
        Field("owner_type", "str", "权属性质", required=False, short="QSXZ", description="Ownership type code (QSXZ)"),
        Field("owner_code", "str", "权属单位代码", required=False, short="QSDWDM", description="Owner unit code (QSDWDM)"),
        Field("owner", "str", "权属单位名称", required=False, short="QSDWMC", description="Owner unit name (QSDWMC)"),
        Field("village_code", "str", "坐落单位代码", required=False, short="ZLDWDM", description="Code of the unit the parcel lies in (ZLDWDM)"),
        Field("village", "str", "坐落单位名称", required=False, short="ZLDWMC", description="Name of the unit the parcel lies in (ZLDWMC)"),
        Field("area_m2", "float", "图斑面积", short="TBMJ", description="Official (ellipsoidal, CGCS2000) parcel area in m² (TBMJ)"),
        Field("deduction_code", "str", "扣除地类编码", required=False, short="KCDLBM", description="Land class deducted (KCDLBM, 1203 田坎)"),
        Field("deduction_ratio", "float", "扣除地类系数", required=False, short="KCXS", description="Deduction coefficient for field ridges (KCXS), 0–1"),
        Field("deduction_m2", "float", "扣除地类面积", required=False, short="KCMJ", description="Deducted area in m² (KCMJ = TBMJ × KCXS)"),
        Field("net_area_m2", "float", "图斑地类面积", required=False, short="TBDLMJ", description="Net land-class area in m² (TBDLMJ = TBMJ − KCMJ)"),
        Field("farmland_type", "str", "耕地类型", required=False, short="GDLX", description="Cultivated land type (GDLX: TT 梯田 terraced, PD 坡地 sloping)"),
        Field("slope_grade", "str", "耕地坡度级别", required=False, short="GDPDJB", description="Cultivated-land slope grade (GDPDJB, 1–5)"),
        Field("planting_code", "str", "种植属性代码", required=False, short="ZZSXDM", description="Planting attribute marker (ZZSXDM)"),
        Field("refinement_code", "str", "图斑细化代码", required=False, short="TBXHDM", description="Parcel refinement marker (TBXHDM)"),
        Field("settlement_code", "str", "城镇村属性码", required=False, short="CZCSXM", description="Town/village attribute code (CZCSXM: 201, 202, 203 …)"),
    ),
)


def get_schema(layer: str) -> LayerSchema:
    """Return the schema of a layer.

    Parameters
    ----------
    layer : str
        Layer name, e.g. ``"rivers"``.

    Returns
    -------
    LayerSchema
        Its declaration.

    Raises
    ------
    SchemaError
        If there is no such layer.

    Examples
    --------
    >>> get_schema("rivers").id_field
    'river_id'
    """
    try:
        return SCHEMAS[layer]
    except KeyError:
        raise SchemaError(
            "unknown layer", layer=layer, expected=", ".join(SCHEMAS), found=repr(layer)
        ) from None


def rename_aliases(df: pd.DataFrame, schema: LayerSchema, *, path: Any = None) -> pd.DataFrame:
    """Rename Chinese, short (Shapefile) and other alias field names to canonical names.

    Matching ignores case and surrounding white space. Fields that are not in the
    schema are kept as they are.

    Parameters
    ----------
    df : DataFrame
        Table as read from a file.
    schema : LayerSchema
        The layer's schema.
    path : path-like, optional
        The file, for messages.

    Returns
    -------
    DataFrame
        A copy with canonical field names.

    Raises
    ------
    SchemaError
        If two columns map to the same canonical field.

    Examples
    --------
    >>> rename_aliases(pd.DataFrame({"河道编码": ["R1"]}), get_schema("rivers")).columns.tolist()
    ['river_id']
    """
    lookup: dict[str, str] = {}
    for f in schema.fields:
        for n in f.all_names:
            lookup.setdefault(n.strip().lower(), f.name)
    mapping: dict[str, str] = {}
    for col in df.columns:
        if not isinstance(col, str) or col == getattr(df, "_geometry_column_name", None):
            continue
        canonical = lookup.get(col.strip().lower())
        if canonical is None:
            continue
        if canonical in mapping.values():
            other = next(k for k, v in mapping.items() if v == canonical)
            raise SchemaError(
                "two columns hold the same field",
                path=path, layer=schema.name, field=canonical,
                expected="one column", found=f"{other!r} and {col!r}",
                fix="drop or rename one of them",
            )
        mapping[col] = canonical
    return df.rename(columns=mapping)


_CN_NUMERALS = {"一": "I", "二": "II", "三": "III", "四": "IV", "五": "V"}
_ARABIC = {"1": "I", "2": "II", "3": "III", "4": "IV", "5": "V"}


def normalize_water_class(
    value: Any,
    *,
    path: Any = None,
    layer: str | None = None,
    feature_id: Any = None,
    field: str | None = "target_class",
) -> str:
    """Normalise a water-quality class label to ``"I"`` … ``"V"`` or ``"劣V"``.

    Accepts ``III``, ``iii``, ``Ⅲ`` (Unicode Roman numeral), ``Ⅲ类``, ``3``, ``3.0``,
    ``三类``, ``III类水``, ``劣V``, ``劣Ⅴ``, ``劣五类`` and full-width variants.

    Parameters
    ----------
    value : Any
        The label as found in the data.
    path, layer, feature_id, field : optional
        Where the value comes from; only used in the error message.

    Returns
    -------
    str
        One of :data:`WATER_CLASSES`.

    Raises
    ------
    SchemaError
        If the value is missing or not a recognisable class (a ``ValueError`` subclass).

    Examples
    --------
    >>> [normalize_water_class(v) for v in ["III", "Ⅲ", "Ⅲ类", "3", "三类", "劣Ⅴ"]]
    ['III', 'III', 'III', 'III', 'III', '劣V']
    """
    result = _parse_class(value)
    if result is None:
        raise SchemaError(
            "not a water-quality class",
            path=path,
            layer=layer,
            feature_id=feature_id,
            field=field,
            expected="I, II, III, IV, V or 劣V (also Ⅲ, Ⅲ类, 3, 三类, 劣Ⅴ)",
            found=repr(value),
            fix="write the GB 3838-2002 class, e.g. III or Ⅲ类",
        )
    return result


def _parse_class(value: Any) -> str | None:
    if value is None or isinstance(value, bool):
        return None
    if isinstance(value, int | np.integer) or (
        isinstance(value, float | np.floating) and np.isfinite(value) and float(value).is_integer()
    ):
        return _ARABIC.get(str(int(value)))
    if not isinstance(value, str):
        return None
    text = unicodedata.normalize("NFKC", value).strip().replace(" ", "")
    worse = text.startswith("劣")
    if worse:
        text = text[1:]
    for suffix in ("类水质", "类水", "类"):
        if text.endswith(suffix):
            text = text[: -len(suffix)]
            break
    if text.endswith(".0"):
        text = text[:-2]
    text = text.upper()
    label = text if text in WATER_CLASSES[:5] else _ARABIC.get(text) or _CN_NUMERALS.get(text)
    if label is None:
        return None
    if worse:
        return "劣V" if label == "V" else None
    return label


# --- values, dates and validation ---------------------------------------------------

#: The local time zone of the town's data (naive times are taken as local time).
LOCAL_TZ = "Asia/Shanghai"
#: Years a date may fall in; outside them a value is refused (a typo such as 0022 or a
#: sentinel such as 9999-12-31), never turned into an overflow deep in pandas or GDAL.
DATE_YEARS: tuple[int, int] = (1900, 2100)
#: The date forms read without ``date_format=`` (listed in every date error message).
DATE_FORMS = (
    "2022-03-05, 2022/3/5 or 2022年3月5日, optionally with a time (2022-03-05 10:30[:15]) "
    "and an offset (2022-03-05T10:30:00+08:00 or Z); Unix seconds/milliseconds for a whole "
    "column of 10/13-digit numbers"
)

_DATE_RE = re.compile(
    r"^(?P<year>\d{4})-(?P<month>\d{1,2})-(?P<day>\d{1,2})"
    r"(?:[ T]+(?P<hour>\d{1,2}):(?P<minute>\d{2})(?::(?P<second>\d{2})(?:\.(?P<frac>\d{1,9}))?)?)?"
    r"\s*(?P<tz>Z|[+-]\d{2}:?\d{2})?$"
)
_TIME_ONLY = re.compile(r"^\d{1,2}:\d{2}(?::\d{2}(?:\.\d+)?)?$")
_DATE_CLEAN = [(re.compile(r"\s*年\s*"), "-"), (re.compile(r"\s*月\s*"), "-"), (re.compile(r"\s*日\s*"), " ")]


def parse_datetime(
    values: pd.Series, *, tz: str = LOCAL_TZ, date_format: str | None = None
) -> tuple[pd.Series, pd.Series]:
    """Parse dates/times as Chinese data writes them into tz-aware timestamps.

    Accepts ``2022-03-05``, ``2022/3/5``, ``2022年3月5日``, with an optional time,
    ISO 8601 with an offset, Unix time in seconds or milliseconds (a column of 10-
    or 13-digit numbers, UTC), and datetime objects. Naive values are taken as local
    time in ``tz``; aware ones are converted to it. Everything else is refused rather
    than guessed: ``19-3-5`` and ``02/06/2022`` are ambiguous, a bare ``10:30`` has no
    date, and years outside :data:`DATE_YEARS` are typos or sentinels. A file using
    another form says so with ``date_format`` (a :func:`~datetime.datetime.strptime`
    format such as ``"%d/%m/%Y"``). :func:`date_problems` tells why each value failed.

    Parameters
    ----------
    values : Series
        Raw values.
    tz : str, default "Asia/Shanghai"
        Time zone of naive values and of the result.
    date_format : str, optional
        The strptime format every non-empty value uses (instead of the accepted forms).

    Returns
    -------
    parsed : Series
        ``datetime64[ns, tz]`` values (NaT where missing or refused).
    bad : Series of bool
        True where a non-empty value could not be parsed.

    Examples
    --------
    >>> parsed, bad = parse_datetime(pd.Series(["2022年3月5日", "2022/3/5", "02/06/2022"]))
    >>> parsed.dt.strftime("%Y-%m-%d").tolist()[:2], bad.tolist()
    (['2022-03-05', '2022-03-05'], [False, False, True])
    """
    parsed, reason = date_problems(values, tz=tz, date_format=date_format)
    return parsed, reason != ""


def date_problems(
    values: pd.Series, *, tz: str = LOCAL_TZ, date_format: str | None = None
) -> tuple[pd.Series, pd.Series]:
    """Parse like :func:`parse_datetime`, returning why each refused value failed.

    Parameters
    ----------
    values : Series
        Raw values.
    tz : str, default "Asia/Shanghai"
        Time zone of naive values and of the result.
    date_format : str, optional
        The strptime format of the values.

    Returns
    -------
    parsed : Series
        ``datetime64[ns, tz]`` values.
    reason : Series of str
        ``""`` where the value parsed or is empty, else the reason it was refused.

    Examples
    --------
    >>> date_problems(pd.Series(["10:30", "0022-03-05"]))[1].tolist()
    ['a time without a date', 'year outside 1900–2100']
    """
    if pd.api.types.is_datetime64_any_dtype(values):
        parsed = pd.Series(pd.to_datetime(values), index=values.index)
        missing = values.isna()
        parsed = (parsed.dt.tz_localize(tz) if parsed.dt.tz is None else parsed.dt.tz_convert(tz))
        reason = pd.Series("", index=values.index, dtype=object)
    else:
        text = values.map(_as_text) if values.dtype == object else values.astype("string")
        text = text.astype("string").str.strip()
        missing = text.isna() | (text == "")
        uniq = pd.Series(text[~missing].unique(), dtype="string")
        u_parsed, u_reason = _parse_unique(uniq, tz=tz, date_format=date_format)
        pos = pd.Index(uniq).get_indexer(text.where(~missing))
        has = pos >= 0
        stamps = np.full(len(text), np.datetime64("NaT"), dtype="datetime64[ns]")
        stamps[has] = u_parsed.dt.tz_convert("UTC").dt.tz_localize(None).to_numpy(dtype="datetime64[ns]")[pos[has]]
        parsed = pd.Series(stamps, index=values.index).dt.tz_localize("UTC").dt.tz_convert(tz)
        reasons = np.full(len(text), "", dtype=object)
        reasons[has] = u_reason.to_numpy(dtype=object)[pos[has]]
        reason = pd.Series(reasons, index=values.index, dtype=object)
    years = parsed.dt.year
    out_of_range = parsed.notna() & ((years < DATE_YEARS[0]) | (years > DATE_YEARS[1]))
    reason = reason.where(~out_of_range, f"year outside {DATE_YEARS[0]}–{DATE_YEARS[1]}")
    parsed = parsed.where(~out_of_range)
    return parsed.astype(f"datetime64[ns, {tz}]"), reason.where(~missing, "")


def _as_text(value: Any) -> Any:
    """Datetime objects of an object column as ISO text; everything else unchanged."""
    import datetime as _dt

    if isinstance(value, _dt.datetime | _dt.date):
        return value.isoformat()
    return value


def _parse_unique(text: pd.Series, *, tz: str, date_format: str | None) -> tuple[pd.Series, pd.Series]:
    """Parse distinct non-empty strings; return UTC timestamps and refusal reasons."""
    if date_format is not None:
        return _parse_with_format(text, tz=tz, date_format=date_format)
    epoch = text.str.fullmatch(r"\d{10}(?:\d{3})?")
    if len(text) and epoch.all():
        # Unix time as patrol apps export it: seconds (10 digits) or milliseconds (13), UTC.
        unit = "ms" if text.str.len().max() == 13 else "s"
        parsed = pd.Series(pd.to_datetime(pd.to_numeric(text), unit=unit, utc=True))
        return parsed, pd.Series("", index=text.index, dtype=object)
    clean = text.map(lambda v: unicodedata.normalize("NFKC", v))
    for pattern, repl in _DATE_CLEAN:
        clean = clean.str.replace(pattern, repl, regex=True)
    clean = clean.str.replace("/", "-", regex=False).str.strip()
    parts = clean.str.extract(_DATE_RE)
    matched = parts["year"].notna()
    nums = parts[["year", "month", "day", "hour", "minute", "second"]].astype("Float64").fillna(0)
    years = nums["year"]
    in_range = (years >= DATE_YEARS[0]) & (years <= DATE_YEARS[1])
    ok = matched & in_range
    local = pd.to_datetime(nums.where(ok, 2000).astype("int64").assign(
        month=lambda d: d["month"].where(ok, 1), day=lambda d: d["day"].where(ok, 1)), errors="coerce")
    frac = parts["frac"].fillna("0").str.ljust(9, "0").astype("int64")
    local = local + pd.to_timedelta(frac, unit="ns")
    offset = pd.Series([_offset_minutes(z) if isinstance(z, str) else np.nan for z in parts["tz"]],
                       index=text.index, dtype=float)
    aware = offset.notna()
    utc = (local - pd.to_timedelta(offset.fillna(0), unit="min")).dt.tz_localize("UTC")
    naive = local.dt.tz_localize(tz, ambiguous="NaT", nonexistent="NaT").dt.tz_convert("UTC")
    parsed = utc.where(aware, naive).where(ok)
    reason = pd.Series("", index=text.index, dtype=object)
    reason[~matched] = "not one of the accepted date forms"
    reason[~matched & clean.str.fullmatch(_TIME_ONLY)] = "a time without a date"
    reason[matched & ~in_range] = f"year outside {DATE_YEARS[0]}–{DATE_YEARS[1]}"
    reason[ok & parsed.isna()] = "not a calendar date/time"
    return parsed, reason


def _offset_minutes(zone: str) -> float:
    if zone == "Z":
        return 0.0
    sign = -1 if zone[0] == "-" else 1
    digits = zone[1:].replace(":", "")
    return sign * (int(digits[:2]) * 60 + int(digits[2:]))


def _parse_with_format(text: pd.Series, *, tz: str, date_format: str) -> tuple[pd.Series, pd.Series]:
    """Parse with an explicit strptime format (values outside DATE_YEARS refused later)."""
    import datetime as _dt

    def one(value: str) -> Any:
        try:
            stamp = _dt.datetime.strptime(value, date_format)
        except ValueError:
            return None
        if not DATE_YEARS[0] <= stamp.year <= DATE_YEARS[1]:
            return "range"
        ts = pd.Timestamp(stamp)
        return ts.tz_localize(tz) if ts.tzinfo is None else ts

    results = text.map(one)
    reason = pd.Series("", index=text.index, dtype=object)
    reason[results.isna()] = f"does not match date_format {date_format!r}"
    reason[results.astype(object).eq("range")] = f"year outside {DATE_YEARS[0]}–{DATE_YEARS[1]}"
    stamps = results.where(reason == "", None)
    parsed = pd.Series(pd.to_datetime(stamps.tolist(), utc=True), index=text.index) if len(text) else \
        pd.Series([], dtype="datetime64[ns, UTC]")
    return parsed, reason


_INTEGRAL_TEXT = re.compile(r"^[+-]?\d+\.0+$")


def normalize_ids(values: Any) -> tuple[pd.Series, pd.Series]:
    """Normalise feature ids so that every layer writes the same id the same way.

    A DBF numeric (N) field or a GeoPackage REAL column delivers the id ``101`` as the
    float ``101.0``, a CSV as the text ``"101"``: both become ``"101"`` so that sections
    and measurements join. Text is stripped; text like ``"101.0"`` (a float exported as
    text) also becomes ``"101"``. A number with a fractional part (``101.5``) or an
    infinite one is refused: it is not an id.

    Parameters
    ----------
    values : array-like
        Raw ids.

    Returns
    -------
    ids : Series of object
        Ids as strings (``None`` where missing or refused).
    bad : Series of bool
        True where a present value was refused.

    Examples
    --------
    >>> ids, bad = normalize_ids(pd.Series([101.0, "101", " 102.0 ", 101.5, None], dtype=object))
    >>> ids.tolist(), bad.tolist()
    (['101', '101', '102', None, None], [False, False, False, True, False])
    """
    series = values if isinstance(values, pd.Series) else pd.Series(values, dtype=object)
    raw = series.to_numpy(dtype=object)
    codes, uniques = pd.factorize(raw, use_na_sentinel=True)  # ids repeat: normalise each once
    done = [_one_id(v) for v in uniques]
    texts = np.array([t for t, _ in done] + [None], dtype=object)
    refused = np.array([r for _, r in done] + [False], dtype=bool)
    return (pd.Series(texts[codes], index=series.index, dtype=object),
            pd.Series(refused[codes], index=series.index))


def _one_id(value: Any) -> tuple[str | None, bool]:
    if value is None or value is pd.NA or value is pd.NaT:
        return None, False
    if isinstance(value, bool | np.bool_):
        return str(value), False
    if isinstance(value, int | np.integer):
        return str(int(value)), False
    if isinstance(value, float | np.floating):
        if np.isnan(value):
            return None, False
        if not np.isfinite(value) or not float(value).is_integer():
            return None, True
        return str(int(value)), False
    text = str(value).strip()
    if text == "":
        return None, False
    if _INTEGRAL_TEXT.match(text):
        return text.split(".")[0].lstrip("+"), False
    return text, False


#: Excel serial day numbers accepted as dates: five digits (1927-05-18 … 2173-10-14), so
#: that a year (``2022``) or a Unix time (10 or 13 digits) is never taken for one.
EXCEL_SERIAL_RANGE: tuple[int, int] = (10000, 99999)
_EXCEL_EPOCH = pd.Timestamp("1899-12-30")  # serial 1 = 1900-01-01 after Excel's 1900 leap-year bug
_SERIAL = re.compile(r"^\d{5}(?:\.\d+)?$")


def parse_excel_serial(values: pd.Series, *, tz: str = LOCAL_TZ) -> pd.Series:
    """Convert Excel serial day numbers (``44621`` = 2022-03-01) to tz-aware timestamps.

    A date cell that Excel shows as a number (a date column formatted as *General*) holds
    the days since 1899-12-30 (the 1900 date system of Windows Excel), with the time of
    day as the fraction. Only five-digit serials (:data:`EXCEL_SERIAL_RANGE`, 1927–2173)
    are taken, so a year or a Unix time is never read as a serial. Pass the rest to
    :func:`parse_datetime`.

    Parameters
    ----------
    values : Series
        Raw values (numbers or text).
    tz : str, default "Asia/Shanghai"
        Time zone the serials are local time in (Excel stores no zone).

    Returns
    -------
    Series
        ``datetime64[ns, tz]``: the date where the value is a serial, NaT elsewhere.

    Examples
    --------
    >>> parse_excel_serial(pd.Series(["44621", 44621.5, "2022-03-01"])).dt.strftime("%Y-%m-%d %H:%M").tolist()
    ['2022-03-01 00:00', '2022-03-01 12:00', nan]
    """
    text = values.map(lambda v: repr(float(v)) if isinstance(v, float | np.floating) else str(v))
    text = text.str.strip().str.replace(r"\.0$", "", regex=True)
    serial = text.str.fullmatch(_SERIAL.pattern, na=False) & values.notna()
    days = pd.to_numeric(text.where(serial), errors="coerce")
    lo, hi = EXCEL_SERIAL_RANGE
    days = days.where((days >= lo) & (days < hi + 1))
    stamps = _EXCEL_EPOCH + pd.to_timedelta(days.round(6), unit="D")
    return pd.Series(stamps, index=values.index).dt.round("s").dt.tz_localize(tz)


@dataclass
class ValidationResult:
    """Outcome of :func:`standardize`: the clean table, problems found and repairs made.

    Attributes
    ----------
    data : DataFrame or GeoDataFrame
        The table with canonical field names and normalised values.
    problems : list of DongpingGeoError
        Every problem found (empty when the layer is clean).
    repairs : list of str
        What ``repair=True`` changed, one line per feature.
    issues : list of RowIssue
        The problems with the rows at fault (``mask``) and each row's value and reason,
        so that a loader can set bad rows aside (``on_error="report"``).
    """

    data: Any
    problems: list = field(default_factory=list)
    repairs: list[str] = field(default_factory=list)
    issues: list = field(default_factory=list)

    @property
    def table_problems(self) -> list:
        """Problems of the whole layer (no row can be set aside for them)."""
        return [i.error for i in self.issues if i.mask is None]

    @property
    def rejected_mask(self) -> np.ndarray:
        """Positional mask of the rows with at least one row-level problem."""
        mask = np.zeros(len(self.data), dtype=bool)
        for issue in self.issues:
            if issue.mask is not None:
                mask |= issue.mask
        return mask


def _ids(df: pd.DataFrame, schema: LayerSchema, mask: Any) -> list[str]:
    """Feature ids (or row labels) where mask is True, for messages."""
    rows = df.index[np.asarray(mask, dtype=bool)]
    if schema.id_field and schema.id_field in df.columns:
        return [str(v) for v in df.loc[rows, schema.id_field].tolist()]
    return [f"row {r}" for r in rows]


def _id_list(ids: list[str], limit: int = 5) -> str:
    shown = ", ".join(ids[:limit])
    return shown + (f" (and {len(ids) - limit} more)" if len(ids) > limit else "")


class _Checker:
    """Builds row-level issues for one layer (ids, context) while its fields are checked."""

    def __init__(self, data: pd.DataFrame, schema: LayerSchema, path: Any) -> None:
        self.data = data
        self.schema = schema
        self.ctx = {"path": path, "layer": schema.name}

    def issue(
        self, problem: str, f: Field, mask: Any, raw: pd.Series, *, expected: str, fix: str,
        reasons: Any = None, error: type = SchemaError,
    ) -> Any:
        from ._validation import RowIssue

        mask = np.asarray(mask, dtype=bool)
        values = [str(v) for v in raw.to_numpy(dtype=object)[mask]]
        why = list(reasons) if reasons is not None else [problem] * len(values)
        found = ", ".join(repr(v) for v in values[:5])
        if reasons is not None and len(set(why)) > 0:
            found += f" ({why[0]})"
        return RowIssue(error(
            problem, **self.ctx, field=f.name, feature_id=_id_list(_ids(self.data, self.schema, mask)),
            expected=expected, found=found, fix=fix,
        ), mask, f.name, values, why, fix)


def _present(col: pd.Series) -> pd.Series:
    if pd.api.types.is_datetime64_any_dtype(col) or pd.api.types.is_numeric_dtype(col):
        return col.notna()  # no blank strings possible; skip the costly str conversion
    return col.notna() & (col.astype(str).str.strip() != "")


def _norm_str(chk: _Checker, f: Field, col: pd.Series, present: pd.Series, opts: dict) -> tuple[pd.Series, list]:
    issues = []
    if f.name.endswith("_id") or f.unique:
        text, bad = normalize_ids(col)
        if bad.any():
            issues.append(chk.issue("id is not a whole number", f, bad, col, expected="a text or whole-number id",
                                    fix="correct the id (a number id must be whole: 101, not 101.5)"))
    else:
        text = col.where(~present, col.astype(str).str.strip()).where(present, None)
    if f.values:
        mapped = text.astype(object).where(text.notna(), None).map(
            lambda v: f.value_aliases.get(v.lower()) if isinstance(v, str) else None)
        unknown = present & mapped.isna()
        if unknown.any():
            allowed = ", ".join(f"{k} ({'/'.join(v)})" for k, v in f.values.items())
            issues.append(chk.issue("unknown value", f, unknown, col, expected=f"one of {allowed}",
                                    fix=f"correct the value or map it to an allowed {f.name}"))
        text = mapped.where(present & mapped.notna(), text)
    return text.astype(object), issues


def _norm_class(chk: _Checker, f: Field, col: pd.Series, present: pd.Series, opts: dict) -> tuple[pd.Series, list]:
    values = [(_parse_class(v) if ok else None) for v, ok in zip(col.to_numpy(dtype=object), present, strict=True)]
    out = pd.Series(values, index=col.index, dtype=object)
    bad = present & out.isna()
    issues = []
    if bad.any():
        issues.append(chk.issue("not a water-quality class", f, bad, col,
                                expected="I, II, III, IV, V or 劣V (Ⅲ, Ⅲ类, 3, 三类 accepted)",
                                fix="write the class as I…V"))
    return out, issues


def _norm_number(chk: _Checker, f: Field, col: pd.Series, present: pd.Series, opts: dict) -> tuple[pd.Series, list]:
    num = pd.to_numeric(col.where(present), errors="coerce").astype(float)
    issues = []
    bad = present & num.isna()
    if bad.any():
        issues.append(chk.issue("value is not a number", f, bad, col, expected="a number", fix="correct the value"))
    infinite = present & np.isinf(num)
    if infinite.any():
        issues.append(chk.issue("value is not finite", f, infinite, col, expected="a finite number",
                                fix="correct the value (inf, 1e400 and the like are not measurements)"))
    if f.minimum is not None:
        low = present & np.isfinite(num) & (num < f.minimum)
        if low.any():
            issues.append(chk.issue("value below the allowed minimum", f, low, col,
                                    expected=f"at least {f.minimum:g}", fix=f"correct {f.name} ({f.zh})"))
    num = num.where(~(bad | infinite))
    if f.dtype == "int" and num.dropna().apply(float.is_integer).all():
        return num.astype("Int64"), issues
    return num, issues


def _norm_date(chk: _Checker, f: Field, col: pd.Series, present: pd.Series, opts: dict) -> tuple[pd.Series, list]:
    parsed, reason = date_problems(col, tz=opts.get("tz", LOCAL_TZ), date_format=opts.get("date_format"))
    bad = reason != ""
    issues = []
    if bad.any():
        fmt = opts.get("date_format")
        expected = f"a date/time in the form {fmt!r}" if fmt else f"one of the accepted forms: {DATE_FORMS}"
        issues.append(chk.issue("cannot parse date/time", f, bad, col, expected=expected, reasons=reason[bad],
                                fix="correct the value, or say which form the file uses with date_format= "
                                    "(--date-format), e.g. '%d/%m/%Y'"))
    return (parsed.dt.normalize() if f.dtype == "date" else parsed), issues


_NORMALISERS = {"str": _norm_str, "water_class": _norm_class, "int": _norm_number, "float": _norm_number,
                "date": _norm_date, "datetime": _norm_date}


def _table_issues(out: pd.DataFrame, raw: pd.DataFrame, schema: LayerSchema, ctx: dict) -> list:
    """Problems of the whole layer: required fields missing, no rows."""
    from ._validation import RowIssue

    issues = []
    for f in schema.fields:
        if f.required and f.name not in out.columns:
            issues.append(RowIssue(SchemaError(
                "required field is missing", **ctx, field=f.name,
                expected=f"a column named {f.name} or {f.zh}" + (f" (Shapefile: {f.short})" if f.short != f.name else ""),
                found="columns " + ", ".join(map(str, [c for c in raw.columns if c != "geometry"])),
                fix=f"add or rename the column to {f.name}",
            ), None))
    if len(out) == 0:
        issues.append(RowIssue(SchemaError(
            "the layer is empty", **ctx, expected="at least one feature", found="0 features",
            fix="check that the right file/layer was given",
        ), None))
    return issues


def _field_issues(out: pd.DataFrame, chk: _Checker, opts: dict) -> list:
    """Normalise every field in place; return the row-level problems."""
    issues: list = []
    for f in chk.schema.fields:
        if f.name not in out.columns:
            continue
        col = out[f.name]
        present = _present(col)
        if f.required and (~present).any():
            issues.append(chk.issue("required value is empty", f, ~present, col, expected="a value in every feature",
                                    fix=f"fill in {f.name} ({f.zh})"))
        out[f.name], found = _NORMALISERS[f.dtype](chk, f, col, present, opts)
        issues += found
    return issues


def _unique_issues(out: pd.DataFrame, chk: _Checker) -> list:
    issues = []
    for f in chk.schema.fields:
        if f.unique and f.name in out.columns:
            dup = out[f.name].duplicated(keep=False) & out[f.name].notna()
            if dup.any():
                issues.append(chk.issue("duplicate id", f, dup, out[f.name], expected=f"unique {f.name} values",
                                        fix="give every feature its own id"))
    return issues


def _geometry_issues(out: pd.DataFrame, chk: _Checker, repair: bool) -> tuple[pd.DataFrame, list, list[str]]:
    """Check the layer's geometries with the one policy of :mod:`dongping_geo._validation`."""
    import geopandas as gpd

    from ._validation import RowIssue, check_geometries

    schema = chk.schema
    if schema.geometry is None:
        return out, [], []
    if not isinstance(out, gpd.GeoDataFrame):
        return out, [RowIssue(SchemaError(
            "the layer has no geometry", **chk.ctx,
            expected=" or ".join(schema.geometry), found="a table without geometry",
            fix="give a spatial file (Shapefile, GeoPackage, GeoJSON, GeoParquet)",
        ), None)], []
    ids = np.array(_ids(out, schema, np.ones(len(out), dtype=bool)), dtype=object)
    geoms, issues, repairs = check_geometries(out.geometry.values, allowed=schema.geometry, ids=ids,
                                              layer=schema.name, path=chk.ctx["path"], repair=repair)
    if repairs:
        out[out.geometry.name] = gpd.GeoSeries(geoms, index=out.index, crs=out.crs)
    return out, issues, repairs


def standardize(
    df: pd.DataFrame,
    layer: str | LayerSchema,
    *,
    path: Any = None,
    repair: bool = False,
    date_format: str | None = None,
    tz: str = LOCAL_TZ,
) -> ValidationResult:
    """Rename aliases, normalise values and check a layer against its schema.

    Checks: required fields present; at least one feature; geometry type allowed,
    no missing/empty geometry, valid geometry (or repaired when ``repair=True``, see
    :mod:`dongping_geo._validation` for the policy); allowed values (Chinese aliases
    mapped to canonical values); ids normalised (:func:`normalize_ids`); dates
    (:func:`parse_datetime`) and finite numbers within their field's minimum; ids unique.

    Parameters
    ----------
    df : DataFrame or GeoDataFrame
        The table as read.
    layer : str or LayerSchema
        Layer name or schema.
    path : path-like, optional
        Source file, named in messages.
    repair : bool, default False
        Make invalid geometries valid and report what changed instead of failing.
    date_format : str, optional
        strptime format of the date fields (default: the accepted forms).
    tz : str, default "Asia/Shanghai"
        Time zone of naive times.

    Returns
    -------
    ValidationResult
        Clean data, the list of problems (exceptions, not raised), repairs and the
        row-level issues.

    Raises
    ------
    SchemaError
        If ``layer`` is not a known layer, or two columns hold the same field.

    Examples
    --------
    >>> import geopandas as gpd, shapely
    >>> gdf = gpd.GeoDataFrame({"河道编码": ["R1"], "河道名称": ["洪林河"], "河道等级": ["镇管"]},
    ...                        geometry=[shapely.LineString([(0, 0), (1, 0)])], crs=4549)
    >>> res = standardize(gdf, "rivers")
    >>> res.data["level"].tolist(), res.problems
    (['town'], [])
    """
    schema = layer if isinstance(layer, LayerSchema) else get_schema(layer)
    out = rename_aliases(df, schema, path=path).copy()
    chk = _Checker(out, schema, path)
    issues = _table_issues(out, df, schema, chk.ctx)
    repairs: list[str] = []
    if len(out):
        issues += _field_issues(out, chk, {"date_format": date_format, "tz": tz})
        issues += _unique_issues(out, chk)
        out, geo_issues, repairs = _geometry_issues(out, chk, repair)
        issues += geo_issues
    return ValidationResult(out, [i.error for i in issues], repairs, issues)



# --- labels and colours of outputs (tables, charts, maps, QGIS styles) --------------
# One table per category: the Chinese and English label of every value, and its colour.
# Tables (dongping_geo.tables), charts, HTML maps and QGIS styles all read these.

#: Chinese and English label of every category value, per canonical field:
#: ``{field: {value: (zh, en)}}``. ``target_class`` and ``class_<item>`` columns use
#: the ``water_class`` table (see :func:`category_field`).
CATEGORY_LABELS: dict[str, dict[Any, tuple[str, str]]] = {
    "level": {"district": ("区管", "District"), "town": ("镇管", "Town"), "village": ("村管", "Village")},
    "region": {
        "dongfeng": ("东风片区", "Dongfeng"),
        "changjiang": ("长江片区", "Changjiang"),
        "qianjin": ("前进片区", "Qianjin"),
        "qianshao": ("前哨片区", "Qianshao"),
    },
    "tier": {
        "national": ("国考", "National"),
        "municipal": ("市考", "Municipal"),
        "district": ("区考", "District"),
        "town": ("镇考", "Town"),
        "all": ("全部", "All"),  # the total rows of water_quality.compliance_summary
    },
    "category": {
        "eco_redline": ("生态保护红线", "Ecological red line"),
        "eco_space_1": ("一类生态空间", "Eco-space I"),
        "eco_space_2": ("二类生态空间", "Eco-space II"),
        "eco_space_3": ("三类生态空间", "Eco-space III"),
        "eco_space_4": ("四类生态空间", "Eco-space IV"),
        "basic_farmland": ("永久基本农田", "Basic farmland"),
    },
    "kind": {
        "illegal_building": ("违法建筑", "Illegal building"),
        "concrete_plant": ("混凝土搅拌站", "Concrete plant"),
        "plastic_recycling": ("废塑料加工点", "Plastic recycling"),
        "gravel_yard": ("碎石加工场", "Gravel yard"),
        "greenhouse_housing": ("大棚房", "Greenhouse housing"),
        "villa": ("违建别墅", "Illegal villa"),
        "shack": ("窝棚彩钢棚", "Shack"),
        # problems.kind (巡河问题类型); the values differ from the demolition kinds above
        "floating_debris": ("水面漂浮物", "Floating debris"),
        "outfall": ("排污口", "Outfall or discharge"),
        "encroachment": ("涉河违建", "Structure on the bank"),
        "dumping": ("乱堆乱放", "Dumping"),
        "bank_damage": ("护岸损坏", "Bank damage"),
        "water_anomaly": ("水体异常", "Water colour or smell"),
        "signboard_damage": ("公示牌破损", "Signboard damage"),
        "other": ("其他", "Other"),
    },
    "status": {  # problems.status (处理状态); demolitions.status is free text and passes through
        "reported": ("已上报", "Reported"),
        "assigned": ("已交办", "Assigned"),
        "resolved": ("已办结", "Resolved"),
        "closed": ("已销号", "Closed"),
    },
    "board_check": {  # problems.check_signboards findings
        "no_board": ("未设公示牌", "No signboard"),
        "unknown_river": ("河道不存在", "Unknown river"),
        "wrong_chief": ("河长不符", "Wrong chief on board"),
        "too_far": ("距河道过远", "Too far from the river"),
        "stale": ("未及时更新", "Not updated since the chief changed"),
    },
    "water_class": {
        "I": ("Ⅰ类", "Class I"),
        "II": ("Ⅱ类", "Class II"),
        "III": ("Ⅲ类", "Class III"),
        "IV": ("Ⅳ类", "Class IV"),
        "V": ("Ⅴ类", "Class V"),
        "劣V": ("劣Ⅴ类", "Worse than V"),
    },
    "grade": {
        "优": ("优", "Excellent"),
        "良好": ("良好", "Good"),
        "轻度污染": ("轻度污染", "Slightly polluted"),
        "中度污染": ("中度污染", "Moderately polluted"),
        "重度污染": ("重度污染", "Heavily polluted"),
    },
    "check": {  # the land-use checks (violations.gpkg layers, the ``check`` column)
        "redline": ("生态红线/生态空间", "Eco red line & space"),
        "farmland": ("永久基本农田", "Basic farmland"),
        "setback": ("河道管理范围", "River setback"),
        "rebuilt": ("拆后复建", "Rebuilt on demolished site"),
        "landcover_change": ("地类变化", "Land-cover change"),
        "cropland": ("乱占耕地建房", "House on cultivated land"),
    },
    "compliant": {True: ("达标", "met"), False: ("未达标", "missed")},
    "meets_target": {True: ("达标", "met"), False: ("未达标", "missed")},
    "cover_group": {  # catchments.COVER_GROUPS: land-cover groups behind a section's class
        "farmland": ("耕地", "Farmland"),
        "greenhouse": ("设施农用地(大棚)", "Greenhouse"),
        "built_up": ("建设用地(含裸地)", "Built-up and bare"),
        "natural": ("林地、湿地、水域", "Forest, wetland, water"),
    },
    "qualifier": {"<": ("未检出", "below detection limit"), "=": ("检出", "measured")},
    "period": {  # patrol rule periods (patrol.compliance)
        "day": ("日", "day"),
        "week": ("周", "week"),
        "month": ("月", "month"),
        "quarter": ("季度", "quarter"),
        "year": ("年", "year"),
    },
    "method": {"mean": ("均值法", "mean"), "share": ("断面类别比例法", "share of sections")},
    "reason": {  # why patrol.clean_fixes dropped a GPS fix
        "missing": ("缺少坐标或时间", "missing"),
        "outside area": ("超出镇域", "outside area"),
        "duplicate": ("重复定位", "duplicate"),
        "speed jump": ("GPS跳点", "speed jump"),
    },
}

#: Label of a missing category value.
MISSING_LABEL: tuple[str, str] = ("未知", "Unknown")
#: Colour of a missing or unknown category value.
MISSING_COLOUR: str = "#999999"

# Blue (I-II), green (III), yellow (IV), orange (V), red (worse than V): the colour
# scheme of China's surface-water quality assessment method.
_WATER_CLASS_COLOURS: dict[Any, str] = {
    "I": "#00b0f0", "II": "#0070c0", "III": "#00b050", "IV": "#ffd700", "V": "#ff8c00", "劣V": "#e00000",
}  # fmt: skip
_MET_COLOURS: dict[Any, str] = {True: "#1a9641", False: "#d7191c"}

#: Colour of every category value, per canonical field (the HTML maps, charts and
#: QGIS styles use the same): ``{field: {value: "#rrggbb"}}``.
CATEGORY_COLOURS: dict[str, dict[Any, str]] = {
    "water_class": _WATER_CLASS_COLOURS,
    "grade": {  # each grade in the colour of the class it stands for
        "优": _WATER_CLASS_COLOURS["II"],
        "良好": _WATER_CLASS_COLOURS["III"],
        "轻度污染": _WATER_CLASS_COLOURS["IV"],
        "中度污染": _WATER_CLASS_COLOURS["V"],
        "重度污染": _WATER_CLASS_COLOURS["劣V"],
    },
    "level": {"district": "#08306b", "town": "#2171b5", "village": "#6baed6"},
    "region": {"dongfeng": "#1b9e77", "changjiang": "#7570b3", "qianjin": "#d95f02", "qianshao": "#e7298a"},
    "tier": {"national": "#e31a1c", "municipal": "#ff7f00", "district": "#6a3d9a", "town": "#33a02c"},
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
        "floating_debris": "#1f78b4",
        "outfall": "#e31a1c",
        "encroachment": "#6a3d9a",
        "dumping": "#ff7f00",
        "bank_damage": "#b15928",
        "water_anomaly": "#4d4d4d",
        "signboard_damage": "#fb9a99",
        "other": "#999999",
    },
    "status": {"reported": "#d7191c", "assigned": "#fdae61", "resolved": "#a6d96a", "closed": "#1a9641"},
    "board_check": {
        "no_board": "#e41a1c",
        "unknown_river": "#999999",
        "wrong_chief": "#984ea3",
        "too_far": "#ff7f00",
        "stale": "#377eb8",
    },
    "check": {
        "redline": "#d7191c",
        "farmland": "#e6ab02",
        "setback": "#2c7bb6",
        "rebuilt": "#7b3294",
        "landcover_change": "#1a9641",
        "cropland": "#8c510a",
    },
    "compliant": _MET_COLOURS,
    "meets_target": _MET_COLOURS,
    "qualifier": {"<": "#9e9e9e", "=": "#1f78b4"},
}

#: Fields whose values are water-quality classes, besides ``water_class`` itself.
_CLASS_FIELD_ALIASES = ("target_class",)


# Land classes of the survey (dongping_geo.landclass is their one home): first-level classes
# and second-level codes, labelled and coloured for maps and reports.
from .landclass import LAND_CLASSES as _LAND_CLASSES  # noqa: E402

CATEGORY_LABELS["land_class"] = {k: (v[1], v[2]) for k, v in _LAND_FIRST_LEVEL.items()}
CATEGORY_COLOURS["land_class"] = {k: v[3] for k, v in _LAND_FIRST_LEVEL.items()}
CATEGORY_LABELS["land_code"] = {c: (lc.zh, lc.en) for c, lc in _LAND_CLASSES.items()}
CATEGORY_COLOURS["land_code"] = {c: lc.colour for c, lc in _LAND_CLASSES.items()}

def category_field(column: str) -> str | None:
    """Return the field of :data:`CATEGORY_LABELS` that labels a column, or None.

    ``target_class`` and the per-item ``class_<item>`` columns of the water-quality
    assessment hold classes, labelled like ``water_class``.

    Parameters
    ----------
    column : str
        A column name.

    Returns
    -------
    str or None
        The key of :data:`CATEGORY_LABELS` / :data:`CATEGORY_COLOURS`, or None.

    Examples
    --------
    >>> category_field("class_TP"), category_field("kind"), category_field("name")
    ('water_class', 'kind', None)
    """
    if column in CATEGORY_LABELS:
        return column
    if column in _CLASS_FIELD_ALIASES or column.startswith("class_"):
        return "water_class"
    return None


#: Chinese names of the columns that analyses add (canonical layer fields take their
#: name from the layer's schema, ``Field.zh``). GB 3838 item columns (``TP``,
#: ``class_TP``, ``exceed_TP``) are named from the GB 3838 table instead.
OUTPUT_FIELD_LABELS: dict[str, str] = {
    # landuse.land_accounts, land_changes (the land survey, issue 18)
    "land_class_zh": "一级地类名称",
    "land_class_en": "一级地类英文名",
    "land_code_zh": "地类名称",
    "land_code_en": "地类英文名",
    "parcels": "图斑数",
    "area_mu": "面积",
    "net_area_mu": "地类面积",
    "from_land_code": "原地类",
    "to_land_code": "现地类",
    "from_code": "原地类编码",
    "to_code": "现地类编码",
    "changed": "是否变化",
    "before_parcel_id": "前期图斑编号",
    "after_parcel_id": "后期图斑编号",
    # patrol.river_coverage, uncovered_segments, compliance, clean_fixes
    "length_m": "长度",
    "covered_m": "已巡长度",
    "coverage": "覆盖率",
    "patrols_covering": "覆盖巡河次数",
    "last_patrolled": "最近巡河时间",
    "from_m": "起点里程",
    "to_m": "终点里程",
    "period": "时段",
    "periods": "时段数",
    "patrols_required": "应巡次数",
    "patrols_counted": "计入巡河次数",
    "not_counted_other_chief": "不计(非本河长)",
    "not_counted_too_short": "不计(过短)",
    "not_counted_too_fast": "不计(过快)",
    "not_counted_flagged": "不计(质量存疑)",
    "not_counted_too_little": "不计(覆盖不足)",
    "not_counted_outside_period": "不计(时段外)",
    "compliant": "是否达标",
    "missed_periods": "未达标时段",
    "rivers": "河道数",
    "rivers_compliant": "达标河道数",
    "row": "行号",
    "reason": "原因",
    "detail": "说明",
    # catchments report tables without a label elsewhere
    "rank": "排名",
    "value": "数值",
    "unit": "单位",
    "problem": "问题",
    "fix": "处理办法",
    # water_quality.assess_sections, assess_rivers, compliance_summary
    "n_samples": "样品数",
    "water_class": "水质类别",
    "meets_target": "是否达标",
    "grade": "水质状况",
    "main_pollutants": "主要污染指标",
    "determining": "定类指标",
    "n_sections": "断面数",
    "method": "评价方法",
    "share_I_III": "Ⅰ~Ⅲ类比例",
    "share_worse_V": "劣Ⅴ类比例",
    "n_sections_meeting_target": "达标断面数",
    "n_assessed": "参评断面数",
    "n_meeting": "达标断面数",
    "n_failing": "未达标断面数",
    "rate": "达标率",
    "failing_sections": "未达标断面",
    "water_temp": "水温",
    # landuse.check_violations, river_setback_violations, rebuilt_on_demolished, demolition_summary
    "check": "核查项",
    "feature_id": "编号",
    "overlap_m2": "重叠面积",
    "overlap_share": "占建筑比例",
    "site_share": "占原址比例",
    "setback_m": "管理范围宽度",
    "change_area_m2": "变化面积",
    "year": "年份",
    "count": "数量",
    # problems.problem_summary, overdue_problems, recurring_problems, problem_hotspots
    "problems": "问题数",
    "open": "未办结数",
    "overdue": "超期数",
    "resolved_late": "超期办结数",
    "median_days_to_resolve": "办结天数中位数",
    "p90_days_to_resolve": "办结天数90分位",
    "month": "月份",
    "days_open": "已挂账天数",
    "earlier_id": "前次问题编号",
    "earlier_resolved_at": "前次办结时间",
    "days_after": "办结后天数",
    "distance_m": "距离",
    "matches": "匹配数",
    "stretch": "河段序号",
    "per_km": "每公里问题数",
    # problems.check_signboards
    "board_check": "公示牌核查项",
    # problems.patrol_quality
    "start": "开始时间",
    "end": "结束时间",
    "fixes": "定位点数",
    "duration_min": "时长(分钟)",
    "whole_river_m": "全程巡查河道长度",
    "speed_kmh": "平均速度(km/h)",
    "stationary_share": "原地点比例",
    "far_share": "偏离责任河道点比例",
    "duplicate_of": "重复于",
    "too_short_time": "时长不足",
    "too_short_distance": "里程不足",
    "stationary": "原地不动",
    "too_fast": "速度过快",
    "far_from_own_rivers": "偏离责任河道",
    "duplicate": "重复上传",
    "flagged": "存疑",
    # catchments.section_catchments, section_drivers, greening_candidates, small_watershed_indicators
    "upstream_river_ids": "上游河道",
    "n_upstream_rivers": "上游河道数",
    "upstream_length_m": "上游河道长度",
    "bank_strip_m2": "岸带面积",
    "exceeding_items": "超标项目",
    "catchment_m2": "汇水区面积",
    "share_farmland": "汇水区耕地比例",
    "share_greenhouse": "汇水区大棚比例",
    "share_built_up": "汇水区建设用地比例",
    "share_natural": "汇水区自然覆盖比例",
    "strip_share_farmland": "岸带耕地比例",
    "strip_share_greenhouse": "岸带大棚比例",
    "strip_share_built_up": "岸带建设用地比例",
    "strip_share_natural": "岸带自然覆盖比例",
    "n_demolitions": "拆违数",
    "demolished_m2": "拆违面积",
    "n_violations": "违法用地数",
    "landcover": "地类",
    "landcover_zh": "地类名称",
    "sections": "下游未达标断面",
    "indicator": "指标",
    "indicator_zh": "指标名称",
    "computed": "是否计算",
    "note": "说明",
    # raster.detect_change, zonal_stats
    "change_id": "变化图斑编号",
    "from_class": "原地类代码",
    "from_name": "原地类",
    "to_class": "现地类代码",
    "to_name": "现地类",
    "n_pixels": "像元数",
    "before_date": "前期日期",
    "after_date": "后期日期",
}

#: Colours for category values without a colour of their own (free-text fields such
#: as ``status``), taken in turn (ColorBrewer Set1/Dark2 mix).
FALLBACK_COLOURS: tuple[str, ...] = (
    "#1b9e77", "#d95f02", "#7570b3", "#e7298a", "#66a61e", "#e6ab02", "#a6761d",
    "#1f78b4", "#b2df8a", "#fb9a99", "#cab2d6", "#6a3d9a",
)  # fmt: skip
