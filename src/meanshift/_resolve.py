"""Every ``"auto"`` choice is made here, once, and the decision is logged and returned
with its reason so the estimator can store it (``engine_``, ``algorithm_``,
``bandwidth_``)."""

from __future__ import annotations

import logging

import numpy as np

from ._engines import ENGINES, engine_available

__all__ = ["resolve_engine", "resolve_algorithm", "resolve_bandwidth", "AUTO_ENGINE_ORDER"]

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


#: algorithm="auto" compresses at least this many samples in at most COMPRESS_MAX_FEATURES.
COMPRESS_MIN_SAMPLES = 50_000
COMPRESS_MAX_FEATURES = 3


def resolve_algorithm(algorithm, n_samples, n_features):
    """Name of the algorithm to use and why.

    ``"auto"`` picks ``"compressed"`` (mean shift on weighted bin means, see
    :mod:`meanshift._compressed`) for at least ``COMPRESS_MIN_SAMPLES`` samples in at most
    ``COMPRESS_MAX_FEATURES`` dimensions, where bins of a fraction of the bandwidth hold
    many points each; otherwise exact ``"standard"`` mean shift.
    """
    if algorithm != "auto":
        return algorithm, "requested"
    if n_samples >= COMPRESS_MIN_SAMPLES and n_features <= COMPRESS_MAX_FEATURES:
        return "compressed", (f"{n_samples} samples >= {COMPRESS_MIN_SAMPLES} in "
                              f"{n_features} <= {COMPRESS_MAX_FEATURES} dimensions")
    if n_features > COMPRESS_MAX_FEATURES:
        return "standard", f"{n_features} dimensions > {COMPRESS_MAX_FEATURES}: exact"
    return "standard", f"{n_samples} samples < {COMPRESS_MIN_SAMPLES}: exact"


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
