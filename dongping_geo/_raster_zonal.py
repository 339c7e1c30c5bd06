"""Block-wise engine of :func:`dongping_geo.raster.zonal_stats`.

Zones are assigned to the chunks (block-aligned windows) their pixel bounding
box touches; every chunk is read once, by one background thread, while the main
thread computes the coverage fractions and statistics of the previous chunk
(rasterio releases the GIL while decoding). A zone spanning several chunks is
handled piecewise and its partial results are merged.
"""

from __future__ import annotations

from collections import deque
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass, field

import numpy as np
from rasterio.errors import RasterioIOError
from rasterio.windows import Window

from ._raster_coverage import polygon_segments, window_pieces
from .errors import RasterError

# About 4 M pixels per chunk: large enough to amortise per-read overhead,
# small enough that two chunks in flight stay far below the memory budget.
CHUNK_TARGET_PX = 2048
# Bytes of decoded chunks the reader thread may hold ahead of the statistics.
READ_AHEAD_BYTES = 256 * 2**20


@dataclass
class ContinuousResult:
    count: np.ndarray
    sum: np.ndarray
    min: np.ndarray
    max: np.ndarray
    quantiles: np.ndarray  # (n_zones, n_q), NaN where no valid pixel


@dataclass
class CategoricalResult:
    zone: np.ndarray  # one entry per (zone, class)
    value: np.ndarray
    weight: np.ndarray  # coverage-weighted pixel count, or area when row_area is given


@dataclass
class _Plan:
    chunks: list[tuple[int, int, int, int]]  # read window (row0, row1, col0, col1)
    remaining: np.ndarray  # chunks left per zone
    pairs: list[np.ndarray] = field(default_factory=list)  # zone ids per chunk


def chunk_shape(block_shape: tuple[int, int], height: int, width: int) -> tuple[int, int]:
    """Block-aligned chunk of about CHUNK_TARGET_PX² pixels (strips: fewer rows, full width)."""
    bh, bw = block_shape
    cw = min(bw * max(1, round(CHUNK_TARGET_PX / bw)), width)
    rows = CHUNK_TARGET_PX * CHUNK_TARGET_PX / cw
    ch = min(bh * max(1, round(rows / bh)), height)
    return ch, cw


def plan(
    bounds_px: np.ndarray, height: int, width: int, block_shape: tuple[int, int]
) -> tuple[_Plan, np.ndarray]:
    """Assign zones to chunks; returns the plan and integer pixel boxes (r0, r1, c0, c1)."""
    bh, bw = block_shape
    ch, cw = chunk_shape(block_shape, height, width)
    with np.errstate(invalid="ignore"):
        c0 = np.clip(np.floor(bounds_px[:, 0]), 0, width)
        r0 = np.clip(np.floor(bounds_px[:, 1]), 0, height)
        c1 = np.clip(np.ceil(bounds_px[:, 2]), 0, width)
        r1 = np.clip(np.ceil(bounds_px[:, 3]), 0, height)
    ok = np.isfinite(bounds_px).all(axis=1) & (r1 > r0) & (c1 > c0)
    box = np.zeros((len(bounds_px), 4), dtype=np.int64)
    box[ok] = np.column_stack((r0, r1, c0, c1))[ok].astype(np.int64)
    zid = np.flatnonzero(ok)
    kr0, kr1 = box[zid, 0] // ch, (box[zid, 1] - 1) // ch
    kc0, kc1 = box[zid, 2] // cw, (box[zid, 3] - 1) // cw
    nr, nc = kr1 - kr0 + 1, kc1 - kc0 + 1
    n = nr * nc
    # Every (zone, chunk) pair, without a Python loop over zones.
    pz = np.repeat(zid, n)
    k = np.arange(int(n.sum())) - np.repeat(np.cumsum(n) - n, n)
    pnc = np.repeat(nc, n)
    pr = np.repeat(kr0, n) + k // pnc
    pc = np.repeat(kc0, n) + k % pnc
    n_chunk_cols = -(-width // cw)
    chunk_id = pr * n_chunk_cols + pc
    order = np.lexsort((pz, chunk_id))
    pz, chunk_id = pz[order], chunk_id[order]
    uniq, first = np.unique(chunk_id, return_index=True)
    groups = np.split(pz, first[1:]) if len(uniq) else []
    p = _Plan(chunks=[], remaining=np.zeros(len(bounds_px), dtype=np.int64))
    for cid, zones in zip(uniq.tolist(), groups, strict=True):
        kr, kc = divmod(cid, n_chunk_cols)
        R0, C0 = kr * ch, kc * cw
        R1, C1 = min(R0 + ch, height), min(C0 + cw, width)
        # Read only the blocks the zones need inside this chunk.
        b = box[zones]
        rr0 = max(R0, int(b[:, 0].min()) // bh * bh)
        rr1 = min(R1, -(-int(b[:, 1].max()) // bh) * bh)
        cc0 = max(C0, int(b[:, 2].min()) // bw * bw)
        cc1 = min(C1, -(-int(b[:, 3].max()) // bw) * bw)
        p.chunks.append((rr0, rr1, cc0, cc1))
        p.pairs.append(zones)
    p.remaining[zid] = n
    return p, box


def weighted_quantiles(values: np.ndarray, weights: np.ndarray, qs: np.ndarray) -> np.ndarray:
    """Weighted quantiles as defined by exactextract (whuber, stats.stackexchange.com/a/13223).

    Sort the n values; the i-th (0-based) gets the position
    ``s_i = i * w_i + (n - 1) * sum(w_0 .. w_{i-1})``; quantile q interpolates
    linearly in s at ``q * (n - 1) * sum(w)``. Equal weights give the usual
    linear (Hyndman-Fan type 7, numpy default) quantile.
    """
    n = values.size
    if n == 0:
        return np.full(len(qs), np.nan)
    order = np.argsort(values, kind="stable")
    v, w = values[order], weights[order]
    cum = np.cumsum(w)
    s = np.arange(n) * w + (n - 1) * (cum - w)
    target = np.asarray(qs) * cum[-1] * (n - 1)
    right = np.searchsorted(s, target, side="right")
    left = right - 1
    out = v[left].astype(np.float64)
    inner = right < n
    li, ri = left[inner], right[inner]
    out[inner] = v[li] + (target[inner] - s[li]) * (v[ri] - v[li]) / (s[ri] - s[li])
    return out


def _expand(zone, flat_start, length, weight):
    """Every pixel of every run: (zone, flat index, weight) arrays."""
    n = int(length.sum())
    rep = np.repeat(np.arange(length.size), length)
    offset = np.arange(n) - np.repeat(np.cumsum(length) - length, length)
    return zone[rep], flat_start[rep] + offset, weight[rep]


def _class_sums(
    zone: np.ndarray, value: np.ndarray, weight: np.ndarray, chunk_zones: np.ndarray, lut: np.ndarray
) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """Weight per (zone, class) of one chunk's covered pixels: (zones, classes, sums)."""
    if value.size == 0:
        return zone[:0], value[:0], weight[:0]
    if value.dtype.kind in "iu" and value.dtype.itemsize <= 2:
        # Small integer codes (land cover): a dense histogram per zone, no sort.
        lo = int(value.min())
        k = int(value.max()) - lo + 1
        if chunk_zones.size * k <= 2**24:
            lut[chunk_zones] = np.arange(chunk_zones.size)
            key = lut[zone] * k + (value.astype(np.int64) - lo)
            hist = np.bincount(key, weights=weight, minlength=chunk_zones.size * k)
            nz = np.flatnonzero(hist)
            return chunk_zones[nz // k], (nz % k + lo).astype(value.dtype), hist[nz]
    u, inv = np.unique(value, return_inverse=True)
    key = zone * u.size + inv.ravel()
    ukey, kinv = np.unique(key, return_inverse=True)
    return ukey // u.size, u[ukey % u.size], np.bincount(kinv.ravel(), weights=weight)


@dataclass
class _Job:
    """What :func:`run` computes and how the band reads."""

    categorical: bool
    quantiles: np.ndarray
    row_area: np.ndarray | None
    need_minmax: bool
    nodata: float | None
    dtype: np.dtype


@dataclass
class _Stats:
    """Per-zone statistics accumulated chunk by chunk, with scratch arrays."""

    count: np.ndarray
    total: np.ndarray
    vmin: np.ndarray
    vmax: np.ndarray
    qout: np.ndarray
    in_chunk: np.ndarray  # scratch: zones of the current chunk
    zone_lut: np.ndarray  # scratch: zone id -> position in the current chunk
    qparts: dict[int, list[tuple[np.ndarray, np.ndarray]]] = field(default_factory=dict)
    cat_parts: list[tuple[np.ndarray, np.ndarray, np.ndarray]] = field(default_factory=list)

    @classmethod
    def empty(cls, n_zones: int, n_quantiles: int) -> _Stats:
        return cls(
            count=np.zeros(n_zones),
            total=np.zeros(n_zones),
            vmin=np.full(n_zones, np.nan),
            vmax=np.full(n_zones, np.nan),
            qout=np.full((n_zones, n_quantiles), np.nan),
            in_chunk=np.zeros(n_zones, dtype=bool),
            zone_lut=np.zeros(n_zones, dtype=np.int64),
        )

    def result(self, categorical: bool) -> ContinuousResult | CategoricalResult:
        if not categorical:
            return ContinuousResult(self.count, self.total, self.vmin, self.vmax, self.qout)
        if self.cat_parts:
            zz = np.concatenate([c[0] for c in self.cat_parts])
            vv = np.concatenate([c[1] for c in self.cat_parts])
            ww = np.concatenate([c[2] for c in self.cat_parts])
        else:
            zz, vv, ww = np.zeros(0, np.int64), np.zeros(0), np.zeros(0)
        return CategoricalResult(zz, vv, ww)


@dataclass
class _Segments:
    """Boundary pieces of every zone, sorted by chunk row (``bucket``)."""

    bucket: np.ndarray
    zone: np.ndarray
    row: np.ndarray
    col: np.ndarray
    a: np.ndarray
    dy: np.ndarray


@dataclass
class _Cover:
    """Valid covered pixels of one chunk: boundary cells one by one, interior runs."""

    cell_zone: np.ndarray
    cell_idx: np.ndarray  # flat index in the chunk
    cell_cov: np.ndarray
    run_zone: np.ndarray
    run_cov: np.ndarray
    run_start: np.ndarray  # flat index of the first pixel
    run_len: np.ndarray


def _read_chunk(ds, band: int, dtype: np.dtype, window: tuple[int, int, int, int]) -> np.ndarray:
    """The chunk's pixels, flat, with one spare element after them."""
    r0, r1, c0, c1 = window
    # One spare element after the pixels lets a reduceat run end at the last one.
    buf = np.empty((r1 - r0) * (c1 - c0) + 1, dtype=dtype)
    try:
        ds.read(band, window=Window(c0, r0, c1 - c0, r1 - r0), out=buf[:-1].reshape(r1 - r0, c1 - c0))
        return buf
    except RasterioIOError as exc:
        raise RasterError(
            "cannot read the raster", path=ds.name, expected=f"readable blocks in rows {r0}-{r1}",
            found=str(exc), fix="check the file is complete (gdalinfo -checksum)",
        ) from exc


class _ReadAhead:
    """Chunks read in order by one background thread, up to READ_AHEAD_BYTES ahead.

    The reader starts at once, so decoding overlaps the boundary cutting and the
    statistics of the main thread.
    """

    def __init__(self, pool: ThreadPoolExecutor, ds, band: int, dtype: np.dtype, chunks: list) -> None:
        self._pool, self._ds, self._band, self._dtype, self._chunks = pool, ds, band, dtype, chunks
        chunk_px = max(1, max(((r1 - r0) * (c1 - c0) for r0, r1, c0, c1 in chunks), default=1))
        ahead = max(2, READ_AHEAD_BYTES // (chunk_px * dtype.itemsize))
        self._pending = deque(self._submit(i) for i in range(min(ahead, len(chunks))))
        self._next = len(self._pending)

    def _submit(self, i: int):
        return self._pool.submit(_read_chunk, self._ds, self._band, self._dtype, self._chunks[i])

    def next(self) -> np.ndarray:
        data = self._pending.popleft().result()
        if self._next < len(self._chunks):
            self._pending.append(self._submit(self._next))
            self._next += 1
        return data


def _sorted_segments(pixel_geoms: np.ndarray, ch: int) -> _Segments:
    """Boundary pieces bucketed by chunk row; a stable sort keeps the (zone, row, col) order."""
    segs = polygon_segments(pixel_geoms)
    bucket = segs.row // ch
    # Few chunk rows: a 16-bit key lets numpy use a linear-time radix sort.
    small = bucket.astype(np.int16) if bucket.size and bucket.max() < 2**15 else bucket
    order = np.argsort(small, kind="stable")
    return _Segments(
        bucket[order], segs.zone[order], segs.row[order], segs.col[order], segs.a[order], segs.dy[order]
    )


def _chunk_pieces(
    segs: _Segments, window: tuple[int, int, int, int], ch: int, zones: np.ndarray,
    in_chunk: np.ndarray, zone_col0: np.ndarray,
):
    """Cells and runs of the chunk's zones inside the chunk window."""
    R0, R1, C0, C1 = window
    lo, hi = np.searchsorted(segs.bucket, (R0 // ch, R0 // ch + 1))
    sz, sr, sc = segs.zone[lo:hi], segs.row[lo:hi], segs.col[lo:hi]
    in_chunk[zones] = True
    m = (sr >= R0) & (sr < R1) & (sc >= C0) & in_chunk[sz]
    in_chunk[zones] = False
    return window_pieces(
        sz[m], sr[m], sc[m], segs.a[lo:hi][m], segs.dy[lo:hi][m], zone_col0, R0, C0, C1,
    )


def _invalid_mask(flat: np.ndarray, n: int, job: _Job) -> tuple[np.ndarray, bool]:
    """Nodata and NaN pixels of a flat chunk (the spare element is invalid), and whether any pixel is."""
    invalid = np.zeros(n + 1, dtype=bool)
    invalid[n] = True
    if job.nodata is not None:
        np.equal(flat[:n], job.nodata, out=invalid[:n])
    if job.dtype.kind == "f":
        invalid[:n] |= flat[:n] != flat[:n]  # NaN
    return invalid, bool(invalid[:n].any())


def _chunk_cover(pc, w: int, invalid: np.ndarray) -> _Cover:
    cell_idx = pc.cell_row * w + pc.cell_col
    c_ok = (pc.cell_cov > 0.0) & ~invalid[cell_idx]
    return _Cover(
        cell_zone=pc.cell_zone[c_ok], cell_idx=cell_idx[c_ok], cell_cov=pc.cell_cov[c_ok],
        run_zone=pc.run_zone, run_cov=pc.run_cov,
        run_start=pc.run_row * w + pc.run_col0, run_len=pc.run_col1 - pc.run_col0,
    )


def _add_pixels(
    acc: _Stats, job: _Job, flat: np.ndarray, invalid: np.ndarray, cov: _Cover,
    row0: int, w: int, zones: np.ndarray,
) -> None:
    """Every valid covered pixel individually: class sums or quantile parts."""
    ez, eidx, ew = _expand(cov.run_zone, cov.run_start, cov.run_len, cov.run_cov)
    ok = ~invalid[eidx]
    az = np.concatenate((cov.cell_zone, ez[ok]))
    aidx = np.concatenate((cov.cell_idx, eidx[ok]))
    aw = np.concatenate((cov.cell_cov, ew[ok]))
    av = flat[aidx]
    if job.categorical:
        if job.row_area is not None:
            aw = aw * job.row_area[row0 + aidx // w]
        acc.cat_parts.append(_class_sums(az, av, aw, zones, acc.zone_lut))
    elif az.size:
        so = np.argsort(az, kind="stable")
        az, av, aw = az[so], av[so].astype(np.float64), aw[so]
        uz, first = np.unique(az, return_index=True)
        for z, v, wt in zip(uz.tolist(), np.split(av, first[1:]), np.split(aw, first[1:]), strict=True):
            acc.qparts.setdefault(z, []).append((v, wt))


def _add_cells(acc: _Stats, job: _Job, flat: np.ndarray, cov: _Cover) -> None:
    """Boundary cells one by one into count, sum, min and max."""
    n_zones = acc.count.size
    cz, cw = cov.cell_zone, cov.cell_cov
    cv = flat[cov.cell_idx].astype(np.float64)
    acc.count += np.bincount(cz, weights=cw, minlength=n_zones)
    acc.total += np.bincount(cz, weights=cw * cv, minlength=n_zones)
    if job.need_minmax:
        np.fmin.at(acc.vmin, cz, cv)
        np.fmax.at(acc.vmax, cz, cv)


def _add_runs(
    acc: _Stats, job: _Job, flat: np.ndarray, invalid: np.ndarray, any_invalid: bool, cov: _Cover
) -> None:
    """Interior runs in bulk into count, sum, min and max.

    reduceat also reduces the gap from one run's end to the next run's start: with
    starts descending every gap is a single pixel.
    """
    n_zones, n = acc.count.size, flat.size - 1
    ro = np.argsort(-cov.run_start, kind="stable")
    rz, rcov, rst, rl = cov.run_zone[ro], cov.run_cov[ro], cov.run_start[ro], cov.run_len[ro]
    ind = np.empty(2 * rl.size, dtype=np.int64)
    ind[0::2] = rst
    ind[1::2] = rst + rl
    vz = flat.astype(np.float64)
    if any_invalid:
        np.copyto(vz, 0.0, where=invalid)
        n_bad = np.add.reduceat(invalid.view(np.int8), ind, dtype=np.int32)[0::2]
        r_cnt = rl - n_bad
    else:
        vz[n] = 0.0
        r_cnt = rl
    r_sum = np.add.reduceat(vz, ind)[0::2]
    acc.count += np.bincount(rz, weights=rcov * r_cnt, minlength=n_zones)
    acc.total += np.bincount(rz, weights=rcov * r_sum, minlength=n_zones)
    if job.need_minmax:
        vn = _minmax_values(flat, vz, invalid, any_invalid)
        np.fmin.at(acc.vmin, rz, np.fmin.reduceat(vn, ind)[0::2])
        np.fmax.at(acc.vmax, rz, np.fmax.reduceat(vn, ind)[0::2])


def _minmax_values(flat: np.ndarray, vz: np.ndarray, invalid: np.ndarray, any_invalid: bool) -> np.ndarray:
    """The chunk for min/max: NaN marks invalid pixels, which fmin/fmax skip.

    Native dtype where possible (float32 halves the memory traffic); the chunk is
    ours alone, so it is marked in place.
    """
    n = flat.size - 1
    if not any_invalid:
        vn = flat
        vn[n] = flat[0]
    elif flat.dtype.kind == "f":
        vn = flat
        np.copyto(vn, np.nan, where=invalid)
    else:
        vn = vz.copy()
        np.copyto(vn, np.nan, where=invalid)
    return vn


def _reduce_chunk(
    acc: _Stats, job: _Job, flat: np.ndarray, pc, window: tuple[int, int, int, int], zones: np.ndarray
) -> None:
    """Add one chunk's covered pixels to the statistics of its zones."""
    R0, R1, C0, C1 = window
    w = C1 - C0
    # Flat views padded by one pixel so that a run may end at the last one.
    invalid, any_invalid = _invalid_mask(flat, (R1 - R0) * w, job)
    cov = _chunk_cover(pc, w, invalid)
    if job.categorical or len(job.quantiles):
        # Every covered pixel individually (classes and quantiles need them).
        _add_pixels(acc, job, flat, invalid, cov, R0, w, zones)
    if not job.categorical:
        _add_cells(acc, job, flat, cov)
        if cov.run_len.size:
            _add_runs(acc, job, flat, invalid, any_invalid, cov)


def _finish_quantiles(acc: _Stats, done: np.ndarray, quantiles: np.ndarray) -> None:
    """Quantiles of the zones whose last chunk is reduced."""
    for z in done.tolist():
        parts = acc.qparts.pop(z, None)
        if parts:
            acc.qout[z] = weighted_quantiles(
                np.concatenate([a for a, _ in parts]),
                np.concatenate([b for _, b in parts]),
                quantiles,
            )


def run(
    ds,
    band: int,
    pixel_geoms: np.ndarray,
    bounds_px: np.ndarray,
    *,
    categorical: bool,
    quantiles: np.ndarray,
    row_area: np.ndarray | None = None,
    need_minmax: bool = True,
) -> ContinuousResult | CategoricalResult:
    """Read every needed block once and reduce it into per-zone statistics."""
    block = ds.block_shapes[band - 1]
    p, box = plan(bounds_px, ds.height, ds.width, block)
    nodata = ds.nodatavals[band - 1]
    job = _Job(
        categorical=categorical, quantiles=quantiles, row_area=row_area, need_minmax=need_minmax,
        nodata=None if nodata is not None and np.isnan(nodata) else nodata,
        dtype=np.dtype(ds.dtypes[band - 1]),
    )
    ch = chunk_shape(block, ds.height, ds.width)[0]
    acc = _Stats.empty(len(bounds_px), len(quantiles))
    with ThreadPoolExecutor(max_workers=1) as pool:
        reader = _ReadAhead(pool, ds, band, job.dtype, p.chunks)
        segs = _sorted_segments(pixel_geoms, ch)
        for window, zones in zip(p.chunks, p.pairs, strict=True):
            flat = reader.next()
            pc = _chunk_pieces(segs, window, ch, zones, acc.in_chunk, box[:, 2])
            _reduce_chunk(acc, job, flat, pc, window, zones)
            p.remaining[zones] -= 1
            if acc.qparts:
                _finish_quantiles(acc, zones[p.remaining[zones] == 0], quantiles)
    return acc.result(categorical)
