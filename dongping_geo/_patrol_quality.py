"""NumPy kernels behind :func:`dongping_geo.problems.patrol_quality`: flags of doubtful patrols.

Works on the tracks and river segments :func:`dongping_geo.patrol.analyse` builds (live
fixes sorted by patrol and time, GPS jumps already dropped), so the flags describe exactly
the patrols the coverage and compliance analyses count. Every flag is one vectorised pass
over the fixes; the thresholds and where each comes from are in :class:`QualityRules`.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

import numpy as np
import pandas as pd
import shapely

from . import _patrol_core as core
from .errors import ConfigError

#: The flag columns of a patrol-quality table, in order (Chinese names in ``schemas.OUTPUT_FIELD_LABELS``).
FLAGS: tuple[str, ...] = (
    "too_short_time", "too_short_distance", "stationary", "too_fast", "far_from_own_rivers", "duplicate",
)


@dataclass(frozen=True)
class QualityRules:
    """Thresholds of the patrol-quality flags (defaults and sources in docs/problems.md).

    ``min_minutes``/``min_km``: guangzhou-2021 (at least 10 minutes and 1 km); a patrol
    that covered at least ``whole_river_share`` of a river shorter than ``min_km`` needs
    only that river's length, and the time pro rata (issue 17: a 500 m ditch walked
    whole counts). ``max_kmh``: 25 km/h, the top design speed of an electric bicycle in
    GB 17761-2018; faster is a motor vehicle. The rest are chosen defaults.
    """

    min_minutes: float = 10.0
    min_km: float = 1.0
    whole_river_share: float = 0.9
    stationary_radius_m: float = 50.0
    stationary_share: float = 0.8
    max_kmh: float = 25.0
    far_m: float = 100.0
    far_share: float = 0.5
    duplicate_m: float = 1.0
    max_gap_s: float = 300.0

    def __post_init__(self) -> None:
        for name in ("min_minutes", "min_km", "stationary_radius_m", "max_kmh", "far_m", "duplicate_m"):
            value = getattr(self, name)
            if isinstance(value, bool) or not isinstance(value, int | float) or not value >= 0:
                raise ConfigError("invalid patrol-quality threshold", field=name,
                                  expected="a number ≥ 0", found=repr(value), fix=f"pass {name}= a number ≥ 0")
        for name in ("whole_river_share", "stationary_share", "far_share"):
            value = getattr(self, name)
            if isinstance(value, bool) or not isinstance(value, int | float) or not 0 <= value <= 1:
                raise ConfigError("invalid patrol-quality share", field=name,
                                  expected="a share between 0 and 1", found=repr(value),
                                  fix=f"pass {name}= e.g. 0.5")


@dataclass
class LiveFixes:
    """The live (not jump) fixes of every patrol, sorted by patrol and time."""

    code: np.ndarray
    t: np.ndarray
    x: np.ndarray
    y: np.ndarray
    first: np.ndarray  # position of each patrol's first live fix (len n_patrols)
    count: np.ndarray  # live fixes per patrol


def live_fixes(tr: Any, n_patrols: int) -> LiveFixes:
    li = np.flatnonzero(~tr.jump)
    code = tr.patrol[li]
    count = np.bincount(code, minlength=n_patrols)
    first = np.searchsorted(code, np.arange(n_patrols))
    return LiveFixes(code, tr.t[li], tr.x[li], tr.y[li], first, count)


def short_patrol_flags(res: Any, rules: QualityRules) -> dict[str, np.ndarray]:
    """Too short in time or distance, with the short-river allowance."""
    min_m = rules.min_km * 1000.0
    n = len(res.patrol_names)
    rl = res.river_len[res.rp_river]
    whole = (rl < min_m) & (res.rp_covered >= rules.whole_river_share * rl - 1e-9) & (rl > 0)
    short_river = np.full(n, np.nan)
    if whole.any():
        s = pd.Series(rl[whole]).groupby(res.rp_patrol[whole]).max()
        short_river[s.index.to_numpy()] = s.to_numpy()
    has_short = ~np.isnan(short_river)
    need_m = np.where(has_short, short_river, min_m)
    need_min = rules.min_minutes * (need_m / min_m if min_m > 0 else 1.0)
    duration_min = (res.patrol_end_s - res.patrol_start_s) / 60.0
    return {
        "whole_river_m": short_river,
        "too_short_time": duration_min < need_min - 1e-9,
        "too_short_distance": (res.patrol_length_m < min_m - 1e-9) & ~has_short,
    }


def stationary_flags(lf: LiveFixes, rules: QualityRules) -> tuple[np.ndarray, np.ndarray]:
    """Share of fixes within the radius of the patrol's median point, and the flag."""
    med = pd.DataFrame({"x": lf.x, "y": lf.y}).groupby(lf.code, sort=True).median()
    mx = np.full(len(lf.count), np.nan)
    my = np.full(len(lf.count), np.nan)
    mx[med.index.to_numpy()] = med["x"].to_numpy()
    my[med.index.to_numpy()] = med["y"].to_numpy()
    inside = np.hypot(lf.x - mx[lf.code], lf.y - my[lf.code]) <= rules.stationary_radius_m + 1e-9
    with np.errstate(divide="ignore", invalid="ignore"):
        share = np.bincount(lf.code, weights=inside, minlength=len(lf.count)) / lf.count
    return share, (lf.count >= 2) & (share >= rules.stationary_share - 1e-12)


def speed_flags(lf: LiveFixes, rules: QualityRules) -> tuple[np.ndarray, np.ndarray]:
    """Mean speed over consecutive fixes (not across time gaps), and the too-fast flag."""
    same = lf.code[1:] == lf.code[:-1]
    dt = np.diff(lf.t)
    ok = same & (dt <= rules.max_gap_s)
    dist = np.hypot(np.diff(lf.x), np.diff(lf.y))
    c = lf.code[:-1][ok]
    n = len(lf.count)
    d_sum = np.bincount(c, weights=dist[ok], minlength=n)
    t_sum = np.bincount(c, weights=dt[ok], minlength=n)
    with np.errstate(divide="ignore", invalid="ignore"):
        kmh = np.where(t_sum > 0, d_sum / t_sum * 3.6, np.nan)
    return kmh, kmh > rules.max_kmh + 1e-9


def far_flags(
    lf: LiveFixes, rs: core.RiverSegments, river_chief: np.ndarray, patrol_chief: np.ndarray,
    rules: QualityRules,
) -> tuple[np.ndarray, pd.arrays.BooleanArray]:
    """Share of fixes farther than ``far_m`` from every river of the patrol's own chief.

    ``<NA>`` where the patrol has no chief or its chief has no river in the layer.
    """
    n = len(lf.count)
    codes, _ = pd.factorize(np.concatenate([river_chief, patrol_chief]).astype(object), use_na_sentinel=True)
    r_code, p_code = codes[: len(river_chief)], codes[len(river_chief):]
    has_rivers = np.isin(p_code, r_code[r_code >= 0]) & (p_code >= 0)
    fix_chief = p_code[lf.code]
    ask = np.flatnonzero(has_rivers[lf.code])
    near = np.zeros(len(lf.code), dtype=bool)
    if len(ask) and len(rs.seg_len):
        ox, oy = rs.origin
        px, py = lf.x[ask] - ox, lf.y[ask] - oy
        # Each fix as the start of the step to the next fix of its patrol: the chunked box
        # query of the coverage kernel, then the exact point-to-segment distance in NumPy.
        step = np.zeros(len(ask), dtype=bool)
        step[:-1] = (np.diff(ask) == 1) & (lf.code[ask][1:] == lf.code[ask][:-1])
        nx = np.where(step, np.roll(px, -1), px)
        ny = np.where(step, np.roll(py, -1), py)
        f_idx, s_idx = core.candidate_pairs(rs, px, py, nx, ny, rules.far_m, chunk=16)
        own = r_code[rs.part_river[rs.seg_part[s_idx]]] == fix_chief[ask[f_idx]]
        f_idx, s_idx = f_idx[own], s_idx[own]
        wx, wy = px[f_idx] - rs.ax[s_idx], py[f_idx] - rs.ay[s_idx]
        along = np.clip(wx * rs.ux[s_idx] + wy * rs.uy[s_idx], 0.0, rs.seg_len[s_idx])
        d = np.hypot(wx - along * rs.ux[s_idx], wy - along * rs.uy[s_idx])
        near[ask[f_idx[d <= rules.far_m + 1e-9]]] = True
    with np.errstate(divide="ignore", invalid="ignore"):
        share = 1.0 - np.bincount(lf.code, weights=near, minlength=n) / lf.count
    share = np.where(has_rivers, share, np.nan)
    flag = pd.array(share > rules.far_share + 1e-12, dtype="boolean")
    flag[~has_rivers] = pd.NA
    return share, flag


def duplicate_flags(lf: LiveFixes, start_s: np.ndarray, names: np.ndarray, rules: QualityRules) -> np.ndarray:
    """For each patrol, the code of the earlier patrol it copies (-1: none).

    Two patrols are the same track uploaded twice when they have the same number of
    fixes and every fix lies within ``duplicate_m`` of the matching fix of the other
    (times may differ: a re-upload may carry a new date). The later one (by start,
    then id) is the copy.
    """
    n = len(lf.count)
    out = np.full(n, -1, dtype=np.int64)
    real = np.flatnonzero(lf.count >= 2)
    if len(real) < 2:
        return out
    f, last = lf.first[real], lf.first[real] + lf.count[real] - 1
    tree = shapely.STRtree(shapely.points(lf.x[f], lf.y[f]))
    a, b = tree.query(shapely.points(lf.x[f], lf.y[f]), predicate="dwithin", distance=rules.duplicate_m)
    a, b = real[a], real[b]
    keep = (a != b) & (lf.count[a] == lf.count[b])
    la, lb = last[np.searchsorted(real, a[keep])], last[np.searchsorted(real, b[keep])]
    a, b = a[keep], b[keep]
    ok = np.hypot(lf.x[la] - lf.x[lb], lf.y[la] - lf.y[lb]) <= rules.duplicate_m + 1e-9
    a, b = a[ok], b[ok]
    # b copies a when a came first (by start time, then id).
    first_a = (start_s[a] < start_s[b]) | ((start_s[a] == start_s[b]) & (names[a] < names[b]))
    a, b = a[first_a], b[first_a]
    if len(a) == 0:
        return out
    k = lf.count[a]
    pair = np.repeat(np.arange(len(a)), k)
    offs = np.arange(len(pair)) - np.repeat(np.cumsum(k) - k, k)
    ia, ib = lf.first[a][pair] + offs, lf.first[b][pair] + offs
    far = np.hypot(lf.x[ia] - lf.x[ib], lf.y[ia] - lf.y[ib]) > rules.duplicate_m + 1e-9
    same = np.bincount(pair, weights=far, minlength=len(a)) == 0
    pairs = pd.DataFrame({"copy": b[same], "orig": a[same], "s": start_s[a[same]]})
    best = pairs.sort_values(["copy", "s", "orig"]).drop_duplicates("copy")
    out[best["copy"].to_numpy()] = best["orig"].to_numpy()
    return out


def quality_table(res: Any, rules: QualityRules) -> pd.DataFrame:
    """One row per patrol of a ``patrol.analyse`` result (a PatrolAnalysis): measures and flags."""
    n = len(res.patrol_names)
    lf = live_fixes(res.tracks, n)
    short = short_patrol_flags(res, rules)
    st_share, stationary = stationary_flags(lf, rules)
    kmh, fast = speed_flags(lf, rules)
    rivers = res.rivers
    river_chief = (rivers["chief"].to_numpy(dtype=object) if "chief" in rivers.columns
                   else np.full(len(rivers), None, dtype=object))
    far_share, far = far_flags(lf, res.rs, river_chief, np.asarray(res.patrol_chief, dtype=object), rules)
    dup = duplicate_flags(lf, res.patrol_start_s, np.asarray(res.patrol_names), rules)
    out = pd.DataFrame({
        "patrol_id": res.patrol_names,
        "chief": res.patrol_chief,
        "start": pd.to_datetime(res.patrol_start_s * 1e9, utc=True).tz_convert("Asia/Shanghai"),
        "end": pd.to_datetime(res.patrol_end_s * 1e9, utc=True).tz_convert("Asia/Shanghai"),
        "fixes": lf.count,
        "duration_min": (res.patrol_end_s - res.patrol_start_s) / 60.0,
        "length_m": res.patrol_length_m,
        "whole_river_m": short["whole_river_m"],
        "speed_kmh": kmh,
        "stationary_share": st_share,
        "far_share": far_share,
        "duplicate_of": pd.Series(np.where(dup >= 0, np.asarray(res.patrol_names)[np.maximum(dup, 0)], None),
                                  dtype=object),
        "too_short_time": short["too_short_time"],
        "too_short_distance": short["too_short_distance"],
        "stationary": stationary,
        "too_fast": fast,
        "far_from_own_rivers": far,
        "duplicate": dup >= 0,
    })
    out["flagged"] = out[list(FLAGS)].fillna(False).any(axis=1).astype(bool)
    return out
