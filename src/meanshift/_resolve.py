"""Every ``"auto"`` choice is made here, once, and the decision is logged and returned
with its reason so the estimator can store it (``engine_``, ``algorithm_``,
``bandwidth_``)."""

from __future__ import annotations

import logging

import numpy as np

from ._engines import ENGINES, engine_available

__all__ = [
    "resolve_engine", "resolve_algorithm", "resolve_bandwidth", "AUTO_ENGINE_ORDER",
    "resolve_dask_algorithm", "resolve_dask_seeds",
]

logger = logging.getLogger("meanshift")

# Preference order of engine="auto" for in-memory NumPy input.
AUTO_ENGINE_ORDER = ["numba", "numpy"]


def resolve_engine(engine, X=None):
    """Name of the engine to use and why."""
    if engine != "auto":
        return engine, "requested"
    module = type(X).__module__ if X is not None else ""
    if module.startswith("dask") and "dask" in ENGINES:
        return "dask", "input is a dask array"
    if module.startswith("torch") and "torch" in ENGINES:
        return "torch", "input is a torch tensor"
    for name in AUTO_ENGINE_ORDER:
        if name in ENGINES and engine_available(name):
            return name, "fastest available"
    return "numpy", "fallback"


def resolve_algorithm(algorithm, n_samples, n_features):
    """Name of the algorithm to use and why."""
    if algorithm != "auto":
        return algorithm, "requested"
    return "standard", "default"


def resolve_bandwidth(bandwidth, X, *, sample_weight, kernel, engine, random_state, n_jobs):
    """The bandwidth to use (float, or ndarray of per-feature bandwidths) and how it was
    chosen."""
    from ._bandwidth import auto_bandwidth, estimate_bandwidth

    if bandwidth is None:
        h = float(estimate_bandwidth(X, n_jobs=n_jobs))
        how = "estimate_bandwidth (scikit-learn's rule, quantile=0.3)"
    elif isinstance(bandwidth, str):  # "auto", validated by the estimator
        h = float(
            auto_bandwidth(X, kernel=kernel, sample_weight=sample_weight, engine=engine,
                           random_state=random_state)
        )
        how = "auto (longest-lived cluster count in scale space)"
    elif np.ndim(bandwidth) == 0:
        return float(bandwidth), "given"
    else:
        return np.asarray(bandwidth, dtype=np.float64), "given per feature"
    if not h > 0:
        raise ValueError(
            f"The bandwidth chosen by {how} is {h!r} (all points may be identical); "
            "pass a positive bandwidth."
        )
    return h, how


# Dask input: from this many samples in at most DASK_COMPRESS_MAX_FEATURES dimensions, the
# compressed algorithm streams grid bins instead of climbing over the persisted data.
DASK_COMPRESS_MIN_SAMPLES = 1_000_000
DASK_COMPRESS_MAX_FEATURES = 3
# Dask input: seeds=None climbs from every point only up to this many points, else from bins.
DASK_ALL_SEEDS_MAX = 10_000


def resolve_dask_algorithm(algorithm, n_samples, n_features):
    """Algorithm for dask input (``"standard"`` or ``"compressed"``) and why."""
    if algorithm != "auto":
        return algorithm, "requested"
    if n_samples >= DASK_COMPRESS_MIN_SAMPLES and n_features <= DASK_COMPRESS_MAX_FEATURES:
        return "compressed", (
            f"dask input, {n_samples} samples in {n_features} dimensions: streamed grid bins")
    return "standard", "dask input"


def resolve_dask_seeds(seeds, bin_seeding, n_samples, algorithm):
    """Seeding for dask input and why: ``seeds=None`` means every point (scikit-learn's
    meaning) only up to DASK_ALL_SEEDS_MAX points; beyond that, and for the compressed
    algorithm, the bins of bin seeding."""
    if seeds is not None:
        return seeds, "requested"
    if bin_seeding:
        return "bins", "bin_seeding=True"
    if algorithm == "compressed":
        return "bins", "compressed algorithm: bin seeding over the grid bins"
    if n_samples <= DASK_ALL_SEEDS_MAX:
        return "all", "every point"
    return "bins", f"more than {DASK_ALL_SEEDS_MAX} points: bin seeding"
