"""Default QGIS styles inside the GeoPackages the package writes.

QGIS keeps a layer's style in the GeoPackage table ``layer_styles`` (one row per
style: the layer's table and geometry column, the style as QML and SLD, and
whether it is the layer's default). A layer with a default style there opens
coloured in QGIS: here, a categorised renderer by class, kind or status with
Chinese and English labels and the same colours as the HTML maps, all read from
:data:`dongping_geo.schemas.CATEGORY_LABELS` / :data:`~dongping_geo.schemas.CATEGORY_COLOURS`.

The table is created the way QGIS creates it through GDAL (the same columns,
registered in ``gpkg_contents`` as an ``attributes`` table with ``srs_id`` 0 and
counted in GDAL's ``gpkg_ogr_contents``; neither GDAL nor QGIS add a
``gpkg_extensions`` row for it), in one SQLite transaction, so a failure leaves the
file as it was.
"""

from __future__ import annotations

import os
import sqlite3
import warnings
import xml.etree.ElementTree as ET
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any, Literal

import pandas as pd

from .errors import ConfigError, InputFileError, OutputError
from .schemas import (
    CATEGORY_COLOURS,
    CATEGORY_LABELS,
    FALLBACK_COLOURS,
    MISSING_COLOUR,
    MISSING_LABEL,
    category_field,
)

__all__ = [
    "DEFAULT_STYLE_FIELDS",
    "LayerStyle",
    "StyleCategory",
    "add_layer_styles",
    "read_layer_styles",
    "style_for",
    "style_geopackage",
]

#: Fields a layer is styled by, first present wins (:func:`style_for` without ``field``).
DEFAULT_STYLE_FIELDS: tuple[str, ...] = (
    "water_class", "meets_target", "compliant", "check", "kind", "category", "status",
    "level", "tier", "region", "reason",
)  # fmt: skip
#: Name of the styles this module writes (``styleName`` in ``layer_styles``).
STYLE_NAME = "dongping_geo"

Geometry = Literal["point", "line", "polygon"]
_GEOMETRY_IDS = {"point": 0, "line": 1, "polygon": 2}
_SYMBOL_TYPES = {"point": "marker", "line": "line", "polygon": "fill"}
_SINGLE_COLOUR = "#3182bd"
_GPKG_APPLICATION_ID = 0x47504B47  # "GPKG"

# The table as QGIS creates it (QgsOgrProviderMetadata::saveStyle through GDAL).
_CREATE_TABLE = """
CREATE TABLE "layer_styles" (
    "id" INTEGER PRIMARY KEY AUTOINCREMENT NOT NULL,
    "f_table_catalog" TEXT(256),
    "f_table_schema" TEXT(256),
    "f_table_name" TEXT(256),
    "f_geometry_column" TEXT(256),
    "styleName" TEXT(30),
    "styleQML" TEXT,
    "styleSLD" TEXT,
    "useAsDefault" BOOLEAN,
    "description" TEXT,
    "owner" TEXT(30),
    "ui" TEXT(30),
    "update_time" DATETIME DEFAULT (strftime('%Y-%m-%dT%H:%M:%fZ','now'))
)"""
# GDAL keeps gpkg_ogr_contents.feature_count up to date with these two triggers.
_COUNT_TRIGGERS = (
    'CREATE TRIGGER "trigger_insert_feature_count_layer_styles" AFTER INSERT ON "layer_styles" '
    "BEGIN UPDATE gpkg_ogr_contents SET feature_count = feature_count + 1 "
    "WHERE lower(table_name) = lower('layer_styles'); END",
    'CREATE TRIGGER "trigger_delete_feature_count_layer_styles" AFTER DELETE ON "layer_styles" '
    "BEGIN UPDATE gpkg_ogr_contents SET feature_count = feature_count - 1 "
    "WHERE lower(table_name) = lower('layer_styles'); END",
)


@dataclass(frozen=True)
class StyleCategory:
    """One class of a categorised style.

    Attributes
    ----------
    value : str
        The field value as QGIS compares it (text; ``true``/``false`` for booleans;
        ``""`` for every other value, including NULL).
    label : str
        Legend label, e.g. ``违法建筑 Illegal building``.
    colour : str
        ``#rrggbb``.
    value_type : str
        How QGIS types the value in QML: ``string`` or ``bool``.
    """

    value: str
    label: str
    colour: str
    value_type: str = "string"


@dataclass(frozen=True)
class LayerStyle:
    """A QGIS style of one layer: a categorised renderer, or one symbol.

    Attributes
    ----------
    geometry : {"point", "line", "polygon"}
        Geometry type of the layer.
    field : str or None
        Field the categories apply to; None for a single-symbol style.
    categories : tuple of StyleCategory
        The classes, in legend order (empty for a single symbol).
    colour : str
        Colour of the single symbol.
    description : str
        Saved as ``description`` in ``layer_styles``.
    """

    geometry: Geometry
    field: str | None = None
    categories: tuple[StyleCategory, ...] = ()
    colour: str = _SINGLE_COLOUR
    description: str = ""

    def to_qml(self) -> str:
        """Return the style as a QGIS QML document (symbology only).

        Returns
        -------
        str
            The QML text.
        """
        root = ET.Element("qgis", version="3.28.0", styleCategories="Symbology")
        if self.field is None:
            renderer = ET.SubElement(root, "renderer-v2", type="singleSymbol", symbollevels="0",
                                     enableorderby="0", forceraster="0")
            symbols = ET.SubElement(renderer, "symbols")
            symbols.append(_qml_symbol("0", self.geometry, self.colour))
        else:
            renderer = ET.SubElement(root, "renderer-v2", type="categorizedSymbol", attr=self.field,
                                     symbollevels="0", enableorderby="0", forceraster="0")
            cats = ET.SubElement(renderer, "categories")
            symbols = ET.SubElement(renderer, "symbols")
            for i, c in enumerate(self.categories):
                attrs = {"render": "true", "symbol": str(i), "value": c.value, "label": c.label}
                if c.value != "":  # "" is QGIS's "all other values" (NULL included), untyped
                    attrs["type"] = c.value_type
                ET.SubElement(cats, "category", attrs)
                symbols.append(_qml_symbol(str(i), self.geometry, c.colour))
            source = ET.SubElement(renderer, "source-symbol")
            source.append(_qml_symbol("0", self.geometry, self.colour))
        ET.SubElement(root, "layerGeometryType").text = str(_GEOMETRY_IDS[self.geometry])
        ET.indent(root)
        return "<!DOCTYPE qgis PUBLIC 'http://mrcc.com/qgis.dtd' 'SYSTEM'>\n" + ET.tostring(root, encoding="unicode")

    def to_sld(self, layer: str) -> str:
        """Return the style as an OGC SLD 1.1 document (one rule per category).

        Parameters
        ----------
        layer : str
            The layer's name (``NamedLayer``).

        Returns
        -------
        str
            The SLD text.
        """
        ns = {"": "http://www.opengis.net/sld", "se": "http://www.opengis.net/se",
              "ogc": "http://www.opengis.net/ogc"}
        for prefix, uri in ns.items():
            ET.register_namespace(prefix, uri)
        sld, se, ogc = (f"{{{ns[k]}}}" for k in ("", "se", "ogc"))
        root = ET.Element(f"{sld}StyledLayerDescriptor", version="1.1.0")
        named = ET.SubElement(root, f"{sld}NamedLayer")
        ET.SubElement(named, f"{se}Name").text = layer
        style = ET.SubElement(ET.SubElement(named, f"{sld}UserStyle"), f"{se}FeatureTypeStyle")
        rules = self.categories or (StyleCategory("", layer, self.colour),)
        for c in rules:
            rule = ET.SubElement(style, f"{se}Rule")
            ET.SubElement(rule, f"{se}Name").text = c.label
            ET.SubElement(ET.SubElement(rule, f"{se}Description"), f"{se}Title").text = c.label
            if self.field is not None and c.value != "":
                equal = ET.SubElement(ET.SubElement(rule, f"{ogc}Filter"), f"{ogc}PropertyIsEqualTo")
                ET.SubElement(equal, f"{ogc}PropertyName").text = self.field
                ET.SubElement(equal, f"{ogc}Literal").text = c.value
            elif self.field is not None:
                ET.SubElement(rule, f"{se}ElseFilter")
            rule.append(_sld_symbolizer(se, self.geometry, c.colour))
        ET.indent(root)
        return ET.tostring(root, encoding="unicode", xml_declaration=True)


def _rgba(colour: str, alpha: int = 255) -> str:
    h = colour.lstrip("#")
    return ",".join(str(int(h[i:i + 2], 16)) for i in (0, 2, 4)) + f",{alpha}"


def _qml_symbol(name: str, geometry: Geometry, colour: str) -> ET.Element:
    symbol = ET.Element("symbol", type=_SYMBOL_TYPES[geometry], name=name, alpha="1", clip_to_extent="1",
                        force_rhr="0")
    if geometry == "point":
        layer = ET.SubElement(symbol, "layer", {"class": "SimpleMarker", "enabled": "1", "locked": "0", "pass": "0"})
        props = {"name": "circle", "color": _rgba(colour), "outline_color": "35,35,35,255",
                 "outline_width": "0.2", "size": "3", "size_unit": "MM"}
    elif geometry == "line":
        layer = ET.SubElement(symbol, "layer", {"class": "SimpleLine", "enabled": "1", "locked": "0", "pass": "0"})
        props = {"line_color": _rgba(colour), "line_width": "0.8", "line_width_unit": "MM",
                 "line_style": "solid", "capstyle": "round", "joinstyle": "round"}
    else:
        layer = ET.SubElement(symbol, "layer", {"class": "SimpleFill", "enabled": "1", "locked": "0", "pass": "0"})
        props = {"color": _rgba(colour, 170), "style": "solid", "outline_color": _rgba(colour),
                 "outline_style": "solid", "outline_width": "0.4", "outline_width_unit": "MM"}
    for k, v in props.items():
        ET.SubElement(layer, "prop", k=k, v=v)
    return symbol


def _sld_symbolizer(se: str, geometry: Geometry, colour: str) -> ET.Element:
    def param(parent: ET.Element, name: str, value: str) -> None:
        ET.SubElement(parent, f"{se}SvgParameter", name=name).text = value

    if geometry == "point":
        sym = ET.Element(f"{se}PointSymbolizer")
        mark = ET.SubElement(ET.SubElement(sym, f"{se}Graphic"), f"{se}Mark")
        ET.SubElement(mark, f"{se}WellKnownName").text = "circle"
        param(ET.SubElement(mark, f"{se}Fill"), "fill", colour)
        ET.SubElement(sym.find(f"{se}Graphic"), f"{se}Size").text = "11"  # type: ignore[arg-type]  # just made
        return sym
    if geometry == "line":
        sym = ET.Element(f"{se}LineSymbolizer")
        stroke = ET.SubElement(sym, f"{se}Stroke")
        param(stroke, "stroke", colour)
        param(stroke, "stroke-width", "3")
        return sym
    sym = ET.Element(f"{se}PolygonSymbolizer")
    fill = ET.SubElement(sym, f"{se}Fill")
    param(fill, "fill", colour)
    param(fill, "fill-opacity", "0.67")
    stroke = ET.SubElement(sym, f"{se}Stroke")
    param(stroke, "stroke", colour)
    return sym


# --------------------------------------------------------------------------- styles from data


def _geometry_kind(geom_types: Sequence[Any]) -> Geometry:
    kinds = pd.Series([str(t) for t in geom_types if t is not None and str(t) != "None"], dtype=object)
    kinds = kinds.str.replace("Multi", "").str.replace("3D ", "").str.lower()
    kind = kinds.mode().iloc[0] if len(kinds) else "polygon"
    if "point" in kind:
        return "point"
    return "line" if ("line" in kind or "curve" in kind) else "polygon"


def _as_text(value: Any) -> str:
    if isinstance(value, bool):
        return "true" if value else "false"
    return str(value)


def _label(zh: str, en: str, lang: str) -> str:
    return {"zh": zh, "en": en}.get(lang, f"{zh} {en}" if zh != en else zh)


def _categories(values: pd.Series, field: str, lang: str) -> tuple[StyleCategory, ...]:
    """List the declared categories present (declared order), other values (sorted), then missing."""
    key = category_field(field)
    labels: Mapping[Any, tuple[str, str]] = CATEGORY_LABELS.get(key, {}) if key else {}
    colours: Mapping[Any, str] = CATEGORY_COLOURS.get(key, {}) if key else {}
    present = values.dropna()
    present_set = set(present.map(_as_text))
    cats = [StyleCategory(_as_text(v), _label(*labels[v], lang), colours.get(v, MISSING_COLOUR),
                          "bool" if isinstance(v, bool) else "string")
            for v in labels if _as_text(v) in present_set]
    known = {c.value for c in cats}
    others = sorted(present_set - known)
    cats += [StyleCategory(v, v, FALLBACK_COLOURS[i % len(FALLBACK_COLOURS)]) for i, v in enumerate(others)]
    if values.isna().any():
        cats.append(StyleCategory("", _label(*MISSING_LABEL, lang), MISSING_COLOUR))
    return tuple(cats)


def style_for(
    gdf: pd.DataFrame,
    *,
    field: str | None = None,
    geometry: Geometry | None = None,
    lang: Literal["both", "zh", "en"] = "both",
) -> LayerStyle:
    """Build the default QGIS style of a layer from its data.

    Parameters
    ----------
    gdf : GeoDataFrame
        The layer as written (canonical field names and codes).
    field : str, optional
        Field to categorise by; default the first of :data:`DEFAULT_STYLE_FIELDS`
        the layer has, else a single symbol.
    geometry : {"point", "line", "polygon"}, optional
        Geometry type; default from the data (for a DataFrame without geometry:
        polygon).
    lang : {"both", "zh", "en"}, default "both"
        Legend labels: ``违法建筑 Illegal building`` (both), Chinese or English.

    Returns
    -------
    LayerStyle
        A categorised style naming every value present (values without a declared
        label are labelled with themselves; missing values as 未知 Unknown).

    Raises
    ------
    ConfigError
        If ``field`` is not a column of ``gdf`` or ``lang`` is unknown.

    Examples
    --------
    >>> import geopandas as gpd, shapely
    >>> gdf = gpd.GeoDataFrame({"kind": ["villa"]}, geometry=[shapely.box(0, 0, 1, 1)], crs=4549)
    >>> style_for(gdf).categories
    (StyleCategory(value='villa', label='违建别墅 Illegal villa', colour='#a65628', value_type='string'),)
    """
    if lang not in ("both", "zh", "en"):
        raise ConfigError("unknown label language", field="lang", expected="both, zh or en", found=repr(lang))
    if field is not None and field not in gdf.columns:
        raise ConfigError("the layer has no such field", field="field", expected=", ".join(map(str, gdf.columns)),
                          found=repr(field), fix="name a column of the layer, or leave field=None")
    if field is None:
        field = next((f for f in DEFAULT_STYLE_FIELDS if f in gdf.columns), None)
    if geometry is None:
        geometry = _geometry_kind(list(gdf.geom_type)) if hasattr(gdf, "geom_type") else "polygon"
    if field is None:
        return LayerStyle(geometry)
    return LayerStyle(geometry, field, _categories(gdf[field], field, lang),
                      description=f"dongping_geo: by {field}")


# --------------------------------------------------------------------------- the GeoPackage table


def _connect(path: Path) -> sqlite3.Connection:
    if not path.is_file():
        raise InputFileError("GeoPackage not found", path=path, fix="write the layers first")
    con = sqlite3.connect(path)
    try:
        app_id = con.execute("PRAGMA application_id").fetchone()[0]
        con.execute("SELECT 1 FROM gpkg_contents LIMIT 1")
    except sqlite3.DatabaseError as exc:
        con.close()
        raise OutputError("not a GeoPackage", path=path, expected="a .gpkg file", found=str(exc)) from None
    if app_id != _GPKG_APPLICATION_ID:
        con.close()
        raise OutputError("not a GeoPackage", path=path, expected="application_id GPKG",
                          found=hex(app_id), fix="write the layers with dongping_geo.io.write_layers")
    return con


def _ensure_table(con: sqlite3.Connection) -> None:
    """Create and register layer_styles as QGIS (through GDAL) does, if it is not there."""
    exists = con.execute("SELECT 1 FROM sqlite_master WHERE type='table' AND name='layer_styles'").fetchone()
    if exists:
        return
    con.execute(_CREATE_TABLE)
    con.execute(
        "INSERT INTO gpkg_contents (table_name, data_type, identifier, description, last_change, srs_id) "
        "VALUES ('layer_styles', 'attributes', 'layer_styles', '', strftime('%Y-%m-%dT%H:%M:%fZ','now'), 0)"
    )
    has_counts = con.execute(
        "SELECT 1 FROM sqlite_master WHERE type='table' AND name='gpkg_ogr_contents'").fetchone()
    if has_counts:
        con.execute("INSERT OR REPLACE INTO gpkg_ogr_contents (table_name, feature_count) VALUES ('layer_styles', 0)")
        for trigger in _COUNT_TRIGGERS:
            con.execute(trigger)


def add_layer_styles(
    gpkg_path: str | os.PathLike,
    styles: Mapping[str, LayerStyle],
    *,
    name: str = STYLE_NAME,
) -> Path:
    """Store a default QGIS style per layer in a GeoPackage's ``layer_styles`` table.

    A style of the same name for the same layer is replaced; other styles of the
    layer stay but are no longer its default. All in one transaction.

    Parameters
    ----------
    gpkg_path : path-like
        An existing GeoPackage.
    styles : mapping of str to LayerStyle
        Layer (table) name to its style, e.g. from :func:`style_for`.
    name : str, default "dongping_geo"
        ``styleName`` of the rows.

    Returns
    -------
    Path
        The GeoPackage.

    Raises
    ------
    InputFileError
        If the file does not exist.
    OutputError
        If it is not a GeoPackage.
    ConfigError
        If a layer named in ``styles`` is not a feature table of the file.

    Examples
    --------
    >>> add_layer_styles("violations.gpkg", {"redline": style_for(redline)})  # doctest: +SKIP
    """
    path = Path(gpkg_path)
    con = _connect(path)
    try:
        geometry_columns = dict(con.execute("SELECT table_name, column_name FROM gpkg_geometry_columns").fetchall())
        unknown = [layer for layer in styles if layer not in geometry_columns]
        if unknown:
            raise ConfigError("no such layer in the GeoPackage", path=path, layer=", ".join(unknown),
                              expected=", ".join(geometry_columns) or "a feature layer",
                              found=", ".join(unknown), fix="name the layers as written")
        with con:  # one transaction: committed on success, rolled back on error
            _ensure_table(con)
            for layer, style in styles.items():
                con.execute('UPDATE layer_styles SET "useAsDefault" = 0 WHERE f_table_name = ?', (layer,))
                con.execute('DELETE FROM layer_styles WHERE f_table_name = ? AND "styleName" = ?', (layer, name))
                con.execute(
                    'INSERT INTO layer_styles (f_table_catalog, f_table_schema, f_table_name, f_geometry_column, '
                    '"styleName", "styleQML", "styleSLD", "useAsDefault", description, owner, ui, update_time) '
                    "VALUES ('', '', ?, ?, ?, ?, ?, 1, ?, '', NULL, strftime('%Y-%m-%dT%H:%M:%fZ','now'))",
                    (layer, geometry_columns[layer], name, style.to_qml(), style.to_sld(layer), style.description),
                )
            con.execute("UPDATE gpkg_contents SET last_change = strftime('%Y-%m-%dT%H:%M:%fZ','now') "
                        "WHERE table_name = 'layer_styles'")
    finally:
        con.close()
    return path


def read_layer_styles(gpkg_path: str | os.PathLike) -> pd.DataFrame:
    """Read the ``layer_styles`` table of a GeoPackage.

    Parameters
    ----------
    gpkg_path : path-like
        A GeoPackage.

    Returns
    -------
    DataFrame
        One row per style (empty, with the columns, when the file has none).

    Raises
    ------
    InputFileError, OutputError
        If the file is missing or not a GeoPackage.

    Examples
    --------
    >>> read_layer_styles("out/violations.gpkg")[["f_table_name", "useAsDefault"]]  # doctest: +SKIP
      f_table_name  useAsDefault
    0      redline             1
    """
    con = _connect(Path(gpkg_path))
    try:
        exists = con.execute("SELECT 1 FROM sqlite_master WHERE type='table' AND name='layer_styles'").fetchone()
        if not exists:
            return pd.DataFrame(columns=["f_table_name", "f_geometry_column", "styleName", "styleQML", "styleSLD",
                                         "useAsDefault", "description", "update_time"])
        return pd.read_sql_query("SELECT * FROM layer_styles ORDER BY id", con)
    finally:
        con.close()


def style_geopackage(
    gpkg_path: str | os.PathLike,
    *,
    fields: Mapping[str, str] | None = None,
    lang: Literal["both", "zh", "en"] = "both",
) -> Path:
    """Give every feature layer of a GeoPackage its default style (:func:`style_for`).

    Parameters
    ----------
    gpkg_path : path-like
        A GeoPackage written by the package.
    fields : mapping of str to str, optional
        Layer name to the field to categorise it by (default: :func:`style_for`'s choice).
    lang : {"both", "zh", "en"}, default "both"
        Legend labels.

    Returns
    -------
    Path
        The GeoPackage.

    Raises
    ------
    InputFileError, OutputError, ConfigError
        As for :func:`add_layer_styles`.

    Examples
    --------
    >>> io.write_layers({"redline": hits}, "out/violations.gpkg")  # doctest: +SKIP
    >>> style_geopackage("out/violations.gpkg")  # doctest: +SKIP
    PosixPath('out/violations.gpkg')
    """
    import pyogrio

    path = Path(gpkg_path)
    fields = dict(fields or {})
    styles: dict[str, LayerStyle] = {}
    for layer, geom_type in pyogrio.list_layers(path):
        if geom_type is None:
            continue  # attribute tables (layer_styles itself)
        info = pyogrio.read_info(path, layer=layer)
        columns = [str(c) for c in info["fields"]]
        field = fields.get(layer) or next((f for f in DEFAULT_STYLE_FIELDS if f in columns), None)
        with warnings.catch_warnings():
            warnings.simplefilter("ignore")  # only the one field is read; its dates are not ours to judge
            data = (pyogrio.read_dataframe(path, layer=layer, columns=[field], read_geometry=False)
                    if field else pd.DataFrame())
        styles[str(layer)] = style_for(data, field=field, geometry=_geometry_kind([geom_type]), lang=lang)
    return add_layer_styles(path, styles)
