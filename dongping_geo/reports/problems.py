"""The problems report: summaries, overdue and recurring problems, signboard check, the problems map."""

from __future__ import annotations

import os
from collections.abc import Iterable
from dataclasses import dataclass
from pathlib import Path

import geopandas as gpd
import pandas as pd

from ._common import (
    MapOptions,
    OutputOptions,
    Progress,
    TableSpec,
    _quiet,
    staged_outputs,
    write_rejected,
    write_report_tables,
    write_styled_layers,
)


@dataclass
class ProblemsReport:
    """Problems found on patrol and signboards over a period, computed once.

    Make it with :meth:`compute`; write it with :meth:`write`.

    Attributes
    ----------
    summaries : dict of str to DataFrame
        :func:`dongping_geo.problems.problem_summary` of the problems reported in the
        period: ``all``, ``by_river``, ``by_chief``, ``by_month`` and, when the rivers
        have a region, ``by_region``.
    overdue : GeoDataFrame
        Problems open ``overdue_days`` or more as of the period's end (reported then or before).
    recurring : DataFrame
        Re-check failures reported in the period.
    hotspots : GeoDataFrame
        Problem stretches of the period, worst first.
    board_checks : DataFrame or None
        :func:`dongping_geo.problems.check_signboards` findings (None without signboards).
    problems, rivers, signboards : GeoDataFrame
        The layers, for the map (problems up to the period's end).
    start, end : str
        The period, as given.
    as_of : Timestamp
        The end of the period's last day: the state assessed.
    overdue_days : float
        The overdue rule.
    """

    summaries: dict[str, pd.DataFrame]
    overdue: gpd.GeoDataFrame
    recurring: pd.DataFrame
    hotspots: gpd.GeoDataFrame
    board_checks: pd.DataFrame | None
    problems: gpd.GeoDataFrame
    rivers: gpd.GeoDataFrame
    signboards: gpd.GeoDataFrame | None
    start: str
    end: str
    as_of: pd.Timestamp
    overdue_days: float = 7

    @classmethod
    def compute(
        cls,
        problems: gpd.GeoDataFrame,
        rivers: gpd.GeoDataFrame,
        *,
        start: str,
        end: str,
        signboards: gpd.GeoDataFrame | None = None,
        overdue_days: float = 7,
        progress: Progress = _quiet,
    ) -> ProblemsReport:
        """Summarise the problems of a period and check the signboards.

        Parameters
        ----------
        problems : GeoDataFrame
            As from :func:`dongping_geo.load_problems`.
        rivers : GeoDataFrame
            The rivers (river_id, name, chief).
        start, end : str
            The period (``end`` included); the state is assessed at the end of ``end``.
        signboards : GeoDataFrame, optional
            As from :func:`dongping_geo.load_signboards`.
        overdue_days : float, default 7
            Days after which an open problem is overdue.
        progress : callable, optional
            Told the name of each step.

        Returns
        -------
        ProblemsReport
            The computed report.
        """
        from .. import problems as pr
        from ..patrol import period_bounds
        from ..schemas import parse_datetime

        lo, hi = period_bounds(start, end)
        as_of = hi - pd.Timedelta(microseconds=1)
        if "reported_at" not in problems.columns:  # the analysis names what is missing
            pr.problem_summary(problems, rivers)
        reported, _ = parse_datetime(problems["reported_at"].reset_index(drop=True))
        upto = problems[(reported < hi).to_numpy()]
        period = problems[((reported >= lo) & (reported < hi)).to_numpy()]
        progress("summarising problems")
        kw = {"overdue_days": overdue_days, "as_of": as_of}
        summaries = {
            "all": pr.problem_summary(period, rivers, by=(), **kw),
            "by_river": pr.problem_summary(period, rivers, by=("river_id", "name", "chief"), **kw),
            "by_chief": pr.problem_summary(period, rivers, by=("chief",), **kw),
            **({"by_region": pr.problem_summary(period, rivers, by=("region",), **kw)}
               if "region" in rivers.columns else {}),
            "by_month": pr.problem_summary(period, rivers, by=("month",), **kw),
        }
        progress("overdue and recurring problems")
        recurring = pr.recurring_problems(upto)
        recurring = recurring[(recurring["reported_at"] >= lo).to_numpy()].reset_index(drop=True)
        checks = pr.check_signboards(signboards, rivers, as_of=as_of) if signboards is not None else None
        return cls(summaries=summaries, overdue=pr.overdue_problems(upto, rivers, **kw), recurring=recurring,
                   hotspots=pr.problem_hotspots(period, rivers), board_checks=checks, problems=upto,
                   rivers=rivers, signboards=signboards, start=str(start), end=str(end), as_of=as_of,
                   overdue_days=overdue_days)

    def tables(self) -> dict[str, pd.DataFrame]:
        """Return the report's tables by file stem (geometry dropped).

        Returns
        -------
        dict of str to (DataFrame, str or None)
            ``problem_summary``, ``problems_by_river``, ``problems_by_chief``,
            ``problems_by_month``, ``problems_by_region`` (with regions), ``overdue``,
            ``recurring``, ``hotspots`` and, with signboards, ``signboard_check``; each with
            the schema layer of its fields (translated when written).
        """
        def plain(df: pd.DataFrame) -> pd.DataFrame:
            return pd.DataFrame(df.drop(columns=df.geometry.name)) if isinstance(df, gpd.GeoDataFrame) else df

        s = self.summaries
        out: dict[str, TableSpec] = {
            "problem_summary": (s["all"], "problems"), "problems_by_river": (s["by_river"], "problems"),
            "problems_by_chief": (s["by_chief"], "problems"), "problems_by_month": (s["by_month"], "problems"),
            **({"problems_by_region": (s["by_region"], "problems")} if "by_region" in s else {}),
            "overdue": (plain(self.overdue), "problems"), "recurring": (self.recurring, "problems"),
            "hotspots": (plain(self.hotspots), "rivers"),
        }
        if self.board_checks is not None:
            out["signboard_check"] = (self.board_checks, "signboards")
        return out

    def write(
        self,
        out_dir: str | os.PathLike,
        *,
        map_options: MapOptions | None = None,
        output: OutputOptions | None = None,
        inputs: Iterable[Path] = (),
        rejected: pd.DataFrame | None = None,
        progress: Progress = _quiet,
    ) -> list[Path]:
        """Write the tables (in the reader's language), a styled ``problems.gpkg`` and ``problems_map.html``.

        Parameters
        ----------
        out_dir : path-like
            Output folder.
        map_options : MapOptions, optional
            Basemap and offline settings.
        output : OutputOptions, optional
            Language and format of the tables (default: both languages, CSV).
        inputs : iterable of Path
            Files and folders read: never written over.
        rejected : DataFrame, optional
            Rows the loaders set aside (``--on-error report``): written as rejected.csv.
        progress : callable, optional
            Told the name of each file written.

        Returns
        -------
        list of Path
            The files written (final paths).
        """
        from ..maps import problems_map, save_map

        options = map_options or MapOptions()
        out = Path(out_dir)
        names: list[str] = []
        output = output or OutputOptions()
        with staged_outputs(out, inputs=inputs) as stage:
            progress("tables")
            names += write_report_tables(stage, self.tables(), workbook="problems", options=output)
            names += write_rejected(rejected, stage)
            layers = {k: v for k, v in {"overdue": self.overdue, "hotspots": self.hotspots}.items() if len(v)}
            if layers:
                names.append(write_styled_layers(layers, stage / "problems.gpkg", lang=output.lang).name)
            m = problems_map(self.problems, self.rivers, signboards=self.signboards, board_checks=self.board_checks,
                             hotspots=self.hotspots, as_of=self.as_of, overdue_days=self.overdue_days,
                             basemap=options.basemap, tianditu_token=options.tianditu_token,
                             title=f"巡河问题 Problems {self.start} – {self.end}")
            progress("problems_map.html")
            save_map(m, stage / "problems_map.html", offline=options.offline)
            names.append("problems_map.html")
        return [out / n for n in names]

    def summary(self) -> str:
        """One line for the terminal: problems, open, overdue, recurring, signboard findings.

        Returns
        -------
        str
            The summary line.
        """
        row = self.summaries["all"].iloc[0] if len(self.summaries["all"]) else None
        n, n_open = (int(row["problems"]), int(row["open"])) if row is not None else (0, 0)
        boards = "" if self.board_checks is None else f"; {len(self.board_checks)} signboard findings"
        return (f"{n} problems reported in the period, {n_open} of them still open; {len(self.overdue)} overdue "
                f"at its end (open >= {self.overdue_days:g} days, whenever reported); "
                f"{len(self.recurring)} recurring{boards}")


# --- water-quality report ----------------------------------------------------------------
