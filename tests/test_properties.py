"""Invariants of mean shift, checked by hypothesis on well-behaved random data
(derandomised, bounded examples; see conftest).  They run on the default engine."""

import numpy as np
from hypothesis import given
from hypothesis import strategies as st
from sklearn.metrics import adjusted_rand_score

from meanshift import MeanShift

KERNELS = ["flat", "gaussian", "epanechnikov", "triangular"]


@st.composite
def problems(draw):
    seed = draw(st.integers(0, 2**32 - 1))
    n = draw(st.integers(1, 40))
    d = draw(st.integers(1, 3))
    k = draw(st.integers(1, 3))
    rng = np.random.default_rng(seed)
    centers = rng.uniform(-10, 10, size=(k, d))
    X = centers[rng.integers(0, k, n)] + rng.normal(size=(n, d))
    kernel = draw(st.sampled_from(KERNELS))
    h = draw(st.floats(0.8, 4.0))
    return X, kernel, h, rng


def _fit(X, kernel, h, **kw):
    kw.setdefault("tol", 1e-6)
    kw.setdefault("max_iter", 3000)
    return MeanShift(bandwidth=h, kernel=kernel, **kw).fit(X)


def _sorted_rows(A):
    return A[np.lexsort(A.T[::-1])]


def _same_modes(a, b, h):
    assert a.shape == b.shape, (a, b)
    np.testing.assert_allclose(_sorted_rows(a), _sorted_rows(b), rtol=0, atol=1e-5 * h)


@given(problems())
def test_permutation_invariance(p):
    X, kernel, h, rng = p
    perm = rng.permutation(len(X))
    a, b = _fit(X, kernel, h), _fit(X[perm], kernel, h)
    _same_modes(a.cluster_centers_, b.cluster_centers_, h)
    # Same partition: labels agree up to renaming of the clusters.
    assert adjusted_rand_score(a.labels_[perm], b.labels_) == 1.0


@given(problems(), st.floats(-100, 100))
def test_translation_equivariance(p, shift):
    X, kernel, h, rng = p
    t = rng.uniform(-1, 1, X.shape[1]) * shift
    a, b = _fit(X, kernel, h), _fit(X + t, kernel, h)
    _same_modes(a.cluster_centers_ + t, b.cluster_centers_, h)


@given(problems(), st.floats(0.1, 10.0))
def test_scaling_equivariance(p, c):
    X, kernel, h, _ = p
    a, b = _fit(X, kernel, h), _fit(c * X, kernel, c * h)
    _same_modes(c * a.cluster_centers_, b.cluster_centers_, c * h)


@given(problems())
def test_duplication_equals_weight_two(p):
    X, kernel, h, _ = p
    once = _fit(X, kernel, h)
    twice = _fit(np.concatenate([X, X]), kernel, h)
    weighted = MeanShift(bandwidth=h, kernel=kernel, tol=1e-6, max_iter=3000).fit(
        X, sample_weight=np.full(len(X), 2.0)
    )
    _same_modes(once.cluster_centers_, twice.cluster_centers_, h)
    _same_modes(once.cluster_centers_, weighted.cluster_centers_, h)
    np.testing.assert_array_equal(twice.labels_[: len(X)], twice.labels_[len(X):])


@given(problems())
def test_modes_are_fixed_points(p):
    from meanshift._engines import get_engine
    from meanshift._kernels import get_kernel

    X, kernel, h, _ = p
    model = _fit(X, kernel, h)
    num, den = get_engine("numpy").partial_sums(model.cluster_centers_, X, None, h, get_kernel(kernel))
    step = num / den[:, None] - model.cluster_centers_
    assert np.all(np.linalg.norm(step, axis=1) <= 1e-4 * h)


@given(problems(), st.booleans())
def test_predict_equals_labels_for_nearest(p, cluster_all):
    X, kernel, h, _ = p
    model = _fit(X, kernel, h, cluster_all=cluster_all)
    np.testing.assert_array_equal(model.predict(X), model.labels_)


@given(problems())
def test_label_by_mode_predict_equals_labels(p):
    X, kernel, h, _ = p
    model = _fit(X, kernel, h, label_by="mode")
    np.testing.assert_array_equal(model.predict(X), model.labels_)
