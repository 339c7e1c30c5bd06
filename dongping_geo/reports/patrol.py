"""The patrol report: coverage, uncovered stretches, compliance and quality from one analysis; a map per chief."""

from __future__ import annotations

import html
import os
from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from pathlib import Path
from typing import Any
from urllib.parse import quote

import geopandas as gpd
import pandas as pd

from ..io import (
    atomic_path,
)
from ._common import (
    MapOptions,
    OutputOptions,
    Progress,
    TableSpec,
    _quiet,
    safe_filename,
    save_charts,
    staged_outputs,
    write_rejected,
    write_report_tables,
    write_styled_layers,
)

# --- patrol report ---------------------------------------------------------------------


def _patrol_groups(rivers: gpd.GeoDataFrame, by: str) -> list[tuple[str, list[Any]]]:
    """(label, river ids) per map: one per chief, river or region."""
    from ..maps.styles import VALUE_LABELS

    unassigned = "未指定 Unassigned"
    if by == "river":
        names = rivers["name"] if "name" in rivers.columns else rivers["river_id"]
        return [(f"{n} {rid}" if n == n and n is not None else str(rid), [rid])
                for rid, n in zip(rivers["river_id"], names, strict=True)]
    col = "chief" if by == "chief" else "region"
    if col not in rivers.columns:
        return [(unassigned, list(rivers["river_id"]))]
    keys = rivers[col].astype(object).where(rivers[col].notna(), unassigned)
    if by == "region":
        keys = keys.map(lambda k: VALUE_LABELS.get("region", {}).get(k, k))
    return [(str(k), list(ids)) for k, ids in rivers.groupby(keys.to_numpy(), sort=True)["river_id"]]


def _index_html(rows: list[dict[str, Any]], *, title: str, by: str, note: str = "") -> str:
    """index.html text: one row per map, escaped text and URL-quoted links."""
    head = {"chief": "河长 Chief", "river": "河道 River", "region": "片区 Region"}[by]
    body = "".join(
        "<tr><td><a href=\"{href}\">{label}</a></td><td>{rivers}</td><td>{cov}</td>"
        "<td>{ok}</td><td class=\"missed\">{missed}</td><td>{gaps}</td></tr>".format(
            href=html.escape(quote(r["file"]), quote=True), label=html.escape(r["label"]),
            rivers=r["rivers"], cov=html.escape(r["coverage"]), ok=html.escape(r["compliant"]),
            missed="<br>".join(f"{html.escape(n)}: {html.escape(p)}" for n, p in r.get("missed", [])),
            gaps=html.escape(r.get("stretches", "")),
        )
        for r in rows
    )
    return (
        "<!DOCTYPE html>\n<html lang=\"zh-CN\"><head><meta charset=\"utf-8\">"
        f"<title>{html.escape(title)}</title>"
        "<style>body{font-family:'Noto Sans CJK SC',sans-serif;margin:2em}"
        "table{border-collapse:collapse}td,th{border:1px solid #ccc;padding:4px 10px}"
        "th{background:#eee}td.missed{color:#b2182b}"
        "@media print{@page{size:A4 landscape;margin:10mm}body{margin:0;font-size:9pt}}</style></head><body>"
        f"<h1>{html.escape(title)}</h1>"
        f"<table><thead><tr><th>{head}</th><th>河道数 Rivers</th><th>覆盖率 Coverage</th>"
        f"<th>巡河达标 Compliant</th><th>未达标河道与时段 Rivers and periods missed</th>"
        f"<th>未巡河段 Stretches to patrol</th></tr></thead><tbody>{body}</tbody></table>"
        f"{note}<p>coverage.csv, compliance.csv, uncovered.gpkg: see this folder. "
        "Synthetic sample data unless stated otherwise.</p></body></html>\n"
    )


@dataclass
class PatrolReport:
    """Patrol coverage and compliance of the river chiefs, computed once.

    Make it with :meth:`compute`; write it with :meth:`write`.

    Attributes
    ----------
    rivers : GeoDataFrame
        The rivers assessed.
    fixes : GeoDataFrame
        The cleaned GPS fixes.
    dropped : GeoDataFrame
        Fixes dropped by cleaning, with the reason, in the period only.
    coverage : DataFrame
        :func:`dongping_geo.patrol.river_coverage` table.
    uncovered : GeoDataFrame
        :func:`dongping_geo.patrol.uncovered_segments` lines.
    compliance : Compliance
        :func:`dongping_geo.patrol.compliance` tables.
    tracks : GeoDataFrame
        Patrol tracks of the period (LineStrings), for the maps.
    start, end : str
        The period, as given.
    quality : DataFrame or None
        :func:`dongping_geo.problems.patrol_quality` of the period's patrols.
    problems, signboards : GeoDataFrame or None
        When given, each map shows its rivers' open and overdue problems and signboards.
    """

    rivers: gpd.GeoDataFrame
    fixes: gpd.GeoDataFrame
    dropped: gpd.GeoDataFrame
    coverage: pd.DataFrame
    uncovered: gpd.GeoDataFrame
    compliance: Any
    tracks: gpd.GeoDataFrame
    start: str
    end: str
    quality: pd.DataFrame | None = None
    problems: gpd.GeoDataFrame | None = None
    signboards: gpd.GeoDataFrame | None = None
    town: Any = None  # the town boundary: context on the chiefs' maps

    @classmethod
    def compute(
        cls,
        rivers: gpd.GeoDataFrame,
        fixes: gpd.GeoDataFrame,
        *,
        start: str,
        end: str,
        tolerance_m: float = 30.0,
        rules: Any = None,
        area: Any = None,
        engine: str = "memory",
        progress: Progress = _quiet,
        layers: Mapping[str, gpd.GeoDataFrame | None] | None = None,
    ) -> PatrolReport:
        """Clean the fixes, intersect tracks with rivers once, and derive every table.

        Parameters
        ----------
        rivers, fixes : GeoDataFrame
            As for :func:`dongping_geo.patrol.river_coverage`.
        start, end : str
            The period (``end`` included).
        tolerance_m : float, default 30
            A river counts as inspected within this distance of a track.
        rules : dict, str or Path, optional
            Patrol rules, see :func:`dongping_geo.patrol.load_rules`.
        area : geometry or GeoDataFrame, optional
            The town boundary: fixes outside it are dropped.
        engine : {"memory", "dask"}, default "memory"
            ``"dask"`` intersects tracks and rivers on the current dask scheduler; every
            table derives from that one distributed analysis.
        progress : callable, optional
            Told the name of each step.
        layers : mapping, optional
            ``{"problems": ..., "signboards": ...}``: problems found on patrol and
            signboards to show on the chiefs' maps.

        Returns
        -------
        PatrolReport
            The computed report.
        """
        from .. import patrol
        from .._patrol_quality import QualityRules, quality_table
        from ..problems import patrol_quality

        rules = patrol.load_rules(rules)  # bad rules fail before the slow work
        progress("cleaning GPS fixes")
        cleaned, dropped = patrol.clean_fixes(fixes, area=area)
        lo, hi = patrol.period_bounds(start, end)
        progress("intersecting tracks with rivers")
        analysis = patrol.analyse(rivers, cleaned, tolerance_m=tolerance_m, start=lo,
                                  end=hi - pd.Timedelta(microseconds=1), engine=engine)
        coverage = analysis.coverage()
        progress("checking patrol frequency")
        in_period = ((cleaned["timestamp"] >= lo) & (cleaned["timestamp"] < hi)).to_numpy()
        stamps = pd.to_datetime(dropped["timestamp"], utc=True) if len(dropped) else pd.Series([], dtype=object)
        dropped_in = dropped[((stamps >= lo) & (stamps < hi)).to_numpy()] if len(dropped) else dropped
        return cls(
            rivers=analysis.rivers, fixes=cleaned, dropped=dropped_in, coverage=coverage,
            uncovered=analysis.uncovered(min_length_m=1.0), compliance=analysis.compliance(rules=rules),
            tracks=patrol.patrol_tracks(cleaned[in_period]), start=str(start), end=str(end),
            # The quality flags need each patrol's fixes: from the one analysis in memory; on
            # dask the analysis keeps no tracks, so they take one in-memory pass of their own.
            quality=(quality_table(analysis, QualityRules()) if analysis.tracks is not None else
                     patrol_quality(cleaned, rivers, tolerance_m=tolerance_m, start=lo,
                                    end=hi - pd.Timedelta(microseconds=1))),
            problems=(layers or {}).get("problems"), signboards=(layers or {}).get("signboards"),
            town=area,
        )

    def tables(self) -> dict[str, TableSpec]:
        """Return the report's tables by file stem, each with the schema layer of its fields.

        Returns
        -------
        dict of str to (DataFrame, str or None)
            ``coverage``, ``compliance``, ``compliance_by_chief``, ``dropped_fixes``, with
            canonical names and codes (translated when written).
        """
        tables: dict[str, TableSpec] = {
            "coverage": (self.coverage, "rivers"),
            "compliance": (self.compliance.by_river, "rivers"),
            "compliance_by_chief": (self.compliance.by_chief, "rivers"),
            "dropped_fixes": (pd.DataFrame(self.dropped.drop(columns="geometry")), "patrols"),
        }
        if self.quality is not None:
            tables["patrol_quality"] = (self.quality, "patrols")
        return tables

    def _group_map(self, label: str, ids: list[Any], by: str, options: MapOptions) -> Any:
        from ..maps import coverage_map

        sub_rivers = self.rivers[self.rivers["river_id"].isin(ids).to_numpy()]
        tracks = self.tracks
        if by == "chief" and "chief" in tracks.columns and "chief" in sub_rivers.columns:
            tracks = tracks[tracks["chief"].isin(set(sub_rivers["chief"].dropna())).to_numpy()]
        elif len(tracks):  # only the tracks near these rivers
            x0, y0, x1, y1 = sub_rivers.total_bounds
            tracks = tracks.cx[x0 - 200:x1 + 200, y0 - 200:y1 + 200]
        by_river = self.compliance.by_river
        m = coverage_map(
            sub_rivers, self.coverage[self.coverage["river_id"].isin(ids)],
            uncovered=self.uncovered[self.uncovered["river_id"].isin(ids)], fixes=tracks,
            compliance=by_river[by_river["river_id"].isin(ids)],
            basemap=options.basemap, tianditu_token=options.tianditu_token,
            title=f"{label} 巡河覆盖 Patrol coverage {self.start} – {self.end}",
        )
        self._add_context(m, ids)
        if self.problems is not None or self.signboards is not None:
            self._add_problems(m, ids)
        return m

    def _add_context(self, m: Any, ids: list[Any]) -> None:
        """Draw the town boundary and the other chiefs' rivers, faint, for orientation."""
        from ..maps import add_lines, add_polygons

        others = self.rivers[~self.rivers["river_id"].isin(ids).to_numpy()]
        if isinstance(self.town, gpd.GeoDataFrame) and len(self.town):
            add_polygons(m, self.town, name="镇界 Town boundary", colour="#777777", weight=1.0,
                         fill_opacity=0.0, legend=False, tolerance_m=5.0)
        if len(others):
            add_lines(m, others, name="其他河道 Other rivers", colour="#9e9e9e", weight=1.0, opacity=0.5,
                      tooltip=[c for c in ("name", "chief") if c in others.columns], legend=False,
                      tolerance_m=5.0)

    def _add_problems(self, m: Any, ids: list[Any]) -> None:
        """Add the group's open/overdue problems (as of the period's end) and signboards to a map."""
        from ..maps import add_problem_layers
        from ..patrol import period_bounds

        def mine(layer: gpd.GeoDataFrame | None) -> gpd.GeoDataFrame | None:
            return None if layer is None or "river_id" not in layer.columns else layer[layer["river_id"].isin(ids).to_numpy()]

        as_of = period_bounds(self.start, self.end)[1] - pd.Timedelta(microseconds=1)
        add_problem_layers(m, mine(self.problems), signboards=mine(self.signboards), as_of=as_of)

    def _index_row(self, label: str, ids: list[Any], file: str) -> dict[str, Any]:
        cov = self.coverage[self.coverage["river_id"].isin(ids)]
        length = float(cov["length_m"].sum())
        share = float(cov["covered_m"].sum()) / length if length else 0.0
        rule = self.compliance.by_river[self.compliance.by_river["river_id"].isin(ids)]
        ok = rule["compliant"]
        missed = rule[ok.eq(False).fillna(False).to_numpy(dtype=bool)]
        gaps = self.uncovered[self.uncovered["river_id"].isin(ids)]
        return {"label": label, "file": file, "rivers": len(ids), "coverage": f"{share:.0%}",
                "compliant": f"{int(ok.eq(True).sum())}/{int(ok.notna().sum())}",
                "missed": [(str(n if n == n and n else rid), ", ".join(map(str, p)))
                           for rid, n, p in zip(missed["river_id"], missed.get("name", missed["river_id"]),
                                                missed["missed_periods"], strict=True)],
                "stretches": f"{len(gaps)}, {gaps['length_m'].sum():,.0f} m" if len(gaps) else "0"}

    def write(
        self,
        out_dir: str | os.PathLike,
        *,
        by: str = "chief",
        map_options: MapOptions | None = None,
        output: OutputOptions | None = None,
        inputs: Iterable[Path] = (),
        progress: Progress = _quiet,
        rejected: pd.DataFrame | None = None,
    ) -> list[Path]:
        """Write the tables, ``compliance.png``, ``uncovered.gpkg``, one map per group and ``index.html``.

        Parameters
        ----------
        out_dir : path-like
            Output folder.
        by : {"chief", "river", "region"}, default "chief"
            One map per river chief, river or region.
        map_options : MapOptions, optional
            Basemap and offline settings.
        output : OutputOptions, optional
            Table language and format (default: both languages, CSV).
        inputs : iterable of Path
            Files and folders read: never written over.
        progress : callable, optional
            Told the name of each file written.
        rejected : DataFrame, optional
            Rows the loaders set aside (``on_error="report"``): written as
            ``rejected.csv`` with the other outputs (even when empty).

        Returns
        -------
        list of Path
            The files written (final paths).
        """
        from ..charts import patrol_compliance_chart
        from ..maps import save_map

        options = map_options or MapOptions()
        output = output or OutputOptions()
        out = Path(out_dir)
        with staged_outputs(out, inputs=inputs) as stage:
            names = write_report_tables(stage, self.tables(), workbook="patrol_report", options=output)
            names += save_charts(stage, {"compliance": lambda: patrol_compliance_chart(self.compliance,
                                                                                        lang=output.lang)})
            names.append(write_styled_layers({"uncovered": self.uncovered}, stage / "uncovered.gpkg",
                                             lang=output.lang).name)
            taken: set[str] = {"index"}
            rows = []
            for label, ids in _patrol_groups(self.rivers, by):
                name = f"maps/{safe_filename(label, taken)}.html"
                progress(name)
                save_map(self._group_map(label, ids, by, options), stage / name, offline=options.offline)
                rows.append(self._index_row(label, ids, name))
            title = f"河长巡河报告 Patrol report {self.start} – {self.end}"
            with atomic_path(stage / "index.html") as tmp:
                tmp.write_text(_index_html(rows, title=title, by=by, note=self._quality_note()), encoding="utf-8")
            names += [r["file"] for r in rows] + ["index.html"] + write_rejected(rejected, stage)
        return [out / n for n in names]

    def summary(self) -> str:
        """One line for the terminal: coverage, rivers missing their rule, fixes dropped.

        Returns
        -------
        str
            The summary line.
        """
        total = self.coverage["length_m"].sum()
        share = self.coverage["covered_m"].sum() / total if total else 0.0
        return (f"{len(self.rivers)} rivers, {share:.1%} of {total / 1000:.1f} km covered; "
                f"{self.n_missing_rule} rivers miss their patrol rule; {len(self.dropped)} fixes dropped")

    @property
    def n_flagged(self) -> int:
        """Number of patrols of the period with a patrol-quality flag (0 when not computed)."""
        return 0 if self.quality is None else int(self.quality["flagged"].sum())

    def _quality_note(self) -> str:
        if self.quality is None:
            return ""
        return (f"<p>巡河质量存疑 Flagged patrols: {self.n_flagged} / {len(self.quality)} "
                "(patrol_quality.csv; rules in docs/problems.md)</p>")

    @property
    def n_missing_rule(self) -> int:
        """Number of rivers that miss their patrol rule."""
        return int(self.compliance.by_river["compliant"].eq(False).sum())


# --- problems report (issue 15) ----------------------------------------------------------
