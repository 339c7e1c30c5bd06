"""The water-quality report: GB 3838-2002 assessment of sections and rivers, the map and charts."""

from __future__ import annotations

import os
from collections.abc import Callable, Iterable
from dataclasses import dataclass
from functools import partial
from pathlib import Path
from typing import Any, Literal

import pandas as pd

from ._common import (
    Lang,
    MapOptions,
    OutputOptions,
    TableSpec,
    safe_filename,
    save_charts,
    staged_outputs,
    write_rejected,
    write_report_tables,
)


@dataclass
class WaterQualityReport:
    """GB 3838-2002 assessment of sections and rivers with its compliance summary.

    Attributes
    ----------
    assessment : DataFrame
        :func:`dongping_geo.water_quality.assess_sections` result.
    rivers : DataFrame
        :func:`dongping_geo.water_quality.assess_rivers` result.
    summary : DataFrame
        :func:`dongping_geo.water_quality.compliance_summary` result.
    dataset : object
        The dataset the assessment came from (sections, measurements, rivers for the map).
    period : str
        ``M``, ``Q`` or ``Y``.
    waterbody : str
        ``river`` or ``lake``.
    """

    assessment: pd.DataFrame
    rivers: pd.DataFrame
    summary: pd.DataFrame
    dataset: Any
    period: Literal["M", "Q", "Y"]
    waterbody: Literal["river", "lake"]

    @classmethod
    def compute(
        cls, dataset: Any, *, period: Literal["M", "Q", "Y"] = "Q",
        waterbody: Literal["river", "lake"] = "river",
    ) -> WaterQualityReport:
        """Assess every section and river of a dataset.

        Parameters
        ----------
        dataset : Dataset
            With ``measurements``, ``sections`` and (optionally) ``rivers``.
        period : {"M", "Q", "Y"}, default "Q"
            Assessment period.
        waterbody : {"river", "lake"}, default "river"
            Which GB 3838 rules apply.

        Returns
        -------
        WaterQualityReport
            The computed report.
        """
        from ..water_quality import assess_rivers, assess_sections, compliance_summary

        assessment = assess_sections(dataset.measurements, dataset.sections, period=period,
                                     waterbody=waterbody)
        return cls(
            assessment=assessment,
            rivers=assess_rivers(assessment, dataset.rivers, waterbody=waterbody),
            summary=compliance_summary(assessment),
            dataset=dataset, period=period, waterbody=waterbody,
        )

    def map(self, *, map_period: str | None = None, map_options: MapOptions | None = None) -> Any:
        """Draw the water-quality map of one period (default: the latest).

        Parameters
        ----------
        map_period : str, optional
            Period shown, e.g. ``2022Q3``.
        map_options : MapOptions, optional
            Basemap settings.

        Returns
        -------
        DongpingMap
            The map.
        """
        from ..maps import water_quality_map

        options = map_options or MapOptions()
        ds = self.dataset
        return water_quality_map(
            self.assessment, ds.sections, measurements=ds.measurements, rivers=ds.rivers,
            river_assessment=self.rivers, period=map_period, waterbody=self.waterbody,
            basemap=options.basemap, tianditu_token=options.tianditu_token,
        )

    def charts(self, *, lang: Lang = "both") -> dict[str, Callable[[], Any]]:
        """Charts of the sections that miss their target: a class strip each, and the worst item's values.

        The worst section is the one that misses its target in most periods; its worst item
        is the main pollutant named most often in those periods.

        Parameters
        ----------
        lang : {"both", "zh", "en"}, default "both"
            Label language.

        Returns
        -------
        dict of str to callable
            File stem (under ``charts/``) to a function drawing the figure.
        """
        from ..charts import item_chart, section_class_chart

        failing = self.failing
        if failing.empty:
            return {}
        counts = failing.groupby("section_id").size().sort_values(ascending=False, kind="stable")
        taken: set[str] = set()
        out: dict[str, Callable[[], Any]] = {}
        for sid in counts.index:
            stem = safe_filename(f"{sid}_class", taken)
            out[f"charts/{stem}"] = partial(section_class_chart, self.assessment, sid, lang=lang)
        worst = counts.index[0]
        pollutants = (failing.loc[failing["section_id"] == worst, "main_pollutants"].fillna("")
                      .str.split(",").explode().str.strip())
        pollutants = pollutants[pollutants.ne("")]
        if len(pollutants):
            item = str(pollutants.value_counts().index[0])
            stem = safe_filename(f"{worst}_{item}", taken)
            out[f"charts/{stem}"] = lambda: item_chart(self.assessment, worst, item, waterbody=self.waterbody,
                                                       lang=lang)
        return out

    def write(
        self,
        out_dir: str | os.PathLike,
        *,
        map_period: str | None = None,
        map_options: MapOptions | None = None,
        output: OutputOptions | None = None,
        inputs: Iterable[Path] = (),
        rejected: pd.DataFrame | None = None,
    ) -> list[Path]:
        """Write the assessment, river and summary tables, the charts and water_quality.html together.

        Parameters
        ----------
        out_dir : path-like
            Output folder.
        map_period : str, optional
            Period on the map (checked before anything is written).
        map_options : MapOptions, optional
            Basemap and offline settings.
        output : OutputOptions, optional
            Table language and format (default: both languages, CSV).
        inputs : iterable of Path
            Files and folders read: never written over.
        rejected : DataFrame, optional
            Rows the loaders set aside (``on_error="report"``): written as
            ``rejected.csv`` with the other outputs (even when empty).

        Returns
        -------
        list of Path
            The files written.
        """
        from ..maps import save_map

        options = map_options or MapOptions()
        output = output or OutputOptions()
        m = self.map(map_period=map_period, map_options=options)  # a bad period fails here, first
        out = Path(out_dir)
        tables: dict[str, TableSpec] = {"assessment": (self.assessment, "sections"),
                                        "rivers": (self.rivers, "rivers"), "summary": (self.summary, None)}
        with staged_outputs(out, inputs=inputs) as stage:
            names = write_report_tables(stage, tables, workbook="water_quality", options=output)
            names += save_charts(stage, self.charts(lang=output.lang))
            names.append(save_map(m, stage / "water_quality.html", offline=options.offline).name)
            names += write_rejected(rejected, stage)
        return [out / n for n in names]

    @property
    def failing(self) -> pd.DataFrame:
        """Section-periods that miss their target."""
        return self.assessment[self.assessment["meets_target"].eq(False).fillna(False).astype(bool)]

    def summary_line(self) -> str:
        """One line for the terminal.

        Returns
        -------
        str
            Sections, periods, failures and the overall rate.
        """
        a = self.assessment
        total = self.summary[self.summary["tier"] == "all"]
        return (f"{a['section_id'].nunique()} sections, {a['period'].nunique()} periods ({self.period}); "
                f"{len(self.failing)} section-periods miss their target "
                f"(overall rate {total['n_meeting'].sum()}/{total['n_assessed'].sum()})")
