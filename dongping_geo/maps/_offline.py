"""Inline Leaflet/folium assets into a map's HTML for offline use.

The vendored files under ``dongping_geo/data/vendor/`` are the exact files folium
references from CDNs (see that folder's README for versions and licences). Each
``<script src=…>`` / ``<link rel=stylesheet href=…>`` that points at one of them is
replaced by an inline ``<script>``/``<style>``; images that the CSS references are
turned into ``data:`` URIs. An asset we do not ship is an error, never a silent
online dependency.
"""

from __future__ import annotations

import base64
import re
from functools import cache
from pathlib import Path

from ..errors import OutputError

VENDOR_DIR = Path(__file__).resolve().parent.parent / "data" / "vendor"

# URL file name (lower case) -> vendored file. Matched by name, not full URL, so a
# patch-level folium upgrade of a CDN address keeps working; the major version is
# checked separately.
_ASSETS: dict[str, tuple[str, str]] = {
    "leaflet.js": ("leaflet-1.9.3/leaflet.js", "1"),
    "leaflet.css": ("leaflet-1.9.3/leaflet.css", "1"),
    "control.fullscreen.min.js": ("leaflet.fullscreen-3.0.0/Control.FullScreen.js", "3"),
    "control.fullscreen.js": ("leaflet.fullscreen-3.0.0/Control.FullScreen.js", "3"),
    "control.fullscreen.css": ("leaflet.fullscreen-3.0.0/Control.FullScreen.css", "3"),
    "leaflet-measure.min.js": ("leaflet-measure-2.1.7/leaflet-measure.min.js", "2"),
    "leaflet-measure.js": ("leaflet-measure-2.1.7/leaflet-measure.min.js", "2"),
    "leaflet-measure.min.css": ("leaflet-measure-2.1.7/leaflet-measure.css", "2"),
    "leaflet-measure.css": ("leaflet-measure-2.1.7/leaflet-measure.css", "2"),
    "leaflet.markercluster.js": ("leaflet.markercluster-1.1.0/leaflet.markercluster.js", "1"),
    "leaflet.markercluster-src.js": ("leaflet.markercluster-1.1.0/leaflet.markercluster.js", "1"),
    "markercluster.css": ("leaflet.markercluster-1.1.0/MarkerCluster.css", "1"),
    "markercluster.default.css": ("leaflet.markercluster-1.1.0/MarkerCluster.Default.css", "1"),
}

_MIME = {".png": "image/png", ".svg": "image/svg+xml", ".gif": "image/gif"}

_SCRIPT_RE = re.compile(r"<script\b[^>]*\bsrc\s*=\s*[\"']([^\"']+)[\"'][^>]*>\s*</script>", re.I)
_LINK_RE = re.compile(r"<link\b[^>]*\bhref\s*=\s*[\"']([^\"']+)[\"'][^>]*/?>", re.I)
_CSS_URL_RE = re.compile(r"url\(\s*([\"']?)([^\"')]+)\1\s*\)")
# What would make a browser fetch something from outside: src/href attributes of
# tags, CSS url(...) and @import with an absolute or protocol-relative address.
_EXTERNAL_RE = re.compile(
    r"""(?:\b(?:src|href)\s*=\s*["']?|url\(\s*["']?|@import\s+["'])((?:https?:)?//[^"')\s>]+)""",
    re.I,
)

# Leaflet finds its default marker icon through a CSS url(); with data: URIs that
# detection fails, so point the default icon at inlined images explicitly.
_ICON_FIX = """
L.Icon.Default.imagePath = "";
L.Icon.Default.mergeOptions({{iconUrl: "{icon}", iconRetinaUrl: "{icon2x}", shadowUrl: "{shadow}"}});
"""


@cache
def _data_uri(path: Path) -> str:
    mime = _MIME.get(path.suffix.lower(), "application/octet-stream")
    return f"data:{mime};base64," + base64.b64encode(path.read_bytes()).decode("ascii")


@cache
def _read_asset(rel: str) -> str:
    path = VENDOR_DIR / rel
    text = path.read_text(encoding="utf-8")
    if path.suffix == ".css":

        def repl(match: re.Match[str]) -> str:
            ref = match.group(2)
            if ref.startswith(("data:", "#")):
                return match.group(0)
            img = (path.parent / ref).resolve()
            if not img.is_file():
                raise OutputError(
                    "a vendored stylesheet references a missing file",
                    path=path,
                    expected=str(img),
                    found="no such file",
                    fix="re-vendor the package (see dongping_geo/data/vendor/README.md)",
                )
            return f'url("{_data_uri(img)}")'

        text = _CSS_URL_RE.sub(repl, text)
    return text


def _asset_for(url: str) -> str | None:
    """Return the vendored file for a CDN url, or None when the asset is not shipped."""
    name = url.split("?")[0].rstrip("/").rsplit("/", 1)[-1].lower()
    entry = _ASSETS.get(name)
    if entry is None:
        return None
    rel, major = entry
    version = re.search(r"[@/](\d+)\.\d+\.\d+", url)
    if version and version.group(1) != major:
        raise OutputError(
            "folium references an asset version that is not vendored",
            expected=f"major version {major} of {name}",
            found=url,
            fix="vendor the new version (see dongping_geo/data/vendor/README.md)",
        )
    return rel


def _script_tag(js: str) -> str:
    # A literal "</script" inside inlined code would end the tag early.
    return "<script>" + js.replace("</script", "<\\/script") + "</script>"


def inline_assets(html: str) -> str:
    """Replace CDN script/link tags by inline copies of the vendored files."""

    def script(match: re.Match[str]) -> str:
        url = match.group(1)
        rel = _asset_for(url)
        if rel is None:
            raise _unknown(url)
        out = _script_tag(_read_asset(rel))
        if rel.endswith("leaflet.js"):
            img = VENDOR_DIR / "leaflet-1.9.3" / "images"
            out += _script_tag(
                _ICON_FIX.format(
                    icon=_data_uri(img / "marker-icon.png"),
                    icon2x=_data_uri(img / "marker-icon-2x.png"),
                    shadow=_data_uri(img / "marker-shadow.png"),
                )
            )
        return out

    def link(match: re.Match[str]) -> str:
        tag, url = match.group(0), match.group(1)
        if not re.search(r"rel\s*=\s*[\"']?stylesheet", tag, re.I):
            return tag
        rel = _asset_for(url)
        if rel is None:
            raise _unknown(url)
        return "<style>" + _read_asset(rel).replace("</style", "<\\/style") + "</style>"

    html = _SCRIPT_RE.sub(script, html)
    return _LINK_RE.sub(link, html)


# A hyperlink a person may click (``<a href="https://…">``, e.g. a problem's photo in a
# popup) is not something the browser loads: it is left out of the check.
_ANCHOR_RE = re.compile(r"""<a\s+href\s*=\s*["']https?://[^"'\s<>]*["']""", re.I)


def external_references(html: str) -> list[str]:
    """Addresses outside the file that a browser would load (src, href, CSS url, @import).

    Hyperlinks (``<a href=…>``) are not loads and are not listed.
    """
    return sorted(set(_EXTERNAL_RE.findall(_ANCHOR_RE.sub("<a", html))))


def page_references(html: str) -> list[str]:
    """Outside addresses in the page itself, ignoring the vendored asset tags it loads.

    Run on the HTML *before* inlining: the vendored code is checked once when it is
    vendored (Leaflet's source holds a credit hyperlink to its home page, which is a
    link a person may click, not something the browser loads).
    """
    stripped = _SCRIPT_RE.sub(lambda m: "" if _asset_for(m.group(1)) else m.group(0), html)
    stripped = _LINK_RE.sub(lambda m: "" if _asset_for(m.group(1)) else m.group(0), stripped)
    return external_references(stripped)


def _unknown(url: str) -> OutputError:
    return OutputError(
        "cannot write an offline map: it needs a web asset that dongping_geo does not ship",
        expected="only Leaflet, Leaflet.fullscreen, leaflet-measure and Leaflet.markercluster assets",
        found=url,
        fix="remove the folium plugin that needs it, or save with offline=False",
    )
