"""The compressed pipeline and the fast bin reduction against exact answers."""

import numpy as np
import pytest
from sklearn.metrics import adjusted_rand_score

from meanshift import MeanShift
from meanshift._data import MemoryRows
from meanshift._stages import compression as _compress
from meanshift._stages.compression import BIN_FRACTION, bin_means, compress
from meanshift.datasets import make_blobs


def _reduce_by_unique(keys, weight, xsum):
    uniq, inverse = np.unique(keys, axis=0, return_inverse=True)
    inverse = inverse.reshape(-1)
    w = np.bincount(inverse, weights=weight, minlength=len(uniq))
    s = np.stack([np.bincount(inverse, weights=xsum[:, j], minlength=len(uniq))
                  for j in range(xsum.shape[1])], axis=1)
    return uniq, w, s


@pytest.mark.parametrize("scale", [1.0, 1e3, 1e12])
@pytest.mark.parametrize("d", [1, 2, 4])
def test_fast_reduce_equals_unique(scale, d):
    rng = np.random.default_rng(d)
    X = rng.normal(size=(3000, d)) * scale
    w = rng.uniform(0, 2, 3000)
    got = _compress.bin_stats(X, w, 0.3)
    keys = _compress.bin_index(X, 0.3)
    uniq, wt, s = _reduce_by_unique(keys, w, X * w[:, None])
    np.testing.assert_array_equal(got.keys, uniq)
    np.testing.assert_array_equal(got.weight, wt)
    np.testing.assert_array_equal(got.xsum, s)


def test_chunks_add_up(monkeypatch):
    import meanshift._data._memory as memory

    X, _, _ = make_blobs(5000, 2, centers=3, random_state=0)
    whole = _compress.bin_stats(X, None, 0.1)
    monkeypatch.setattr(memory, "CHUNK_ROWS", 777)
    means, weights = bin_means(compress(MemoryRows(X), 0.1))
    np.testing.assert_allclose(means, whole.xsum / whole.weight[:, None], rtol=1e-12)
    np.testing.assert_array_equal(weights, whole.weight)
    assert weights.sum() == len(X)


@pytest.mark.parametrize("kernel", ["gaussian", "epanechnikov", "flat"])
def test_compressed_within_bound_of_exact(kernel):
    X, y, _ = make_blobs(20000, 2, centers=4, random_state=3)
    h, tol = 1.0, 1e-4
    params = dict(bandwidth=h, kernel=kernel, tol=tol, seeds=300)
    exact = MeanShift(algorithm="standard", **params).fit(X)
    comp = MeanShift(algorithm="compressed", **params).fit(X)
    assert comp.algorithm_ == "compressed"
    assert len(comp.cluster_centers_) == len(exact.cluster_centers_)
    delta = np.sqrt(X.shape[1]) * BIN_FRACTION * h  # how far compression moves a point
    dist = np.linalg.norm(comp.cluster_centers_[:, None] - exact.cluster_centers_[None], axis=2)
    assert dist.min(axis=1).max() <= delta + 2 * tol * h
    assert adjusted_rand_score(exact.labels_, comp.labels_) >= 0.999
    assert adjusted_rand_score(y, comp.labels_) >= 0.99


def test_compressed_label_by_mode_weights_and_orphans():
    X, y, _ = make_blobs(3000, 2, centers=3, random_state=4)
    X = np.vstack([X, [[100.0, 100.0]]])
    w = np.ones(len(X))
    w[:10] = 0.0
    ms = MeanShift(bandwidth=1.2, kernel="gaussian", algorithm="compressed", label_by="mode",
                   cluster_all=False).fit(X, sample_weight=w)
    exact = MeanShift(bandwidth=1.2, kernel="gaussian", algorithm="standard",
                      label_by="mode", cluster_all=False, seeds=300).fit(X, sample_weight=w)
    assert ms.labels_.shape == (len(X),)
    assert adjusted_rand_score(exact.labels_[:-1], ms.labels_[:-1]) >= 0.99
    # Points in bins of zero weight still get a cluster.
    assert np.all(ms.labels_[:10] >= 0)


def test_compressed_float32_and_bin_seeding():
    X, y, _ = make_blobs(30000, 2, centers=5, random_state=6, dtype=np.float32)
    ms = MeanShift(bandwidth=2.0, bin_seeding=True, algorithm="compressed").fit(X)
    assert adjusted_rand_score(y, ms.labels_) >= 0.99
    assert ms.n_seeds_ < 400


@pytest.mark.parametrize("d", [1, 2, 8, 9, 64])
@pytest.mark.parametrize("dtype", [np.float64, np.float32, np.int64])
def test_column_bounds_both_walks(d, dtype):
    """Column by column (few columns) and by rows (many) give NumPy's bounds, in the
    data's dtype, on C- and Fortran-ordered arrays and on a column slice."""
    from meanshift._arrays import COLUMN_WALK_MAX, column_bounds

    assert 2 <= COLUMN_WALK_MAX < 64
    rng = np.random.default_rng(d)
    a = (rng.normal(size=(301, d)) * 1000).astype(dtype)
    for arr in (a, np.asfortranarray(a), a[:, ::2]):
        lo, hi = column_bounds(arr)
        assert lo.dtype == hi.dtype == arr.dtype
        np.testing.assert_array_equal(lo, arr.min(axis=0))
        np.testing.assert_array_equal(hi, arr.max(axis=0))


def test_unique_rows_matches_numpy_unique():
    from meanshift._stages.compression import column_bounds, unique_rows

    rng = np.random.default_rng(0)
    for keys in (rng.integers(-5, 5, size=(2000, 2)),               # dense count
                 rng.integers(-10**6, 10**6, size=(2000, 3)),       # 1-D sort
                 rng.integers(-2**62, 2**62, size=(500, 2)),        # too wide: np.unique
                 rng.integers(0, 3, size=(50, 1))):
        uniq, inverse = unique_rows(keys)
        ref_u, ref_inv = np.unique(keys, axis=0, return_inverse=True)
        np.testing.assert_array_equal(uniq, ref_u)
        np.testing.assert_array_equal(inverse, ref_inv.reshape(-1))
        lo, hi = column_bounds(keys)
        np.testing.assert_array_equal(lo, keys.min(axis=0))
        np.testing.assert_array_equal(hi, keys.max(axis=0))
