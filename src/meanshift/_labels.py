"""Labelling stage: which cluster each point belongs to.

Two rules (``label_by``):

* ``"nearest"`` (scikit-learn's): the nearest cluster centre; with ``cluster_all=False``
  points farther than the kernel's reach from every centre are orphans (-1).
* ``"mode"`` (LPCM's, MeanShift++'s): the cluster that the end point of the point's own
  climb was merged into, by :func:`attach`, the rule the merge stage uses for seeds.
"""

from __future__ import annotations

import numpy as np

__all__ = ["attach", "orphan_mask"]

_BLOCK = 2**22


def attach(points, centers, radius):
    """Cluster of each point: the first centre (in the centres' order, i.e. by density)
    within ``radius``; where none is, the nearest centre.

    Returns ``(cluster, inside)``: the index and whether a centre was within ``radius``.
    Ties in distance go to the lowest index.
    """
    points = np.asarray(points, dtype=np.float64)
    centers = np.asarray(centers, dtype=np.float64)
    n, k = points.shape[0], centers.shape[0]
    cluster = np.empty(n, dtype=np.int64)
    inside = np.empty(n, dtype=bool)
    rows = max(1, _BLOCK // max(1, k * points.shape[1]))
    r2 = float(radius) ** 2
    for r0 in range(0, n, rows):
        diff = points[r0 : r0 + rows, None, :] - centers[None, :, :]
        d2 = np.einsum("ijk,ijk->ij", diff, diff)
        within = d2 <= r2
        has = within.any(axis=1)
        cluster[r0 : r0 + rows] = np.where(has, within.argmax(axis=1), d2.argmin(axis=1))
        inside[r0 : r0 + rows] = has
    return cluster, inside


def orphan_mask(distance, reach):
    """Points farther than ``reach`` from their centre (orphans when cluster_all=False)."""
    return np.asarray(distance) > reach
