"""validate, info and sample-data: look at data, and make the sample."""

from __future__ import annotations

import sys
from pathlib import Path

import click

from ._common import EXIT_BAD_INPUT, EXIT_FOUND, EXIT_OK, cli, console, crs_option


@cli.command()
@click.argument("paths", nargs=-1, required=True, type=click.Path(path_type=Path))
@crs_option
@click.option("--layer", default=None, help="Layer of the given files when their names do not tell "
              "(rivers, sections, redlines, demolitions, regions, buildings, patrols, measurements).")
def validate(paths: tuple[Path, ...], crs: str | None, layer: str | None) -> None:
    """Check layer files or dataset folders against the data model.

    Prints a table per file (features, CRS, encoding, problems). Exit code 0 when
    everything is clean, 1 when problems were found, 2 when an input could not be read.
    """
    from rich.table import Table

    from ..errors import EncodingError, InputFileError
    from ..loaders import dataset_files, inspect_file

    files: list[Path] = []
    for p in paths:
        if p.is_dir():
            found = dataset_files(p)
            if not found:
                raise InputFileError("no layer files in the folder", path=p,
                                     expected="rivers.shp, sections.shp … (see docs/data-model.md)",
                                     found="none", fix="check the folder")
            files.extend(found)
        else:
            files.append(p)
    table = Table(title="dongping-geo validate")
    for col in ("file", "layer", "features", "CRS", "encoding", "problems"):
        table.add_column(col)
    unreadable = problems = 0
    messages: list[str] = []
    for f in files:
        report = inspect_file(f, crs=crs, layer=layer)
        if any(isinstance(e, InputFileError | EncodingError) for e in report.problems):
            unreadable += 1
        problems += len(report.problems)
        messages.extend(f"{type(e).__name__}: {e}" for e in report.problems)
        table.add_row(str(f), report.layer, str(report.features), report.crs, report.encoding,
                      "ok" if not report.problems else str(len(report.problems)))
    out = console()
    out.print(table)
    for m in messages:
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
    import rasterio

    from ..errors import InputFileError
    from ..io import VECTOR_SUFFIXES, feature_layers, read_layer
    from ..loaders import read_table

    if not path.exists():
        raise InputFileError("file not found", path=path, expected="a file or dataset folder",
                             found="nothing at that path", fix="check the path and the working directory")
    suffixes = (*VECTOR_SUFFIXES, ".csv", ".xlsx", ".tif", ".tiff")
    files = (sorted(p for p in path.iterdir() if p.suffix.lower() in suffixes and p.stem != "manifest")
             if path.is_dir() else [path])
    out = console()
    for f in files:
        suffix = f.suffix.lower()
        if suffix in (".csv", ".xlsx"):
            df = read_table(f)
            out.print(f"[bold]{f}[/bold]: table, {len(df)} rows; columns: {', '.join(df.columns)}")
            continue
        if suffix in (".tif", ".tiff"):
            with rasterio.open(f) as ds:
                out.print(f"[bold]{f}[/bold]: raster {ds.width} × {ds.height} × {ds.count}, {ds.dtypes[0]}, "
                          f"pixel {ds.res[0]:g} × {ds.res[1]:g}, CRS {ds.crs.to_string() if ds.crs else 'none'}, "
                          f"nodata {ds.nodata}")
            continue
        layers = (feature_layers(f) if suffix == ".gpkg"
                  else ["track_points"] if suffix == ".gpx" else [None])
        for layer in layers:
            gdf = read_layer(f, layer=layer)
            crs = gdf.crs.to_string() if gdf.crs is not None else "none"
            bounds = ", ".join(f"{v:.6g}" for v in gdf.total_bounds) if len(gdf) else "-"
            types = ", ".join(sorted(set(gdf.geom_type.dropna())))
            fields = ", ".join(str(c) for c in gdf.columns if c != gdf.geometry.name)
            enc = gdf.attrs.get("encoding")
            name = f"{f} (layer {layer})" if layer and suffix == ".gpkg" else str(f)
            out.print(f"[bold]{name}[/bold]: {len(gdf)} features ({types}); CRS {crs}; bounds {bounds}"
                      + (f"; encoding {enc} ({gdf.attrs.get('encoding_source')})" if enc else ""),
                      markup=True)
            out.print(f"  fields: {fields}", markup=False)


@cli.command("sample-data")
@click.argument("out_dir", type=click.Path(file_okay=False, path_type=Path))
@click.option("--seed", type=int, default=2021, show_default=True,
              help="Random seed; the same seed gives the same files.")
def sample_data(out_dir: Path, seed: int) -> None:
    """Generate the synthetic Dongping sample dataset into OUT_DIR."""
    from ..sample import make_sample

    manifest = make_sample(out_dir, seed=seed)
    counts = manifest["counts"]
    click.echo(
        f"wrote {out_dir}: {counts['rivers']} rivers, {counts['sections']} sections, "
        f"{counts['demolitions']} demolition cases ({counts['demolished_area_m2']:,.0f} m²), "
        f"{counts['patrols_2022']} patrols, {counts['buildings_2022']} buildings (2022); "
        "synthetic data, see manifest.json"
    )
