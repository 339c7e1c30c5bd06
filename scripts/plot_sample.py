"""Draw the sample dataset's layers to docs/img/sample_layers.png so a person can judge the layout.

Usage: python scripts/plot_sample.py [DATASET_DIR] [OUT_PNG]
"""

from __future__ import annotations

import sys
from pathlib import Path

import matplotlib

matplotlib.use("Agg")
import matplotlib.pyplot as plt  # noqa: E402
import numpy as np  # noqa: E402
import rasterio  # noqa: E402
from matplotlib import font_manager  # noqa: E402
from matplotlib.colors import ListedColormap  # noqa: E402
from matplotlib.patches import Patch  # noqa: E402

from dongping_geo.loaders import load_dataset  # noqa: E402
from dongping_geo.raster import LANDCOVER_LEGEND, LANDCOVER_NODATA  # noqa: E402

REPO = Path(__file__).resolve().parents[1]


def _cjk_font() -> bool:
    """Use a CJK font when one is installed; otherwise the labels stay English."""
    for f in font_manager.findSystemFonts():
        if "NotoSansCJK" in f or "NotoSerifCJK" in f or "wqy" in f.lower():
            font_manager.fontManager.addfont(f)
            name = font_manager.FontProperties(fname=f).get_name()
            plt.rcParams["font.family"] = [name, "DejaVu Sans"]
            return True
    return False


def main(folder: Path, out: Path) -> None:
    """Draw four panels of the dataset in ``folder`` to the PNG ``out``."""
    cjk = _cjk_font()
    ds = load_dataset(folder, patrols=False)
    town = ds.extra["town"]
    road = ds.extra["roads"]
    fig, axes = plt.subplots(2, 2, figsize=(16, 10.5), constrained_layout=True)
    (a1, a2), (a3, a4) = axes

    # 1. rivers, sections, regions, road
    ds.regions.plot(ax=a1, column="region", cmap="Pastel2", alpha=0.6, edgecolor="grey")
    widths = ds.rivers["level"].map({"district": 2.2, "town": 1.3, "village": 0.6})
    ds.rivers.plot(ax=a1, color="#1f5fa8", linewidth=widths)
    road.plot(ax=a1, color="#555", linewidth=1.5, linestyle="--")
    tiers = {"national": ("*", 220, "red"), "municipal": ("^", 90, "orange"), "town": ("o", 14, "black")}
    for tier, (mk, size, col) in tiers.items():
        ds.sections[ds.sections["tier"] == tier].plot(ax=a1, marker=mk, markersize=size, color=col, zorder=5)
    for _, r in ds.regions.iterrows():
        c = r.geometry.representative_point()
        a1.annotate(r["name"] if cjk else r["region"], (c.x, c.y), ha="center", fontsize=12)
    for name in ("东风中心河", "洪林河", "老北横引河", "前哨中心河", "北横引河"):
        g = ds.rivers.loc[ds.rivers["name"] == name, "geometry"].iloc[0]
        p = g.interpolate(0.62, normalized=True)
        a1.annotate(name if cjk else ds.rivers.loc[ds.rivers["name"] == name, "river_id"].iloc[0],
                    (p.x, p.y), fontsize=8, color="#0b3d91")
    a1.set_title("74 rivers (district/town/village), 55 sections (★ national, ▲ municipal, • town), "
                 "regions, Beiyan Road" if not cjk else
                 "74 条河道、55 个断面（★国考 ▲市考 •镇考）、四个片区、北沿公路", fontsize=10)

    # 2. zones, demolitions, buildings 2022 and planted violations
    cats = {"basic_farmland": "#f2e394", "eco_redline": "#2e7d32", "eco_space_1": "#66bb6a",
            "eco_space_2": "#a5d6a7", "eco_space_3": "#c8e6c9", "eco_space_4": "#81c784"}
    for cat, col in cats.items():
        z = ds.redlines[ds.redlines["category"] == cat]
        z.plot(ax=a2, color=col, alpha=0.8 if cat != "basic_farmland" else 0.6, edgecolor="none")
    ds.rivers.plot(ax=a2, color="#1f5fa8", linewidth=0.4)
    ds.demolitions.plot(ax=a2, color="#8e24aa", edgecolor="#4a148c", linewidth=0.3)
    b = ds.buildings[2022]
    b.plot(ax=a2, color="#444", linewidth=0)
    viol = ds.manifest["landuse"]["violation_building_ids"]
    vb = b[b["building_id"].isin(viol)]
    a2.scatter(vb.geometry.centroid.x, vb.geometry.centroid.y, s=90, facecolors="none",
               edgecolors="red", linewidths=1.5, zorder=6)
    a2.legend(handles=[Patch(color=c, label=k) for k, c in cats.items()]
              + [Patch(color="#8e24aa", label="demolished 2017-2021"), Patch(color="#444", label="buildings 2022"),
                 Patch(facecolor="none", edgecolor="red", label="planted violations")],
              fontsize=7, loc="lower right")
    a2.set_title("Red lines, eco space, basic farmland, demolitions, 2022 survey", fontsize=10)

    # 3. land cover 2022 with change patches
    with rasterio.open(ds.landcover[2022]) as src:
        arr = src.read(1)
        left, bottom, right, top = src.bounds
    codes = sorted(LANDCOVER_LEGEND)
    cmap = ListedColormap(["#ffffff"] + [LANDCOVER_LEGEND[c].color for c in codes])
    shown = np.where(arr == LANDCOVER_NODATA, 0, arr)
    a3.imshow(shown, cmap=cmap, vmin=0, vmax=max(codes), extent=(left, right, bottom, top),
              interpolation="nearest")
    for p in ds.manifest["landcover"]["changes_2020_2022"]:
        x0, y0, x1, y1 = p["bbox"]
        a3.add_patch(plt.Rectangle((x0 - 60, y0 - 60), x1 - x0 + 120, y1 - y0 + 120, fill=False,
                                   edgecolor="black", linewidth=1.2))
    a3.legend(handles=[Patch(color=LANDCOVER_LEGEND[c].color,
                             label=LANDCOVER_LEGEND[c].name_zh if cjk else LANDCOVER_LEGEND[c].name)
                       for c in codes], fontsize=7, loc="lower right")
    a3.set_title("Land cover 2022 (10 m); boxes: new built-up on farmland since 2020", fontsize=10)

    # 4. June patrols (GPX) over rivers, never-patrolled rivers in red
    from dongping_geo.loaders import load_patrols

    june = load_patrols(folder / "patrols_2022-06.gpx")
    ds.rivers.plot(ax=a4, color="#9ecae1", linewidth=0.8)
    never = ds.manifest["patrols"]["never_patrolled"]
    partial = [p["river_id"] for p in ds.manifest["patrols"]["partially_patrolled"]]
    ds.rivers[ds.rivers["river_id"].isin(never)].plot(ax=a4, color="red", linewidth=2)
    ds.rivers[ds.rivers["river_id"].isin(partial)].plot(ax=a4, color="orange", linewidth=2)
    a4.scatter(june.geometry.x, june.geometry.y, s=0.2, color="#333", alpha=0.4)
    a4.legend(handles=[Patch(color="red", label="never patrolled"), Patch(color="orange", label="partially patrolled"),
                       Patch(color="#333", label="GPS fixes, June 2022")], fontsize=7, loc="lower right")
    a4.set_title("River-chief patrols, June 2022", fontsize=10)

    minx, miny, maxx, maxy = town.total_bounds
    for ax in axes.flat:
        town.boundary.plot(ax=ax, color="black", linewidth=0.8)
        ax.set_xlim(minx - 300, maxx + 300)
        ax.set_ylim(miny - 300, maxy + 300)
        ax.set_aspect("equal")
        ax.tick_params(labelsize=7)
    fig.suptitle("Dongping sample dataset — SYNTHETIC (EPSG:4549, metres)", fontsize=13)
    out.parent.mkdir(parents=True, exist_ok=True)
    fig.savefig(out, dpi=90)
    print(f"wrote {out}")


if __name__ == "__main__":
    folder = Path(sys.argv[1]) if len(sys.argv) > 1 else REPO / "data" / "shapefiles"
    out = Path(sys.argv[2]) if len(sys.argv) > 2 else REPO / "docs" / "img" / "sample_layers.png"
    main(folder, out)
