"""Land classes of GB/T 21010-2017 and the Third National Land Survey (三调) working classification.

One table, :data:`LAND_CLASSES`, holds every land-class code (地类编码, field ``DLBM``
of the survey's 地类图斑 layer) with its Chinese and English name, its first-level
class (one of :data:`FIRST_LEVEL`), the GB/T 21010-2017 first-level class it belongs
to in the national standard, whether the 三调 working classification uses it, and a map
colour. Schemas, loaders, analyses and maps read it from here.

Sources
-------
* GB/T 21010-2017 *土地利用现状分类* (Current land use classification), Table 1:
  12 first-level classes (01 耕地 … 12 其他土地) and their 73 second-level codes.
* TD/T 1055-2019 *第三次全国国土调查技术规程* (Technical specification of the third
  national land survey), normative Appendix A: Table A.1 reproduces GB/T 21010-2017;
  Table A.2 is the working classification (工作分类) the survey and its yearly updates
  (年度国土变更调查) use. Its differences from the standard, as encoded here:

  - a first-level class **00 湿地** (wetland) gathering 0303 红树林地, 0304 森林沼泽,
    0306 灌丛沼泽, 0402 沼泽草地, 0603 盐田, 1105 沿海滩涂, 1106 内陆滩涂 and
    1108 沼泽地 (in GB/T 21010 these sit under 林地, 草地, 工矿仓储用地 and 水域);
  - **K codes** (可调整地类: cultivated land turned into orchard, forest, grassland or
    fish pond with its plough layer intact): 0201K, 0202K, 0203K, 0204K, 0301K, 0302K,
    0307K, 0403K, 1104K;
  - merged or split codes: 05H1 商业服务业设施用地 (0501–0507), 0508 物流仓储用地 (for
    0604), 08H1 机关团体新闻出版用地 (0801–0802), 08H2 科教文卫用地 (0803–0807),
    0810A 广场用地, 1104A 养殖坑塘, 1107A 干渠; 09 特殊用地 undivided.

  Rows were spot-checked against copies of Appendix A found online (e.g. 0306 灌丛沼泽,
  0307K 可调整其他林地, 0403K 可调整人工牧草地, the 01 耕地 definition); not every row
  was verified against the official text, so a correction there belongs in this table.

Colours are this package's own palette (one hue per first-level class, shades within
it), not a national cartographic standard.

Codes arrive as text (``"0101"``), as numbers that lost their leading zero (``101``,
``101.0``), in lower case (``"0201k"``) or with spaces; :func:`normalize_land_code`
turns them into the table's spelling and refuses anything else, naming this table.
Attribute markers of the survey (种植属性 ZZSXDM, 图斑细化 TBXHDM, 耕地类型 GDLX …)
are separate fields of the DLTB layer, never part of ``DLBM``: a ``DLBM`` carrying one
(``0101LS``) or a K on a code that has no K variant (``0101K``) is refused.
"""

from __future__ import annotations

import colorsys
import re
import unicodedata
from dataclasses import dataclass
from typing import Any

import numpy as np
import pandas as pd

from .errors import SchemaError

__all__ = [
    "LandClass",
    "FIRST_LEVEL",
    "LAND_CLASSES",
    "CULTIVATED_CODES",
    "OCCUPATION_CODES",
    "SQUARE_METRES_PER_MU",
    "TABLE_NAME",
    "normalize_land_code",
    "normalize_land_codes",
    "land_class_table",
    "class_attribute",
]

#: Name of the table used in messages.
TABLE_NAME = "GB/T 21010-2017 / 三调 working classification (TD/T 1055-2019 Table A.2)"

#: One 亩 in square metres: exactly 1/15 hectare (15 亩 = 1 公顷), the factor national
#: land statistics convert with (the 三调 main-results bulletin of 2021 gives cultivated
#: land as 12,786.19 万公顷 = 191,792.79 万亩, a ratio of 15.0000 to the rounding of the
#: hectare figure). The rounded 666.67 m² would be off by 5 in a million.
SQUARE_METRES_PER_MU: float = 10_000.0 / 15.0


@dataclass(frozen=True)
class LandClass:
    """One land-class code.

    Attributes
    ----------
    code : str
        The code as the survey writes it (``0101``, ``0201K``, ``05H1``).
    zh, en : str
        Chinese and English names.
    first_level : str
        Key of the first-level class in :data:`FIRST_LEVEL` (三调 grouping).
    gbt_first_level : str
        Two-digit GB/T 21010-2017 first-level code (``"03"`` for 0303 红树林地).
    scheme : str
        ``"both"`` (standard and 三调), ``"gbt"`` (standard only, merged in the 三调)
        or ``"sandiao"`` (三调 working classification only).
    colour : str
        Map colour, ``#rrggbb``.
    """

    code: str
    zh: str
    en: str
    first_level: str
    gbt_first_level: str
    scheme: str
    colour: str


#: First-level classes: key -> (三调 code, Chinese name, English name, base colour).
FIRST_LEVEL: dict[str, tuple[str, str, str, str]] = {
    "wetland": ("00", "湿地", "Wetland", "#4fb3bf"),
    "cultivated": ("01", "耕地", "Cultivated land", "#f2d94e"),
    "garden": ("02", "园地", "Garden land (plantations)", "#e59866"),
    "forest": ("03", "林地", "Forest land", "#2e8b57"),
    "grassland": ("04", "草地", "Grassland", "#a9d46f"),
    "commercial": ("05", "商服用地", "Commercial and service land", "#e74c3c"),
    "industrial": ("06", "工矿用地", "Industrial and mining land", "#8e44ad"),
    "residential": ("07", "住宅用地", "Residential land", "#c0392b"),
    "public": ("08", "公共管理与公共服务用地", "Public administration and service land", "#d35400"),
    "special": ("09", "特殊用地", "Special-use land", "#7f8c8d"),
    "transport": ("10", "交通运输用地", "Transport land", "#95a5a6"),
    "water": ("11", "水域及水利设施用地", "Water and water-conservancy land", "#3498db"),
    "other": ("12", "其他土地", "Other land", "#d7ccc8"),
}

_B, _G, _S = "both", "gbt", "sandiao"
_WETLAND_GBT = {"0303": "03", "0304": "03", "0306": "03", "0402": "04", "0603": "06",
                "1105": "11", "1106": "11", "1108": "11"}

# (code, zh, en, first-level key, scheme); the GB/T first level is the code's first two
# digits except for the wetland codes (above) and the 三调-only codes whose prefix is
# their GB/T class as well.
_ROWS: tuple[tuple[str, str, str, str, str], ...] = (
    ("0101", "水田", "Paddy field", "cultivated", _B),
    ("0102", "水浇地", "Irrigated land", "cultivated", _B),
    ("0103", "旱地", "Dry land", "cultivated", _B),
    ("0201", "果园", "Orchard", "garden", _B),
    ("0201K", "可调整果园", "Orchard, restorable to cultivation", "garden", _S),
    ("0202", "茶园", "Tea garden", "garden", _B),
    ("0202K", "可调整茶园", "Tea garden, restorable to cultivation", "garden", _S),
    ("0203", "橡胶园", "Rubber plantation", "garden", _B),
    ("0203K", "可调整橡胶园", "Rubber plantation, restorable to cultivation", "garden", _S),
    ("0204", "其他园地", "Other garden land", "garden", _B),
    ("0204K", "可调整其他园地", "Other garden land, restorable to cultivation", "garden", _S),
    ("0301", "乔木林地", "Arbor forest land", "forest", _B),
    ("0301K", "可调整乔木林地", "Arbor forest land, restorable to cultivation", "forest", _S),
    ("0302", "竹林地", "Bamboo forest land", "forest", _B),
    ("0302K", "可调整竹林地", "Bamboo forest land, restorable to cultivation", "forest", _S),
    ("0303", "红树林地", "Mangrove land", "wetland", _B),
    ("0304", "森林沼泽", "Forest swamp", "wetland", _B),
    ("0305", "灌木林地", "Shrub land", "forest", _B),
    ("0306", "灌丛沼泽", "Shrub swamp", "wetland", _B),
    ("0307", "其他林地", "Other forest land", "forest", _B),
    ("0307K", "可调整其他林地", "Other forest land, restorable to cultivation", "forest", _S),
    ("0401", "天然牧草地", "Natural pasture", "grassland", _B),
    ("0402", "沼泽草地", "Marsh grassland", "wetland", _B),
    ("0403", "人工牧草地", "Artificial pasture", "grassland", _B),
    ("0403K", "可调整人工牧草地", "Artificial pasture, restorable to cultivation", "grassland", _S),
    ("0404", "其他草地", "Other grassland", "grassland", _B),
    ("0501", "零售商业用地", "Retail commercial land", "commercial", _G),
    ("0502", "批发市场用地", "Wholesale market land", "commercial", _G),
    ("0503", "餐饮用地", "Catering land", "commercial", _G),
    ("0504", "旅馆用地", "Hotel land", "commercial", _G),
    ("0505", "商务金融用地", "Business and finance land", "commercial", _G),
    ("0506", "娱乐用地", "Entertainment land", "commercial", _G),
    ("0507", "其他商服用地", "Other commercial land", "commercial", _G),
    ("05H1", "商业服务业设施用地", "Commercial and service facilities land", "commercial", _S),
    ("0508", "物流仓储用地", "Logistics and warehousing land", "commercial", _S),
    ("0601", "工业用地", "Industrial land", "industrial", _B),
    ("0602", "采矿用地", "Mining land", "industrial", _B),
    ("0603", "盐田", "Salt pan", "wetland", _B),
    ("0604", "仓储用地", "Warehousing land", "industrial", _G),
    ("0701", "城镇住宅用地", "Urban residential land", "residential", _B),
    ("0702", "农村宅基地", "Rural homestead", "residential", _B),
    ("0801", "机关团体用地", "Government and organisation land", "public", _G),
    ("0802", "新闻出版用地", "News and publishing land", "public", _G),
    ("0803", "教育用地", "Education land", "public", _G),
    ("0804", "科研用地", "Scientific research land", "public", _G),
    ("0805", "医疗卫生用地", "Medical and health land", "public", _G),
    ("0806", "社会福利用地", "Social welfare land", "public", _G),
    ("0807", "文化设施用地", "Cultural facilities land", "public", _G),
    ("0808", "体育用地", "Sports land", "public", _G),
    ("08H1", "机关团体新闻出版用地", "Government, organisation and publishing land", "public", _S),
    ("08H2", "科教文卫用地", "Science, education, culture and health land", "public", _S),
    ("0809", "公用设施用地", "Public utilities land", "public", _B),
    ("0810", "公园与绿地", "Parks and green space", "public", _B),
    ("0810A", "广场用地", "Public squares", "public", _S),
    ("09", "特殊用地", "Special-use land", "special", _S),
    ("0901", "军事设施用地", "Military facilities land", "special", _G),
    ("0902", "使领馆用地", "Embassy and consulate land", "special", _G),
    ("0903", "监教场所用地", "Prison and reformatory land", "special", _G),
    ("0904", "宗教用地", "Religious land", "special", _G),
    ("0905", "殡葬用地", "Funeral and burial land", "special", _G),
    ("0906", "风景名胜设施用地", "Scenic-spot facilities land", "special", _G),
    ("1001", "铁路用地", "Railway land", "transport", _B),
    ("1002", "轨道交通用地", "Rail transit land", "transport", _B),
    ("1003", "公路用地", "Highway land", "transport", _B),
    ("1004", "城镇村道路用地", "Urban and village road land", "transport", _B),
    ("1005", "交通服务场站用地", "Transport service station land", "transport", _B),
    ("1006", "农村道路", "Rural road", "transport", _B),
    ("1007", "机场用地", "Airport land", "transport", _B),
    ("1008", "港口码头用地", "Port and wharf land", "transport", _B),
    ("1009", "管道运输用地", "Pipeline transport land", "transport", _B),
    ("1101", "河流水面", "River water surface", "water", _B),
    ("1102", "湖泊水面", "Lake water surface", "water", _B),
    ("1103", "水库水面", "Reservoir water surface", "water", _B),
    ("1104", "坑塘水面", "Pond water surface", "water", _B),
    ("1104A", "养殖坑塘", "Aquaculture pond", "water", _S),
    ("1104K", "可调整养殖坑塘", "Aquaculture pond, restorable to cultivation", "water", _S),
    ("1105", "沿海滩涂", "Coastal tidal flat", "wetland", _B),
    ("1106", "内陆滩涂", "Inland tidal flat", "wetland", _B),
    ("1107", "沟渠", "Ditch", "water", _B),
    ("1107A", "干渠", "Trunk canal", "water", _S),
    ("1108", "沼泽地", "Swamp", "wetland", _B),
    ("1109", "水工建筑用地", "Hydraulic construction land", "water", _B),
    ("1110", "冰川及永久积雪", "Glacier and permanent snow", "water", _B),
    ("1201", "空闲地", "Vacant land", "other", _B),
    ("1202", "设施农用地", "Facility agricultural land", "other", _B),
    ("1203", "田坎", "Field ridge", "other", _B),
    ("1204", "盐碱地", "Saline-alkali land", "other", _B),
    ("1205", "沙地", "Sandy land", "other", _B),
    ("1206", "裸土地", "Bare soil", "other", _B),
    ("1207", "裸岩石砾地", "Bare rock and gravel", "other", _B),
)


def _shades(base: str, n: int) -> list[str]:
    """``n`` shades of a base colour, from darker to lighter (same hue)."""
    r, g, b = (int(base[i : i + 2], 16) / 255 for i in (1, 3, 5))
    h, lum, s = colorsys.rgb_to_hls(r, g, b)
    out = []
    for k in range(n):
        lk = min(0.85, max(0.2, lum + (k - (n - 1) / 2) * 0.35 / max(n, 1)))
        rr, gg, bb = colorsys.hls_to_rgb(h, lk, s)
        out.append(f"#{round(rr * 255):02x}{round(gg * 255):02x}{round(bb * 255):02x}")
    return out


def _build() -> dict[str, LandClass]:
    by_level: dict[str, list[tuple[str, str, str, str, str]]] = {k: [] for k in FIRST_LEVEL}
    for row in _ROWS:
        by_level[row[3]].append(row)
    table: dict[str, LandClass] = {}
    for level, rows in by_level.items():
        for row, colour in zip(rows, _shades(FIRST_LEVEL[level][3], len(rows)), strict=True):
            code, zh, en, first, scheme = row
            gbt = _WETLAND_GBT.get(code, code[:2])
            table[code] = LandClass(code, zh, en, first, gbt, scheme, colour)
    return dict(sorted(table.items()))


#: Every land-class code -> its :class:`LandClass`.
LAND_CLASSES: dict[str, LandClass] = _build()

#: Codes of cultivated land (耕地): 0101 水田, 0102 水浇地, 0103 旱地.
CULTIVATED_CODES: tuple[str, ...] = tuple(c for c, lc in LAND_CLASSES.items() if lc.first_level == "cultivated")

#: Codes on which a building counts as occupying cultivated land (乱占耕地建房): the
#: cultivated codes. 0702 农村宅基地 and 1202 设施农用地 are not (see docs/landuse.md).
OCCUPATION_CODES: tuple[str, ...] = CULTIVATED_CODES

_LOOKUP = {code.upper(): code for code in LAND_CLASSES}
_CODE_TEXT = re.compile(r"^(\d+)(?:\.0+)?([A-Z]\d?)?$")


def _normalize_one(value: Any) -> str | None:
    """Return the table spelling of a code, or None when it is not one."""
    if value is None or isinstance(value, bool):
        return None
    if isinstance(value, int | np.integer):
        text = str(int(value))
    elif isinstance(value, float | np.floating):
        if not np.isfinite(value) or not float(value).is_integer():
            return None
        text = str(int(value))
    elif isinstance(value, str):
        text = unicodedata.normalize("NFKC", value).strip().replace(" ", "").upper()
    else:
        return None
    match = _CODE_TEXT.match(text)
    if match is None:
        return None
    digits, suffix = match.group(1), match.group(2) or ""
    if len(digits) in (1, 3):  # 9 -> 09, 101 -> 0101 (leading zero lost as a number)
        digits = "0" + digits
    return _LOOKUP.get(digits + suffix)


def normalize_land_code(
    value: Any, *, path: Any = None, layer: str | None = None, feature_id: Any = None,
    field: str | None = "land_code",
) -> str:
    """Return the table spelling of a land-class code (``101`` → ``"0101"``).

    Parameters
    ----------
    value : Any
        The code as found: ``"0101"``, ``101``, ``101.0``, ``" 0201k "``, ``"05h1"``.
    path, layer, feature_id, field : optional
        Where the value comes from; only used in the error message.

    Returns
    -------
    str
        A key of :data:`LAND_CLASSES`.

    Raises
    ------
    SchemaError
        If the value is not a code of the table (the message names the table).

    Examples
    --------
    >>> [normalize_land_code(v) for v in ["0101", 101, "201k", "05h1", 1104.0]]
    ['0101', '0101', '0201K', '05H1', '1104']
    """
    code = _normalize_one(value)
    if code is None:
        raise SchemaError(
            "not a land-class code", path=path, layer=layer, feature_id=feature_id, field=field,
            expected=f"a code of {TABLE_NAME}, e.g. 0101, 0201K, 05H1",
            found=repr(value),
            fix="correct the code; attribute markers (种植属性, 图斑细化, 耕地类型) belong in their "
                "own fields, and only 0201K 0202K 0203K 0204K 0301K 0302K 0307K 0403K 1104K carry K",
        )
    return code


def normalize_land_codes(values: pd.Series) -> tuple[pd.Series, pd.Series]:
    """Normalise a column of land-class codes.

    Parameters
    ----------
    values : Series
        Codes as read (text or numbers).

    Returns
    -------
    codes : Series
        Table spellings (``None`` where missing or unknown).
    bad : Series of bool
        True where a non-empty value is not a code of the table.

    Examples
    --------
    >>> codes, bad = normalize_land_codes(pd.Series(["101", "0702", "9999"]))
    >>> codes.tolist(), bad.tolist()
    (['0101', '0702', None], [False, False, True])
    """
    uniques = pd.unique(values.dropna())
    mapping = {u: _normalize_one(u) for u in uniques}  # few distinct codes: loop over uniques
    codes = values.map(mapping).astype(object)
    codes = codes.where(codes.notna(), None)
    blank = values.isna() | (values.astype(str).str.strip() == "")
    return codes, codes.isna() & ~blank


def land_class_table() -> pd.DataFrame:
    """Return the land-class table as a DataFrame (one row per code).

    Returns
    -------
    DataFrame
        Columns ``code``, ``zh``, ``en``, ``first_level``, ``first_level_code``,
        ``first_level_zh``, ``first_level_en``, ``gbt_first_level``, ``scheme``,
        ``colour``, ``cultivated``, ``occupation``.

    Examples
    --------
    >>> t = land_class_table()
    >>> t.loc[t.code == "0702", ["zh", "first_level_zh"]].values.tolist()
    [['农村宅基地', '住宅用地']]
    """
    rows = []
    for lc in LAND_CLASSES.values():
        code1, zh1, en1, _ = FIRST_LEVEL[lc.first_level]
        rows.append({
            "code": lc.code, "zh": lc.zh, "en": lc.en, "first_level": lc.first_level,
            "first_level_code": code1, "first_level_zh": zh1, "first_level_en": en1,
            "gbt_first_level": lc.gbt_first_level, "scheme": lc.scheme, "colour": lc.colour,
            "cultivated": lc.code in CULTIVATED_CODES, "occupation": lc.code in OCCUPATION_CODES,
        })
    return pd.DataFrame(rows)


def class_attribute(codes: pd.Series, attribute: str = "first_level") -> pd.Series:
    """Map normalised land-class codes to an attribute of their :class:`LandClass`.

    Parameters
    ----------
    codes : Series
        Table spellings (``None``/unknown codes give ``None``).
    attribute : str, default "first_level"
        ``first_level``, ``zh``, ``en``, ``colour``, ``gbt_first_level`` or ``scheme``.

    Returns
    -------
    Series
        The attribute per code (object dtype), same index.

    Examples
    --------
    >>> class_attribute(pd.Series(["0101", "0702"]), "zh").tolist()
    ['水田', '农村宅基地']
    """
    table = {code: getattr(lc, attribute) for code, lc in LAND_CLASSES.items()}
    return codes.map(table).astype(object).where(codes.isin(list(table)), None)
