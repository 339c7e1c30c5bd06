"""Draw the catchment figures of docs/catchments.md from the sample data.

docs/img/catchments.png: drainage units and section catchments; docs/img/catchment_drivers.png:
the land cover behind each section's class and the greening candidates.

Usage: python scripts/plot_catchments.py [DATASET_DIR] [OUT_PNG] [DRIVERS_PNG]
"""

from __future__ import annotations

import sys
from pathlib import Path

import matplotlib

matplotlib.use("Agg")
import matplotlib.pyplot as plt  # noqa: E402
import numpy as np  # noqa: E402
from matplotlib.lines import Line2D  # noqa: E402
from matplotlib.patches import Patch  # noqa: E402
from plot_sample import _cjk_font  # noqa: E402  (scripts/ is on sys.path when run as a script)

from dongping_geo import catchments as c  # noqa: E402
from dongping_geo import network as net  # noqa: E402
from dongping_geo.loaders import load_dataset  # noqa: E402

REPO = Path(__file__).resolve().parents[1]
PICK = ("DP-GK01", "DP-SK02", "DP-ZK03")


def main(folder: Path, out: Path) -> None:
    """Two panels: drainage units with the flow network; three section catchments."""
    cjk = _cjk_font()
    ds = load_dataset(folder, patrols=False)
    town = ds.extra["town"]
    g = net.river_network(ds.rivers, boundary=town, on_problem="report")
    table = g.graph["rivers"]
    units = c.drainage_units(ds.rivers, town, on_problem="report")
    sc = c.section_catchments(ds.rivers, ds.sections, town, on_problem="report").set_index("section_id")
    fig, (a1, a2) = plt.subplots(2, 1, figsize=(14, 13), constrained_layout=True)

    rng = np.random.default_rng(3)
    units.plot(ax=a1, color=rng.uniform(0.55, 0.95, (len(units), 3)), edgecolor="white", linewidth=0.3)
    ok = table["mouth_rule"] != "unresolved"
    given = table["mouth_rule"] == "flows_to"
    table[ok & ~given].plot(ax=a1, color="#1f5fa8", linewidth=1.2)
    if given.any():
        table[given].plot(ax=a1, color="#6a1b9a", linewidth=1.2)
    if (~ok).any():
        table[~ok].plot(ax=a1, color="#555555", linewidth=1.2, linestyle="--")
    mouths = table[ok & table["downstream"].notna()]
    pts = np.array([ln.interpolate(m).coords[0] for ln, m in zip(mouths.geometry, mouths["mouth_m"], strict=True)])
    a1.scatter(pts[:, 0], pts[:, 1], s=10, color="#c62828", zorder=3)
    a1.set_title("排水单元与河网 drainage units and the river network" if cjk else "Drainage units and the river network")
    handles = [
        Line2D([], [], color="#1f5fa8", label="downstream by level rule" + (" 按河道等级" if cjk else "")),
        Line2D([], [], color="#6a1b9a", label="downstream given by flows_to" + (" 下游河道" if cjk else "")),
        Line2D([], [], marker="o", color="#c62828", linestyle="", label="mouth (confluence)" + (" 河口" if cjk else "")),
    ]
    if (~ok).any():
        handles.insert(2, Line2D([], [], color="#555555", linestyle="--",
                                 label="two possible mouths: needs flows_to" + (" 待定下游河道" if cjk else "")))
    a1.legend(handles=handles, loc="lower right")

    town.boundary.plot(ax=a2, color="black", linewidth=0.8)
    colors = ("#fdd835", "#80cbc4", "#ef9a9a")
    handles = []
    for sid, col in zip(PICK, colors, strict=True):
        row = sc.loc[sid]
        a2.add_patch(matplotlib.patches.PathPatch(_path(row.geometry), facecolor=col, edgecolor="none", alpha=0.8))
        a2.add_patch(matplotlib.patches.PathPatch(_path(row["bank_strip"]), facecolor="none", edgecolor="#6d4c41",
                                                  hatch="////", linewidth=0))
        handles.append(Patch(color=col, label=f"{sid} {row['name'] if cjk else ''}: {row['area_m2'] / 1e6:.1f} km², "
                                             f"{row['n_upstream_rivers']} rivers"))
    ds.rivers.plot(ax=a2, color="#1f5fa8", linewidth=0.7)
    sel = ds.sections[ds.sections["section_id"].isin(PICK)]
    sel.plot(ax=a2, color="black", markersize=30, zorder=4)
    handles.append(Patch(facecolor="none", edgecolor="#6d4c41", hatch="////", label="100 m bank strip" + (" 岸带" if cjk else "")))
    a2.legend(handles=handles, loc="lower right")
    a2.set_title("断面汇水区 section catchments" if cjk else "Section catchments")
    for ax in (a1, a2):
        ax.set_axis_off()
        ax.set_aspect("equal")
    fig.suptitle("Synthetic sample data (样例数据，非真实)", fontsize=10)
    fig.savefig(out, dpi=110)
    print(f"wrote {out}")


def drivers_figure(folder: Path, out: Path, year: int = 2022) -> None:
    """Bank-strip greenhouse and farmland shares of every section by compliance; failing catchments."""
    from dongping_geo.reports import CatchmentsReport

    cjk = _cjk_font()
    ds = load_dataset(folder, patrols=False)
    rep = CatchmentsReport.compute(ds, year=year)
    d = rep.drivers
    fig, (a1, a2) = plt.subplots(1, 2, figsize=(15, 6), constrained_layout=True,
                                 gridspec_kw={"width_ratios": [1, 1.6]})
    met = d["meets_target"].astype("boolean").fillna(True).to_numpy(dtype=bool)
    for ok, col, lab in ((True, "#1a9641", "meets target 达标"), (False, "#d7191c", "misses target 未达标")):
        sel = d[met == ok]
        a1.scatter(100 * sel["strip_share_greenhouse"], 100 * sel["strip_share_farmland"], s=12 + sel["catchment_m2"] / 2e5,
                   color=col, alpha=0.75, edgecolor="black", linewidth=0.4,
                   label=f"{lab if cjk else lab.split(' 达')[0].split(' 未')[0]} ({len(sel)})")
    a1.set_xlabel("greenhouse in the 100 m bank strip (%)" + (" 岸带大棚比例" if cjk else ""))
    a1.set_ylabel("farmland in the 100 m bank strip (%)" + (" 岸带耕地比例" if cjk else ""))
    a1.legend(loc="upper right", title=f"sections {year} (size: catchment area)")
    a1.grid(alpha=0.3)

    ds.extra["town"].boundary.plot(ax=a2, color="black", linewidth=0.8)
    failing = rep.catchments[rep.catchments["section_id"].isin(rep.failing["section_id"])]
    if len(failing):
        failing.plot(ax=a2, color="#d7191c", alpha=0.25)
    for name, col in (("farmland", "#c9a227"), ("greenhouse", "#6d6d6d")):
        part = rep.candidates[rep.candidates["landcover"] == name]
        for geom in part.geometry:
            a2.add_patch(matplotlib.patches.PathPatch(_path(geom), facecolor="none", edgecolor=col, hatch="////",
                                                      linewidth=0.3))
    ds.rivers.plot(ax=a2, color="#1f5fa8", linewidth=0.6)
    ds.sections.plot(ax=a2, color=np.where(met, "#1a9641", "#d7191c")[
        ds.sections["section_id"].map(dict(zip(d["section_id"], range(len(d)), strict=True))).to_numpy()],
        markersize=14, zorder=4)
    a2.legend(handles=[Patch(color="#d7191c", alpha=0.25, label="catchment of a failing section"
                             + (" 未达标断面汇水区" if cjk else "")),
                       Patch(facecolor="none", edgecolor="#c9a227", hatch="////", label="farmland candidate"
                             + (" 耕地" if cjk else "")),
                       Patch(facecolor="none", edgecolor="#6d6d6d", hatch="////", label="greenhouse candidate"
                             + (" 大棚" if cjk else ""))], loc="lower right")
    a2.set_title((f"减麦增绿候选地块 {len(rep.candidates)} greening candidates, "
                  f"{rep.candidates['area_m2'].sum() / 1e4:.1f} ha") if cjk else
                 f"{len(rep.candidates)} greening candidates, {rep.candidates['area_m2'].sum() / 1e4:.1f} ha")
    a2.set_axis_off()
    a2.set_aspect("equal")
    fig.suptitle("Synthetic sample data (样例数据，非真实)", fontsize=10)
    fig.savefig(out, dpi=100)
    print(f"wrote {out}")


def _path(geom):
    from matplotlib.path import Path as MPath

    verts, codes = [], []
    for poly in getattr(geom, "geoms", [geom]):
        if poly.geom_type != "Polygon":
            continue
        for ring in (poly.exterior, *poly.interiors):
            xy = np.asarray(ring.coords)
            verts.extend(xy.tolist())
            codes.extend([MPath.MOVETO] + [MPath.LINETO] * (len(xy) - 2) + [MPath.CLOSEPOLY])
    return MPath(verts or [(0, 0)], codes or [MPath.MOVETO])


if __name__ == "__main__":
    folder = Path(sys.argv[1]) if len(sys.argv) > 1 else REPO / "data" / "shapefiles"
    out = Path(sys.argv[2]) if len(sys.argv) > 2 else REPO / "docs" / "img" / "catchments.png"
    main(folder, out)
    drivers_out = Path(sys.argv[3]) if len(sys.argv) > 3 else REPO / "docs" / "img" / "catchment_drivers.png"
    drivers_figure(folder, drivers_out)
