"""The land-accounts report of the land survey (三调 / 变更调查): accounts, transitions, loss."""

from __future__ import annotations

import os
from collections.abc import Iterable
from dataclasses import dataclass
from pathlib import Path

import geopandas as gpd
import pandas as pd

from ._common import (
    OutputOptions,
    Progress,
    TableSpec,
    _quiet,
    staged_outputs,
    write_report_tables,
    write_styled_layers,
)

# --- land accounts of the land survey (三调 / 变更调查), issue 18 ---------------------------


@dataclass
class LandAccountsReport:
    """Land accounts of a land survey, and with an earlier vintage its changes.

    Attributes
    ----------
    accounts : DataFrame
        :func:`dongping_geo.landuse.land_accounts` (official TBMJ areas, m² and 亩).
    transitions : DataFrame or None
        Class-to-class transition table (:func:`dongping_geo.landuse.land_changes`).
    cultivated_loss : GeoDataFrame or None
        Pieces of cultivated land of the earlier vintage that are something else now.
    """

    accounts: pd.DataFrame
    transitions: pd.DataFrame | None = None
    cultivated_loss: gpd.GeoDataFrame | None = None

    @classmethod
    def compute(
        cls,
        parcels: gpd.GeoDataFrame,
        *,
        before: gpd.GeoDataFrame | None = None,
        by: str | None = "village",
        level: str = "land_class",
        progress: Progress = _quiet,
    ) -> LandAccountsReport:
        """Sum the survey by ``by`` and class; compare with ``before`` when given.

        Parameters
        ----------
        parcels : GeoDataFrame
            The survey (:func:`dongping_geo.load_land_survey`).
        before : GeoDataFrame, optional
            An earlier vintage of the survey.
        by : str or None, default "village"
            Column to split by (``village``, ``village_code``, ``owner`` …; None: the town).
        level : {"land_class", "land_code"}, default "land_class"
            First-level classes or second-level codes.
        progress : callable, optional
            Told what was computed.

        Returns
        -------
        LandAccountsReport
            The tables.
        """
        from ..landuse import land_accounts, land_changes

        keys = (by, level) if by else (level,)
        accounts = land_accounts(parcels, by=keys)
        progress(f"accounts of {len(parcels)} parcels: {len(accounts) - 1} rows")
        if before is None:
            return cls(accounts)
        changes = land_changes(before, parcels, by=by, level=level)
        progress(f"{len(changes.cultivated_loss)} pieces of cultivated land lost since the earlier vintage")
        return cls(accounts, changes.transitions, changes.cultivated_loss)

    def write(
        self, out_dir: str | os.PathLike, *, output: OutputOptions | None = None, inputs: Iterable[Path] = ()
    ) -> list[Path]:
        """Write land_accounts (and land_transitions, cultivated_loss tables and .gpkg) together.

        Parameters
        ----------
        out_dir : path-like
            Output folder.
        output : OutputOptions, optional
            Language and format of the tables (default: both languages, CSV).
        inputs : iterable of Path
            Files and folders read: never written over.

        Returns
        -------
        list of Path
            The files written.
        """
        # people read these: square metres to the cm² (TBMJ's own precision), 亩 to 0.0001
        digits = {"area_m2": 2, "net_area_m2": 2, "area_mu": 4, "net_area_mu": 4}
        out = Path(out_dir)
        output = output or OutputOptions()
        tables: dict[str, TableSpec] = {"land_accounts": (self.accounts.round(digits), "land_survey")}
        if self.transitions is not None:
            tables["land_transitions"] = (self.transitions.round(digits), "land_survey")
        if self.cultivated_loss is not None:
            loss = self.cultivated_loss
            tables["cultivated_loss"] = (pd.DataFrame(loss.drop(columns=loss.geometry.name)).round(digits),
                                         "land_survey")
        with staged_outputs(out, inputs=inputs) as stage:
            names = write_report_tables(stage, tables, workbook="land_accounts", options=output)
            if self.cultivated_loss is not None:
                names.append(write_styled_layers({"cultivated_loss": self.cultivated_loss},
                                                 stage / "cultivated_loss.gpkg", lang=output.lang).name)
        return [out / n for n in names]
