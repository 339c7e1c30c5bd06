"""The catchments report: section catchments, drivers, greening candidates, watershed sheet, map."""

from __future__ import annotations

import os
from collections.abc import Iterable
from dataclasses import dataclass
from pathlib import Path
from typing import Any, Literal

import geopandas as gpd
import pandas as pd

from ..errors import ConfigError
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

# --- catchments report -----------------------------------------------------------------------


def _assessment_of_year(dataset: Any, year: int) -> pd.DataFrame:
    """Yearly GB 3838 assessment of the dataset's sections for one calendar year."""
    from ..errors import InputFileError
    from ..water_quality import assess_sections

    if dataset.measurements is None or dataset.sections is None:
        missing = "measurements.csv/.xlsx" if dataset.measurements is None else "the sections layer"
        raise InputFileError("the dataset lacks what the assessment needs", path=dataset.folder,
                             expected="a sections layer and measurements.csv (or .xlsx)", found=f"no {missing}",
                             fix="add the file to the dataset folder")
    a = assess_sections(dataset.measurements, dataset.sections, period="Y")
    years = sorted(a["period"].astype(str).unique())
    if str(year) not in years:
        raise ConfigError("no measurements in that year", field="year", expected=", ".join(years) or "a measured year",
                          found=str(year), fix="pass --year with a year the measurements cover")
    return a[a["period"].astype(str) == str(year)].reset_index(drop=True)


def _landcover_of_year(dataset: Any, year: int) -> Path:
    from ..errors import InputFileError

    if year not in dataset.landcover:
        have = ", ".join(f"landcover_{y}.tif" for y in sorted(dataset.landcover)) or "none"
        raise InputFileError("the dataset has no land-cover raster for that year", path=dataset.folder,
                             expected=f"landcover_{year}.tif", found=have,
                             fix="add the raster or pass a year that has one")
    return Path(dataset.landcover[year])


def _boundary_of(dataset: Any, boundary: gpd.GeoDataFrame | None) -> gpd.GeoDataFrame:
    from ..errors import InputFileError

    town = boundary if boundary is not None else dataset.extra.get("town")
    if town is None or dataset.rivers is None or dataset.sections is None:
        missing = "town boundary (town.shp/.gpkg)" if town is None else "rivers or sections layer"
        raise InputFileError("the dataset lacks what the catchments need", path=dataset.folder,
                             expected="rivers, sections and the town boundary (town.*)", found=f"no {missing}",
                             fix="add the layer to the dataset folder")
    return town


@dataclass
class CatchmentsReport:
    """What drains into each section, and the land use behind a failing class, computed once.

    Attributes
    ----------
    catchments : GeoDataFrame
        :func:`dongping_geo.catchments.section_catchments` (with ``bank_strip``).
    upstream : GeoDataFrame
        :func:`dongping_geo.catchments.upstream_stretches`.
    river_catchments : GeoDataFrame
        :func:`dongping_geo.catchments.river_catchments` of the town and district rivers.
    drivers : DataFrame
        :func:`dongping_geo.catchments.section_drivers` for the year.
    candidates : GeoDataFrame
        :func:`dongping_geo.catchments.greening_candidates`.
    small_watersheds : DataFrame
        :func:`dongping_geo.catchments.small_watershed_indicators`.
    problems : DataFrame
        Rivers without a single downstream path (``river_network(...).graph["problems"]``).
    dataset : object
        The dataset (sections and rivers for the map).
    year : int
        The year assessed.
    landcover : Path
        The land-cover raster used.
    """

    catchments: gpd.GeoDataFrame
    upstream: gpd.GeoDataFrame
    river_catchments: gpd.GeoDataFrame
    drivers: pd.DataFrame
    candidates: gpd.GeoDataFrame
    small_watersheds: pd.DataFrame
    problems: pd.DataFrame
    dataset: Any
    year: int
    landcover: Path

    @classmethod
    def compute(
        cls,
        dataset: Any,
        *,
        year: int,
        boundary: gpd.GeoDataFrame | None = None,
        on_problem: Literal["raise", "report"] = "report",
        strip_m: float = 100.0,
        progress: Progress = _quiet,
    ) -> CatchmentsReport:
        """Build the network and catchments, assess the year and relate both.

        Parameters
        ----------
        dataset : Dataset
            With rivers, sections, measurements, ``landcover_<year>.tif`` and the town
            boundary (``extra["town"]``) unless ``boundary`` is given.
        year : int
            Calendar year: the yearly assessment and the land cover of that year.
        boundary : GeoDataFrame, optional
            The town polygon (default the dataset's ``town`` layer).
        on_problem : {"raise", "report"}, default "report"
            Rivers without a single downstream path: raise, or keep them unconnected
            downstream and list them in :attr:`problems`.
        strip_m : float, default 100
            Width of the bank strips.
        progress : callable, optional
            Told the name of each step.

        Returns
        -------
        CatchmentsReport
            The computed report.
        """
        from .. import catchments as c
        from ..network import river_network

        town = _boundary_of(dataset, boundary)
        raster = _landcover_of_year(dataset, year)
        assessment = _assessment_of_year(dataset, year)  # bad inputs fail before the slow work
        rivers, sections = dataset.rivers, dataset.sections
        progress("river network")
        problems = river_network(rivers, boundary=town, on_problem=on_problem).graph["problems"]
        progress("section catchments")
        opts: dict[str, Any] = {"on_problem": on_problem}
        sc = c.section_catchments(rivers, sections, town, strip_m=strip_m, **opts)
        up = c.upstream_stretches(rivers, sections, town, **opts)
        rc = c.river_catchments(rivers, town, strip_m=strip_m, **opts)
        progress(f"land cover {raster.name}")
        drivers = c.section_drivers(assessment, sc, raster, demolitions=dataset.demolitions)
        candidates = c.greening_candidates(drivers, sc, raster)
        sheet = c.small_watershed_indicators(rc, raster, drivers=drivers, demolitions=dataset.demolitions)
        return cls(catchments=sc, upstream=up, river_catchments=rc, drivers=drivers, candidates=candidates,
                   small_watersheds=sheet, problems=problems, dataset=dataset, year=int(year), landcover=raster)

    def layers(self) -> dict[str, gpd.GeoDataFrame]:
        """Return the layers of catchments.gpkg, each with one geometry column.

        Returns
        -------
        dict of str to GeoDataFrame
            ``section_catchments``, ``section_bank_strips``, ``river_catchments``,
            ``river_bank_strips`` and ``upstream_stretches``.
        """
        def split(frame: gpd.GeoDataFrame, key: str) -> tuple[gpd.GeoDataFrame, gpd.GeoDataFrame]:
            whole = frame.drop(columns="bank_strip")
            strips = gpd.GeoDataFrame(frame[[key, "bank_strip_m2"]].copy(), geometry=frame["bank_strip"].values,
                                      crs=frame.crs)
            return whole, strips

        sc, sc_strip = split(self.catchments, "section_id")
        rc, rc_strip = split(self.river_catchments, "river_id")
        return {"section_catchments": sc, "section_bank_strips": sc_strip, "river_catchments": rc,
                "river_bank_strips": rc_strip, "upstream_stretches": self.upstream}

    def map(self, *, map_options: MapOptions | None = None) -> Any:
        """Draw the catchments map (:func:`dongping_geo.maps.catchments_map`).

        Parameters
        ----------
        map_options : MapOptions, optional
            Basemap settings.

        Returns
        -------
        DongpingMap
            The map.
        """
        from ..maps import catchments_map

        options = map_options or MapOptions()
        ds = self.dataset
        return catchments_map(self.drivers, self.catchments, ds.sections, ds.rivers, candidates=self.candidates,
                              upstream=self.upstream, basemap=options.basemap, tianditu_token=options.tianditu_token,
                              title=f"断面汇水区与达标 Section catchments and compliance {self.year}")

    def write(
        self,
        out_dir: str | os.PathLike,
        *,
        map_options: MapOptions | None = None,
        output: OutputOptions | None = None,
        inputs: Iterable[Path] = (),
        rejected: pd.DataFrame | None = None,
    ) -> list[Path]:
        """Write catchments.gpkg, the tables, greening_candidates.gpkg and catchments.html together.

        Parameters
        ----------
        out_dir : path-like
            Output folder.
        map_options : MapOptions, optional
            Basemap and offline settings.
        output : OutputOptions, optional
            Table language and format (default: both languages, CSV); layers styled for QGIS.
        inputs : iterable of Path
            Files and folders read (the dataset folder and the raster): never written over.
        rejected : DataFrame, optional
            Rows the loaders set aside (``--on-error report``): written as
            ``rejected.csv`` with the other outputs (even when empty).

        Returns
        -------
        list of Path
            The files written.
        """
        from ..maps import save_map

        options = map_options or MapOptions()
        m = self.map(map_options=options)
        output = output or OutputOptions()
        tables: dict[str, TableSpec] = {
            "section_drivers": (self.drivers, "sections"), "greening_candidates": (self.candidates, None),
            "small_watersheds": (self.small_watersheds, None), "network_problems": (self.problems, "rivers")}
        out = Path(out_dir)
        with staged_outputs(out, inputs=[*inputs, self.landcover]) as stage:
            names = [write_styled_layers(self.layers(), stage / "catchments.gpkg", lang=output.lang).name]
            names += write_report_tables(stage, tables, workbook="catchments", options=output)
            names.append(write_styled_layers({"greening_candidates": self.candidates},
                                             stage / "greening_candidates.gpkg", lang=output.lang).name)
            names.append(save_map(m, stage / "catchments.html", offline=options.offline).name)
            names += write_rejected(rejected, stage)
        return [out / n for n in names]

    @property
    def failing(self) -> pd.DataFrame:
        """Sections that miss their target in the year."""
        return self.drivers[self.drivers["meets_target"].astype("boolean").eq(False).fillna(False).to_numpy()]

    def summary_line(self) -> str:
        """One line for the terminal.

        Returns
        -------
        str
            Sections, failures, candidates and network problems.
        """
        d = self.drivers
        ha = float(self.candidates["area_m2"].sum()) / 1e4 if len(self.candidates) else 0.0
        line = (f"{len(d)} sections, {int(d['meets_target'].notna().sum())} assessed in {self.year}, "
                f"{len(self.failing)} miss their target; {len(self.candidates)} greening candidates "
                f"({ha:.1f} ha) in their bank strips")
        if len(self.problems):
            line += (f"; {self.problems['river_id'].nunique()} rivers have no single downstream path "
                     "(network_problems.csv: set flows_to)")
        return line
