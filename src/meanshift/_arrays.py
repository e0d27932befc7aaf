"""Small array helpers shared by the stages and the engines (the bottom layer)."""

from __future__ import annotations

import numpy as np

__all__ = ["column_bounds"]


def column_bounds(a):
    """(min, max) of every column of a 2-D array with at least one row.  Column by
    column: NumPy's ``a.min(axis=0)`` on a tall array of few columns walks it with a
    stride and is many times slower."""
    a = np.asarray(a)
    lo = np.array([a[:, j].min() for j in range(a.shape[1])], dtype=a.dtype)
    hi = np.array([a[:, j].max() for j in range(a.shape[1])], dtype=a.dtype)
    return lo, hi
