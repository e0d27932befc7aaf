"""The fit pipelines, one pure function per algorithm, registered by name.

A pipeline gets validated, isotropic data (the estimator has already divided each feature
by its bandwidth when the bandwidth is per feature) and returns a :class:`FitResult`.
"""

from __future__ import annotations

import warnings
from typing import NamedTuple

import numpy as np

from ._blurring import run_blurring
from ._labels import attach
from ._merge import merge_modes
from ._seeding import bin_seeds, make_seeds
from ._warnings import MeanShiftWarning

__all__ = ["FitResult", "ALGORITHMS", "run_standard", "label_points"]


class FitResult(NamedTuple):
    centers: np.ndarray
    labels: np.ndarray
    center_density: np.ndarray
    n_iter: np.ndarray
    converged: np.ndarray
    seeds: np.ndarray
    seed_modes: np.ndarray
    seed_density: np.ndarray
    history: list | None


def label_points(X, w, *, engine, centers, reach, merge_radius, label_by, cluster_all,
                 climb_args, ends=None, end_alive=None):
    """Labels of the rows of ``X`` under ``label_by`` (see :mod:`meanshift._labels`).

    For ``label_by="mode"``, ``ends`` may carry the end points of climbs already made
    (rows where ``end_alive`` is False had no data in reach); missing climbs are made.
    """
    if label_by == "nearest":
        idx, dist = engine.nearest(X, centers)
        if not cluster_all:
            idx[dist > reach] = -1
        return idx
    if ends is None:
        res = engine.climb(X, *climb_args["data"], **climb_args["options"])
        ends, end_alive = res.modes, res.density > 0
    cluster, inside = attach(ends, centers, merge_radius)
    if cluster_all:
        dead = ~end_alive
        if dead.any():
            cluster[dead] = engine.nearest(X[dead], centers)[0]
    else:
        cluster[~(inside & end_alive)] = -1
    return cluster


def run_standard(X, w, *, engine, kernel, bandwidth, tol, max_iter, seeds, bin_seeding,
                 min_bin_freq, random_state, merge_radius, label_by, cluster_all,
                 record_history):
    """Standard mean shift: seeds climb the fixed data, end points merge, points are
    labelled."""
    seed_array, seed_rows, kind = make_seeds(
        X, seeds=seeds, bin_seeding=bin_seeding, min_bin_freq=min_bin_freq,
        bandwidth=bandwidth, random_state=random_state, sample_weight=w,
    )
    options = dict(bandwidth=bandwidth, kernel=kernel, tol=tol, max_iter=max_iter)
    res = engine.climb(seed_array, X, w, record_history=record_history, **options)
    if kind == "bins" and not np.any(res.density > 0):
        # Every bin centre is out of reach of the data (scikit-learn raises here): seed
        # at the bins' weighted means instead, which are inside the data's hull.
        warnings.warn(
            f"No bin centre is within the kernel's reach of the data (bandwidth="
            f"{bandwidth:g}, {len(seed_array)} bins); seeding at the bins' means instead.",
            MeanShiftWarning, stacklevel=3,
        )
        seed_array, _ = bin_seeds(X, bandwidth, min_bin_freq, w, at="mean")
        res = engine.climb(seed_array, X, w, record_history=record_history, **options)
    centers, center_density, seed_cluster = merge_modes(res.modes, res.density, merge_radius)
    if len(centers) == 0:
        raise ValueError(
            f"No point was within the kernel's reach of any seed (bandwidth={bandwidth:g}, "
            f"kernel={kernel.name!r}, {len(seed_array)} seeds): every seed is far from all "
            "data. Use seeds closer to the data, a different seeding strategy, or a larger "
            "bandwidth."
        )
    ends = end_alive = None
    if label_by == "mode" and seed_rows is not None and len(seed_rows) == X.shape[0]:
        # Every point climbed as a seed: reuse those climbs for the labels.
        ends = np.empty_like(res.modes)
        ends[seed_rows] = res.modes
        end_alive = np.empty(X.shape[0], dtype=bool)
        end_alive[seed_rows] = res.density > 0
    labels = label_points(
        X, w, engine=engine, centers=centers, reach=kernel.reach * bandwidth,
        merge_radius=merge_radius, label_by=label_by, cluster_all=cluster_all,
        climb_args={"data": (X, w), "options": options}, ends=ends, end_alive=end_alive,
    )
    return FitResult(centers, labels, center_density, res.n_iter, res.converged, seed_array,
                     res.modes, res.density, res.history)


# name -> pipeline function; the estimator validates ``algorithm`` against these names.
ALGORITHMS = {"standard": run_standard, "blurring": run_blurring}
from ._compressed import run_compressed as _run_compressed  # noqa: E402  (imports run_standard)

ALGORITHMS["compressed"] = _run_compressed
from ._basin import run_basin as _run_basin  # noqa: E402

ALGORITHMS["basin"] = _run_basin
