"""Screenshot the sample's problems map (offline, no tiles) to docs/img/problems_map.png.

Usage: python scripts/shot_problems_map.py [DATASET_DIR] [OUT_PNG]
(needs Playwright and a Chromium: DONGPING_CHROMIUM, default /usr/bin/chromium)
"""

from __future__ import annotations

import os
import sys
import tempfile
from pathlib import Path

from playwright.sync_api import sync_playwright

from dongping_geo import problems as pr
from dongping_geo.loaders import load_dataset
from dongping_geo.maps import problems_map, save_map

REPO = Path(__file__).resolve().parents[1]


def main(folder: Path, out: Path) -> None:
    """Write the year's problems map of the sample and screenshot it at 1200 × 700."""
    ds = load_dataset(folder, patrols=False)
    as_of = ds.manifest["problems"]["as_of"] if ds.manifest else None
    checks = pr.check_signboards(ds.signboards, ds.rivers)
    hotspots = pr.problem_hotspots(ds.problems, ds.rivers).head(15)
    m = problems_map(ds.problems, ds.rivers, signboards=ds.signboards, board_checks=checks, hotspots=hotspots,
                     as_of=as_of, basemap="none", title="巡河问题 Problems 2022 (synthetic sample)")
    with tempfile.TemporaryDirectory() as tmp, sync_playwright() as p:
        html = save_map(m, Path(tmp) / "problems.html", offline=True)
        browser = p.chromium.launch(executable_path=os.environ.get("DONGPING_CHROMIUM", "/usr/bin/chromium"),
                                    args=["--no-sandbox", "--disable-gpu"])
        page = browser.new_page(viewport={"width": 1200, "height": 700})
        page.goto(html.as_uri())
        page.wait_for_timeout(1500)
        page.screenshot(path=str(out))
        browser.close()
    print(f"wrote {out}")


if __name__ == "__main__":
    args = sys.argv[1:]
    main(Path(args[0]) if args else REPO / "data" / "shapefiles",
         Path(args[1]) if len(args) > 1 else REPO / "docs" / "img" / "problems_map.png")
