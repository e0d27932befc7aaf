"""Every ``"auto"`` choice is made here, once, and the decision is logged and returned
with its reason so the estimator can store it (``engine_``, ``algorithm_``,
``bandwidth_``)."""

from __future__ import annotations

import logging
import re

import numpy as np

from ._engines import ENGINES, engine_available

__all__ = [
    "resolve_engine", "resolve_algorithm", "resolve_bandwidth", "resolve_device",
    "AUTO_ENGINE_ORDER", "resolve_dask_algorithm", "resolve_dask_seeds",
]

logger = logging.getLogger("meanshift")

# Preference order of engine="auto" for in-memory NumPy input.
AUTO_ENGINE_ORDER = ["numba", "numpy"]


def resolve_engine(engine, X=None, device="auto"):
    """Name of the engine to use and why (a ``device`` other than "auto" asks for torch)."""
    if engine != "auto":
        return engine, "requested"
    module = type(X).__module__ if X is not None else ""
    if module.startswith("dask") and "dask" in ENGINES:
        return "dask", "input is a dask array"
    if module.startswith("torch") and "torch" in ENGINES:
        return "torch", "input is a torch tensor"
    if device != "auto" and "torch" in ENGINES:
        return "torch", f"device={device!r} requested"
    for name in AUTO_ENGINE_ORDER:
        if name in ENGINES and engine_available(name):
            return name, "fastest available"
    return "numpy", "fallback"


#: algorithm="auto" compresses at least this many samples in at most COMPRESS_MAX_FEATURES.
COMPRESS_MIN_SAMPLES = 50_000
COMPRESS_MAX_FEATURES = 3

_DEVICE_RE = re.compile(r"^(auto|cpu|cuda(:\d+)?)$")


def resolve_device(device="auto"):
    """The torch device to run on and why; "auto" is CUDA when torch sees a GPU, else the
    CPU.  Imports torch (only the torch engine calls it).

    Parameters
    ----------
    device : {"auto", "cpu", "cuda", "cuda:N"} or torch.device, default="auto"

    Returns
    -------
    device : torch.device
    reason : str
    """
    import torch

    if isinstance(device, torch.device):
        device = str(device)
    if not isinstance(device, str) or not _DEVICE_RE.match(device):
        raise ValueError(
            "The 'device' parameter must be 'auto', 'cpu', 'cuda' or 'cuda:N' (N a GPU "
            f"index); got {device!r}."
        )
    if device == "auto":
        if torch.cuda.is_available():
            dev, why = torch.device("cuda", torch.cuda.current_device()), "CUDA is available"
        else:
            dev, why = torch.device("cpu"), "torch sees no CUDA GPU"
        logger.info("device=auto resolved to %s (%s)", dev, why)
        return dev, f"auto: {why}"
    dev = torch.device(device)
    if dev.type == "cuda":
        if not torch.cuda.is_available():
            raise ValueError(
                f"The 'device' parameter is {device!r} but torch {torch.__version__} sees no "
                "CUDA GPU. Use device='cpu' or device='auto'."
            )
        index = torch.cuda.current_device() if dev.index is None else dev.index
        if index >= torch.cuda.device_count():
            raise ValueError(
                f"The 'device' parameter is {device!r} but torch sees only "
                f"{torch.cuda.device_count()} CUDA GPU(s)."
            )
        dev = torch.device("cuda", index)
    return dev, "requested"


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

    if bandwidth is not None and not isinstance(bandwidth, str):
        if np.ndim(bandwidth) == 0:
            return float(bandwidth), "given"
        return np.asarray(bandwidth, dtype=np.float64), "given per feature"
    if bandwidth is None:
        h = float(estimate_bandwidth(X, n_jobs=n_jobs))
        if h > 0:
            return h, "estimate_bandwidth (scikit-learn's rule, quantile=0.3)"
        # A single sample, identical points, or over 30% copies of each point.
        how = "auto (scikit-learn's rule gave 0)"
    else:
        how = "auto (longest-lived cluster count in scale space)"
    h = float(auto_bandwidth(X, kernel=kernel, sample_weight=sample_weight, engine=engine,
                             random_state=random_state))
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
