"""Exception hierarchy of dongping_geo.

Every error raised for bad input is a :class:`DongpingGeoError`. Like rasterio's
errors, each class also subclasses the matching built-in (``ValueError``,
``FileNotFoundError`` …) so generic ``except`` clauses keep working.

Messages follow one pattern, built by :func:`format_message`: where the problem
is (file, layer, feature id, field), what was expected, what was found and how
to fix it.
"""

from __future__ import annotations

from typing import Any

__all__ = [
    "DongpingGeoError",
    "InputFileError",
    "EncodingError",
    "SchemaError",
    "CRSError",
    "GeometryError",
    "MeasurementError",
    "RasterError",
    "ConfigError",
    "OutputError",
    "format_message",
]


def format_message(
    problem: str,
    *,
    path: Any = None,
    layer: str | None = None,
    feature_id: Any = None,
    field: str | None = None,
    expected: str | None = None,
    found: str | None = None,
    fix: str | None = None,
) -> str:
    """Build an error message naming where, what was expected, what was found and the fix.

    Parameters
    ----------
    problem : str
        One short sentence saying what is wrong.
    path : path-like, optional
        The file the problem is in.
    layer : str, optional
        The layer (rivers, sections …) or the file's layer name.
    feature_id : Any, optional
        The id (or row number) of the offending feature.
    field : str, optional
        The offending field.
    expected, found : str, optional
        What was expected and what was found instead.
    fix : str, optional
        How the user can fix it.

    Returns
    -------
    str
        ``"<path> [layer <layer>] feature <id> field <field>: problem; expected …, found …. Fix: …"``.

    Examples
    --------
    >>> format_message("unknown level", layer="rivers", feature_id="R01", field="level",
    ...                expected="district, town, village", found="'county'")
    "layer rivers, feature R01, field level: unknown level; expected district, town, village, found 'county'"
    """
    where = []
    if path is not None:
        where.append(str(path))
    if layer is not None:
        where.append(f"layer {layer}")
    if feature_id is not None:
        where.append(f"feature {feature_id}")
    if field is not None:
        where.append(f"field {field}")
    msg = (", ".join(where) + ": " if where else "") + problem
    details = []
    if expected is not None:
        details.append(f"expected {expected}")
    if found is not None:
        details.append(f"found {found}")
    if details:
        msg += "; " + ", ".join(details)
    if fix:
        msg += f". Fix: {fix}"
    return msg


class DongpingGeoError(Exception):
    """Base class of every error dongping_geo raises for bad input or settings."""

    def __init__(self, problem: str, **context: Any) -> None:
        self.context = context
        super().__init__(format_message(problem, **context) if context else problem)


class InputFileError(DongpingGeoError, FileNotFoundError):
    """An input file is missing, incomplete (.shp without .dbf/.shx) or unreadable."""


class EncodingError(DongpingGeoError, UnicodeError):
    """Attribute text could not be decoded with any candidate encoding."""


class SchemaError(DongpingGeoError, ValueError):
    """A layer's fields or values do not match its schema (missing field, bad value, duplicate id)."""


class CRSError(DongpingGeoError, ValueError):
    """A layer has no CRS, or a CRS that cannot be used as asked."""


class GeometryError(DongpingGeoError, ValueError):
    """Geometries are of the wrong type, empty, invalid, or far from where they should be."""


class MeasurementError(DongpingGeoError, ValueError):
    """A water-quality measurement cannot be parsed (unit, parameter, value, duplicate)."""


class RasterError(DongpingGeoError, ValueError):
    """A raster is unreadable, lacks a CRS/nodata, or is on an incompatible grid."""


class ConfigError(DongpingGeoError, ValueError):
    """A setting or rules file (patrol rules, setbacks) is invalid."""


class OutputError(DongpingGeoError, OSError):
    """An output cannot be written (for example it would overwrite an input)."""
