"""Draw the charts of docs/outputs.md from the sample dataset into docs/img/.

Usage: python scripts/gen_output_charts.py [DATASET_DIR] [OUT_DIR]

Runs the analyses on the sample data (water quality, patrols in June 2022, demolitions,
land-cover change 2020 -> 2022) and writes one PNG per chart function of
dongping_geo.charts: chart_class_strip.png, chart_item_tp.png, chart_patrol.png,
chart_demolitions.png, chart_landcover.png.
"""

from __future__ import annotations

import sys
from pathlib import Path

from dongping_geo import charts, landuse, patrol, raster, water_quality
from dongping_geo.loaders import load_dataset

REPO = Path(__file__).resolve().parents[1]


def main(data: Path, out: Path) -> list[Path]:
    """Write the charts; return the written paths."""
    ds = load_dataset(data)
    assessment = water_quality.assess_sections(ds.measurements, ds.sections, period="M")
    missing = assessment["meets_target"].eq(False).fillna(False).astype(bool)
    worst = assessment.loc[missing, "section_id"].value_counts().index[0]  # the section that misses most often
    samples = water_quality.classify_samples(ds.measurements).merge(
        ds.sections[["section_id", "name"]], on="section_id", how="left")
    cleaned, _ = patrol.clean_fixes(ds.patrols, area=ds.extra.get("town"))
    result = patrol.compliance(ds.rivers, cleaned, start="2022-06-01", end="2022-06-30")
    classes = list(raster.LANDCOVER_LEGEND)
    changes = raster.detect_change(data / "landcover_2020.tif", data / "landcover_2022.tif", classes, classes)
    figures = {
        "chart_class_strip.png": charts.section_class_chart(assessment, worst),
        "chart_item_tp.png": charts.item_chart(samples, worst, "TP"),
        "chart_patrol.png": charts.patrol_compliance_chart(result),
        "chart_demolitions.png": charts.demolition_chart(landuse.demolition_summary(ds.demolitions)),
        "chart_landcover.png": charts.landcover_change_chart(changes),
    }
    return [charts.save_png(fig, out / name, dpi=110) for name, fig in figures.items()]


if __name__ == "__main__":
    data_dir = Path(sys.argv[1]) if len(sys.argv) > 1 else REPO / "data" / "shapefiles"
    out_dir = Path(sys.argv[2]) if len(sys.argv) > 2 else REPO / "docs" / "img"
    for path in main(data_dir, out_dir):
        print(f"wrote {path}")
