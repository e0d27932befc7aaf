"""Invariants of mean shift, checked by hypothesis on well-behaved random data
(derandomised, bounded examples; see conftest).  They run on the default engine."""

import math

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


# -- the inputs that once gave silently different answers (issue 13) ---------------------
@st.composite
def tiny_cluster_data(draw):
    """Many tiny clusters: distinct points (some duplicated) far apart compared with the
    bandwidth, at any magnitude, some on a lattice."""
    seed = draw(st.integers(0, 2**32 - 1))
    n = draw(st.integers(2, 300))
    d = draw(st.integers(1, 4))
    rng = np.random.default_rng(seed)
    if draw(st.booleans()):
        X = rng.integers(0, 50, size=(n, d)) * draw(st.sampled_from([0.1, 0.25, 1.0, 3.0]))
    else:
        X = rng.uniform(0, 100, size=(n, d))
    X = np.vstack([X, X[: draw(st.integers(0, n))]])  # duplicated rows
    scale = 2.0 ** draw(st.integers(-300, 300)) * draw(st.sampled_from([1.0, 10.0, 0.1]))
    return X * scale, scale


@given(tiny_cluster_data(), st.sampled_from(KERNELS))
def test_a_tiny_bandwidth_makes_every_distinct_point_a_cluster(p, kernel):
    X, scale = p
    h = 1e-6 * scale * 0.1  # far below the spacing of distinct points
    model = MeanShift(bandwidth=h, kernel=kernel).fit(X)
    distinct = np.unique(X, axis=0)
    assert len(model.cluster_centers_) == len(distinct)
    np.testing.assert_allclose(model.cluster_centers_[model.labels_], X, rtol=1e-9, atol=0)
    # Every engine gives the same labels and (to the merge's rounding) the same centres.
    ref = MeanShift(bandwidth=h, kernel=kernel, engine="numpy").fit(X)
    np.testing.assert_array_equal(ref.labels_, model.labels_)


@given(tiny_cluster_data())
def test_duplicated_rows_are_weights_on_lattices_too(p):
    X, scale = p
    h = 0.3 * scale * 10.0
    U, counts = np.unique(X, axis=0, return_counts=True)
    a = MeanShift(bandwidth=h).fit(X)
    b = MeanShift(bandwidth=h).fit(U, sample_weight=counts.astype(float))
    assert len(a.cluster_centers_) == len(b.cluster_centers_)
    _same_modes(a.cluster_centers_, b.cluster_centers_, h)


@given(st.integers(1, 200), st.one_of(st.integers(1, 4), st.just(40)),
       st.integers(0, 2**32 - 1), st.sampled_from([1.0, 0.5, 1e-9]), st.booleans())
def test_merge_unique_rows_is_numpys(n, d, seed, scale, collide):
    # The distinct rows of the merge's end points (and of grid cells too wide to number):
    # np.unique(axis=0)'s rows and inverse, by lexsort (many rows of many columns first
    # grouped by a hash, whose collisions must not matter); -0.0 and 0.0 are one row, as
    # there.
    from unittest import mock

    from meanshift import _arrays

    rng = np.random.default_rng(seed)
    P = rng.integers(-3, 3, (n, d)).astype(float) * scale
    if d == 40:
        P = P[rng.integers(0, max(1, n // 4), n)]  # repeated rows
    P[rng.random(n) < 0.2] = -0.0
    with mock.patch.object(_arrays, "quick_row_hashes",
                           (lambda A: np.zeros(len(A), np.uint64)) if collide
                           else _arrays.quick_row_hashes):
        rows, inverse = _arrays.unique_rows(P)
    expected, expected_inverse = np.unique(P, axis=0, return_inverse=True)
    np.testing.assert_array_equal(rows, expected)
    np.testing.assert_array_equal(inverse, expected_inverse.reshape(-1))


@given(st.integers(1, 400), st.one_of(st.integers(1, 6), st.just(40)),
       st.integers(0, 2**32 - 1), st.sampled_from([0.05, 0.5, 3.0]), st.booleans())
def test_merge_suppression_is_the_greedy_walk(n, d, seed, radius, all_pairs):
    # The merge's walk over candidates in order, written plainly: a candidate no kept one
    # suppressed is kept and suppresses every later free one within the radius.  Tight
    # clusters (long neighbour lists: one candidate at a time, skipping suppressed runs)
    # and scattered points (short lists: batches) both occur; the tree's walk, the walk
    # by products (40 features) and the compiled walk over all pairs (few candidates)
    # all give it.
    from unittest import mock

    from meanshift._kernels import reach2
    from meanshift._stages import merge

    rng = np.random.default_rng(seed)
    centres = rng.uniform(-5, 5, (rng.integers(1, 8), d))
    cand = centres[rng.integers(0, len(centres), n)] + rng.normal(0, 0.2, (n, d))
    scattered = rng.random(n) < 0.3
    cand[scattered] = rng.uniform(-5, 5, (int(scattered.sum()), d))
    owner = np.full(n, -1)
    r2 = reach2(radius)
    for j in range(n):
        if owner[j] >= 0:
            continue
        owner[j] = j
        for k in range(j + 1, n):
            if owner[k] < 0 and ((cand[k] - cand[j]) ** 2).sum() <= r2:
                owner[k] = j
    with mock.patch.object(merge, "_ALL_PAIRS", 2**62 if all_pairs else 0):
        np.testing.assert_array_equal(merge._suppress(cand, radius), owner)


@given(st.integers(1, 50), st.integers(1, 6), st.integers(0, 2**32 - 1),
       st.sampled_from([1e-300, 1e-3, 1.0, 1e6, 1e300]), st.booleans())
def test_merge_snap_rounds_as_numpy(n, d, seed, radius, compiled):
    # The merge's rounding of end points to a grid of radius * 2**-26 (compiled for many
    # values, NumPy's for few): numpy's rint(x / grid) * grid, the point itself where that
    # overflows, any magnitude.
    from unittest import mock

    from meanshift._stages import merge
    from meanshift._stages.merge import SNAP_BITS, snap

    rng = np.random.default_rng(seed)
    P = rng.normal(size=(n, d)) * 10.0 ** rng.integers(-300, 300, size=(n, d))
    P[rng.random((n, d)) < 0.1] = -0.0
    with mock.patch.object(merge, "SNAP_COMPILED", 0 if compiled else 2**16):
        out = snap(P, radius)
    top = float(np.abs(P).max())
    top = math.ldexp(1.0, math.frexp(top)[1]) if top > 0 else 0.0
    grid = min(radius, top) * 2.0**-SNAP_BITS
    if not grid > 0:
        np.testing.assert_array_equal(out, P)
        return
    with np.errstate(over="ignore", invalid="ignore"):
        expect = np.rint(P / grid) * grid
    expect = np.where(np.isfinite(expect), expect, P)
    np.testing.assert_array_equal(out, expect)
