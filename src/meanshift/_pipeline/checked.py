"""Bin seeds checked against a sample of every-point climbs (``algorithm="checked"``):
what ``algorithm="auto"`` runs for every point as a seed on many samples in more than
three dimensions.

With every point a seed (scikit-learn's default, ``"standard"``) a fit climbs n times,
yet on clustered data nearly every climb ends at one of a few modes: on 10^5 8-D blobs,
10^5 climbs end at 12 centres.  ``"checked"`` climbs far fewer seeds and then tests that
the every-point climbs would have found nothing else:

1. **Seeds.**  One per occupied bin of side ``h`` (the bandwidth), at the weighted mean
   of the bin's points, not at the bin's centre: a mean is inside the data, so an
   isolated point (its bin's only point) is its own seed and becomes its own cluster, as
   it does with every point a seed.  When the bins do not cut the seeds to at most
   ``SEED_SHARE`` of the points (continuous data in many dimensions, where nearly every
   point has a bin of its own), every point climbs: the ``"standard"`` fit.
2. **Standard mean shift** from those seeds on all the data: climb, merge, centres.
3. **The check.**  ``CHECK_SEEDS`` points drawn at random (``random_state``) climb as
   they would with every point a seed.  If every one ends within ``CHECK_RADIUS * h`` of
   a centre of step 2 (and within the merge radius, when that is smaller), that is the
   fit.  Otherwise the every-point fit runs (logged at
   INFO with the count), so the outcome is never a cluster short of what a sampled climb
   found.
4. Labels: the nearest centre (the default ``label_by``).

What is guaranteed, and what is tested.  If a share ``p`` of the points climb to a mode
the bin seeds missed, the check misses all of them with probability ``(1 - p)^1024``:
under 0.6 % for ``p = 0.5 %``.  Rarer climbs to a missed mode are not caught by the
check; the bin seeds cover them instead (every point is within one bin, ``h`` per
feature, of a seed).  Centres can differ from the every-point fit's by the spread of one
mode's end points (a centre is the densest end point found, among fewer of them): on
10^5 8-D blobs by at most 9.3e-4 ``h``, with the same labels (``benchmarks/bench.py``).
``algorithm="standard"`` is the exact every-point fit.
"""

from __future__ import annotations

import logging

import numpy as np
from scipy.spatial import cKDTree

from .._stages.metric import project
from .._stages.seeding import cell_count, cell_means, make_seeds
from ._plan import FitResult, Plan
from .standard import run_standard

__all__ = ["run_checked", "CHECK_SEEDS", "CHECK_RADIUS", "SEED_SHARE"]

logger = logging.getLogger("meanshift")

#: Randomly drawn points that climb to check the bin seeds' centres.
CHECK_SEEDS = 1024
#: A checked climb must end within this many bandwidths of a centre (the basin
#: algorithm's absorption radius: deep inside that centre's basin).
CHECK_RADIUS = 0.1
#: The bins must cut the seeds to at most this share of the points, or every point climbs.
SEED_SHARE = 0.125


def _check_progress(callback):
    return None if callback is None else (lambda p: callback(p._replace(stage="check")))


def run_checked(rows, plan: Plan) -> FitResult:
    """Bin seeds, checked by a sample of every-point climbs (module notes)."""
    if plan.seeds is not None or plan.bin_seeding:
        return run_standard(rows, plan)  # seeds were chosen: nothing to check
    h = plan.bandwidth
    X, w = rows.values()
    n_mass = rows.n if w is None else int(np.count_nonzero(w > 0))
    bins = cell_count(X if w is None else X[w > 0], h)
    if bins > SEED_SHARE * n_mass or n_mass <= CHECK_SEEDS:
        logger.info("checked: %d points in %d bins of side %g (more than %g of a bin "
                    "per point): every point climbs", n_mass, bins, plan.data_bandwidth,
                    SEED_SHARE)
        return run_standard(rows, plan)
    seeds = cell_means(X, w, h)
    fit = run_standard(rows, plan.but(seeds=seeds))
    sample = make_seeds(rows, seeds=CHECK_SEEDS, bin_seeding=False, min_bin_freq=1,
                        bandwidth=h, random_state=plan.random_state, unit=plan.unit)
    starts = project(sample.array) if plan.sphere else sample.array
    res = fit.bound.climb(starts, tol=plan.tol, max_iter=plan.max_iter,
                          callback=_check_progress(plan.callback))
    # Within the merge radius too: end points farther apart than it are distinct centres.
    radius = min(CHECK_RADIUS * h, plan.merge_radius)
    dist, _ = cKDTree(fit.centers).query(res.modes)
    missed = int(np.count_nonzero(dist > radius))
    if missed:
        logger.info("checked: %d of %d sampled every-point climbs ended more than %g "
                    "bandwidths from the %d centres of %d bin seeds: every point climbs",
                    missed, len(starts), radius / h, len(fit.centers), len(seeds))
        return run_standard(rows, plan)
    logger.info("checked: %d bin seeds found %d centres; all %d sampled every-point "
                "climbs ended within %g bandwidths of one", len(seeds), len(fit.centers),
                len(starts), radius / h)
    return fit
