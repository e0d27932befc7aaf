"""sRGB <-> CIE L*a*b* and L*u*v* (D65 white, 2 degree observer), in plain NumPy.

The formulas and constants are the ones of scikit-image's ``skimage.color`` (tested
against it), so that images need no optional dependency to be segmented in a perceptual
colour space.  RGB values are floats in [0, 1]; L is in [0, 100].
"""

from __future__ import annotations

import numpy as np

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


def _srgb_to_linear(c):
    return np.where(c > 0.04045, ((c + 0.055) / 1.055) ** 2.4, c / 12.92)


def _linear_to_srgb(c):
    c = np.clip(c, 0.0, None)
    return np.where(c > 0.0031308, 1.055 * c ** (1 / 2.4) - 0.055, 12.92 * c)


def _f(t):
    return np.where(t > _EPS, np.cbrt(t), 7.787 * t + 16.0 / 116.0)


def _f_inv(f):
    f3 = f ** 3
    return np.where(f3 > _EPS, f3, (f - 16.0 / 116.0) / 7.787)


def _uv_prime(xyz):
    x, y, z = xyz[..., 0], xyz[..., 1], xyz[..., 2]
    den = x + 15.0 * y + 3.0 * z
    with np.errstate(invalid="ignore", divide="ignore"):
        u = np.where(den > 0, 4.0 * x / den, 0.0)
        v = np.where(den > 0, 9.0 * y / den, 0.0)
    return u, v


def _rgb_to_lab(rgb):
    return _linear_to_lab(_srgb_to_linear(rgb))


def _linear_to_lab(linear):
    xyz = linear @ _M.T / _WHITE
    fx, fy, fz = _f(xyz[..., 0]), _f(xyz[..., 1]), _f(xyz[..., 2])
    return np.stack([116.0 * fy - 16.0, 500.0 * (fx - fy), 200.0 * (fy - fz)], axis=-1)


def _lab_to_rgb(lab):
    fy = (lab[..., 0] + 16.0) / 116.0
    fx = fy + lab[..., 1] / 500.0
    fz = np.maximum(fy - lab[..., 2] / 200.0, 0.0)
    xyz = np.stack([_f_inv(fx), _f_inv(fy), _f_inv(fz)], axis=-1) * _WHITE
    return np.clip(_linear_to_srgb(xyz @ _M_INV.T), 0.0, 1.0)


def _rgb_to_luv(rgb):
    return _linear_to_luv(_srgb_to_linear(rgb))


def _linear_to_luv(linear):
    xyz = linear @ _M.T
    y = xyz[..., 1] / _WHITE[1]
    L = np.where(y > _EPS, 116.0 * np.cbrt(y) - 16.0, _KAPPA * y)
    u, v = _uv_prime(xyz)
    un, vn = _uv_prime(_WHITE)
    return np.stack([L, 13.0 * L * (u - un), 13.0 * L * (v - vn)], axis=-1)


def _luv_to_rgb(luv):
    L, u, v = luv[..., 0], luv[..., 1], luv[..., 2]
    y = np.where(L > _KAPPA * _EPS, ((L + 16.0) / 116.0) ** 3, L / _KAPPA)
    un, vn = _uv_prime(_WHITE)
    with np.errstate(invalid="ignore", divide="ignore"):
        up = np.where(L > 0, u / (13.0 * L) + un, un)
        vp = np.where(L > 0, v / (13.0 * L) + vn, vn)
        x = np.where(vp > 0, y * 9.0 * up / (4.0 * vp), 0.0)
        z = np.where(vp > 0, y * (12.0 - 3.0 * up - 20.0 * vp) / (4.0 * vp), 0.0)
    xyz = np.stack([x, y, z], axis=-1)
    return np.clip(_linear_to_srgb(xyz @ _M_INV.T), 0.0, 1.0)


COLOR_SPACES = {"lab": (_rgb_to_lab, _lab_to_rgb), "luv": (_rgb_to_luv, _luv_to_rgb)}
_FROM_LINEAR = {"lab": _linear_to_lab, "luv": _linear_to_luv}
#: Linear RGB of the 256 values of an 8-bit channel: the same numbers as converting
#: ``value / 255`` pixel by pixel, without a power per pixel.
_LINEAR8 = _srgb_to_linear(np.arange(256) / 255.0)


def rgb_to(space, rgb):
    """Convert RGB floats in [0, 1], shape (..., 3), to ``space`` ("lab" or "luv")."""
    return COLOR_SPACES[space][0](np.asarray(rgb, dtype=np.float64))


def rgb8_to(space, rgb):
    """:func:`rgb_to` of an 8-bit RGB image (``rgb / 255``), by a table of the 256
    linear values: the same numbers without a power per value (60 → 46 ms for the
    whole conversion of a 1024 x 1024 image)."""
    return _FROM_LINEAR[space](_LINEAR8[np.asarray(rgb, dtype=np.uint8)])


def to_rgb(space, values):
    """Convert ``space`` values, shape (..., 3), back to RGB floats clipped to [0, 1]."""
    return COLOR_SPACES[space][1](np.asarray(values, dtype=np.float64))
