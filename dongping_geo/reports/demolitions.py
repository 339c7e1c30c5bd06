"""The demolition summary: demolished structures by year, kind and region with totals."""

from __future__ import annotations

import os
from collections.abc import Callable, Iterable
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import pandas as pd

from ._common import (
    Lang,
    OutputOptions,
    TableSpec,
    save_charts,
    staged_outputs,
    write_rejected,
    write_report_tables,
)

# --- demolition summary -------------------------------------------------------------------------

#: Label of the totals row, per table language.
_TOTAL = {"both": "合计 Total", "zh": "合计", "en": "Total"}


def _with_total(table: pd.DataFrame, keys: list[str], lang: Lang) -> pd.DataFrame:
    """Append a totals row (cases and area summed) labelled in the first key column."""
    total: dict[str, Any] = {k: None for k in keys}
    total[keys[0]] = _TOTAL[lang]
    total.update(count=int(table["count"].sum()), area_m2=float(table["area_m2"].sum()))
    body = table.astype({keys[0]: object})
    return pd.concat([body, pd.DataFrame([total])], ignore_index=True)


@dataclass
class DemolitionReport:
    """Demolished structures counted and summed by year, kind and region.

    Attributes
    ----------
    demolitions : DataFrame
        The demolition cases.
    by : tuple of str
        Grouping keys present (of ``year``, ``kind``, ``region``).
    """

    demolitions: pd.DataFrame
    by: tuple[str, ...]

    @classmethod
    def compute(cls, demolitions: pd.DataFrame) -> DemolitionReport:
        """Keep the cases and the keys they can be grouped by.

        Parameters
        ----------
        demolitions : DataFrame or GeoDataFrame
            The demolitions layer (``demolished_on``, ``kind``, ``region``, ``area_m2``).

        Returns
        -------
        DemolitionReport
            The report.
        """
        by = tuple(k for k in ("year", "kind", "region")
                   if k in demolitions.columns or (k == "year" and "demolished_on" in demolitions.columns))
        return cls(demolitions=demolitions, by=by)

    def tables(self, *, lang: Lang = "both") -> dict[str, TableSpec]:
        """Summarise by every key together and by each key alone, each with a totals row.

        Parameters
        ----------
        lang : {"both", "zh", "en"}, default "both"
            Language of the totals row's label.

        Returns
        -------
        dict of str to (DataFrame, str)
            ``demolitions_by_year_kind_region`` then ``demolitions_by_year``, ``…_by_kind``,
            ``…_by_region`` (codes; translated when written).
        """
        from ..landuse import demolition_summary

        keys = list(self.by)
        out: dict[str, TableSpec] = {}
        if len(keys) > 1:
            out["demolitions_by_" + "_".join(keys)] = (
                _with_total(demolition_summary(self.demolitions, by=keys), keys, lang), "demolitions")
        for key in keys:
            out[f"demolitions_by_{key}"] = (
                _with_total(demolition_summary(self.demolitions, by=[key]), [key], lang), "demolitions")
        return out

    def charts(self, *, lang: Lang = "both") -> dict[str, Callable[[], Any]]:
        """Demolished area by year, stacked by kind (when both keys are present).

        Parameters
        ----------
        lang : {"both", "zh", "en"}, default "both"
            Label language.

        Returns
        -------
        dict of str to callable
            ``demolitions`` to a function drawing the chart.
        """
        from ..charts import demolition_chart
        from ..landuse import demolition_summary

        if not {"year", "kind"} <= set(self.by) or not len(self.demolitions):
            return {}
        return {"demolitions": lambda: demolition_chart(demolition_summary(self.demolitions, by=("year", "kind")),
                                                        lang=lang)}

    def write(
        self, out_dir: str | os.PathLike, *, output: OutputOptions | None = None, inputs: Iterable[Path] = (),
        rejected: pd.DataFrame | None = None,
    ) -> list[Path]:
        """Write the summary tables and the chart together.

        Parameters
        ----------
        out_dir : path-like
            Output folder.
        output : OutputOptions, optional
            Table language and format (default: both languages, CSV).
        inputs : iterable of Path
            Files and folders read: never written over.
        rejected : DataFrame, optional
            Rows the loaders set aside (``--on-error report``): written as
            ``rejected.csv`` with the other outputs (even when empty).

        Returns
        -------
        list of Path
            The files written.
        """
        output = output or OutputOptions()
        out = Path(out_dir)
        with staged_outputs(out, inputs=inputs) as stage:
            names = write_report_tables(stage, self.tables(lang=output.lang), workbook="demolitions",
                                        options=output)
            names += save_charts(stage, self.charts(lang=output.lang))
            names += write_rejected(rejected, stage)
        return [out / n for n in names]
