"""Shared paths in the Numba climb: a seed that lands on a position another climb stepped
from takes that climb's outcome.  The result must be the plain climb's, bit for bit
(ends, steps, convergence, densities), for every thread count, and sharing must happen
where it should (integer-valued data, flat kernel)."""

import logging

import numpy as np
import pytest

from meanshift import MeanShift
from meanshift._engines import get_engine
from meanshift._engines._numba import _paths
from meanshift._kernels import get_kernel


def _colours(step=4, image="china.jpg"):
    """The distinct colours of a photo bundled with scikit-learn (every ``step``-th
    pixel) and their counts: where climbs merge."""
    from sklearn.datasets import load_sample_image

    X = load_sample_image(image)[::step, ::step].reshape(-1, 3).astype(np.float64)
    colours, counts = np.unique(X, axis=0, return_counts=True)
    return colours, counts.astype(np.float64)


def _climb(X, w, h, share, *, kernel="flat", max_iter=300, n_jobs=None, sphere=False):
    engine = get_engine("numba", share_paths=share, n_jobs=n_jobs)
    bound = engine.bind(X, w, bandwidth=h, kernel=get_kernel(kernel), sphere=sphere)
    res = bound.climb(X, tol=1e-3, max_iter=max_iter)
    return res, bound.shared_paths


def _same(a, b):
    for field in ("modes", "n_iter", "converged", "density"):
        np.testing.assert_array_equal(getattr(a, field), getattr(b, field), err_msg=field)


@pytest.mark.parametrize("weighted", [False, True])
def test_shared_paths_give_the_plain_climb_bit_for_bit(weighted):
    X, w = _colours()
    w = w if weighted else None
    plain, none = _climb(X, w, 12.0, "never")
    shared, (followed, waves) = _climb(X, w, 12.0, "always")
    assert none is None
    _same(shared, plain)
    # Sharing happened, and on a large scale: most seeds followed another's path.
    assert followed > 0.5 * len(X) and waves > 3


@pytest.mark.parametrize("max_iter", [8, 20, 40])
def test_seeds_out_of_steps_keep_their_own_end(max_iter):
    """A seed may only take a path's outcome when its steps plus the path's remaining
    ones stay within max_iter; else its own climb stops on the way, unconverged."""
    X, w = _colours(6, "flower.jpg")
    plain, _ = _climb(X, w, 12.0, "never", max_iter=max_iter)
    shared, (followed, _) = _climb(X, w, 12.0, "always", max_iter=max_iter)
    assert not plain.converged.all()  # the rule is exercised
    assert followed > 0
    _same(shared, plain)


def test_lattice_on_the_boundary_and_threads():
    """An integer lattice at radius 1: every neighbour exactly on the flat boundary.
    One and two threads share the same paths and give the plain climb."""
    g = np.arange(18.0)
    X = np.stack(np.meshgrid(g, g, g[:8]), -1).reshape(-1, 3)
    X = np.concatenate([X, X[::5] + 0.5])
    plain, _ = _climb(X, None, 1.0, "never")
    one, stats1 = _climb(X, None, 1.0, "always", n_jobs=1)
    two, stats2 = _climb(X, None, 1.0, "always", n_jobs=2)
    _same(one, plain)
    _same(two, plain)
    assert stats1 == stats2


@pytest.mark.parametrize("kernel", ["gaussian", "epanechnikov"])
def test_other_kernels_are_exact_too(kernel):
    X, w = _colours(8)
    plain, _ = _climb(X, w, 12.0, "never", kernel=kernel, max_iter=50)
    shared, _ = _climb(X, w, 12.0, "always", kernel=kernel, max_iter=50)
    _same(shared, plain)


def test_on_the_sphere():
    rng = np.random.default_rng(4)
    X = np.round(rng.normal(0, 1, (3000, 3)) * 4) + np.array([9.0, 0.0, 0.0])
    X /= np.linalg.norm(X, axis=1, keepdims=True)
    plain, _ = _climb(X, None, 0.3, "never", sphere=True)
    shared, _ = _climb(X, None, 0.3, "always", sphere=True)
    _same(shared, plain)


def test_auto_shares_for_the_flat_kernel_with_many_seeds():
    X, w = _colours(8)
    assert len(X) > 2048
    assert _climb(X, w, 12.0, "auto")[1] is not None
    assert _climb(X[:1000], w[:1000], 12.0, "auto")[1] is None  # few seeds
    assert _climb(X, w, 12.0, "auto", kernel="gaussian", max_iter=5)[1] is None


def test_sharing_stops_where_it_does_not_pay():
    """Continuous data in 8 dimensions: climbs hardly ever repeat a position, so after
    the first waves every other seed climbs in one wave (and the answer is the same)."""
    rng = np.random.default_rng(5)
    X = rng.normal(0, 1, (6000, 8)) + 6 * rng.integers(0, 3, (6000, 1))
    plain, _ = _climb(X, None, 3.0, "never")
    shared, (_, waves) = _climb(X, None, 3.0, "always")
    _same(shared, plain)
    assert waves <= 3


def test_estimator_labels_and_centres_unchanged(caplog):
    from sklearn.datasets import load_sample_image

    X = load_sample_image("flower.jpg")[::5, ::5].reshape(-1, 3)
    a = MeanShift(bandwidth=10.0, engine_options={"share_paths": "never"}).fit(X)
    with caplog.at_level(logging.DEBUG, logger="meanshift"):
        b = MeanShift(bandwidth=10.0).fit(X)
    assert "followed a shared path" in caplog.text
    np.testing.assert_array_equal(a.cluster_centers_, b.cluster_centers_)
    np.testing.assert_array_equal(a.labels_, b.labels_)


def test_path_table_round_trip_growth_and_cap():
    rng = np.random.default_rng(7)
    table = _paths.PathTable(3, max_bytes=5000 * (8 * 3 + 32))  # 5000 positions
    n, steps = 600, 5
    buf = rng.integers(0, 50, (n, steps, 3)).astype(float)  # many repeated positions
    own = np.full(n, steps)
    n_iter = np.full(n, 9)
    converged = np.ones(n, bool)
    modes = np.zeros((n, 3))
    table.finish_wave(np.arange(n), np.full(n, -1), buf, own, modes, n_iter, converged,
                      np.zeros(n))
    distinct = {tuple(p) for p in buf.reshape(-1, 3)}
    assert table.m == min(len(distinct), 5000) and table.m > 1024  # grew past the start
    keys, ebits, erem = table.lookup_arrays()
    for j, i in [(0, 0), (17, 3), (599, 4)]:
        e = _paths.probe(keys, ebits, buf[j, i].copy().view(np.int64))
        assert e >= 0
        np.testing.assert_array_equal(table.epos[e], buf[j, i])
        # The first seed to record a position owns it: its remaining steps from there.
        first = next(q * steps + s for q in range(n) for s in range(steps)
                     if tuple(buf[q, s]) == tuple(buf[j, i]))
        assert erem[e] == 9 - first % steps
    assert _paths.probe(keys, ebits, np.array([0.5, 0.5, 0.5]).view(np.int64)) < 0
    # -0.0 and 0.0 are different bits: never confused, only ever missed.
    assert _paths.probe(keys, ebits, np.array([-0.0, 1e300, 0.0]).view(np.int64)) < 0


def test_waves_cover_every_seed_once():
    for n in (1, 5, 2048, 10_001):
        order, bounds = _paths.waves(n, 300, 3)
        assert sorted(order.tolist()) == list(range(n))
        assert bounds[0][0] == 0 and bounds[-1][1] == n
        assert all(b1[1] == b2[0] for b1, b2 in zip(bounds[:-1], bounds[1:], strict=True))
        for a, b in bounds:
            assert np.all(np.diff(order[a:b]) > 0)  # each wave in the seeds' own order


def test_invalid_option():
    with pytest.raises(ValueError, match="share_paths"):
        get_engine("numba", share_paths="sometimes")


def test_path_table_keeps_every_distinct_position_once_over_waves():
    # Many repeats, within a seed's own positions and across seeds and waves: every
    # distinct position is found, once, with the remaining steps of its first recorder;
    # the seeds that did not converge record nothing.
    rng = np.random.default_rng(11)
    table = _paths.PathTable(3)
    first = {}
    m_total = 0
    for wave in range(3):
        n, steps = 400, 6
        buf = rng.integers(0, 9, (n, steps, 3)).astype(float)
        own = rng.integers(0, steps + 1, n)
        n_iter = np.full(n, 20) + wave
        converged = rng.random(n) < 0.8
        table.finish_wave(np.arange(n), np.full(n, -1), buf, own, np.zeros((n, 3)), n_iter,
                          converged, np.zeros(n), waiting=(2 - wave) * n)
        for q in range(n):
            if converged[q]:
                for i in range(own[q]):
                    first.setdefault(tuple(buf[q, i]), n_iter[q] - i)
        m_total = len(first)
        assert table.m == m_total
    keys, ebits, erem = table.lookup_arrays()
    for pos, rem in first.items():
        e = _paths.probe(keys, ebits, np.array(pos).view(np.int64))
        assert e >= 0 and erem[e] == rem
        np.testing.assert_array_equal(table.epos[e], pos)
    assert len({tuple(p) for p in table.epos[:table.m]}) == table.m
