"""Labelling stage: which cluster each point belongs to.

Two rules (``label_by``):

* ``"nearest"`` (scikit-learn's): the nearest cluster centre; with ``cluster_all=False``
  points farther than the kernel's reach from every centre are orphans (-1).
* ``"mode"`` (LPCM's, MeanShift++'s): the cluster that the end point of the point's own
  climb was merged into, by :func:`attach`, the rule the merge stage uses for seeds.

:func:`label_rows` applies a rule to rows of any input adapter: per block of rows
(:meth:`map_rows`), so that the labels of a dask array stay lazy.
"""

from __future__ import annotations

import numpy as np

from .._arrays import TREE_MIN_PAIRS, first_nearest, first_within, sq_dist
from .._kernels import reach2
from .compression import bin_rows

__all__ = ["attach", "orphan_mask", "label_rows", "labels_from_ends", "nearest_labels",
           "mode_labels", "bin_labels"]

_BLOCK = 2**22


def attach(points, centers, radius):
    """Cluster of each point: the first centre (in the centres' order, i.e. by density)
    within ``radius``; where none is, the nearest centre.

    Returns ``(cluster, inside)``: the index and whether a centre was within ``radius``.
    Ties in distance go to the lowest index; "within" is the boundary rule of
    :mod:`meanshift._kernels` (``d2 <= reach2(radius)``).  With many centres the
    candidates come from a k-d tree of the centres (O(n log k), same answer).
    """
    points = np.asarray(points, dtype=np.float64)
    centers = np.asarray(centers, dtype=np.float64)
    n, k = points.shape[0], centers.shape[0]
    if k > 64 and n * k > TREE_MIN_PAIRS:  # many modes: through a tree, not all pairs
        return first_within(points, centers, radius)
    cluster = np.empty(n, dtype=np.int64)
    inside = np.empty(n, dtype=bool)
    rows = max(1, _BLOCK // max(1, k * points.shape[1]))
    r2 = reach2(radius)
    for r0 in range(0, n, rows):
        d2 = sq_dist(points[r0 : r0 + rows], centers)
        within = d2 <= r2
        has = within.any(axis=1)
        cluster[r0 : r0 + rows] = np.where(has, within.argmax(axis=1), first_nearest(d2)[0])
        inside[r0 : r0 + rows] = has
    return cluster, inside


def orphan_mask(distance, reach):
    """Points farther than ``reach`` from their centre (orphans when cluster_all=False),
    by the boundary rule: a point at exactly ``reach`` is not an orphan."""
    distance = np.asarray(distance, dtype=np.float64)
    return distance * distance > reach2(reach)


#: With a progress callback, labels by nearest centre that multiply more than this many
#: rows x centres x features go in parts (at most LABEL_PARTS), each reported as stage
#: "labels": 13 161 centres for 2 x 10^4 rows in 64-D took about a second.
LABEL_WORK = 2**30
LABEL_PARTS = 32


def nearest_labels(X, engine, centers, reach, cluster_all, callback=None):
    """The nearest centre of every row of X (-1 beyond ``reach`` unless ``cluster_all``).
    ``callback``: where the work is large (``LABEL_WORK``), the rows go in parts, the
    progress reported as stage "labels" after each (the callback may cancel)."""
    from .._engines import report

    X = np.asarray(X)
    n = X.shape[0]
    work = n * len(centers) * max(1, X.shape[1] if X.ndim == 2 else 1)
    if callback is None or work <= LABEL_WORK:
        idx, dist = engine.nearest(X, centers)
    else:
        step = -(-n // min(LABEL_PARTS, -(-work // LABEL_WORK)))
        idx, dist = np.empty(n, dtype=np.int64), np.empty(n)
        report(callback, "labels", 0, n)
        for r0 in range(0, n, step):
            r1 = min(n, r0 + step)
            idx[r0:r1], dist[r0:r1] = engine.nearest(X[r0:r1], centers)
            report(callback, "labels", r1, n)
    idx = np.asarray(idx, dtype=np.int64)
    if not cluster_all:
        idx[orphan_mask(dist, reach)] = -1
    return idx


def labels_from_ends(X, ends, end_alive, engine, centers, merge_radius, cluster_all):
    """Labels by the end points of the rows' own climbs (``end_alive``: had data in
    reach); climbs that saw no data go to the nearest centre, or are orphans."""
    cluster, inside = attach(ends, centers, merge_radius)
    if cluster_all:
        dead = ~end_alive
        if dead.any():
            cluster[dead] = engine.nearest(np.asarray(X)[dead], centers)[0]
    else:
        cluster[~(inside & end_alive)] = -1
    return cluster


def mode_labels(X, bound, engine, centers, merge_radius, cluster_all, tol, max_iter,
                callback=None):
    """Every row of X climbs the bound data; labels by where it ends (``callback``
    reports the climb as stage "labels")."""
    X = np.asarray(X)
    progress = None if callback is None else (
        lambda p: callback(p._replace(stage="labels")))
    res = bound.climb(X, tol=tol, max_iter=max_iter, callback=progress)
    return labels_from_ends(X, res.modes, res.density > 0, engine, centers, merge_radius,
                            cluster_all)


def bin_labels(X, keys, label_of_bin, bin_size, engine, centers, reach, cluster_all):
    """Labels of rows by the label of their compression bin (``label_of_bin``, -2 for
    bins left out); rows whose bin cannot be found get the nearest centre."""
    X = np.asarray(X)
    rows = bin_rows(X, keys, bin_size)
    if rows is None:
        return nearest_labels(X, engine, centers, reach, cluster_all)
    labels = label_of_bin[np.minimum(rows, len(label_of_bin) - 1)]
    lost = labels == -2
    if lost.any():
        labels[lost] = np.asarray(engine.nearest(X[lost], centers)[0])
    return labels


def label_rows(rows, *, engine, bind, centers, reach, merge_radius, label_by, cluster_all,
               tol, max_iter, callback=None):
    """Labels of the rows (any input adapter) under ``label_by``.

    ``bind()`` returns the bound fit data that ``label_by="mode"`` climbs on (called
    once, only for that rule).  When that data live on a cluster (a distributed bound),
    the rows are computed into memory and climb there, step by step as map-reduces.
    ``callback`` reports those climbs (not the lazy ones, which run in dask's tasks),
    and large labellings by nearest centre of rows in memory."""
    if label_by == "nearest":
        if callback is not None and not rows.lazy:
            return nearest_labels(rows.X, engine, centers, reach, cluster_all, callback)
        return rows.map_rows(nearest_labels, engine, centers, reach, cluster_all)
    bound = bind()
    args = (bound, engine, centers, merge_radius, cluster_all, tol, max_iter)
    if getattr(bound, "distributed", False):
        return mode_labels(rows.values()[0], *args, callback)
    if not rows.lazy:
        return mode_labels(rows.X, *args, callback)
    return rows.map_rows(mode_labels, *args)
