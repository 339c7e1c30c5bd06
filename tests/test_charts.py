"""Charts (dongping_geo.charts): drawn, not blank, never tofu boxes."""

from __future__ import annotations

import re
import warnings

import numpy as np
import pandas as pd
import pytest
from matplotlib.backends.backend_agg import FigureCanvasAgg
from matplotlib.text import Text

from dongping_geo import charts
from dongping_geo.errors import ConfigError, SchemaError

_CJK = re.compile(r"[\u2e80-\u9fff\uff00-\uffef\u2160-\u217f]")  # CJK, full-width, Roman numerals


def _assessment() -> pd.DataFrame:
    periods = [f"2022-{m:02d}" for m in range(1, 7)]
    classes = ["II", "III", "IV", "劣V", "III", "V"]
    return pd.DataFrame({
        "section_id": "S1", "name": "洪林河闸", "period": periods,
        "water_class": pd.Categorical(classes), "target_class": "III",
        "TP": [0.05, 0.15, 0.25, 0.55, 0.12, 0.35], "DO": [8.0, 6.5, 4.0, 1.5, 5.5, 2.5],
        "pH": [7.1, 7.4, 8.2, 9.3, 7.0, 6.8],
    })


def _by_river() -> pd.DataFrame:
    return pd.DataFrame({
        "river_id": ["R1", "R2", "R3", "R4"], "chief": ["张三", "张三", "李四", "王五"],
        "compliant": pd.array([True, False, False, pd.NA], dtype="boolean"),
    })


def _demolitions() -> pd.DataFrame:
    return pd.DataFrame({
        "year": pd.array([2019, 2019, 2020, pd.NA], dtype="Int64"),
        "kind": ["villa", "concrete_plant", "villa", None], "region": "qianjin",
        "count": [1, 2, 3, 6], "area_m2": [300.0, 5000.0, 800.0, 6100.0],
    })


def _changes() -> pd.DataFrame:
    return pd.DataFrame({"from_name": ["farmland", "farmland", "water"], "to_name": ["built_up", "greenhouse", "built_up"],
                         "area_m2": [1500.0, 800.0, 200.0]})


def _all_charts(lang="both"):
    a = _assessment()
    return {
        "class": charts.section_class_chart(a, "S1", lang=lang),
        "TP": charts.item_chart(a, "S1", "TP", lang=lang),
        "DO": charts.item_chart(a, "S1", "DO", lang=lang),
        "pH": charts.item_chart(a, "S1", "pH", lang=lang),
        "patrol": charts.patrol_compliance_chart(_by_river(), lang=lang),
        "demolitions": charts.demolition_chart(_demolitions(), lang=lang),
        "landcover": charts.landcover_change_chart(_changes(), lang=lang),
    }


def _draw(fig) -> tuple[np.ndarray, list[str]]:
    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always")
        canvas = FigureCanvasAgg(fig)
        canvas.draw()
    rgba = np.asarray(canvas.buffer_rgba())
    return rgba, [str(w.message) for w in caught]


def _texts(fig) -> str:
    return " ".join(t.get_text() for t in fig.findobj(Text))


def _check_drawn(figs):
    for name, fig in figs.items():
        rgba, messages = _draw(fig)
        glyph = [m for m in messages if "missing from" in m or "Glyph" in m]
        assert not glyph, (name, glyph)
        non_white = (rgba[..., :3] < 245).any(axis=-1).mean()
        assert non_white > 0.03, (name, non_white)


@pytest.mark.skipif(charts.cjk_font() is None, reason="no CJK font installed (apt install fonts-noto-cjk)")
def test_charts_in_chinese_without_missing_glyphs():
    figs = _all_charts()
    _check_drawn(figs)
    assert "水质类别" in _texts(figs["class"])
    assert "Ⅲ类" in _texts(figs["class"])
    assert "总磷" in _texts(figs["TP"])
    assert "违建别墅" in _texts(figs["demolitions"])


def test_english_only_without_a_cjk_font(monkeypatch):
    monkeypatch.setattr(charts, "cjk_font", lambda: None)
    figs = _all_charts(lang="zh")  # asked for Chinese, but there is no font for it
    _check_drawn(figs)
    for name, fig in figs.items():
        text = _texts(fig)
        assert not _CJK.findall(text), name
    assert "Class III" in _texts(figs["class"])
    assert "total phosphorus" in _texts(figs["TP"])


def test_class_strip_marks_the_periods_that_miss_the_target():
    fig = charts.section_class_chart(_assessment(), "S1")
    collection = fig.axes[0].collections[0]
    edges = collection.get_edgecolors()
    black = [bool(e[3] > 0 and not e[:3].any()) for e in edges]
    # target III: IV, 劣V and V miss (periods 3, 4 and 6)
    assert black == [False, False, True, True, False, True]


def test_patrol_chart_counts_met_missed_and_no_rule():
    counts = charts._met_missed(_by_river())
    assert counts.loc["张三"].tolist() == [1, 1, 0]
    assert counts.loc["李四"].tolist() == [0, 1, 0]
    assert counts.loc["王五"].tolist() == [0, 0, 1]


def test_save_png_writes_a_png(tmp_path):
    fig = charts.demolition_chart(_demolitions(), value="count")
    out = charts.save_png(fig, tmp_path / "c.png")
    assert out.read_bytes()[:8] == b"\x89PNG\r\n\x1a\n"
    assert [p.name for p in tmp_path.iterdir()] == ["c.png"]  # no temporary file left


def test_bad_input_refused():
    with pytest.raises(SchemaError, match="assess_sections"):
        charts.section_class_chart(pd.DataFrame({"x": [1]}), "S1")
    with pytest.raises(SchemaError, match="no such section"):
        charts.section_class_chart(_assessment(), "S9")
    with pytest.raises(ConfigError, match="GB 3838"):
        charts.item_chart(_assessment(), "S1", "XYZ")
    with pytest.raises(ConfigError, match="language"):
        charts.demolition_chart(_demolitions(), lang="de")  # type: ignore[arg-type]
