"""Merge stage: turn the seeds' end points into cluster centres.

The rule is scikit-learn's: sort the end points by density (highest first; ties by
coordinates, lexicographically descending), then walk the list keeping a point and
suppressing every later point within ``radius`` of a kept one.  The order of the input
rows does not matter; the result depends only on the set of (mode, density) pairs.
"""

from __future__ import annotations

import numpy as np
from scipy.spatial import cKDTree

from .labels import attach

__all__ = ["merge_modes"]


def merge_modes(modes, density, radius):
    """Greedy merge of mode candidates.

    Parameters
    ----------
    modes : ndarray of shape (n_seeds, n_features)
    density : ndarray of shape (n_seeds,)
        Seeds with density 0 (no data in reach) are dropped.
    radius : float
        Candidates within this distance of a kept, denser centre are merged into it.

    Returns
    -------
    centers : ndarray of shape (n_clusters, n_features)
    center_density : ndarray of shape (n_clusters,)
    seed_cluster : ndarray of shape (n_seeds,), int
        The cluster each seed was merged into (the first kept centre, in density order,
        within ``radius``; -1 for dropped seeds).
    """
    modes = np.asarray(modes, dtype=np.float64)
    density = np.asarray(density, dtype=np.float64)
    alive = np.flatnonzero(density > 0)
    seed_cluster = np.full(modes.shape[0], -1, dtype=np.int64)
    if alive.size == 0:
        return np.empty((0, modes.shape[1])), np.empty(0), seed_cluster
    # Exact duplicates are one candidate (scikit-learn keys its candidates by coordinates).
    cand, inverse = np.unique(modes[alive], axis=0, return_inverse=True)
    inverse = inverse.reshape(-1)
    cand_density = np.zeros(len(cand))
    np.maximum.at(cand_density, inverse, density[alive])
    # lexsort: last key is primary -> density, then coordinates (all descending).
    keys = [-cand[:, j] for j in range(cand.shape[1] - 1, -1, -1)] + [-cand_density]
    order = np.lexsort(keys)
    cand, cand_density = cand[order], cand_density[order]
    rank = np.empty_like(order)
    rank[order] = np.arange(order.size)
    inverse = rank[inverse]

    tree = cKDTree(cand)
    keep = np.ones(len(cand), dtype=bool)
    for i in range(len(cand)):
        if keep[i]:
            nbrs = np.asarray(tree.query_ball_point(cand[i], radius), dtype=np.int64)
            keep[nbrs[nbrs > i]] = False
    centers, center_density = cand[keep], cand_density[keep]
    # A suppressed candidate belongs to the first kept centre within radius: the one
    # that suppressed it.  attach() applies that same rule to any other end point.
    seed_cluster[alive] = attach(cand, centers, radius)[0][inverse]
    return centers, center_density, seed_cluster
