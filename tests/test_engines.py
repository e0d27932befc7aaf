"""Shared engine tests: every registered, importable engine against the NumPy reference.

Each engine is compared with :class:`meanshift._engines._reference.NumpyEngine` on every
kernel, with and without sample weights, on float32 and float64 data, for each method of
the contract (``climb``, ``partial_sums``, ``nearest``, ``blur_step``).  Engines are
picked up from the registry automatically; ``TOLERANCES`` holds each engine's stated
tolerance (the default applies to engines not listed).  The dask engine has its own tests
(it needs a cluster).
"""

import numpy as np
import pytest

from meanshift._engines import ENGINES, engine_available, get_engine
from meanshift._kernels import KERNELS
from meanshift.datasets import make_blobs

# Relative tolerance of partial sums, and of modes in units of the bandwidth.
DEFAULT_TOL = {"sums_rtol": 1e-9, "mode_atol": 1e-5, "blur_atol": 1e-7}
TOLERANCES = {
    "numba": {"sums_rtol": 1e-9, "mode_atol": 1e-5, "blur_atol": 1e-9},
}
# The contract is checked at each engine's exact setting; the torch engine's float32
# default is checked against float64 in tests/test_torch_engine.py.
ENGINE_OPTIONS = {"torch": {"dtype": "float64", "device": "cpu"}}

ENGINE_NAMES = [
    pytest.param(name, marks=pytest.mark.skipif(not engine_available(name),
                                                reason=f"{name} engine not importable"))
    for name in sorted(ENGINES)
    if name not in ("numpy", "dask")
]


def _tol(name):
    return {**DEFAULT_TOL, **TOLERANCES.get(name, {})}


def _data(d, dtype, weighted, n=240):
    X, _, _ = make_blobs(n, d, centers=3, cluster_std=1.0, random_state=d)
    X = X.astype(dtype)
    w = np.random.default_rng(d).uniform(0.2, 3.0, n) if weighted else None
    return X, w


@pytest.fixture(scope="module")
def ref():
    return get_engine("numpy")


CASES = [(d, dtype, weighted) for d in (2, 6) for dtype in (np.float64, np.float32)
         for weighted in (False, True)]


@pytest.mark.parametrize("name", ENGINE_NAMES)
@pytest.mark.parametrize("kernel", sorted(KERNELS))
@pytest.mark.parametrize("d,dtype,weighted", CASES)
def test_partial_sums_match_reference(name, kernel, d, dtype, weighted, ref):
    X, w = _data(d, dtype, weighted)
    eng = get_engine(name, **ENGINE_OPTIONS.get(name, {}))
    k = KERNELS[kernel]
    pos = X[::7].astype(np.float64) + 0.25
    num, den = eng.partial_sums(pos, X, w, 1.7, k)
    rnum, rden = ref.partial_sums(pos, X, w, 1.7, k)
    tol = _tol(name)["sums_rtol"]
    scale = np.abs(rnum).max() + 1.0
    np.testing.assert_allclose(np.asarray(den), rden, rtol=tol, atol=tol * rden.max())
    np.testing.assert_allclose(np.asarray(num), rnum, rtol=tol, atol=tol * scale * rden.max())


@pytest.mark.parametrize("name", ENGINE_NAMES)
@pytest.mark.parametrize("kernel", sorted(KERNELS))
@pytest.mark.parametrize("d,dtype,weighted", CASES)
def test_climb_matches_reference(name, kernel, d, dtype, weighted, ref):
    X, w = _data(d, dtype, weighted)
    eng = get_engine(name, **ENGINE_OPTIONS.get(name, {}))
    h = 2.0
    opts = dict(bandwidth=h, kernel=KERNELS[kernel], tol=1e-6, max_iter=500)
    seeds = X[::3]
    got = eng.climb(seeds, X, w, **opts)
    exp = ref.climb(seeds, X, w, **opts)
    np.testing.assert_array_equal(np.asarray(got.converged), exp.converged)
    np.testing.assert_allclose(np.asarray(got.modes), exp.modes, rtol=0,
                               atol=_tol(name)["mode_atol"] * h)
    np.testing.assert_allclose(np.asarray(got.density), exp.density, rtol=1e-6)


@pytest.mark.parametrize("name", ENGINE_NAMES)
def test_climb_dead_seeds_match_reference(name, ref):
    X, _ = _data(2, np.float64, False)
    seeds = np.vstack([X[:5], X.max(axis=0) + 100.0, X.min(axis=0) - 100.0])
    for kernel in ("flat", "triangular"):
        opts = dict(bandwidth=1.0, kernel=KERNELS[kernel], tol=1e-4, max_iter=100)
        got = get_engine(name, **ENGINE_OPTIONS.get(name, {})).climb(seeds, X, None, **opts)
        exp = ref.climb(seeds, X, None, **opts)
        np.testing.assert_array_equal(np.asarray(got.density) > 0, exp.density > 0)
        np.testing.assert_array_equal(np.asarray(got.n_iter), exp.n_iter)
        np.testing.assert_allclose(np.asarray(got.modes)[-2:], seeds[-2:])


@pytest.mark.parametrize("name", ENGINE_NAMES)
@pytest.mark.parametrize("dtype", [np.float64, np.float32])
def test_nearest_matches_reference(name, dtype, ref):
    X, _ = _data(3, dtype, False)
    centers = X[[0, 10, 20, 30]].astype(np.float64)
    centers = np.vstack([centers, centers[1]])  # exact tie: lowest index wins
    idx, dist = get_engine(name, **ENGINE_OPTIONS.get(name, {})).nearest(X, centers)
    ridx, rdist = ref.nearest(X, centers)
    np.testing.assert_array_equal(np.asarray(idx), ridx)
    np.testing.assert_allclose(np.asarray(dist), rdist, rtol=1e-6, atol=1e-9)


@pytest.mark.parametrize("name", ENGINE_NAMES)
@pytest.mark.parametrize("kernel", sorted(KERNELS))
@pytest.mark.parametrize("weighted", [False, True])
def test_blur_step_matches_reference(name, kernel, weighted, ref):
    X, w = _data(2, np.float64, weighted)
    opts = dict(bandwidth=1.5, kernel=KERNELS[kernel])
    got = get_engine(name, **ENGINE_OPTIONS.get(name, {})).blur_step(X, w, **opts)
    exp = ref.blur_step(X, w, **opts)
    np.testing.assert_allclose(np.asarray(got), exp, rtol=0, atol=_tol(name)["blur_atol"] * 1.5)


@pytest.mark.parametrize("name", ENGINE_NAMES)
def test_climb_record_history_matches_reference(name, ref):
    X, _ = _data(2, np.float64, False, n=120)
    opts = dict(bandwidth=2.0, kernel=KERNELS["gaussian"], tol=1e-3, max_iter=50,
                record_history=True)
    got = get_engine(name, **ENGINE_OPTIONS.get(name, {})).climb(X[:10], X, None, **opts)
    exp = ref.climb(X[:10], X, None, **opts)
    assert len(got.history) == len(exp.history)
    np.testing.assert_allclose(np.asarray(got.history[-1]), exp.history[-1], atol=1e-6)
