"""Lattice data and the flat kernel's boundary (the boundary rule of meanshift._kernels).

On a lattice (integer features, pixel coordinates, multiples of 0.1) many points lie
exactly one bandwidth from a position, where rounding would decide.  The rule
(``d2 <= h**2 * EDGE``) makes every engine take the same decision, the one exact
arithmetic takes, so that:

* a decimal lattice (spacing 0.1, 0.3, 0.01, ...) gives the clusters that scikit-learn
  gives on the same lattice scaled to integers, where its own arithmetic is exact (on the
  decimal lattice scikit-learn's answer depends on the order of the rows: see
  ``test_scikit_learn_itself_depends_on_row_order_on_a_decimal_lattice``);
* every engine gives the same centres, bit for bit, and the same labels;
* permuting the rows changes nothing.
"""

import itertools

import numpy as np
import pytest
from hypothesis import given
from hypothesis import strategies as st
from sklearn.cluster import MeanShift as SkMeanShift

from meanshift import MeanShift
from meanshift._engines import get_engine
from meanshift._kernels import EDGE, KERNELS, reach2


def lattice(shape, spacing):
    axes = [np.arange(s) * spacing for s in shape]
    return np.stack([g.ravel() for g in np.meshgrid(*axes, indexing="ij")], axis=1)


def _engines():
    out = ["numpy", "numba"]
    try:
        import torch  # noqa: F401

        out.append("torch")
    except ImportError:
        pass
    return out


ENGINES = _engines()


def _fit(X, h, engine="numba", **kw):
    opts = {"dtype": "float64"} if engine == "torch" else None
    return MeanShift(bandwidth=h, engine=engine, engine_options=opts, **kw).fit(X)


def _assert_like_sklearn(ours, sk, X_int, scale, h_int):
    """Our fit on the lattice ``X_int * scale`` against scikit-learn's on ``X_int``:
    the same centres (up to the merge's rounding, 1.5e-8 radii), and the same labels
    except at points equidistant from two centres (scikit-learn breaks those ties by the
    order of its k-d tree, we by density)."""
    C, S = ours.cluster_centers_ / scale, sk.cluster_centers_
    assert C.shape == S.shape
    gap = np.abs(C[:, None, :] - S[None, :, :]).max(axis=2)
    match = gap.argmin(axis=1)
    assert np.unique(match).size == len(S)
    assert gap.min(axis=1).max() <= 1e-7 * h_int
    ours_labels = match[ours.labels_]
    for i in np.flatnonzero(ours_labels != sk.labels_):
        a = ((X_int[i] - S[ours_labels[i]]) ** 2).sum()
        b = ((X_int[i] - S[sk.labels_[i]]) ** 2).sum()
        assert abs(a - b) <= 1e-9 * h_int**2, (i, a, b)


CASES = [((12, 12), 1.0), ((12, 12), 2.0), ((12, 12), 1.5), ((40,), 1.0), ((30,), 2.5),
         ((5, 5, 5), 1.0), ((9, 9), 3.0)]


@pytest.mark.parametrize(("shape", "k"), CASES)
@pytest.mark.parametrize("spacing", [0.1, 0.3, 0.01, 7.0])
def test_decimal_lattice_gives_scikit_learns_integer_answer(shape, k, spacing):
    X_int = lattice(shape, 1.0)
    sk = SkMeanShift(bandwidth=k).fit(X_int)
    X = lattice(shape, spacing)
    for engine in ENGINES:
        _assert_like_sklearn(_fit(X, k * spacing, engine), sk, X_int, spacing, k)


@pytest.mark.parametrize(("shape", "k"), CASES[:4])
def test_engines_agree_bit_for_bit_on_a_decimal_lattice(shape, k):
    X = lattice(shape, 0.1)
    ref = _fit(X, k * 0.1, "numpy")
    for engine in ENGINES[1:]:
        got = _fit(X, k * 0.1, engine)
        np.testing.assert_array_equal(got.cluster_centers_, ref.cluster_centers_)
        np.testing.assert_array_equal(got.labels_, ref.labels_)


def test_dask_input_agrees_bit_for_bit_on_a_decimal_lattice():
    da = pytest.importorskip("dask.array")
    X = lattice((12, 12), 0.1)
    ref = _fit(X, 0.1, "numpy")
    got = MeanShift(bandwidth=0.1).fit(da.from_array(X, chunks=50))
    np.testing.assert_array_equal(got.cluster_centers_, ref.cluster_centers_)
    np.testing.assert_array_equal(np.asarray(got.labels_), ref.labels_)


def test_row_order_does_not_matter_on_a_decimal_lattice():
    X = lattice((12, 12), 0.1)
    ref = _fit(X, 0.1)
    for seed in range(3):
        perm = np.random.default_rng(seed).permutation(len(X))
        got = _fit(X[perm], 0.1)
        np.testing.assert_array_equal(got.cluster_centers_, ref.cluster_centers_)
        np.testing.assert_array_equal(got.labels_, ref.labels_[perm])


def test_scikit_learn_itself_depends_on_row_order_on_a_decimal_lattice():
    # Why the comparison above is with the integer lattice: on the 0.1 lattice,
    # scikit-learn's count of clusters changes with the order of the rows (38, 39, 36,
    # 37 for these orders), because its sums round differently.  The exact answer is 68.
    X = lattice((12, 12), 0.1)
    counts = set()
    for seed in range(4):
        perm = np.random.default_rng(seed).permutation(len(X))
        counts.add(len(SkMeanShift(bandwidth=0.1).fit(X[perm]).cluster_centers_))
    assert len(counts) > 1
    assert len(_fit(X, 0.1).cluster_centers_) == len(
        SkMeanShift(bandwidth=1.0).fit(lattice((12, 12), 1.0)).cluster_centers_) == 68


@pytest.mark.parametrize("engine", ENGINES)
def test_partial_sums_count_the_points_at_exactly_one_bandwidth(engine):
    # 0.3 - 0.2 is a hair below 0.1 and 0.2000000000000001 - 0.1 a hair above: both in.
    X = lattice((12, 12), 0.1)
    pos = X[[13, 50, 77]]  # interior points: themselves and four neighbours
    opts = {"dtype": "float64"} if engine == "torch" else {}
    _, den = get_engine(engine, **opts).partial_sums(pos, X, None, 0.1, KERNELS["flat"])
    np.testing.assert_array_equal(den, [5, 5, 5])


def test_orphans_and_merge_use_the_same_rule():
    # Two points exactly one bandwidth (0.1) apart in decimal: one cluster with
    # merge_radius = bandwidth; an orphan test at exactly the reach keeps the point.
    X = np.array([[0.2, 0.0], [0.3, 0.0], [0.2, 0.0], [0.3, 0.0]])
    m = _fit(X, 0.1)
    assert len(m.cluster_centers_) == 1
    m = MeanShift(bandwidth=0.05, cluster_all=False, seeds=[[0.25, 0.0]]).fit(X)
    assert (m.labels_ == 0).all()  # every point at exactly 0.05 from the centre


def test_ties_in_the_nearest_centre_go_to_the_first():
    X = np.array([[0.1], [0.2], [0.3]])
    centers = np.array([[0.3], [0.1]])  # 0.2 is equidistant, up to rounding
    for engine in ENGINES:
        opts = {"dtype": "float64"} if engine == "torch" else {}
        idx, _ = get_engine(engine, **opts).nearest(X, centers)
        assert idx.tolist() == [1, 0, 0], engine


def test_image_kernels_follow_the_rule():
    # An integer grey ramp with the spatial radius equal to the pixel spacing: the four
    # neighbours of a pixel lie exactly on the boundary of the joint domain (same grey).
    # The image climb (float32) counts them, like the reference engine on the same
    # joint-domain points.
    from meanshift.image._climb import climb_pixels3

    img = np.zeros((6, 6))
    img[:, 3:] = 3.0  # two flat regions
    h_s, h_r = 1.0, 2.5
    planes = np.zeros((3, img.size), dtype=np.float32)
    planes[0] = (img.ravel() / h_r).astype(np.float32)
    modes, _ = climb_pixels3(planes, np.array([1, 6, 6]), np.array([1.0, 1 / h_s, 1 / h_s]),
                             0, 1.0, 1e-6, 100, 1, 0.0)
    yy, xx = np.mgrid[0:6, 0:6]
    joint = np.stack([yy.ravel() / h_s, xx.ravel() / h_s, img.ravel() / h_r], axis=1)
    res = get_engine("numpy").bind(joint, None, bandwidth=1.0, kernel=KERNELS["flat"]).climb(
        joint, tol=1e-6, max_iter=100)
    got = np.stack([modes[:, 1], modes[:, 2], modes[:, 3]], axis=1)
    np.testing.assert_allclose(got, res.modes, atol=1e-5)


def test_the_rule_in_numbers():
    assert EDGE == 1 + 2.0**-30
    # A point at exactly one bandwidth by decimal arithmetic, either side by rounding.
    for a, b in [(0.3, 0.2), (0.2000000000000001, 0.1)]:
        assert (a - b) ** 2 <= reach2(0.1)
    assert 0.1000001**2 > reach2(0.1)


@st.composite
def lattices(draw):
    d = draw(st.integers(1, 3))
    sizes = [draw(st.integers(2, {1: 30, 2: 9, 3: 5}[d])) for _ in range(d)]
    spacing = draw(st.sampled_from([0.1, 0.2, 0.3, 0.05, 0.7, 1.0, 3.0]))
    k = draw(st.sampled_from([1.0, 1.5, 2.0, 2.5]))
    keep_seed = draw(st.integers(0, 2**16))
    X_int = lattice(sizes, 1.0)
    keep = np.random.default_rng(keep_seed).random(len(X_int)) < 0.8
    if keep.sum() < 2:
        keep[:2] = True
    return X_int[keep], spacing, k


@given(lattices())
def test_random_lattices_match_scikit_learn_and_every_engine(p):
    X_int, spacing, k = p
    X = X_int * spacing if spacing in (1.0, 3.0) else np.round(X_int * spacing, 10)
    sk = SkMeanShift(bandwidth=k).fit(X_int)
    ref = _fit(X, k * spacing, "numpy")
    _assert_like_sklearn(ref, sk, X_int, spacing, k)
    got = _fit(X, k * spacing, "numba")
    np.testing.assert_array_equal(got.cluster_centers_, ref.cluster_centers_)
    np.testing.assert_array_equal(got.labels_, ref.labels_)


def test_duplicated_lattice_rows_equal_weights():
    X = lattice((8, 8), 0.1)
    twice = _fit(np.vstack([X, X]), 0.1)
    weighted = MeanShift(bandwidth=0.1).fit(X, sample_weight=np.full(len(X), 2.0))
    np.testing.assert_array_equal(twice.cluster_centers_, weighted.cluster_centers_)
    assert list(itertools.islice(twice.labels_, len(X))) == weighted.labels_.tolist()


def test_the_image_climb_applies_the_float32_slack():
    # Two pixels one spatial bandwidth apart: the second is inside the flat kernel when
    # its colour puts it within the float32 slack of the boundary (u2 = 1 + 1e-6, far
    # above float32 rounding), outside beyond it (u2 = 1 + 1e-3).
    from meanshift._kernels import EDGE32
    from meanshift.image._climb import climb_pixels3

    for dc, inside in ((1e-3, True), (0.0317, False)):
        assert (1 + dc * dc <= EDGE32) is inside
        planes = np.zeros((3, 2), dtype=np.float32)
        planes[0, 1] = dc
        modes, _ = climb_pixels3(planes, np.array([1, 1, 2]), np.array([1.0, 1.0, 1.0]), 0,
                                 1.0, 1e-6, 10, 1, 0.0)
        assert modes[0, 2] == pytest.approx(0.5 if inside else 0.0)
