"""Open generated HTML maps in headless Chromium (Playwright) for browser tests.

Usage in a test::

    @pytest.mark.browser
    def test_something(browser_page, tmp_path):
        page = browser_page.open(html_path, block_network=True)
        assert page.errors == []
        page.screenshot("name")

The ``browser_page`` fixture skips with a clear reason when Playwright or
``/usr/bin/chromium`` is missing, except when the ``CI`` environment variable is
set: there a missing browser is a failure, so CI always runs the browser tests.
"""

from __future__ import annotations

import os
import shutil
import tempfile
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import pytest

CHROMIUM = os.environ.get("DONGPING_CHROMIUM", "/usr/bin/chromium")
CHROMIUM_ARGS = [
    "--headless",
    "--no-sandbox",
    "--disable-gpu",
    "--disable-quic",
    "--no-first-run",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
]

# Find the folium map object: folium declares it as a global `var map_<id>`.
_JS_MAP = """() => {
    for (const k of Object.keys(window)) {
        if (k.startsWith('map_') && window[k] instanceof L.Map) { return k; }
    }
    return null;
}"""

# Count drawn features: every leaf layer that carries a GeoJSON feature and is on the map.
_JS_COUNT = """(args) => {
    const [mapName, layerName] = args;
    const map = window[mapName];
    if (layerName) {
        const layer = window[layerName];
        return map.hasLayer(layer) ? layer.getLayers().length : 0;
    }
    let n = 0;
    map.eachLayer(l => { if (l instanceof L.GeoJSON) { n += l.getLayers().length; } });
    return n;
}"""


def _fail_or_skip(reason: str) -> None:
    if os.environ.get("CI"):
        pytest.fail(f"browser tests must run in CI: {reason}")
    pytest.skip(reason)


@dataclass
class MapPage:
    """One opened page: the Playwright page plus what happened while it loaded."""

    page: Any
    shots: Path
    errors: list[str] = field(default_factory=list)
    failed_loads: list[str] = field(default_factory=list)
    blocked: list[str] = field(default_factory=list)
    requests: list[str] = field(default_factory=list)

    @property
    def map_name(self) -> str:
        """JavaScript name of the Leaflet map."""
        name = self.page.evaluate(_JS_MAP)
        assert name, "no Leaflet map found on the page"
        return name

    def feature_count(self, layer_name: str | None = None) -> int:
        """Features drawn by one layer (by JS variable name) or by all GeoJSON layers."""
        return int(self.page.evaluate(_JS_COUNT, [self.map_name, layer_name]))

    def svg_paths(self) -> int:
        """Number of SVG path elements in the overlay pane (lines, polygons, circles)."""
        return int(self.page.locator(".leaflet-overlay-pane path").count())

    def legend_visible(self) -> bool:
        """True when at least one legend is visible and has a non-zero size."""
        legends = self.page.locator(".dg-legend")
        for i in range(legends.count()):
            box = legends.nth(i).bounding_box()
            if legends.nth(i).is_visible() and box and box["width"] > 0 and box["height"] > 0:
                return True
        return False

    def screenshot(self, name: str) -> Path:
        """Save a PNG screenshot into the test's tmp folder and return its path."""
        path = self.shots / f"{name}.png"
        self.page.screenshot(path=str(path), full_page=False)
        return path


class BrowserSession:
    """A headless Chromium with a fresh profile, opening local HTML files."""

    def __init__(self, playwright: Any, shots: Path):
        self._profile = tempfile.mkdtemp(prefix="dg-chromium-")
        self.context = playwright.chromium.launch_persistent_context(
            self._profile,
            executable_path=CHROMIUM,
            headless=True,
            args=CHROMIUM_ARGS,
            viewport={"width": 1200, "height": 800},
            service_workers="block",
        )
        self.shots = shots

    def open(self, path: Path, *, block_network: bool = False, wait_ms: int = 300) -> MapPage:
        """Open a local HTML file; with ``block_network`` abort every non-file request."""
        page = self.context.new_page()
        result = MapPage(page=page, shots=self.shots)

        def console(msg: Any) -> None:
            if msg.type != "error":
                return
            # A blocked or missing resource (tiles offline) is reported separately.
            if msg.text.startswith("Failed to load resource"):
                result.failed_loads.append(msg.text)
            else:
                result.errors.append(f"console: {msg.text}")

        page.on("console", console)
        page.on("pageerror", lambda exc: result.errors.append(f"pageerror: {exc}"))
        page.on("request", lambda req: result.requests.append(req.url))

        if block_network:

            def route(r: Any) -> None:
                if r.request.url.startswith(("file:", "data:", "blob:", "about:")):
                    r.continue_()
                else:
                    result.blocked.append(r.request.url)
                    r.abort()

            page.route("**/*", route)
        page.goto(Path(path).resolve().as_uri(), wait_until="load")
        page.wait_for_function("() => typeof L !== 'undefined'", timeout=5000)
        page.wait_for_timeout(wait_ms)
        return result

    def close(self) -> None:
        """Close the browser and delete its profile."""
        self.context.close()
        shutil.rmtree(self._profile, ignore_errors=True)


class _PerTest:
    """The shared browser, saving screenshots into one test's tmp folder."""

    def __init__(self, session: BrowserSession, shots: Path):
        self._session = session
        self._shots = shots

    def open(self, path: Path, **kwargs: Any) -> MapPage:
        """Open a local HTML file in a new page (see :meth:`BrowserSession.open`)."""
        self._session.shots = self._shots
        return self._session.open(path, **kwargs)


@pytest.fixture(scope="session")
def _chromium():
    """One headless Chromium (fresh profile) for the whole test session."""
    try:
        from playwright.sync_api import sync_playwright
    except ImportError:
        _fail_or_skip("playwright (python package) is not installed")
    if not Path(CHROMIUM).exists():
        _fail_or_skip(f"Chromium not found at {CHROMIUM} (apt-get install chromium)")
    with sync_playwright() as pw:
        session = BrowserSession(pw, Path(tempfile.gettempdir()))
        try:
            yield session
        finally:
            session.close()


@pytest.fixture
def browser_page(_chromium: BrowserSession, tmp_path: Path) -> _PerTest:
    """Headless Chromium opening local files; screenshots go to the test's ``tmp_path``.

    Skipped when Playwright or Chromium is missing, failed instead when ``CI`` is set.
    """
    return _PerTest(_chromium, tmp_path)
