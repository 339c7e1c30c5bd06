"""The land-use report: violations of a building survey, one layer per check, with the map."""

from __future__ import annotations

import os
from collections.abc import Callable, Iterable
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import geopandas as gpd
import pandas as pd

from ..schemas import CATEGORY_LABELS, get_schema
from ._common import (
    Lang,
    MapOptions,
    OutputOptions,
    Progress,
    _quiet,
    save_charts,
    staged_outputs,
    write_rejected,
    write_report_tables,
    write_styled_layers,
)
from .demolitions import DemolitionReport

# --- land-use report -------------------------------------------------------------------------

#: The land-use checks, in the order of the layers in violations.gpkg and of the summary rows
#: (labels from ``schemas.CATEGORY_LABELS["check"]``).
LANDUSE_CHECKS: dict[str, str] = {k: f"{zh} {en}" for k, (zh, en) in CATEGORY_LABELS["check"].items()}

#: The dataset layer each land-use check needs (a check without it runs on an empty layer).
LANDUSE_CHECK_LAYERS: dict[str, str] = {"redline": "redlines", "farmland": "redlines", "setback": "rivers",
                                        "rebuilt": "demolitions", "landcover_change": "redlines"}


def _empty_layer(name: str, crs: Any) -> gpd.GeoDataFrame:
    """Build an empty layer with the fields of schema ``name`` (a check's missing input)."""
    fields = {f.name: pd.Series([], dtype=object) for f in get_schema(name).fields}
    return gpd.GeoDataFrame(fields, geometry=gpd.GeoSeries([], crs=crs))


def _landcover_layer(landcover: tuple[Path, Path], redlines: gpd.GeoDataFrame,
                     progress: Progress) -> tuple[gpd.GeoDataFrame, gpd.GeoDataFrame]:
    """Land-cover change patches inside red lines / farmland (inspection candidates), and all patches."""
    from ..landuse import check_violations
    from ..raster import SUSPECT_CHANGE_FROM, SUSPECT_CHANGE_TO, detect_change

    changes = detect_change(*landcover, from_classes=SUSPECT_CHANGE_FROM, to_classes=SUSPECT_CHANGE_TO)
    progress(f"{len(changes)} land-cover change patches between {landcover[0].name} and {landcover[1].name}")
    hits = check_violations(changes, redlines, id_field="change_id")
    attrs = changes.drop(columns=changes.geometry.name).rename(columns={"area_m2": "change_area_m2"})
    return hits.merge(attrs, on="change_id", how="left"), changes


def _footprints(hits: gpd.GeoDataFrame, features: gpd.GeoDataFrame, id_field: str) -> gpd.GeoDataFrame:
    """One row per violation with the whole footprint of its structure and the structure's attributes."""
    geom = features.geometry.name
    keep = [id_field] + [c for c in features.columns if c not in hits.columns and c != geom]
    source = features[[*keep, geom]].drop_duplicates(subset=id_field)
    attrs = pd.DataFrame(hits.drop(columns=hits.geometry.name))
    merged = attrs.merge(pd.DataFrame(source), on=id_field, how="left", validate="many_to_one")
    out = gpd.GeoDataFrame(merged, geometry=geom, crs=features.crs)
    if hits.crs is not None and out.crs is not None and out.crs != hits.crs:
        out = out.to_crs(hits.crs)
    return out.rename_geometry("geometry") if geom != "geometry" else out


@dataclass
class LanduseReport:
    """Land-use violations of a building survey, one layer per check.

    Attributes
    ----------
    layers : dict of str to GeoDataFrame
        Violations per check (keys of :data:`LANDUSE_CHECKS`).
    dataset : object
        The dataset checked against (zones, rivers, demolitions for the map).
    notes : list of str
        Remarks for the reader.
    features : dict of str to (GeoDataFrame, str)
        Per check, the structures checked and their id field (for the whole footprints).
    changes : GeoDataFrame or None
        All land-cover change patches, when rasters were given.
    missing : list of str
        Checks that could not run because the dataset lacks their layer (red lines,
        rivers, demolitions): their layers are empty, with the usual columns.
    """

    layers: dict[str, gpd.GeoDataFrame]
    dataset: Any
    notes: list[str] = field(default_factory=list)
    features: dict[str, tuple[gpd.GeoDataFrame, str]] = field(default_factory=dict)
    changes: gpd.GeoDataFrame | None = None
    missing: list[str] = field(default_factory=list)

    @classmethod
    def compute(
        cls,
        dataset: Any,
        survey: gpd.GeoDataFrame,
        *,
        new: gpd.GeoDataFrame | None = None,
        setback_m: float | None = None,
        landcover: tuple[Path, Path] | None = None,
        land_survey: gpd.GeoDataFrame | None = None,
        progress: Progress = _quiet,
    ) -> LanduseReport:
        """Run every check; a check whose layer the dataset lacks gives an empty layer.

        ``new`` is the part of the survey to check against zones and setbacks (the
        structures new since an earlier survey; default the whole survey). The
        rebuilt check always runs on the whole survey: a structure rebuilt on the
        footprint it had before demolition matches the earlier survey and would not
        count as new.

        Parameters
        ----------
        dataset : Dataset
            With ``redlines``, ``rivers`` and ``demolitions`` (any may be None).
        survey : GeoDataFrame
            The building survey.
        new : GeoDataFrame, optional
            The structures to check against zones and setbacks.
        setback_m : float, optional
            One setback for every river (default per level).
        landcover : (Path, Path), optional
            Land-cover rasters before and after.
        land_survey : GeoDataFrame, optional
            Land-survey parcels (:func:`dongping_geo.load_land_survey`): adds the
            ``cropland`` layer, ``new`` structures on cultivated land (乱占耕地建房,
            :func:`dongping_geo.landuse.cropland_occupation`, marked where they also
            meet basic farmland of the dataset's red lines).
        progress : callable, optional
            Told what was found.

        Returns
        -------
        LanduseReport
            The violations per check.
        """
        from ..landuse import (
            ZONE_CATEGORIES,
            check_violations,
            rebuilt_on_demolished,
            river_setback_violations,
        )

        new = survey if new is None else new
        missing = [check for check, name in LANDUSE_CHECK_LAYERS.items()
                   if getattr(dataset, name) is None and (check != "landcover_change" or landcover is not None)]
        # A check whose layer is absent runs on an empty layer: its (empty) result keeps the columns.
        zones, rivers, sites = (getattr(dataset, n) if getattr(dataset, n) is not None else _empty_layer(n, new.crs)
                                for n in ("redlines", "rivers", "demolitions"))
        eco = [c for c in ZONE_CATEGORIES if c != "basic_farmland"]
        layers: dict[str, gpd.GeoDataFrame] = {
            "redline": check_violations(new, zones, categories=eco),
            "farmland": check_violations(new, zones, categories="basic_farmland"),
            "setback": river_setback_violations(new, rivers, setback_m=setback_m),
            "rebuilt": rebuilt_on_demolished(survey, sites),
        }
        features: dict[str, tuple[gpd.GeoDataFrame, str]] = {
            "redline": (new, "building_id"), "farmland": (new, "building_id"), "setback": (new, "building_id"),
            "rebuilt": (survey, "building_id"),
        }
        changes = None
        if landcover is not None:
            layers["landcover_change"], changes = _landcover_layer(landcover, zones, progress)
            features["landcover_change"] = (changes, "change_id")
        if land_survey is not None:
            from ..landuse import cropland_occupation

            layers["cropland"] = cropland_occupation(new, land_survey, farmland=dataset.redlines)
            features["cropland"] = (new, "building_id")
            progress(f"{len(layers['cropland'])} overlaps of structures with cultivated land of the land survey")
        return cls(layers=layers, dataset=dataset, missing=missing, features=features, changes=changes)

    def gpkg_layers(self) -> dict[str, gpd.GeoDataFrame]:
        """Layers of violations.gpkg: per check the whole footprints, then ``<check>_overlap``.

        The footprint layer has one row per violation: the structure's whole outline with
        its survey attributes and the violation's (zone, overlap area, share); the
        ``_overlap`` layer holds just the overlapping part, with the violation's attributes.

        Returns
        -------
        dict of str to GeoDataFrame
            Layer name to data.
        """
        out: dict[str, gpd.GeoDataFrame] = {}
        for name, hits in self.layers.items():
            source = self.features.get(name)
            if source is not None and source[1] in hits.columns and source[1] in source[0].columns:
                out[name] = _footprints(hits, *source)
            out[f"{name}_overlap" if name in out else name] = hits
        return out

    def table(self) -> pd.DataFrame:
        """All violations in one table, in check order then each layer's (sorted) order.

        Returns
        -------
        DataFrame
            A ``check`` column first, then the layers' columns.
        """
        frames = [pd.DataFrame(g.drop(columns=g.geometry.name)).assign(check=name)
                  for name, g in self.layers.items() if len(g)]
        if not frames:
            return pd.DataFrame({"check": []})
        table = pd.concat(frames, ignore_index=True)
        # people read this one: square metres to the cm², shares to 0.01 %
        table = table.round({"overlap_m2": 2, "overlap_share": 4, "site_share": 4})
        return table[["check"] + [c for c in table.columns if c != "check"]]

    def counts(self, id_field: str = "building_id") -> list[tuple[str, str, int, int, float]]:
        """(check, what, structures, rows, overlap m²) per check, for a summary table.

        Parameters
        ----------
        id_field : str, default "building_id"
            The structure id column.

        Returns
        -------
        list of tuple
            One tuple per check.
        """
        out = []
        for name, g in self.layers.items():
            ids = g[id_field].nunique() if id_field in g.columns else len(g)
            area = float(g["overlap_m2"].sum()) if "overlap_m2" in g.columns else float("nan")
            out.append((name, LANDUSE_CHECKS.get(name, name), int(ids), len(g), area))
        return out

    @property
    def n_rows(self) -> int:
        """Number of violation rows over all checks."""
        return sum(len(g) for g in self.layers.values())

    def charts(self, *, lang: Lang = "both") -> dict[str, Callable[[], Any]]:
        """Demolitions by year and kind (when the dataset has them) and land-cover change (rasters given).

        Parameters
        ----------
        lang : {"both", "zh", "en"}, default "both"
            Label language.

        Returns
        -------
        dict of str to callable
            File stem to a function drawing the figure.
        """
        from ..charts import landcover_change_chart

        out: dict[str, Callable[[], Any]] = {}
        demolitions = getattr(self.dataset, "demolitions", None)
        if demolitions is not None and len(demolitions):
            out.update(DemolitionReport.compute(demolitions).charts(lang=lang))
        if self.changes is not None and len(self.changes):
            changes = self.changes
            out["landcover_change"] = lambda: landcover_change_chart(changes, lang=lang)
        return out

    def write(
        self,
        out_dir: str | os.PathLike,
        *,
        map_options: MapOptions | None = None,
        output: OutputOptions | None = None,
        inputs: Iterable[Path] = (),
        rejected: pd.DataFrame | None = None,
    ) -> list[Path]:
        """Write violations.gpkg (styled), the violations table, charts and violations.html together.

        violations.gpkg holds per check the whole footprints and the overlaps
        (:meth:`gpkg_layers`), each with its default QGIS style.

        Parameters
        ----------
        out_dir : path-like
            Output folder.
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
        from ..maps import save_map, violations_map

        options = map_options or MapOptions()
        output = output or OutputOptions()
        ds = self.dataset
        m = violations_map(self.layers, zones=ds.redlines, rivers=ds.rivers, demolitions=ds.demolitions,
                           basemap=options.basemap, tianditu_token=options.tianditu_token)
        out = Path(out_dir)
        with staged_outputs(out, inputs=inputs) as stage:
            names = [write_styled_layers(self.gpkg_layers(), stage / "violations.gpkg", lang=output.lang).name]
            names += write_report_tables(stage, {"violations": (self.table(), None)}, workbook="violations",
                                         options=output)
            names += save_charts(stage, self.charts(lang=output.lang))
            names.append(save_map(m, stage / "violations.html", offline=options.offline).name)
            names += write_rejected(rejected, stage)
        return [out / n for n in names]
