"""The compressed pipeline (``algorithm="compressed"``): large n in low dimension.

1. **Compress.**  The data are binned on a fine grid of side ``b = bin_fraction * h``
   (default ``h / 16``), chunk by chunk (:mod:`meanshift._stages.compression`: the statistics of
   chunks add up, so memory is O(chunk + bins)), and every non-empty bin becomes one
   point at the weighted mean of its points, weighing their total weight.
2. **Exact weighted mean shift** on the bin means
   (:func:`~meanshift._pipeline.standard.run_standard`), with the seeding strategy
   translated: ``"all"`` climbs from every bin mean, ``"bins"`` bins the compressed
   data (weighted, so bin frequencies are point counts), a sample or given seeds are
   used as they are.
3. **Label the original points**: by the nearest centre (``label_by="nearest"``), or by
   the cluster the climb of their bin mean reached (``label_by="mode"``).  New points
   (``predict``, rows left out by ``max_samples``) climb on the bin means, the data the
   fit climbed on.

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

from .._data import MemoryRows
from .._stages.compression import BIN_FRACTION, bin_means, compress
from .._stages.labels import bin_labels, label_rows
from ._plan import FitResult, Plan
from .standard import run_standard

__all__ = ["run_compressed"]

logger = logging.getLogger(__name__)


def _compressed_seeds(rows, plan: Plan):
    """The seeding spec translated to the compressed data (module notes)."""
    seeds = plan.seeds
    if seeds is None:
        return "bins" if plan.bin_seeding else "all"
    if isinstance(seeds, (int, np.integer)) and not isinstance(seeds, bool):
        if seeds >= rows.n:
            return "all"
        # A sample of the original rows, as the standard pipeline would draw it.
        rng = check_random_state(plan.random_state)
        idx = np.sort(rng.choice(rows.n, size=int(seeds), replace=False))
        return rows.take(idx)[0].astype(np.float64)
    return seeds


def run_compressed(rows, plan: Plan, bin_fraction=BIN_FRACTION) -> FitResult:
    """Mean shift on weighted bin means of the rows (see module notes)."""
    bin_size = float(bin_fraction) * plan.bandwidth
    stats = compress(rows, bin_size, plan.callback)
    M, Mw = bin_means(stats)
    logger.info("compressed: %d points into %d grid bins of side %.3g", rows.n, len(M),
                bin_size)
    res = run_standard(MemoryRows(M, Mw), plan.but(seeds=_compressed_seeds(rows, plan)))
    reach = plan.kernel.reach * plan.bandwidth
    if plan.label_by == "mode":
        # Each point gets the label of its bin's climb (bins of zero weight were left
        # out of the compressed data: their points get the nearest centre).
        label_of_bin = np.full(len(stats.weight), -2, dtype=np.int64)
        label_of_bin[stats.weight > 0] = res.labels
        labels = rows.map_rows(bin_labels, stats.keys, label_of_bin, bin_size, plan.engine,
                               res.centers, reach, plan.cluster_all)
    else:
        labels = label_rows(
            rows, engine=plan.engine, bind=lambda: res.bound, centers=res.centers,
            reach=reach, merge_radius=plan.merge_radius, label_by="nearest",
            cluster_all=plan.cluster_all, tol=plan.tol, max_iter=plan.max_iter)
    return res._replace(labels=labels)
