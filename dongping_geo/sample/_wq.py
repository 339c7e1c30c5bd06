"""Sample dataset, part 3: monthly water-quality measurements and the planted failures.

Values are designed relative to each section's target-class limit: ordinary months
sit at 25–60 % of the limit (DO well above its minimum), planted exceedances at
135–220 %, so every month, quarter and year is unambiguous. The sections of the
channels lined with greenhouses fail TP and NH3_N in every month of 2022. The failing
(section, period) pairs are computed here from the GB 3838-2002 table directly
(single-factor method, half the detection limit for non-detects), independently
of :mod:`dongping_geo.water_quality`.
"""

from __future__ import annotations

from importlib import resources

import numpy as np
import pandas as pd

CLASSES = ("I", "II", "III", "IV", "V")
MAIN_ITEMS = ("pH", "DO", "CODMn", "COD", "BOD5", "NH3_N", "TP", "TN")
METALS = ("Cu", "Zn", "As", "Hg", "Cd", "Pb")
# Detection limits (mg/L) of the methods a district lab would use (HJ 700 ICP-MS,
# HJ 694 AFS for Hg/As).
DETECTION_LIMIT = {"Cu": 0.00008, "Zn": 0.00067, "As": 0.0003, "Hg": 0.00004, "Cd": 0.00005,
                   "Pb": 0.00009}
# Typical concentrations (mg/L); some are below detection on purpose.
METAL_RANGE = {"Cu": (0.001, 0.006), "Zn": (0.004, 0.03), "As": (0.0008, 0.003),
               "Hg": (0.00001, 0.00006), "Cd": (0.00002, 0.00009), "Pb": (0.00005, 0.002)}
DECIMALS = {"pH": 2, "DO": 2, "CODMn": 1, "COD": 1, "BOD5": 1, "NH3_N": 3, "TP": 3, "TN": 2}
ASSESSED = ("pH", "DO", "CODMn", "COD", "BOD5", "NH3_N", "TP", *METALS)
MARGIN = 0.15  # every assessed mean is at least 15 % away from its target limit


def limits_table() -> pd.DataFrame:
    text = resources.files("dongping_geo").joinpath("data/gb3838_2002_table1.csv")
    with resources.as_file(text) as p:
        return pd.read_csv(p, dtype=str).set_index("item")


def _limit(tab: pd.DataFrame, item: str, cls: str) -> float:
    return float(tab.at[item, cls])


def class_of(tab: pd.DataFrame, item: str, value: float) -> str:
    """GB 3838 class of one value of one item (TP: river limits)."""
    if item == "pH":
        return "I" if 6.0 <= value <= 9.0 else "劣V"
    bound = tab.at[item, "bound"]
    for c in CLASSES:
        lim = float(tab.at[item, c])
        if (bound == "min" and value >= lim) or (bound == "max" and value <= lim):
            return c
    return "劣V"


def _worse(a: str, b: str) -> str:
    order = (*CLASSES, "劣V")
    return a if order.index(a) >= order.index(b) else b


def _fmt(v: float, item: str) -> str:
    if item in METALS:
        return f"{v:.5f}".rstrip("0").rstrip(".")
    return f"{v:.{DECIMALS[item]}f}"


SEASON = {
    "CODMn": (0.15, "sin"),
    "COD": (0.12, "sin"),
    "BOD5": (0.12, "sin"),
    "NH3_N": (0.20, "cos"),  # winter high: slow nitrification
    "TP": (0.20, "sin"),  # summer high: runoff
}
#: Factor of the limit of TP and NH3_N in every month of 2022 at the sections of
#: the channels lined with greenhouses and farmland (fertiliser runoff).
RUNOFF_FACTOR = (1.4, 1.9)
RUNOFF_ITEMS = ("NH3_N", "TP")


def _fractions(n_s: int, mon: np.ndarray, rng: np.random.Generator) -> dict[str, np.ndarray]:
    """Fractions of the target limit of the max-bound items: section base x season x noise."""
    frac = {}
    for item, (amp, kind) in SEASON.items():
        s = 1 + amp * (np.sin(2 * np.pi * (mon - 4) / 12) if kind == "sin" else np.cos(2 * np.pi * (mon - 1) / 12))
        base = rng.uniform(0.35, 0.5, size=(n_s, 1))
        frac[item] = np.clip(base * s[None, :] * rng.normal(1.0, 0.08, size=(n_s, len(mon))), 0.25, 0.6)
    return frac


Event = tuple[int, int, str, float]


def _remediation_events(lbh: list[int], rng: np.random.Generator) -> list[Event]:
    """老北横引河 (to be remediated): NH3_N and TP over the limit in most of 2021, TP in Jul-Aug 2022."""
    events = []
    for i in lbh:
        for m in range(1, 12):
            events.append((i, m, "NH3_N", float(rng.uniform(1.6, 1.9))))
            events.append((i, m, "TP", float(rng.uniform(1.6, 1.9))))
        for m in (18, 19):
            events.append((i, m, "TP", float(rng.uniform(1.7, 1.9))))
    return events


def _spike_events(pick: list[int], muni: int, rng: np.random.Generator
                  ) -> tuple[list[Event], list[tuple[int, int, str]]]:
    """Single summer spikes, two bad months in one quarter, one municipal TP spike."""
    events: list[Event] = []
    spikes = []
    # Single summer spikes (month fails, quarter and year pass).
    for k, i in enumerate(pick[:6]):
        m = int(rng.choice([5, 6, 7, 8, 17, 18, 19, 20]))
        item = ("NH3_N", "TP", "CODMn", "COD", "BOD5", "TP")[k]
        events.append((i, m, item, float(rng.uniform(1.35, 1.5))))
        spikes.append((i, m, item))
    # Two bad months in one quarter (months and the quarter fail, the year passes).
    for k, i in enumerate(pick[6:9]):
        q0 = int(rng.choice([6, 18])) if k != 1 else 3
        for m in (q0, q0 + 1):
            events.append((i, m, ("TP", "NH3_N", "TP")[k], float(rng.uniform(1.7, 2.2))))
    events.append((muni, 6, "TP", 1.45))
    spikes.append((muni, 6, "TP"))
    return events, spikes


def _runoff_events(runoff: list[int], rng: np.random.Generator) -> list[Event]:
    """Greenhouse and farmland runoff: TP and NH3_N over the limit in every month of 2022."""
    return [(i, m, item, float(rng.uniform(*RUNOFF_FACTOR)))
            for i in runoff for m in range(12, 24) for item in RUNOFF_ITEMS]


def _plant(sec: pd.DataFrame, river_name: dict, runoff_rivers: tuple[str, ...], frac: dict,
           rng: np.random.Generator) -> tuple[list[Event], tuple[int, int]]:
    """Plant the exceedances into ``frac`` (in place); return the events and the low-DO month."""
    n_s = len(sec)
    tiers = sec["tier"].to_numpy()
    lbh = [i for i in range(n_s) if river_name[sec.at[i, "river_id"]] == "老北横引河"]
    runoff = [i for i in range(n_s) if sec.at[i, "river_id"] in runoff_rivers]
    town_idx = [i for i in range(n_s) if tiers[i] == "town" and i not in lbh and i not in runoff]
    pick = [int(x) for x in rng.choice(town_idx, size=10, replace=False)]
    events = _remediation_events(lbh, rng)
    spike_events, spikes = _spike_events(pick, [i for i in range(n_s) if tiers[i] == "municipal"][0], rng)
    events += spike_events + _runoff_events(runoff, rng)
    # A low-oxygen month (DO below the minimum) when the quarter's other months are well oxygenated.
    do_event = (pick[9], int(rng.choice([4, 16])))
    # Spiked quarters: the other two months stay at most half the limit for that item.
    for i, m, item in spikes:
        q0 = m - m % 3
        for mm in range(q0, q0 + 3):
            frac[item][i, mm] = min(frac[item][i, mm], 0.5)
    for i, m, item, f in events:
        frac[item][i, m] = f
    return events, do_event


def _detect_style(sid: str, tier: str) -> str:
    """How the section's lab writes a non-detect: ``<dl``, ``ND`` or ``dlL``."""
    if tier == "municipal":
        return "L" if sid.endswith("03") else "ND"
    return "lt"


def _metal_rows(sid: str, when: str, style: str, rng: np.random.Generator) -> list[dict]:
    rows = []
    for item in METALS:
        v = float(rng.uniform(*METAL_RANGE[item]))
        dl_txt = _fmt(DETECTION_LIMIT[item], item)
        if v < DETECTION_LIMIT[item]:
            text = {"lt": f"<{dl_txt}", "ND": "ND", "L": f"{dl_txt}L"}[style]
        else:
            text = _fmt(v, item)
        rows.append(dict(section_id=sid, sampled_at=when, parameter=item, value=text,
                         unit="mg/L", detection_limit=dl_txt))
    return rows


def _month_values(tab: pd.DataFrame, cls: str, month: int, fr: dict[str, float], low_do: bool,
                  rng: np.random.Generator) -> dict[str, float]:
    vals: dict[str, float] = {"pH": float(rng.uniform(7.2, 8.2))}
    do = 8.3 + 1.6 * np.cos(2 * np.pi * (month - 1) / 12) + rng.normal(0, 0.15)
    do_lim = _limit(tab, "DO", cls)
    vals["DO"] = float(do_lim * 0.68) if low_do else float(max(do, do_lim * 1.25))
    for item in ("CODMn", "COD", "BOD5", "NH3_N", "TP"):
        vals[item] = float(fr[item] * _limit(tab, item, cls))
    vals["TN"] = float(rng.uniform(1.2, 3.2) * (1.2 if month in (12, 1, 2) else 1.0))
    return vals


def _section_rows(sec: pd.DataFrame, i: int, months: pd.PeriodIndex, tab: pd.DataFrame, frac: dict,
                  do_event: tuple[int, int], style: str, rng: np.random.Generator) -> list[dict]:
    """Every month's lab results of section ``i``."""
    sid, cls, tier = sec.at[i, "section_id"], sec.at[i, "target_class"], sec.at[i, "tier"]
    day = int(rng.integers(6, 19))
    rows = []
    for m, per in enumerate(months):
        ts = pd.Timestamp(per.year, per.month, min(28, day + int(rng.integers(-2, 3))),
                          int(rng.integers(8, 11)), int(rng.integers(0, 4)) * 15)
        when = ts.strftime("%Y-%m-%d %H:%M")
        fr = {item: frac[item][i, m] for item in frac}
        vals = _month_values(tab, cls, per.month, fr, (i, m) == do_event, rng)
        for item in MAIN_ITEMS:
            rows.append(dict(section_id=sid, sampled_at=when, parameter=item,
                             value=_fmt(vals[item], item), unit="无量纲" if item == "pH" else "mg/L",
                             detection_limit=""))
        if tier in ("national", "municipal"):
            rows += _metal_rows(sid, when, style, rng)
    return rows


def make_measurements(sections: pd.DataFrame, rivers: pd.DataFrame, rng: np.random.Generator, *,
                      runoff_rivers: tuple[str, ...] = ()) -> tuple[pd.DataFrame, dict]:
    """Long table of lab results and the planted-failure design.

    ``runoff_rivers``: river ids whose sections fail TP and NH3_N through 2022
    (channels lined with greenhouses and farmland).
    """
    tab = limits_table()
    months = pd.period_range("2021-01", "2022-12", freq="M")
    sec = sections.reset_index(drop=True)
    river_name = dict(zip(rivers["river_id"], rivers["name"], strict=True))
    frac = _fractions(len(sec), np.array([p.month for p in months]), rng)
    events, do_event = _plant(sec, river_name, tuple(runoff_rivers), frac, rng)
    styles = {sid: _detect_style(sid, t) for sid, t in zip(sec["section_id"], sec["tier"], strict=True)}
    rows = []
    for i in range(len(sec)):
        rows += _section_rows(sec, i, months, tab, frac, do_event, styles[sec.at[i, "section_id"]], rng)
    table = pd.DataFrame(rows)
    failures = assess_failures(table, sec, tab)
    design = {
        "events": [dict(section_id=sec.at[i, "section_id"], month=str(months[m]), item=item,
                        factor_of_limit=round(f, 3)) for i, m, item, f in sorted(events)]
        + [dict(section_id=sec.at[do_event[0], "section_id"], month=str(months[do_event[1]]),
                item="DO", factor_of_limit=0.68)],
        "detection_styles": styles,
        "runoff_2022_sections": sorted(sec.loc[sec["river_id"].isin(runoff_rivers), "section_id"]),
    }
    return table, {"failures": failures, "design": design}


def parse_value(text: str, dl: str) -> tuple[float, bool]:
    """(value for assessment, below detection) for one lab value as written."""
    t = text.strip()
    if t == "ND":
        return float(dl) / 2.0, True
    if t.startswith("<"):
        return float(t[1:]) / 2.0, True
    if t.endswith("L"):
        return float(t[:-1]) / 2.0, True
    return float(t), False


def assess_failures(table: pd.DataFrame, sections: pd.DataFrame, tab: pd.DataFrame) -> dict:
    """Failing (section, period) pairs for M, Q and Y; raises if any mean is ambiguous."""
    vals = [parse_value(t, d)[0] for t, d in zip(table["value"], table["detection_limit"], strict=True)]
    df = table.assign(v=vals, ts=pd.to_datetime(table["sampled_at"]))
    target = dict(zip(sections["section_id"], sections["target_class"], strict=True))
    out: dict[str, list | float] = {}
    closest = np.inf
    for period, fmt in (("M", "M"), ("Q", "Q"), ("Y", "Y")):
        lab = df["ts"].dt.to_period(fmt).astype(str)
        means = df.assign(period=lab).groupby(["section_id", "period", "parameter"])["v"].mean()
        rows = []
        for (sid, per), g in means.groupby(level=[0, 1]):
            cls_t = target[sid]
            worst = "I"
            over = []
            for (_, _, item), v in g.items():
                if item not in ASSESSED:
                    continue
                c = class_of(tab, item, float(v))
                worst = _worse(worst, c)
                if item != "pH":
                    lim = _limit(tab, item, cls_t)
                    ratio = lim / v if tab.at[item, "bound"] == "min" else v / lim
                    closest = min(closest, abs(ratio - 1.0))
                    if ratio > 1.0:
                        over.append(item)
            if over:
                rows.append(dict(section_id=sid, period=per, water_class=worst, target_class=cls_t,
                                 exceeding=sorted(over)))
        out[period] = rows
    if closest < MARGIN:
        raise RuntimeError(f"an assessed mean is within {closest:.3f} of its limit")
    out["min_relative_margin"] = round(float(closest), 4)
    return out
