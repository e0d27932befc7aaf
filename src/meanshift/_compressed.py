"""The compressed pipeline (``algorithm="compressed"``): large n in low dimension.

1. **Compress.**  The data are binned on a fine grid of side ``b = bin_fraction * h``
   (default ``h / 16``), chunk by chunk (:mod:`meanshift._compress`: the statistics of
   chunks add up, so memory is O(chunk + bins)), and every non-empty bin becomes one
   point at the weighted mean of its points, weighing their total weight.
2. **Exact weighted mean shift** on the bin means (:func:`run_standard`), with the
   seeding strategy translated: ``"all"`` climbs from every bin mean, ``"bins"`` bins the
   compressed data (weighted, so bin frequencies are point counts), a sample or given
   seeds are used as they are.
3. **Label the original points**: by the nearest centre (``label_by="nearest"``), or by
   the cluster the climb of their bin mean reached (``label_by="mode"``).

Error bound.  Every point is replaced by its bin's mean, which lies in the same bin, so
each point moves by at most ``delta = sqrt(d) * b`` (``sqrt(d) / 16`` bandwidths at the
default).  The compressed run is therefore *exact* weighted mean shift on a data set in
which no point moved by more than ``delta``: every weighted mean the climb takes moves by
at most ``delta`` for the same weights, and the weights themselves change by at most
``L * delta / h`` for a kernel profile with Lipschitz constant ``L`` in the distance
(flat kernel: only points within ``delta`` of the support boundary can change side).
On clusters wider than the bin, modes move by ``O(delta)``; the tests check modes within
``delta + 2 * tol * h`` of the exact answer and labels equal up to points near cluster
boundaries.  Cost: O(n d) to bin and label, plus standard mean shift on ``m`` bins
(``m <= n``, and independent of n once the bins fill).
"""

from __future__ import annotations

import logging

import numpy as np
from sklearn.utils import check_random_state

from ._compress import BIN_FRACTION, bin_index, bin_means, bin_stats, column_bounds, combine
from ._pipeline import FitResult, run_standard

__all__ = ["run_compressed", "compress", "CHUNK_ROWS"]

logger = logging.getLogger(__name__)

#: Rows binned at a time (bounds the temporary memory).
CHUNK_ROWS = 1 << 19


def compress(X, w, bin_size, *, chunk_rows=CHUNK_ROWS):
    """``(stats, means, weights)`` of ``X`` binned at ``bin_size``, chunk by chunk."""
    n = X.shape[0]
    parts = []
    for r0 in range(0, n, chunk_rows):
        sl = slice(r0, r0 + chunk_rows)
        parts.append(bin_stats(X[sl], None if w is None else w[sl], bin_size))
    stats = combine(*parts)
    means, weights = bin_means(stats)
    return stats, means, weights


def _bin_of_rows(X, stats, bin_size, chunk_rows=CHUNK_ROWS):
    """Row of ``stats`` (sorted keys) holding each row of X, or None when the cells'
    bounding box is too large to number on one int64 axis."""
    keys = stats.keys
    lo, hi = column_bounds(keys)
    dims = hi - lo + 1
    if float(np.prod(dims.astype(np.float64))) > 2.0**62:
        return None
    stride = np.ones(keys.shape[1], dtype=np.int64)
    for j in range(keys.shape[1] - 2, -1, -1):
        stride[j] = stride[j + 1] * dims[j + 1]
    lin_keys = (keys - lo) @ stride
    out = np.empty(X.shape[0], dtype=np.int64)
    for r0 in range(0, X.shape[0], chunk_rows):
        sl = slice(r0, r0 + chunk_rows)
        out[sl] = np.searchsorted(lin_keys, (bin_index(X[sl], bin_size) - lo) @ stride)
    return out


def run_compressed(X, w, *, engine, kernel, bandwidth, tol, max_iter, seeds, bin_seeding,
                   min_bin_freq, random_state, merge_radius, label_by, cluster_all,
                   record_history, bin_fraction=BIN_FRACTION):
    """Mean shift on weighted bin means of ``X`` (see module notes)."""
    bin_size = float(bin_fraction) * float(bandwidth)
    stats, M, Mw = compress(X, w, bin_size)
    if seeds is None:
        seeds = "bins" if bin_seeding else "all"
    if isinstance(seeds, (int, np.integer)) and not isinstance(seeds, bool) and seeds < X.shape[0]:
        # A sample of the original rows, as the standard pipeline would draw it.
        rng = check_random_state(random_state)
        seeds = X[np.sort(rng.choice(X.shape[0], size=int(seeds), replace=False))].astype(np.float64)
    elif isinstance(seeds, (int, np.integer)) and not isinstance(seeds, bool):
        seeds = "all"
    res = run_standard(
        M, Mw, engine=engine, kernel=kernel, bandwidth=bandwidth, tol=tol, max_iter=max_iter,
        seeds=seeds, bin_seeding=bin_seeding, min_bin_freq=min_bin_freq,
        random_state=random_state, merge_radius=merge_radius, label_by=label_by,
        cluster_all=cluster_all, record_history=record_history,
    )
    rows = _bin_of_rows(X, stats, bin_size) if label_by == "mode" else None
    if rows is not None:
        # Bins of zero total weight were left out of the compressed data.
        kept = stats.weight > 0
        label_of_bin = np.full(kept.size, -2, dtype=np.int64)
        label_of_bin[kept] = res.labels
        labels = label_of_bin[rows]
        lost = labels == -2
        if lost.any():
            labels[lost] = np.asarray(engine.nearest(X[lost], res.centers)[0])
    else:
        if label_by == "mode":
            logger.info("compressed: grid too wide to map points to bins; labelling by "
                        "the nearest centre")
        labels, dist = engine.nearest(X, res.centers)
        labels = np.asarray(labels, dtype=np.int64)
        if not cluster_all:
            labels[np.asarray(dist) > kernel.reach * bandwidth] = -1
    return res._replace(labels=labels)
