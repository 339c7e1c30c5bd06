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
    "Field",
    "LayerSchema",
    "PATROL_FLAG_LABELS",
    "PROBLEM_KIND_COLOURS",
    "PROBLEM_KIND_LABELS",
    "PROBLEM_OPEN_STATUSES",
    "PROBLEM_STATUS_COLOURS",
    "PROBLEM_STATUS_LABELS",
    "SCHEMAS",
    "SIGNBOARD_CHECK_COLOURS",
    "SIGNBOARD_CHECK_LABELS",
    "WATER_CLASSES",
    "get_schema",
    "normalize_water_class",
    "rename_aliases",
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
#: Bilingual labels of the problem kinds (``problems.kind``), as maps and tables show them.
PROBLEM_KIND_LABELS: dict[str, str] = {
    "floating_debris": "水面漂浮物 Floating debris",
    "outfall": "排污口/偷排 Outfall or discharge",
    "encroachment": "涉河违建 Structure on the bank",
    "dumping": "乱堆乱放 Dumping",
    "bank_damage": "护岸损坏 Bank damage",
    "water_anomaly": "水体异常 Water colour or smell",
    "signboard_damage": "公示牌破损 Signboard damage",
    "other": "其他 Other",
}
#: Map colours of the problem kinds (ColorBrewer Set1 + grey for other).
PROBLEM_KIND_COLOURS: dict[str, str] = {
    "floating_debris": "#377eb8",
    "outfall": "#e41a1c",
    "encroachment": "#984ea3",
    "dumping": "#ff7f00",
    "bank_damage": "#a65628",
    "water_anomaly": "#4d4d4d",
    "signboard_damage": "#f781bf",
    "other": "#999999",
}
#: Bilingual labels of the handling states (``problems.status``).
PROBLEM_STATUS_LABELS: dict[str, str] = {
    "reported": "已上报 Reported",
    "assigned": "已交办 Assigned",
    "resolved": "已办结 Resolved",
    "closed": "已销号 Closed",
}
#: Map colours of the handling states: open ones warm, handled ones green.
PROBLEM_STATUS_COLOURS: dict[str, str] = {
    "reported": "#d7191c",
    "assigned": "#fdae61",
    "resolved": "#a6d96a",
    "closed": "#1a9641",
}
#: Bilingual labels of the patrol-quality flags (``problems.patrol_quality`` columns).
PATROL_FLAG_LABELS: dict[str, str] = {
    "too_short_time": "时长不足 Too short in time",
    "too_short_distance": "里程不足 Too short in distance",
    "stationary": "原地不动 Stationary",
    "too_fast": "速度过快 Too fast for walking or cycling",
    "far_from_own_rivers": "偏离责任河道 Far from own rivers",
    "duplicate": "重复上传 Same track uploaded twice",
}
#: Bilingual labels and map colours of the signboard checks (``problems.check_signboards``).
SIGNBOARD_CHECK_LABELS: dict[str, str] = {
    "no_board": "未设公示牌 No signboard",
    "unknown_river": "河道不存在 Unknown river",
    "wrong_chief": "河长不符 Wrong chief on board",
    "too_far": "距河道过远 Too far from the river",
    "stale": "未及时更新 Not updated since the chief changed",
}
SIGNBOARD_CHECK_COLOURS: dict[str, str] = {
    "no_board": "#e41a1c",
    "unknown_river": "#999999",
    "wrong_chief": "#984ea3",
    "too_far": "#ff7f00",
    "stale": "#377eb8",
}

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
                Field("section_id", "str", "断面编码", description="Section code"),
                Field("sampled_at", "datetime", "采样日期", aliases=("采样时间",), description="Sampling date/time (Asia/Shanghai)"),
                Field("parameter", "str", "监测项目", description="GB 3838 item code (pH, DO, NH3_N …) or its Chinese name"),
                Field("value", "float", "监测值", description="Measured value (detection limit when qualifier is '<')"),
                Field("unit", "str", "单位", required=False, description="Unit (mg/L, µg/L …), normalised to mg/L"),
                Field("qualifier", "str", "标识", required=False, aliases=("修饰符",), description="'<' for below the detection limit"),
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
                Field("area_m2", "float", "面积", aliases=("拆除面积", "面积m2"), description="Demolished area in m²"),
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

_TZ_SUFFIX = re.compile(r"(?:Z|[+-]\d\d:?\d\d)$")
_DATE_CLEAN = [(re.compile(r"\s*年\s*"), "-"), (re.compile(r"\s*月\s*"), "-"), (re.compile(r"\s*日\s*"), " ")]


def parse_datetime(values: pd.Series, *, tz: str = "Asia/Shanghai") -> tuple[pd.Series, pd.Series]:
    """Parse dates/times as Chinese data writes them into tz-aware timestamps.

    Accepts ``2022-03-05``, ``2022/3/5``, ``2022年3月5日``, with an optional time,
    ISO 8601 with an offset, Unix time in seconds or milliseconds (a column of 10-
    or 13-digit numbers, UTC), and datetime objects. Naive values are taken as local
    time in ``tz``; aware ones are converted to it.

    Parameters
    ----------
    values : Series
        Raw values.
    tz : str, default "Asia/Shanghai"
        Time zone of naive values and of the result.

    Returns
    -------
    parsed : Series
        ``datetime64[ns, tz]`` values (NaT where missing or unparseable).
    bad : Series of bool
        True where a non-empty value could not be parsed.

    Examples
    --------
    >>> parsed, bad = parse_datetime(pd.Series(["2022年3月5日", "2022/3/5", "x"]))
    >>> parsed.dt.strftime("%Y-%m-%d").tolist()[:2], bad.tolist()
    (['2022-03-05', '2022-03-05'], [False, False, True])
    """
    if pd.api.types.is_datetime64_any_dtype(values):
        missing = values.isna()
        parsed = pd.Series(pd.to_datetime(values), index=values.index)
    else:
        missing = values.isna() | (values.astype(str).str.strip() == "")
        text = values.astype(str).str.strip()
        for pattern, repl in _DATE_CLEAN:
            text = text.str.replace(pattern, repl, regex=True)
        text = text.str.replace("/", "-", regex=False).str.strip().where(~missing)
        aware = text.str.contains(_TZ_SUFFIX, na=False)
        epoch = text.str.fullmatch(r"\d{10}(?:\d{3})?", na=False)
        if epoch.any() and (epoch | missing).all():
            # Unix time as patrol apps export it: seconds (10 digits) or milliseconds (13), UTC.
            unit = "ms" if text[epoch].str.len().max() == 13 else "s"
            parsed = pd.to_datetime(pd.to_numeric(text.where(epoch)), unit=unit, utc=True)
        elif aware.any():
            parsed = pd.to_datetime(text, format="mixed", utc=True, errors="coerce")
            naive = pd.to_datetime(text.where(~aware), format="mixed", errors="coerce")
            local = naive.dt.tz_localize(tz, ambiguous="NaT", nonexistent="NaT").dt.tz_convert("UTC")
            parsed = parsed.where(aware, local)
        else:
            parsed = pd.to_datetime(text, format="mixed", errors="coerce")
    if parsed.dt.tz is None:
        parsed = parsed.dt.tz_localize(tz, ambiguous="NaT", nonexistent="NaT")
    else:
        parsed = parsed.dt.tz_convert(tz)
    return parsed, parsed.isna() & ~missing


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
    """

    data: Any
    problems: list = field(default_factory=list)
    repairs: list[str] = field(default_factory=list)


def _ids(df: pd.DataFrame, schema: LayerSchema, mask: Any) -> list[str]:
    """Feature ids (or row numbers) where mask is True, for messages."""
    rows = df.index[mask]
    if schema.id_field and schema.id_field in df.columns:
        return [str(v) for v in df.loc[rows, schema.id_field].tolist()]
    return [f"row {r}" for r in rows]


def _id_list(ids: list[str], limit: int = 5) -> str:
    shown = ", ".join(ids[:limit])
    return shown + (f" (and {len(ids) - limit} more)" if len(ids) > limit else "")


def standardize(
    df: pd.DataFrame,
    layer: str | LayerSchema,
    *,
    path: Any = None,
    repair: bool = False,
) -> ValidationResult:
    """Rename aliases, normalise values and check a layer against its schema.

    Checks: required fields present; at least one feature; geometry type allowed,
    no missing/empty geometry, valid geometry (or repaired with
    :func:`shapely.make_valid` when ``repair=True``); allowed values (Chinese
    aliases mapped to canonical values); dates and numbers parseable; ids unique.

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

    Returns
    -------
    ValidationResult
        Clean data, the list of problems (exceptions, not raised) and repairs.

    Raises
    ------
    SchemaError
        If ``layer`` is not a known layer.

    Examples
    --------
    >>> import geopandas as gpd, shapely
    >>> gdf = gpd.GeoDataFrame({"河道编码": ["R1"], "河道名称": ["洪林河"], "河道等级": ["镇管"]},
    ...                        geometry=[shapely.LineString([(0, 0), (1, 0)])], crs=4549)
    >>> res = standardize(gdf, "rivers")
    >>> res.data["level"].tolist(), res.problems
    (['town'], [])
    """
    import geopandas as gpd
    import shapely

    from .errors import GeometryError

    schema = layer if isinstance(layer, LayerSchema) else get_schema(layer)
    ctx = {"path": path, "layer": schema.name}
    out = rename_aliases(df, schema, path=path).copy()
    problems: list = []
    repairs: list[str] = []

    missing = [f.name for f in schema.fields if f.required and f.name not in out.columns]
    for name in missing:
        f = schema.field(name)
        problems.append(SchemaError(
            "required field is missing", **ctx, field=name,
            expected=f"a column named {name} or {f.zh}" + (f" (Shapefile: {f.short})" if f.short != name else ""),
            found="columns " + ", ".join(map(str, [c for c in df.columns if c != "geometry"])),
            fix=f"add or rename the column to {name}",
        ))
    if len(out) == 0:
        problems.append(SchemaError(
            "the layer is empty", **ctx, expected="at least one feature", found="0 features",
            fix="check that the right file/layer was given",
        ))
        return ValidationResult(out, problems, repairs)

    for f in schema.fields:
        if f.name not in out.columns:
            continue
        col = out[f.name]
        if pd.api.types.is_datetime64_any_dtype(col) or pd.api.types.is_numeric_dtype(col):
            present = col.notna()  # no blank strings possible; skip the costly str conversion
        else:
            present = col.notna() & (col.astype(str).str.strip() != "")
        if f.required:
            blank = ~present
            if blank.any():
                problems.append(SchemaError(
                    "required value is empty", **ctx, field=f.name,
                    feature_id=_id_list(_ids(out, schema, blank)),
                    expected="a value in every feature", found=f"{int(blank.sum())} empty",
                    fix=f"fill in {f.name} ({f.zh})",
                ))
        if f.dtype == "str":
            text = col.where(~present, col.astype(str).str.strip()).where(present, None)
            if f.values:
                lookup = f.value_aliases
                mapped = text.str.lower().map(lookup)
                unknown = present & mapped.isna()
                if unknown.any():
                    bad_values = sorted(set(text[unknown].astype(str)))
                    allowed = ", ".join(f"{k} ({'/'.join(v)})" for k, v in f.values.items())
                    problems.append(SchemaError(
                        "unknown value", **ctx, field=f.name,
                        feature_id=_id_list(_ids(out, schema, unknown)),
                        expected=f"one of {allowed}", found=", ".join(map(repr, bad_values[:5])),
                        fix=f"correct the value or map it to an allowed {f.name}",
                    ))
                text = mapped.where(present & mapped.notna(), text)
            out[f.name] = text.astype(object)
        elif f.dtype == "water_class":
            normalized: list[str | None] = []
            bad = []
            for idx, v in col.items():
                if not present.loc[idx]:
                    normalized.append(None)
                    continue
                try:
                    normalized.append(normalize_water_class(v))
                except SchemaError:
                    normalized.append(None)
                    bad.append(idx)
            if bad:
                mask = out.index.isin(bad)
                problems.append(SchemaError(
                    "not a water-quality class", **ctx, field=f.name,
                    feature_id=_id_list(_ids(out, schema, mask)),
                    expected="I, II, III, IV, V or 劣V (Ⅲ, Ⅲ类, 3, 三类 accepted)",
                    found=", ".join(repr(col.loc[i]) for i in bad[:5]),
                    fix="write the class as I…V",
                ))
            out[f.name] = pd.Series(normalized, index=out.index, dtype=object)
        elif f.dtype in ("int", "float"):
            num = pd.to_numeric(col.where(present), errors="coerce")
            bad = present & num.isna()
            if bad.any():
                problems.append(SchemaError(
                    "value is not a number", **ctx, field=f.name,
                    feature_id=_id_list(_ids(out, schema, bad)),
                    expected="a number", found=", ".join(map(repr, col[bad].astype(str).tolist()[:5])),
                    fix="correct the value",
                ))
            out[f.name] = num
        elif f.dtype in ("date", "datetime"):
            parsed, bad = parse_datetime(col)
            if bad.any():
                problems.append(SchemaError(
                    "cannot parse date/time", **ctx, field=f.name,
                    feature_id=_id_list(_ids(out, schema, bad)),
                    expected="a date like 2022-03-05, 2022/3/5 or 2022年3月5日",
                    found=", ".join(map(repr, col[bad].astype(str).tolist()[:5])),
                    fix="correct the value or its format",
                ))
            out[f.name] = parsed.dt.normalize() if f.dtype == "date" else parsed

    for f in schema.fields:
        if f.unique and f.name in out.columns:
            dup = out[f.name].duplicated(keep=False) & out[f.name].notna()
            if dup.any():
                values = sorted(set(out.loc[dup, f.name].astype(str)))
                problems.append(SchemaError(
                    "duplicate id", **ctx, field=f.name, feature_id=_id_list(values),
                    expected=f"unique {f.name} values", found=f"{len(values)} ids used more than once",
                    fix="give every feature its own id",
                ))

    if schema.geometry is not None:
        if not isinstance(out, gpd.GeoDataFrame):
            problems.append(SchemaError(
                "the layer has no geometry", **ctx,
                expected=" or ".join(schema.geometry), found="a table without geometry",
                fix="give a spatial file (Shapefile, GeoPackage, GeoJSON, GeoParquet)",
            ))
            return ValidationResult(out, problems, repairs)
        geoms = out.geometry.values
        empty = shapely.is_missing(geoms) | shapely.is_empty(geoms)
        if empty.any():
            problems.append(GeometryError(
                "missing or empty geometry", **ctx, feature_id=_id_list(_ids(out, schema, empty)),
                expected="a geometry for every feature", found=f"{int(empty.sum())} empty",
                fix="digitise the features or drop them",
            ))
        names = pd.Series(out.geometry.geom_type, index=out.index)
        wrong = ~names.isin(schema.geometry) & ~empty
        if wrong.any():
            problems.append(GeometryError(
                "wrong geometry type", **ctx, feature_id=_id_list(_ids(out, schema, wrong)),
                expected=" or ".join(schema.geometry),
                found=", ".join(sorted(set(names[wrong].astype(str)))),
                fix=f"check that this is the {schema.name} ({schema.zh}) layer",
            ))
        invalid = ~shapely.is_valid(geoms) & ~empty
        if invalid.any():
            ids = _ids(out, schema, invalid)
            reasons = shapely.is_valid_reason(geoms[invalid])
            if repair:
                fixed = shapely.make_valid(geoms[invalid])
                if schema.geometry and "Polygon" in schema.geometry[0]:
                    fixed = _keep_polygonal(fixed)
                out.loc[invalid, out.geometry.name] = fixed
                repairs.extend(f"{schema.name} {i}: {r} -> made valid" for i, r in zip(ids, reasons, strict=True))
            else:
                problems.append(GeometryError(
                    "invalid geometry", **ctx, feature_id=_id_list(ids),
                    expected="valid (OGC simple features) geometry",
                    found="; ".join(f"{i}: {r}" for i, r in list(zip(ids, reasons, strict=True))[:3]),
                    fix="pass repair=True to make it valid with shapely.make_valid, or fix it in a GIS",
                ))
    return ValidationResult(out, problems, repairs)


def _keep_polygonal(geoms: Any) -> Any:
    """From make_valid output keep only the polygonal parts (drop stray lines/points)."""
    import shapely

    parts, index = shapely.get_parts(geoms, return_index=True)
    poly = shapely.get_type_id(parts) == 3
    result = []
    for i in range(len(geoms)):
        pieces = parts[(index == i) & poly]
        result.append(shapely.multipolygons(pieces) if len(pieces) > 1 else (pieces[0] if len(pieces) else shapely.Polygon()))
    return result
