"""Input adapters: the rows of X, wherever they live, behind one small interface.

:func:`read_rows` validates X and the sample weights like scikit-learn (feature counts
and names, dtypes, finite values) and returns rows the pipeline reads through a few
methods (``values``, ``take``, ``reduce``, ``map_rows``, ``prepare``, ``sizes``,
``finish``): :class:`MemoryRows` for NumPy arrays and torch tensors, :class:`DaskRows`
for dask arrays and dataframes (and NumPy input with ``engine="dask"``).
"""

from __future__ import annotations

from numbers import Integral

import numpy as np
from sklearn.utils import check_random_state
from sklearn.utils.validation import validate_data

from .._arrays import is_tensor
from ._dask import (
    NUMPY_CHUNK_ROWS,
    DaskRows,
    as_dask_array,
    as_dask_weights,
    dask_modules,
    is_dask,
)
from ._memory import MemoryRows, raise_if_invalid

__all__ = ["MemoryRows", "DaskRows", "read_rows", "is_dask", "is_tensor", "untensor",
           "check_sample_weight", "raise_if_invalid", "as_tensor", "sample_rows"]


def untensor(X):
    """A torch tensor (any device) as a NumPy array; anything else unchanged.

    CUDA tensors make one round trip to the host here, for validation and the NumPy
    stages (seeding, merging); the torch engine uploads the data once per fit.
    """
    if not is_tensor(X):
        return X
    t = X.detach().to("cpu")
    if t.dtype.is_floating_point and t.element_size() < 4:  # float16, bfloat16
        t = t.float()
    return t.numpy()


def as_tensor(a, device):
    """``a`` as a torch tensor on ``device`` (``return_tensors=True``)."""
    try:
        import torch
    except ImportError as exc:
        raise ImportError(
            f'return_tensors=True needs torch ({exc}). Install it with: pip install '
            '"meanshift[gpu]".'
        ) from exc
    return torch.as_tensor(a, device=device)


def check_sample_weight(sample_weight, n_samples):
    """Sample weights as a float64 array of shape (n_samples,), or None; clear errors."""
    if sample_weight is None:
        return None
    sample_weight = untensor(sample_weight)
    w = np.asarray(sample_weight)
    if w.dtype.kind not in "biuf":
        raise ValueError(f"sample_weight must be numeric; got dtype {w.dtype}.")
    w = w.astype(np.float64).reshape(-1) if w.ndim <= 1 else w
    if w.ndim != 1 or w.shape[0] != n_samples:
        raise ValueError(
            f"sample_weight must have shape ({n_samples},), one weight per sample; got "
            f"shape {np.shape(sample_weight)}."
        )
    with np.errstate(over="ignore"):  # an overflowing total is refused, by name
        total = float(w.sum())
    raise_if_invalid(True, (bool(np.all(np.isfinite(w))), float(w.min()), total))
    return w


def sample_rows(n, max_samples, random_state):
    """The rows to fit on: a sorted random sample of ``max_samples`` (an int, or a
    fraction in (0, 1]) of ``n`` rows, or None for all of them."""
    if max_samples is None:
        return None
    m = max_samples
    size = int(m) if isinstance(m, (Integral, np.integer)) else int(np.ceil(m * n))
    if size >= n:
        return None
    rng = check_random_state(random_state)
    return np.sort(rng.choice(n, size=max(1, size), replace=False))


def read_rows(estimator, X, sample_weight=None, *, reset=True, engine="auto"):
    """Validated rows of X (and weights) for ``estimator`` (sets ``n_features_in_`` and
    ``feature_names_in_`` when ``reset``)."""
    if is_dask(X):
        X = as_dask_array(X, model=estimator, reset=reset)
        return DaskRows(X, as_dask_weights(sample_weight, X))
    # float32 stays float32 (engines compute in float64 from those values); any other
    # dtype becomes float64.  CPU torch tensors are read as arrays.
    # (scikit-learn checks finiteness by a sum first, which overflows near the float64
    # limit with a RuntimeWarning before it checks element by element.)
    with np.errstate(over="ignore", invalid="ignore"):
        Xn = np.asarray(validate_data(estimator, untensor(X),
                                      dtype=[np.float64, np.float32], reset=reset))
    w = sample_weight if is_dask(sample_weight) else check_sample_weight(
        sample_weight, Xn.shape[0])
    if engine != "dask" and not is_dask(w):
        return MemoryRows(Xn, w)
    _, da = dask_modules()
    Xd = da.from_array(np.asarray(Xn, dtype=np.float64), chunks=(NUMPY_CHUNK_ROWS, -1))
    return DaskRows(Xd, as_dask_weights(w, Xd), from_numpy=True)
