"""Numba engine specifics: threads, neighbour pruning, truncation, dtypes, auto choices,
basin absorption and the fast estimate_bandwidth.  (Agreement with the NumPy reference
on every kernel is in test_engines.py.)"""

import logging

import numpy as np
import pytest
from sklearn.cluster import estimate_bandwidth as sk_estimate_bandwidth

from meanshift import MeanShift, estimate_bandwidth
from meanshift._engines import get_engine
from meanshift._engines._numba._index import build_grid, choose_index
from meanshift._kernels import KERNELS
from meanshift._resolve import resolve_algorithm
from meanshift._stages import bandwidth as _bandwidth
from meanshift.datasets import make_blobs, six_blobs


@pytest.mark.parametrize("kernel,d,n", [("flat", 2, 3000), ("gaussian", 2, 3000),
                                        ("flat", 2, 40000), ("epanechnikov", 12, 3000)])
def test_results_do_not_depend_on_thread_count(kernel, d, n):
    # (40000 points: dense enough for whole-cell sums; 12-D: k-d tiles.)
    X, _, _ = make_blobs(n, d, centers=4, random_state=0)
    opts = dict(bandwidth=1.5 if d == 2 else 16.0, kernel=KERNELS[kernel], tol=1e-4,
                max_iter=200)
    step = n // 600
    one = get_engine("numba", n_jobs=1).climb(X[::step], X, None, **opts)
    eng = get_engine("numba", n_jobs=2)
    two = eng.climb(X[::step], X, None, **opts)
    if n > 10000:
        assert "whole cells summed" in eng.last_index[1]
    if d > 3:
        assert eng.last_index[0] == "tiles"
    np.testing.assert_array_equal(one.modes, two.modes)
    np.testing.assert_array_equal(one.density, two.density)
    np.testing.assert_array_equal(one.n_iter, two.n_iter)
    h = opts["bandwidth"]
    a = get_engine("numba", n_jobs=1).partial_sums(X[:50], X, None, h, KERNELS[kernel])
    b = get_engine("numba", n_jobs=2).partial_sums(X[:50], X, None, h, KERNELS[kernel])
    np.testing.assert_array_equal(a[0], b[0])


def test_flat_boundary_is_inclusive_on_a_lattice():
    # Integer lattice: many points at distance exactly h = 1 from each position.
    g = np.arange(12.0)
    X = np.array(np.meshgrid(g, g)).reshape(2, -1).T
    pos = X[::5]
    num, den = get_engine("numba").partial_sums(pos, X, None, 1.0, KERNELS["flat"])
    rnum, rden = get_engine("numpy").partial_sums(pos, X, None, 1.0, KERNELS["flat"])
    np.testing.assert_array_equal(den, rden)
    np.testing.assert_allclose(num, rnum, rtol=1e-14)
    assert rden.max() == 5  # the point itself and its four lattice neighbours


@pytest.mark.parametrize("d", [1, 2, 3, 5, 12])
def test_grid_and_brute_force_agree_with_reference(d):
    X, _, _ = make_blobs(2000, d, centers=3, random_state=d)
    kind, why = choose_index(len(X), X, 0.5)
    eng = get_engine("numba")
    pos = np.vstack([X[::40], X.max(axis=0) + 50.0])  # last one sees nothing
    num, den = eng.partial_sums(pos, X, None, 0.5, KERNELS["epanechnikov"])
    assert eng.last_index[0] == kind
    rnum, rden = get_engine("numpy").partial_sums(pos, X, None, 0.5, KERNELS["epanechnikov"])
    np.testing.assert_allclose(den, rden, rtol=1e-12, atol=1e-12)
    np.testing.assert_allclose(num, rnum, rtol=1e-12, atol=1e-10)
    assert den[-1] == 0


def test_grid_covers_its_data_and_caps_cells():
    X = np.random.default_rng(0).normal(size=(5000, 2)) * [100.0, 1.0]
    grid = build_grid(X, 0.01, max_cells=1000)
    assert grid.starts[-1] == len(X) and np.prod(grid.dims) <= 1000
    assert (grid.span >= 1).all() and sorted(grid.order.tolist()) == list(range(len(X)))


@pytest.mark.parametrize("fine", [1, 4])
def test_grid_cells_cover_the_radius_on_every_axis(fine):
    # Finer cells along the rows' axis: span cells of every axis still cover the radius,
    # and every point lies in the cell its coordinates name.
    X = np.random.default_rng(1).uniform(0, 10, size=(3000, 3))
    grid = build_grid(X, 1.5, span=2, fine=fine)
    side = 1.0 / grid.inv_cell
    assert np.all(grid.span * side >= 1.5)
    assert grid.span[2] >= fine * grid.span[0]
    ids = np.repeat(np.arange(np.prod(grid.dims)), np.diff(grid.starts))
    cells = np.floor((X[grid.order] - grid.lo) * grid.inv_cell).astype(np.int64)
    np.testing.assert_array_equal(np.ravel_multi_index(cells.T, grid.dims), ids)


def test_gaussian_truncation_weight_bound():
    X, _, _ = make_blobs(1500, 2, centers=3, cluster_std=2.0, random_state=2)
    radius = 2.0  # deliberately short, so the truncation shows
    eng = get_engine("numba", gaussian_radius=radius)
    pos = X[::50]
    num, den = eng.partial_sums(pos, X, None, 1.0, KERNELS["gaussian"])
    rnum, rden = get_engine("numpy").partial_sums(pos, X, None, 1.0, KERNELS["gaussian"])
    left_out = rden - den
    assert np.all(left_out >= 0)
    assert np.all(left_out <= len(X) * np.exp(-radius**2 / 2))
    # At the default radius the truncated engine is within the exact tolerance.
    full = get_engine("numba").partial_sums(pos, X, None, 1.0, KERNELS["gaussian"])[1]
    np.testing.assert_allclose(full, rden, rtol=1e-9)


def test_float32_input_stays_float32_and_keeps_the_answer():
    X, _, _ = make_blobs(800, 2, centers=3, random_state=5)
    X32 = X.astype(np.float32)
    ours = MeanShift(bandwidth=2.0, engine="numba").fit(X32)
    ref = MeanShift(bandwidth=2.0, engine="numpy").fit(X32.astype(np.float64))
    np.testing.assert_array_equal(ours.labels_, ref.labels_)
    np.testing.assert_allclose(ours.cluster_centers_, ref.cluster_centers_, atol=1e-6)
    from meanshift._engines._numba._index import as_data as _as_data

    assert _as_data(X32).dtype == np.float32 and _as_data(X32.astype(int)).dtype == np.float64


def test_auto_choices_are_stored_and_logged(caplog):
    X, _, _ = six_blobs()
    with caplog.at_level(logging.INFO, logger="meanshift"):
        ms = MeanShift(bandwidth=4.0).fit(X)
    assert ms.engine_ == "numba" and ms.algorithm_ == "standard"
    assert "engine=numba" in caplog.text and "algorithm=standard" in caplog.text
    assert resolve_algorithm("auto", 10**6, 2)[0] == "compressed"
    assert resolve_algorithm("auto", 10**6, 8)[0] == "checked"
    assert resolve_algorithm("auto", 10**6, 8, every_point=False)[0] == "standard"
    assert resolve_algorithm("auto", 1000, 2)[0] == "standard"
    assert resolve_algorithm("standard", 10**6, 2) == ("standard", "requested")


@pytest.mark.parametrize("engine", ["numba", "numpy"])
@pytest.mark.parametrize("kernel", ["flat", "gaussian"])
def test_basin_absorption_keeps_the_labels(engine, kernel, monkeypatch):
    from meanshift._pipeline import basin as _basin

    monkeypatch.setattr(_basin, "MIN_SEEDS", 0)
    X, _, _ = make_blobs(3000 if engine == "numba" else 600, 2, centers=5, random_state=11)
    h = 1.5 if kernel == "flat" else 0.8
    std = MeanShift(bandwidth=h, kernel=kernel, engine=engine, algorithm="standard").fit(X)
    basin = MeanShift(bandwidth=h, kernel=kernel, engine=engine, algorithm="basin").fit(X)
    np.testing.assert_array_equal(basin.labels_, std.labels_)
    np.testing.assert_allclose(basin.cluster_centers_, std.cluster_centers_, atol=0.05 * h)
    assert basin.n_converged_ == basin.n_seeds_


def test_estimate_bandwidth_sampled_matches_exact(monkeypatch):
    monkeypatch.setattr(_bandwidth, "EXACT_MAX_SAMPLES", 1000)
    monkeypatch.setattr(_bandwidth, "N_REFERENCE", 4000)
    monkeypatch.setattr(_bandwidth, "N_QUERIES", 1500)
    rng = np.random.default_rng(1)
    for X in (make_blobs(4000, 2, centers=5, random_state=0)[0], rng.uniform(size=(4000, 3))):
        for q in (0.1, 0.3):
            exact = sk_estimate_bandwidth(X, quantile=q)
            assert estimate_bandwidth(X, quantile=q) == pytest.approx(exact, rel=0.05)


def test_vectorised_exp_matches_numpy():
    from numba import njit

    from meanshift._kernels import fast_exp as _exp

    @njit
    def many(u):
        out = np.empty_like(u)
        for i in range(u.size):
            out[i] = _exp(u[i])
        return out

    u = -np.concatenate([np.linspace(0.0, 50.0, 200001), np.geomspace(1e-12, 700.0, 10001)])
    rel = np.abs(many(u) - np.exp(u)) / np.exp(u)
    assert rel.max() < 2e-15
    assert many(np.array([-700.0]))[0] == pytest.approx(np.exp(-700.0), rel=1e-14)
    assert many(np.array([-700.5, -800.0, -1e300])).tolist() == [0.0, 0.0, 0.0]


@pytest.mark.parametrize("d", [1, 2, 3])
@pytest.mark.parametrize("weighted", [False, True])
def test_whole_cells_of_the_flat_kernel_agree_with_reference(d, weighted):
    # Dense data: many points per cell, so that the grid is fine and the cells inside a
    # ball are added as wholes; lattice points sit exactly on ball boundaries.
    rng = np.random.default_rng(d)
    n = {1: 20000, 2: 60000, 3: 60000}[d]
    X = np.vstack([rng.normal(size=(n, d)), np.indices((5,) * d).reshape(d, -1).T - 2.0])
    w = rng.uniform(0.5, 2.0, size=len(X)) if weighted else None
    pos = np.vstack([X[::997], np.zeros((1, d)), np.full((1, d), 0.5)])
    eng = get_engine("numba")
    num, den = eng.partial_sums(pos, X, w, 1.0, KERNELS["flat"])
    assert "whole cells summed" in eng.last_index[1]
    rnum, rden = get_engine("numpy").partial_sums(pos, X, w, 1.0, KERNELS["flat"])
    np.testing.assert_allclose(den, rden, rtol=1e-12)
    np.testing.assert_allclose(num, rnum, rtol=1e-10, atol=1e-9)
    if not weighted:
        np.testing.assert_array_equal(den, rden)  # counts: exactly the same points


def test_tile_order_is_a_permutation_into_small_tiles():
    from meanshift._engines._numba._index import tile_order

    X = np.random.default_rng(0).normal(size=(1000, 7))
    X[:300] = 0.0  # ties: many identical rows
    order, nodes = tile_order(X, leaf=50)
    nodes = nodes.reshape(-1, 4)
    assert sorted(order.tolist()) == list(range(len(X)))
    assert tuple(nodes[0, :2]) == (0, len(X))
    leaves = nodes[nodes[:, 2] < 0]
    # The leaves, in preorder, tile the data in order, each with 1 to 50 points.
    assert leaves[0, 0] == 0 and leaves[-1, 1] == len(X)
    np.testing.assert_array_equal(leaves[1:, 0], leaves[:-1, 1])
    assert np.all(np.diff(leaves[:, :2], axis=1) >= 1)
    assert np.all(np.diff(leaves[:, :2], axis=1) <= 50)
    # Every inner node is split into its two children.
    inner = nodes[nodes[:, 2] >= 0]
    np.testing.assert_array_equal(nodes[inner[:, 2], 0], inner[:, 0])
    np.testing.assert_array_equal(nodes[inner[:, 3], 1], inner[:, 1])
    np.testing.assert_array_equal(nodes[inner[:, 2], 1], nodes[inner[:, 3], 0])


def test_tile_queries_cost_log_n_not_n():
    # 60 tight clusters spread over a 16-D cube: the radius spans most of every axis (a
    # grid on three axes cannot prune), yet each query's ball holds one cluster.  The
    # tree of tiles visits a few tiles per query; a test per tile would be 235 per query.
    rng = np.random.default_rng(0)
    centres = rng.uniform(0, 10, size=(60, 16))
    X = np.repeat(centres, 500, axis=0) + rng.normal(scale=0.1, size=(30_000, 16))
    eng = get_engine("numba", matmul="never")  # the index (auto takes products here)
    num, den = eng.partial_sums(X[::150], X, None, 6.0, KERNELS["flat"])
    assert eng.last_index[0] == "tiles"
    assert eng.pairs < 200 * 30_000 / 4  # points read: a small share of all
    rnum, rden = get_engine("numpy").partial_sums(X[::150], X, None, 6.0, KERNELS["flat"])
    np.testing.assert_array_equal(den, rden)


@pytest.mark.parametrize("kernel", list(KERNELS))
@pytest.mark.parametrize("weighted", [False, True])
def test_tiles_agree_with_reference(kernel, weighted):
    # 16-D blobs far apart: a grid on three axes would not prune, tiles do.
    X, _, _ = make_blobs(3000, 16, centers=6, cluster_std=1.0, random_state=3)
    w = np.random.default_rng(1).uniform(0.1, 3.0, len(X)) if weighted else None
    h = 16.0  # the blobs span 14 to 28 along each feature
    # (the gaussian reaches every point here: "auto" would take matrix products)
    eng = get_engine("numba", matmul="never")
    pos = np.vstack([X[::61], X.mean(axis=0)])
    num, den = eng.partial_sums(pos, X, w, h, KERNELS[kernel])
    assert eng.last_index[0] == "tiles"
    if kernel != "gaussian":  # (the gaussian's cutoff, 7 h, reaches everything here)
        assert eng.pairs < 0.6 * len(pos) * len(X)  # the bounding balls pruned
    rnum, rden = get_engine("numpy").partial_sums(pos, X, w, h, KERNELS[kernel])
    np.testing.assert_allclose(den, rden, rtol=1e-9, atol=1e-12)
    np.testing.assert_allclose(num, rnum, rtol=1e-9, atol=1e-9)
    opts = dict(bandwidth=h, kernel=KERNELS[kernel], tol=1e-4, max_iter=100)
    ours = eng.climb(X[::50], X, w, **opts)
    ref = get_engine("numpy").climb(X[::50], X, w, **opts)
    np.testing.assert_allclose(ours.modes, ref.modes, atol=1e-5 * h)


def test_auto_bandwidth_default_engine_gives_the_reference_answer():
    from meanshift import auto_bandwidth

    X, _, _ = make_blobs(5000, 2, centers=4, random_state=4)
    fast = auto_bandwidth(X, return_profile=True)
    ref = auto_bandwidth(X, engine="numpy", return_profile=True)
    assert fast[0] == pytest.approx(ref[0], rel=1e-12)
    np.testing.assert_array_equal(fast[1][1], ref[1][1])
    # float32 rows are other numbers, so another (content-keyed) sample: a close answer.
    assert auto_bandwidth(X.astype(np.float32)) == pytest.approx(fast[0], rel=0.2)


def test_gaussian_with_no_truncation_sees_nothing_far_away():
    X, _, _ = make_blobs(500, 2, centers=2, random_state=0)
    far = X.max(axis=0) + 100.0  # 100 bandwidths: exp(-5000) is 0 in float64
    eng = get_engine("numba", gaussian_radius=1e6)
    num, den = eng.partial_sums(np.vstack([far, X[:1]]), X, None, 1.0, KERNELS["gaussian"])
    rnum, rden = get_engine("numpy").partial_sums(np.vstack([far, X[:1]]), X, None, 1.0,
                                                  KERNELS["gaussian"])
    assert den[0] == 0.0 and rden[0] == 0.0
    np.testing.assert_allclose(den[1], rden[1], rtol=1e-12)


@pytest.mark.parametrize("n,k", [(600, 7.0), (600, 3.0), (11, 4.0), (10, 20.0), (300, 7.5)])
def test_knn_scale_unit_mass_shortcut_matches_the_weighted_rule(n, k):
    # Unit masses take a partition shortcut; doubling every mass and k must give the
    # same scale through the general, weighted path.
    S = np.random.default_rng(n).normal(size=(n, 3))
    fast = _bandwidth._knn_scale(S, np.ones(n), k)
    assert fast == _bandwidth._knn_scale(S, np.full(n, 2.0), 2 * k)
