"""sRGB <-> CIE L*a*b* and L*u*v* (D65 white, 2 degree observer), compiled.

The formulas and constants are the ones of scikit-image's ``skimage.color`` (tested
against it), so that images need no optional dependency to be segmented in a perceptual
colour space.  RGB values are floats in [0, 1]; L is in [0, 100].

Each pixel is converted in one pass of compiled code, pixel ranges spread over the
threads (:func:`meanshift._engines._threads.run_ranges`): NumPy's form, one temporary
array per operation and a power per value, took 112 ms to L*a*b* and 150 ms back for a
1024 x 1024 image, about a sixth of its whole segmentation; these passes 28 and 34 ms
(ad-hoc, best of 5, 2 threads, 2026-12-01).  A
pixel's result does not depend on the threads.  8-bit images take their linear values
from a table of the 256 (:data:`_LINEAR8`): the same numbers as ``value / 255``
converted, without a power per value.
"""

from __future__ import annotations

import numpy as np

from .._compile import njit
from .._engines._threads import run_ranges

__all__ = ["rgb_to", "rgb8_to", "to_rgb", "COLOR_SPACES"]

_M = np.array(
    [[0.412453, 0.357580, 0.180423],
     [0.212671, 0.715160, 0.072169],
     [0.019334, 0.119193, 0.950227]]
)
_M_INV = np.linalg.inv(_M)
_WHITE = np.array([0.95047, 1.0, 1.08883])
_EPS = 0.008856
_KAPPA = 903.3

#: The colour spaces, by the code the compiled passes take.
COLOR_SPACES = {"lab": 0, "luv": 1}


@njit(cache=True, nogil=True)
def _srgb_to_linear(c):
    if c > 0.04045:
        return ((c + 0.055) / 1.055) ** 2.4
    return c / 12.92


@njit(cache=True, nogil=True)
def _linear_to_srgb(c):
    c = max(c, 0.0)
    if c > 0.0031308:
        return min(max(1.055 * c ** (1 / 2.4) - 0.055, 0.0), 1.0)
    return min(12.92 * c, 1.0)


@njit(cache=True, nogil=True)
def _f(t):
    return np.cbrt(t) if t > _EPS else 7.787 * t + 16.0 / 116.0


@njit(cache=True, nogil=True)
def _f_inv(f):
    f3 = f * f * f
    return f3 if f3 > _EPS else (f - 16.0 / 116.0) / 7.787


@njit(cache=True, nogil=True)
def _uv_prime(x, y, z):
    den = x + 15.0 * y + 3.0 * z
    if den > 0:
        return 4.0 * x / den, 9.0 * y / den
    return 0.0, 0.0


@njit(cache=True, nogil=True)
def _from_rgb(a, b, rgb, rgb8, table, eight, space, M, white, out):
    """Rows ``a:b`` of ``out`` from RGB: ``rgb8`` through ``table`` (``eight``), else
    ``rgb`` (floats in [0, 1]); to L*a*b* (``space`` 0) or L*u*v* (1)."""
    un, vn = _uv_prime(white[0], white[1], white[2])
    for i in range(a, b):
        if eight:
            r, g, bl = table[rgb8[i, 0]], table[rgb8[i, 1]], table[rgb8[i, 2]]
        else:
            r = _srgb_to_linear(rgb[i, 0])
            g = _srgb_to_linear(rgb[i, 1])
            bl = _srgb_to_linear(rgb[i, 2])
        x = M[0, 0] * r + M[0, 1] * g + M[0, 2] * bl
        y = M[1, 0] * r + M[1, 1] * g + M[1, 2] * bl
        z = M[2, 0] * r + M[2, 1] * g + M[2, 2] * bl
        if space == 0:
            fx, fy, fz = _f(x / white[0]), _f(y / white[1]), _f(z / white[2])
            out[i, 0] = 116.0 * fy - 16.0
            out[i, 1] = 500.0 * (fx - fy)
            out[i, 2] = 200.0 * (fy - fz)
        else:
            yr = y / white[1]
            L = 116.0 * np.cbrt(yr) - 16.0 if yr > _EPS else _KAPPA * yr
            u, v = _uv_prime(x, y, z)
            out[i, 0] = L
            out[i, 1] = 13.0 * L * (u - un)
            out[i, 2] = 13.0 * L * (v - vn)


@njit(cache=True, nogil=True)
def _to_rgb(a, b, values, space, M_inv, white, out):
    """Rows ``a:b`` of ``out`` (RGB floats clipped to [0, 1]) from L*a*b* (``space`` 0)
    or L*u*v* (1) ``values``."""
    un, vn = _uv_prime(white[0], white[1], white[2])
    for i in range(a, b):
        if space == 0:
            fy = (values[i, 0] + 16.0) / 116.0
            fx = fy + values[i, 1] / 500.0
            fz = max(fy - values[i, 2] / 200.0, 0.0)
            x = _f_inv(fx) * white[0]
            y = _f_inv(fy) * white[1]
            z = _f_inv(fz) * white[2]
        else:
            L, u, v = values[i, 0], values[i, 1], values[i, 2]
            t = (L + 16.0) / 116.0
            y = t * t * t if L > _KAPPA * _EPS else L / _KAPPA
            up = u / (13.0 * L) + un if L > 0 else un
            vp = v / (13.0 * L) + vn if L > 0 else vn
            if vp > 0:
                x = y * 9.0 * up / (4.0 * vp)
                z = y * (12.0 - 3.0 * up - 20.0 * vp) / (4.0 * vp)
            else:
                x = z = 0.0
        for c in range(3):
            out[i, c] = _linear_to_srgb(M_inv[c, 0] * x + M_inv[c, 1] * y + M_inv[c, 2] * z)


def _linear8():
    out = np.empty(256)
    for v in range(256):
        c = v / 255.0
        out[v] = ((c + 0.055) / 1.055) ** 2.4 if c > 0.04045 else c / 12.92
    return out


#: Linear RGB of the 256 values of an 8-bit channel.
_LINEAR8 = _linear8()


def _space(space) -> int:
    if space not in COLOR_SPACES:
        raise ValueError(f"The colour space must be one of {sorted(COLOR_SPACES)}; "
                         f"got {space!r}.")
    return COLOR_SPACES[space]


def _rows(values, dtype):
    """``values`` (shape (..., 3)) as a C-contiguous (n, 3) array, and its shape."""
    arr = np.asarray(values, dtype=dtype)
    if arr.shape[-1:] != (3,):
        raise ValueError(f"Colours need 3 channels on the last axis; got shape {arr.shape}.")
    return np.ascontiguousarray(arr.reshape(-1, 3)), arr.shape


def _convert(space, rgb, eight, n_jobs):
    code = _space(space)
    flat, shape = _rows(rgb, np.uint8 if eight else np.float64)
    out = np.empty(flat.shape)
    none8 = np.zeros((0, 3), dtype=np.uint8)
    none = np.zeros((0, 3))
    run_ranges(lambda a, b: _from_rgb(a, b, none if eight else flat, flat if eight else none8,
                                      _LINEAR8, eight, code, _M, _WHITE, out),
               len(flat), n_jobs)
    return out.reshape(shape)


def rgb_to(space, rgb, n_jobs=None):
    """Convert RGB floats in [0, 1], shape (..., 3), to ``space`` ("lab" or "luv")."""
    return _convert(space, rgb, False, n_jobs)


def rgb8_to(space, rgb, n_jobs=None):
    """:func:`rgb_to` of an 8-bit RGB image (``rgb / 255``), by a table of the 256
    linear values."""
    return _convert(space, rgb, True, n_jobs)


def to_rgb(space, values, n_jobs=None):
    """Convert ``space`` values, shape (..., 3), back to RGB floats clipped to [0, 1]."""
    code = _space(space)
    flat, shape = _rows(values, np.float64)
    out = np.empty(flat.shape)
    run_ranges(lambda a, b: _to_rgb(a, b, flat, code, _M_INV, _WHITE, out), len(flat), n_jobs)
    return out.reshape(shape)
