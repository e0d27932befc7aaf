"""Compiled kernels of image segmentation (:mod:`meanshift.image`).

Pixels sit on a regular grid, so the spatial neighbours of a position are simply the
pixels in a window around it: no tree, no grid hashing.  Every image is handled as a
3-D volume ``(depth, height, width)`` of feature vectors (a 2-D image has depth 1).

Joint spatial-range domain.  A pixel at grid index ``(z, y, x)`` with range features
``f`` (colour, already divided by the range bandwidth) is the point
``(z * sz, y * sy, x * sx, f)`` with ``s* = spacing / spatial_bandwidth``: in these units
both bandwidths are 1 and the squared normalised distance between a position ``p`` and a
pixel ``q`` is

    u2 = |p_spatial - q_spatial|^2 + |p_range - q_range|^2.

One mean shift step moves ``p`` to ``sum_q w(u2) q / sum_q w(u2)`` over the pixels with
``u2 <= support^2``, with the weight profiles of :mod:`meanshift._kernels` (their compiled
forms, selected by code: 0 flat, 1 gaussian truncated at ``support``, 2 epanechnikov,
3 triangular); only the window of pixels within the spatial radius is visited.  Region
fusion and merging are in :mod:`meanshift.image._regions`.
"""

from __future__ import annotations

import math
from typing import Any

import numpy as np
from numba import types
from numba.extending import overload

from .._compile import njit, with_constants
from .._engines._contract import report
from .._engines._threads import run_ranges
from .._kernels import EDGE32, compiled_weight

__all__ = ["climb_pixels", "climb_pixels3"]


@njit(cache=True, inline="always", fastmath=True)
def _profile(code, u2, sup2):
    """Weight of kernel ``code`` at ``u2`` (float32), zero beyond the support ``sup2``:
    the kernels' compiled form (:func:`meanshift._kernels.compiled_weight`), cast."""
    w = np.float32(compiled_weight(code, u2, np.float32(1.0)))
    return w if u2 <= sup2 else np.float32(0.0)


@njit(cache=True, inline="always", fastmath=True)
def _row(code, P0, P1, P2, base, m, f0, fx, f2, r0, r1, r2, fs):
    """Weighted sums over one run of ``m`` pixels of a window row (3 channels):
    ``(sum w, sum w j, sum w q0, sum w q1, sum w q2)`` with ``j`` the offset in the run."""
    sw = np.float32(0.0)
    sj = np.float32(0.0)
    s0 = np.float32(0.0)
    s1 = np.float32(0.0)
    s2 = np.float32(0.0)
    # Row slices indexed from 0: the compiler then knows no index is negative, so the
    # loads skip Numba's wraparound for negative indices (a third of the climb's time).
    R0 = P0[base:base + m]
    R1 = P1[base:base + m]
    R2 = P2[base:base + m]
    for j in range(m):
        dx = f0 + np.float32(j) * fx
        q0 = R0[j]
        q1 = R1[j]
        q2 = R2[j]
        d0 = q0 - r0
        d1 = q1 - r1
        d2 = q2 - r2
        w = _profile(code, f2 + dx * dx + d0 * d0 + d1 * d1 + d2 * d2, fs)
        sw += w
        sj += w * np.float32(j)
        s0 += w * q0
        s1 += w * q1
        s2 += w * q2
    return sw, sj, s0, s1, s2


@njit(cache=True, inline="always", fastmath=True)
def _row1(code, P0, base, m, f0, fx, f2, r0, fs):
    """:func:`_row` of a one-channel image (grayscale, volumes): the other two channels
    are zero, so their terms are dropped: the same sums up to the order in which float32
    terms are added, about 30 % less work."""
    sw = np.float32(0.0)
    sj = np.float32(0.0)
    s0 = np.float32(0.0)
    R0 = P0[base:base + m]  # see _row
    for j in range(m):
        dx = f0 + np.float32(j) * fx
        q0 = R0[j]
        d0 = q0 - r0
        w = _profile(code, f2 + dx * dx + d0 * d0, fs)
        sw += w
        sj += w * np.float32(j)
        s0 += w * q0
    return sw, sj, s0, np.float32(0.0), np.float32(0.0)


def _row_of(code, nc, P0, P1, P2, base, m, f0, fx, f2, r0, r1, r2, fs):
    """:func:`_row` (``nc == 3``) or :func:`_row1` (``nc == 1``) of kernel ``code`` (a
    compile-time dispatch, see below)."""
    raise NotImplementedError  # pragma: no cover - only called from compiled code


@overload(_row_of, prefer_literal=True)
def _row_of_impl(code, nc, P0, P1, P2, base, m, f0, fx, f2, r0, r1, r2, fs):
    # Literal kernel code and channel count (the climb's wrappers pass them, see
    # _image_loops) inline that kernel's row loop only, not all eight, on a first run.
    if isinstance(code, types.IntegerLiteral) and isinstance(nc, types.IntegerLiteral):
        k = code.literal_value
        if nc.literal_value == 1:

            def one_channel(code, nc, P0, P1, P2, base, m, f0, fx, f2, r0, r1, r2, fs):
                return _row1(k, P0, base, m, f0, fx, f2, r0, fs)

            return one_channel

        def three_channels(code, nc, P0, P1, P2, base, m, f0, fx, f2, r0, r1, r2, fs):
            return _row(k, P0, P1, P2, base, m, f0, fx, f2, r0, r1, r2, fs)

        return three_channels

    def any_kernel(code, nc, P0, P1, P2, base, m, f0, fx, f2, r0, r1, r2, fs):
        if code == 0:
            return _row(0, P0, P1, P2, base, m, f0, fx, f2, r0, r1, r2, fs)
        if code == 2:
            return _row(2, P0, P1, P2, base, m, f0, fx, f2, r0, r1, r2, fs)
        if code == 1:
            return _row(1, P0, P1, P2, base, m, f0, fx, f2, r0, r1, r2, fs)
        return _row(3, P0, P1, P2, base, m, f0, fx, f2, r0, r1, r2, fs)

    return any_kernel


@njit(cache=True, inline="always")
def _x_span(z, y, pz, py, px, sz, sy, sx, sup2, W):
    """``(dzy2, xlo, xhi)``: squared scaled distance from ``(pz, py)`` to window row
    ``(z, y)`` and the pixels of that row to visit around ``px`` (``xlo > xhi`` when the
    row is out of reach).

    Every row in reach is visited over the window's whole width, the pixels within the
    spatial support of ``px`` along x, not only over its chord of the support's disc:
    the kernel's weight is zero beyond the support anyway (the float32 test of
    :func:`_profile` decides), and rows of the same length, with no square root per
    row, make the climb faster (the exact default 1.2-1.9x faster in
    ``benchmarks/bench_image.py``'s 01:58 UTC run than in the one before)."""
    dzy2 = ((z - pz) * sz) ** 2 + ((y - py) * sy) ** 2
    if dzy2 > sup2:
        return dzy2, 1, 0
    half = math.sqrt(sup2) / sx
    return dzy2, max(int(math.ceil(px - half)), 0), min(int(math.floor(px + half)), W - 1)


@njit(cache=True, inline="always")
def _start(p, H, W):
    HW = H * W
    z0 = p // HW
    rem = p - z0 * HW
    y0 = rem // W
    return z0, y0, rem - y0 * W


@njit(cache=True, fastmath=True)
def _climb3(P0, P1, P2, D, H, W, sz, sy, sx, rz, ry, code, nc, sup2, tol2, pz, py, px, r0,
            r1, r2, max_iter):
    """Mean shift steps from ``(pz, py, px, r0, r1, r2)`` until a step moves at most
    ``sqrt(tol2)`` or ``max_iter`` steps; returns the end point, the steps taken and
    whether the climb converged."""
    fs = np.float32(sup2)
    fx = np.float32(sx)
    it = 0
    done = False
    while it < max_iter:
        it += 1
        cz = int(math.floor(pz + 0.5))
        cy = int(math.floor(py + 0.5))
        wsum = 0.0
        az = 0.0
        ay = 0.0
        ax = 0.0
        a0 = 0.0
        a1 = 0.0
        a2 = 0.0
        for z in range(max(cz - rz - 1, 0), min(cz + rz + 1, D - 1) + 1):
            for y in range(max(cy - ry - 1, 0), min(cy + ry + 1, H - 1) + 1):
                dzy2, xlo, xhi = _x_span(z, y, pz, py, px, sz, sy, sx, sup2, W)
                if xlo > xhi:
                    continue
                base = (z * H + y) * W + xlo
                f0 = np.float32((xlo - px) * sx)
                f2 = np.float32(dzy2)
                m = xhi - xlo + 1
                sw, sj, s0, s1, s2 = _row_of(code, nc, P0, P1, P2, base, m, f0, fx, f2, r0,
                                             r1, r2, fs)
                wsum += sw
                az += sw * z
                ay += sw * y
                ax += sw * xlo + sj
                a0 += s0
                a1 += s1
                a2 += s2
        if wsum <= 0.0:
            break
        nz = az / wsum
        ny = ay / wsum
        nx = ax / wsum
        v0 = a0 / wsum
        v1 = a1 / wsum
        v2 = a2 / wsum
        shift2 = (((nz - pz) * sz) ** 2 + ((ny - py) * sy) ** 2 + ((nx - px) * sx) ** 2
                  + (v0 - r0) ** 2 + (v1 - r1) ** 2 + (v2 - r2) ** 2)
        pz = nz
        py = ny
        px = nx
        r0 = np.float32(v0)
        r1 = np.float32(v1)
        r2 = np.float32(v2)
        if shift2 <= tol2:
            done = True
            break
    return pz, py, px, r0, r1, r2, it, done


@njit(cache=True, inline="always")
def _lattice_mode(modes, s, H, W, z0, y0, x0, pz, py, px, r0, r1, r2, sz, sy, sx, sup2,
                  share2):
    """Index of the lattice pixel around ``(z0, y0, x0)`` (lattice step ``s``) whose mode
    is within one spatial bandwidth of ``(pz, py, px)`` and nearest in colour to
    ``(r0, r1, r2)``, if closer than ``sqrt(share2)``; else -1 (ties: first in raster order).
    """
    best = -1
    best_d = share2
    for ly in range((y0 // s) * s, (y0 // s) * s + 2 * s, s):
        if ly >= H:
            continue
        for lx in range((x0 // s) * s, (x0 // s) * s + 2 * s, s):
            if lx >= W:
                continue
            q = (z0 * H + ly) * W + lx
            dspace = (((modes[q, 0] - pz) * sz) ** 2 + ((modes[q, 1] - py) * sy) ** 2
                      + ((modes[q, 2] - px) * sx) ** 2)
            if dspace > sup2:
                continue
            dcol = (modes[q, 3] - r0) ** 2 + (modes[q, 4] - r1) ** 2 + (modes[q, 5] - r2) ** 2
            if dcol < best_d:
                best_d = dcol
                best = q
    return best


# The kernel's code and the channel count of the two loops below: constants that
# :func:`_image_loops` sets in each compiled copy (these values are never compiled).
_CODE = -1
_NC = -1


def _lattice_climb(a, b, lattice, modes, n_iter, P0, P1, P2, D, H, W, sz, sy, sx, rz, ry,
                   sup2, tol2, max_iter):
    """Phase 1 of :func:`climb_pixels3` for lattice entries ``a:b``: each pixel
    climbs to its own mode (compiled per kernel and channel count, :func:`_image_loops`)."""
    for i in range(a, b):
        p = lattice[i]
        z0, y0, x0 = _start(p, H, W)
        pz, py, px, r0, r1, r2, it, done = _climb3(
            P0, P1, P2, D, H, W, sz, sy, sx, rz, ry, _CODE, _NC, sup2, tol2, float(z0),
            float(y0), float(x0), np.float32(P0[p]), np.float32(P1[p]), np.float32(P2[p]),
            max_iter)
        modes[p, 0] = pz
        modes[p, 1] = py
        modes[p, 2] = px
        modes[p, 3] = r0
        modes[p, 4] = r1
        modes[p, 5] = r2
        n_iter[p] = it


def _shared_climb(a, b, modes, n_iter, P0, P1, P2, D, H, W, s, sz, sy, sx, rz, ry, sup2,
                  tol2, share2, max_iter):
    """Phase 2 of :func:`climb_pixels3` for pixels ``a:b`` off the lattice (they only
    read the lattice pixels' modes)."""
    for p in range(a, b):
        z0, y0, x0 = _start(p, H, W)
        if y0 % s == 0 and x0 % s == 0:
            continue
        # A pixel whose own colour is already close to a neighbouring lattice mode takes
        # it; else it takes one step and looks again; else it climbs on.
        pz = float(z0)
        py = float(y0)
        px = float(x0)
        r0 = np.float32(P0[p])
        r1 = np.float32(P1[p])
        r2 = np.float32(P2[p])
        it = 0
        done = False
        best = _lattice_mode(modes, s, H, W, z0, y0, x0, pz, py, px, r0, r1, r2, sz, sy, sx,
                             sup2, share2)
        if best < 0:
            pz, py, px, r0, r1, r2, it, done = _climb3(
                P0, P1, P2, D, H, W, sz, sy, sx, rz, ry, _CODE, _NC, sup2, tol2, pz, py, px, r0, r1,
                r2, 1)
            if not done:
                best = _lattice_mode(modes, s, H, W, z0, y0, x0, pz, py, px, r0, r1, r2, sz,
                                     sy, sx, sup2, share2)
        if best >= 0:
            for c in range(6):
                modes[p, c] = modes[best, c]
            n_iter[p] = it
            continue
        if not done and max_iter > 1:
            pz, py, px, r0, r1, r2, more, done = _climb3(
                P0, P1, P2, D, H, W, sz, sy, sx, rz, ry, _CODE, _NC, sup2, tol2, pz, py, px, r0,
                r1, r2, max_iter - 1)
            it += more
        modes[p, 0] = pz
        modes[p, 1] = py
        modes[p, 2] = px
        modes[p, 3] = r0
        modes[p, 4] = r1
        modes[p, 5] = r2
        n_iter[p] = it


_IMAGE_LOOPS: dict[tuple[int, int], tuple[Any, Any]] = {}


def _image_loops(code, nc):
    """``(lattice, shared)``: :func:`_lattice_climb` and :func:`_shared_climb` compiled
    with the kernel ``code`` and channel count ``nc`` (1 or 3) as constants (copies
    whose globals hold them, :func:`meanshift._compile.with_constants`), so that only
    that row loop is compiled; made once per pair, cached on disk under names of their
    own."""
    key = (int(code), int(nc))
    if key not in _IMAGE_LOOPS:
        code, nc = key
        _IMAGE_LOOPS[key] = tuple(
            njit(cache=True, nogil=True, fastmath=True)(with_constants(
                func, f"{name}_kernel{code}_channels{nc}", _CODE=code, _NC=nc))
            for func, name in ((_lattice_climb, "lattice_climb"),
                               (_shared_climb, "shared_climb")))
    return _IMAGE_LOOPS[key]


def climb_pixels3(planes, shape, scale, code, support, tol, max_iter, share, share_radius,
                  n_jobs=None, callback=None):
    """Climb every pixel of a volume with at most 3 channels to its mode.

    Parameters
    ----------
    planes : float32 array of shape (3, n_pixels)
        Range features of the pixels, one contiguous plane per channel in C order of
        ``shape``, in range-bandwidth units (unused channels are zero; when planes 1 and
        2 are all zero, a one-channel loop that skips them runs: the same climb up to
        the order of float32 sums).
    shape : int64 array (depth, height, width)
    scale : float64 array (3,)
        Pixel spacing per axis divided by the spatial bandwidth.
    code : int
        Kernel profile code.
    support : float
        Kernel support in bandwidth units (1 for the compact kernels, the truncation
        radius for the gaussian).
    tol : float
        A climb stops when a step moves it by at most ``tol`` (bandwidth units).
    max_iter : int
        Most steps per pixel.
    share : int
        1: every pixel climbs to its own mode (exact).  ``s > 1``: the pixels on a
        lattice of step ``s`` in y and x climb first; every other pixel takes one step
        and adopts the mode of the nearest-coloured of its (up to 4) surrounding lattice
        pixels whose mode colour is within ``share_radius`` and whose mode position is
        within one spatial bandwidth of it, else climbs on to its own mode.  Results do
        not depend on the thread count either way.
    share_radius : float
        Colour distance (range-bandwidth units) for adopting a lattice mode.

    Returns
    -------
    modes : float64 array (n_pixels, 6)
        End points: spatial part ``(z, y, x)`` in grid index units, then the range part
        in bandwidth units.
    n_iter : int32 array (n_pixels,)
        Steps taken.
    """
    D, H, W = (int(v) for v in shape)
    n = planes.shape[1]
    sz, sy, sx = (float(v) for v in scale)
    sup2 = support * support * EDGE32  # the boundary rule (float32 slack)
    tol2 = tol * tol
    rz = int(math.floor(support / sz + 1e-9)) if D > 1 else 0
    ry = int(math.floor(support / sy + 1e-9)) if H > 1 else 0
    modes = np.empty((n, 6), dtype=np.float64)
    n_iter = np.zeros(n, dtype=np.int32)
    P0, P1, P2 = planes[0], planes[1], planes[2]
    s = max(int(share), 1)
    if s > 1:
        zl, yl, xl = np.meshgrid(np.arange(D), np.arange(0, H, s), np.arange(0, W, s),
                                 indexing="ij")
        lattice = ((zl * H + yl) * W + xl).reshape(-1).astype(np.int64)
    else:
        lattice = np.arange(n, dtype=np.int64)
    k = lattice.shape[0]
    # Phase 1: every pixel (share == 1) or the lattice pixels; then the others.
    # One channel (grayscale, volumes): planes 1 and 2 are zero and their terms dropped.
    nc = 1 if not (P1.any() or P2.any()) else 3
    lattice_climb, shared_climb = _image_loops(code, nc)
    run_ranges(lambda a, b: lattice_climb(a, b, lattice, modes, n_iter, P0, P1, P2, D, H, W,
                                          sz, sy, sx, rz, ry, sup2, tol2, int(max_iter)),
               k, n_jobs, on_progress=_reporter(callback, "climb", 0, n))
    if s > 1:
        share2 = share_radius * share_radius
        run_ranges(lambda a, b: shared_climb(a, b, modes, n_iter, P0, P1, P2, D, H, W, s, sz,
                                             sy, sx, rz, ry, sup2, tol2, share2,
                                             int(max_iter)),
                   n, n_jobs, on_progress=_reporter(callback, "climb", k, n, n - k))
    return modes, n_iter


@njit(cache=True, nogil=True, fastmath=True)
def _general_climb(a, b, planes, modes, n_iter, D, H, W, sz, sy, sx, rz, ry, code, sup2, fs,
                   tol2, max_iter):
    """:func:`climb_pixels` for pixels ``a:b``."""
    C = planes.shape[0]
    for p in range(a, b):
        z0, y0, x0 = _start(p, H, W)
        pz = float(z0)
        py = float(y0)
        px = float(x0)
        r = np.empty(C, dtype=np.float32)
        acc = np.empty(C, dtype=np.float64)
        for c in range(C):
            r[c] = planes[c, p]
        it = 0
        while it < max_iter:
            it += 1
            cz = int(math.floor(pz + 0.5))
            cy = int(math.floor(py + 0.5))
            wsum = 0.0
            az = 0.0
            ay = 0.0
            ax = 0.0
            acc[:] = 0.0
            for z in range(max(cz - rz - 1, 0), min(cz + rz + 1, D - 1) + 1):
                for y in range(max(cy - ry - 1, 0), min(cy + ry + 1, H - 1) + 1):
                    dzy2, xlo, xhi = _x_span(z, y, pz, py, px, sz, sy, sx, sup2, W)
                    if xlo > xhi:
                        continue
                    base = (z * H + y) * W
                    for x in range(xlo, xhi + 1):
                        u2 = np.float32(dzy2 + ((x - px) * sx) ** 2)
                        for c in range(C):
                            d = planes[c, base + x] - r[c]
                            u2 += d * d
                        w = _profile(code, u2, fs)
                        if w > 0:
                            wsum += w
                            az += w * z
                            ay += w * y
                            ax += w * x
                            for c in range(C):
                                acc[c] += w * planes[c, base + x]
            if wsum <= 0.0:
                break
            nz = az / wsum
            ny = ay / wsum
            nx = ax / wsum
            shift2 = ((nz - pz) * sz) ** 2 + ((ny - py) * sy) ** 2 + ((nx - px) * sx) ** 2
            for c in range(C):
                v = acc[c] / wsum
                shift2 += (v - r[c]) ** 2
                r[c] = v
            pz = nz
            py = ny
            px = nx
            if shift2 <= tol2:
                break
        modes[p, 0] = pz
        modes[p, 1] = py
        modes[p, 2] = px
        for c in range(C):
            modes[p, 3 + c] = r[c]
        n_iter[p] = it


def climb_pixels(planes, shape, scale, code, support, tol, max_iter, n_jobs=None,
                 callback=None):
    """Climb every pixel of a volume with any number of channels to its mode.

    The general form of :func:`climb_pixels3` (same parameters and results, with
    ``planes`` of shape (n_channels, n_pixels) and modes of shape
    (n_pixels, 3 + n_channels)); slower, as the channel loop is not unrolled.
    """
    D, H, W = (int(v) for v in shape)
    C, n = planes.shape
    sz, sy, sx = (float(v) for v in scale)
    sup2 = support * support * EDGE32  # the boundary rule (float32 slack)
    fs = np.float32(sup2)
    tol2 = tol * tol
    rz = int(math.floor(support / sz + 1e-9)) if D > 1 else 0
    ry = int(math.floor(support / sy + 1e-9)) if H > 1 else 0
    modes = np.empty((n, 3 + C), dtype=np.float64)
    n_iter = np.zeros(n, dtype=np.int32)
    run_ranges(lambda a, b: _general_climb(a, b, planes, modes, n_iter, D, H, W, sz, sy, sx,
                                           rz, ry, code, sup2, fs, tol2, int(max_iter)),
               n, n_jobs, on_progress=_reporter(callback, "climb", 0, n))
    return modes, n_iter


def _reporter(callback, stage, offset, total, span=None):
    """A ``run_ranges`` progress hook reporting ``offset + done`` pixels of ``total``
    (``span``: how many of them this run covers; off-lattice runs count only those)."""
    if callback is None:
        return None

    def hook(done):
        count = done if span is None else done * span // max(total, 1)
        report(callback, stage, min(offset + count, total), total)

    return hook
