"""validate, info and sample-data: look at data, and make the sample."""

from __future__ import annotations

import sys
from pathlib import Path

import click

from ._common import (
    EXIT_BAD_INPUT,
    EXIT_FOUND,
    EXIT_OK,
    cli,
    console,
    crs_option,
    date_format_option,
)


def _reports(paths: tuple[Path, ...], *, crs: str | None, layer: str | None, date_format: str | None) -> list:
    """One LayerReport per file: folders as the commands read them, files one by one."""
    from ..loaders import inspect_dataset, inspect_file

    reports = []
    for p in paths:
        if p.is_dir() and p.suffix.lower() != ".gdb":  # a File Geodatabase folder is one source
            reports.extend(inspect_dataset(p, crs=crs, date_format=date_format))
        else:
            reports.append(inspect_file(p, crs=crs, layer=layer, date_format=date_format))
    return reports


def _extra_note(path: Path) -> list[str]:
    """Say when a file the commands read as an extra layer has the columns of a layer."""
    import pyogrio

    from ..loaders import guess_layer

    try:
        fields = pyogrio.read_info(path)["fields"]
    except (pyogrio.errors.DataSourceError, pyogrio.errors.DataLayerError, OSError):
        return []
    layer = guess_layer(list(fields))
    if layer is None:
        return []
    return [f"{path.name}: the commands read it as an extra layer, but its columns are those of the "
            f"{layer} layer: rename it {layer}{path.suffix} for them to use it"]


@cli.command()
@click.argument("paths", nargs=-1, required=True, type=click.Path(path_type=Path))
@crs_option
@click.option("--layer", default=None, help="Layer of the given files when their names do not tell "
              "(rivers, sections, redlines, demolitions, regions, buildings, patrols, measurements, "
              "problems, signboards, land_survey).")
@date_format_option
def validate(paths: tuple[Path, ...], crs: str | None, layer: str | None, date_format: str | None) -> None:
    """Check layer files or dataset folders against the data model.

    A folder is checked as the commands read it: every layer, any other vector file
    (a stray unreadable file fails), and measurements naming sections absent from the
    sections layer. Prints a table per file (features, CRS, encoding, problems) and
    every problem (a CSV's with their file line). Exit code 0 when everything is
    clean, 1 when problems were found, 2 when an input could not be read.
    """
    from rich.table import Table

    from ..errors import EncodingError, InputFileError

    reports = _reports(paths, crs=crs, layer=layer, date_format=date_format)
    if not any(r.layer not in ("?", "extra") or r.problems for r in reports):
        raise InputFileError("no layer files found", path=", ".join(map(str, paths)),
                             expected="rivers.shp, sections.shp … (see docs/data-model.md)",
                             found="none", fix="check the folder")
    table = Table(title="dongping-geo validate")
    for col in ("file", "layer", "features", "CRS", "encoding", "problems"):
        table.add_column(col)
    unreadable = problems = 0
    notes: list[str] = []
    messages: list[str] = []
    for report in reports:
        if any(isinstance(e, InputFileError | EncodingError) for e in report.problems):
            unreadable += 1
        problems += len(report.problems)
        messages.extend(f"{type(e).__name__}: {e}" for e in report.problems)
        told = " (from its columns)" if report.layer_source == "columns" else ""
        if told:
            notes.append(f"{report.path.name}: took it as the {report.layer} layer from its columns "
                         "(name the layer with --layer to override)")
        elif report.layer == "extra" and not report.problems:
            notes.extend(_extra_note(report.path))
        table.add_row(str(report.path), report.layer + told, str(report.features), report.crs, report.encoding,
                      "ok" if not report.problems else str(len(report.problems)))
    out = console()
    out.print(table)
    for m in notes + messages:
        out.print(m, markup=False)
    if unreadable:
        sys.exit(EXIT_BAD_INPUT)
    sys.exit(EXIT_FOUND if problems else EXIT_OK)


@cli.command()
@click.argument("path", type=click.Path(path_type=Path))
def info(path: Path) -> None:
    """Describe a file or dataset folder: layers, counts, CRS, bounds, fields, encoding.

    Every layer with geometry of a GeoPackage is listed (its layer_styles table is not); rasters show size, resolution, CRS and nodata.
    """
    from ..errors import InputFileError
    from ..io import VECTOR_SUFFIXES, read_layer
    from ..loaders import _gpkg_layers, read_table
    from ..raster import raster_info

    if not path.exists():
        raise InputFileError("file not found", path=path, expected="a file or dataset folder",
                             found="nothing at that path", fix="check the path and the working directory")
    suffixes = (*VECTOR_SUFFIXES, ".csv", ".xlsx", ".tif", ".tiff", ".gdb")
    files = (sorted(p for p in path.iterdir() if p.suffix.lower() in suffixes and p.stem != "manifest")
             if path.is_dir() and path.suffix.lower() != ".gdb" else [path])
    out = console()
    for f in files:
        suffix = f.suffix.lower()
        if suffix in (".csv", ".xlsx"):
            df = read_table(f)
            out.print(f"[bold]{f}[/bold]: table, {len(df)} rows; columns: {', '.join(df.columns)}")
            continue
        if suffix in (".tif", ".tiff"):
            r = raster_info(f)
            out.print(f"[bold]{f}[/bold]: raster {r['width']} × {r['height']} × {r['count']}, {r['dtype']}, "
                      f"pixel {r['res'][0]:g} × {r['res'][1]:g}, CRS {r['crs']}, nodata {r['nodata']}")
            continue
        layers = (_gpkg_layers(f) if suffix in (".gpkg", ".gdb")
                  else ["track_points"] if suffix == ".gpx" else [None])
        for layer in layers:
            gdf = read_layer(f, layer=layer)
            crs = gdf.crs.to_string() if gdf.crs is not None else "none"
            bounds = ", ".join(f"{v:.6g}" for v in gdf.total_bounds) if len(gdf) else "-"
            types = ", ".join(sorted(set(gdf.geom_type.dropna())))
            fields = ", ".join(str(c) for c in gdf.columns if c != gdf.geometry.name)
            enc = gdf.attrs.get("encoding")
            name = f"{f} (layer {layer})" if layer and suffix in (".gpkg", ".gdb") else str(f)
            out.print(f"[bold]{name}[/bold]: {len(gdf)} features ({types}); CRS {crs}; bounds {bounds}"
                      + (f"; encoding {enc} ({gdf.attrs.get('encoding_source')})" if enc else ""),
                      markup=True)
            out.print(f"  fields: {fields}", markup=False)


@cli.command("sample-data")
@click.argument("out_dir", type=click.Path(path_type=Path))
@click.option("--seed", type=int, default=2021, show_default=True,
              help="Random seed; the same seed gives the same files.")
@click.option("--force", is_flag=True, help="Write into a folder that already holds layers (replacing them).")
def sample_data(out_dir: Path, seed: int, force: bool) -> None:
    """Generate the synthetic Dongping sample dataset into OUT_DIR.

    A folder that already holds layers is refused (exit 2) unless --force.
    """
    from ..errors import OutputError
    from ..io import check_output_dir
    from ..loaders import dataset_files
    from ..sample import make_sample

    check_output_dir(out_dir)
    held = dataset_files(out_dir) if out_dir.is_dir() else []
    if held and not force:
        raise OutputError("the folder already holds layers", path=out_dir, expected="an empty or new folder",
                          found=", ".join(p.name for p in held[:4]) + (" …" if len(held) > 4 else ""),
                          fix="choose another folder, or pass --force to replace them")
    manifest = make_sample(out_dir, seed=seed)
    counts = manifest["counts"]
    click.echo(
        f"wrote {out_dir}: {counts['rivers']} rivers, {counts['sections']} sections, "
        f"{counts['demolitions']} demolition cases ({counts['demolished_area_m2']:,.0f} m²), "
        f"{counts['patrols_2022']} patrols, {counts['buildings_2022']} buildings (2022); "
        "synthetic data, see manifest.json"
    )
