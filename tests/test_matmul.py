"""The Numba engine's matrix-product path (many features): the reference's answer.

Every pair's weight is computed through ``|p|^2 + |x|^2 - 2 p.x`` by the BLAS; pairs near
the flat boundary are recomputed as the reference computes them, so lattice data give
the reference's decisions exactly (tests below would fail without that recomputation).
"""

import logging
import math

import numpy as np
import pytest

from meanshift import MeanShift
from meanshift._engines import get_engine
from meanshift._engines._numba import _engine as numba_engine
from meanshift._engines._numba._matmul import blas_usable
from meanshift._kernels import KERNELS, get_kernel
from meanshift.datasets import make_blobs, make_vmf


def _pair(kernel, X, w, h, positions):
    ref = get_engine("numpy").bind(X, w, bandwidth=h, kernel=get_kernel(kernel))
    mm = get_engine("numba", matmul="always").bind(X, w, bandwidth=h, kernel=get_kernel(kernel))
    assert mm.blas is not None
    return ref.partial_sums(positions), mm.partial_sums(positions)


@pytest.mark.parametrize("kernel", sorted(KERNELS))
@pytest.mark.parametrize("weighted", [False, True])
@pytest.mark.parametrize("dtype", [np.float64, np.float32])
def test_partial_sums_match_the_reference(kernel, weighted, dtype):
    X, _, _ = make_blobs(700, 24, centers=4, cluster_std=1.0, random_state=1)
    X = (X + 50.0).astype(dtype)  # off the origin: the products are centred
    w = np.random.default_rng(0).uniform(0.2, 3.0, len(X)) if weighted else None
    h = 6.0
    (num, den), (num2, den2) = _pair(kernel, X, w, h, X[::7].astype(np.float64))
    np.testing.assert_allclose(den2, den, rtol=1e-9, atol=1e-12)
    np.testing.assert_allclose(num2, num, rtol=1e-9, atol=1e-9)


@pytest.mark.parametrize("kernel", ["flat", "epanechnikov", "triangular"])
def test_lattice_boundary_decided_as_the_reference(kernel):
    """Integer lattice in 16-D at radius 1: every neighbour lies exactly on the
    boundary, where the products' rounding alone would decide either way."""
    rng = np.random.default_rng(3)
    X = rng.integers(0, 3, size=(600, 16)).astype(np.float64) * 0.1 + 7.3
    (num, den), (num2, den2) = _pair(kernel, X, None, 0.1, X[:200])
    np.testing.assert_array_equal(den2 > 0, den > 0)
    np.testing.assert_allclose(den2, den, rtol=1e-12, atol=1e-12)
    np.testing.assert_allclose(num2, num, rtol=1e-12)


def test_fits_equal_the_reference_and_do_not_depend_on_threads():
    X, _, _ = make_vmf(1500, 64, centers=5, kappa=150.0, random_state=2)
    ref = MeanShift(bandwidth=0.6, engine="numpy").fit(X)
    fits = [MeanShift(bandwidth=0.6, n_jobs=j, engine_options={"matmul": "always"}).fit(X)
            for j in (1, 2)]
    for m in fits:
        np.testing.assert_array_equal(m.labels_, ref.labels_)
        np.testing.assert_allclose(m.cluster_centers_, ref.cluster_centers_, atol=1e-9)
    np.testing.assert_array_equal(fits[0].seed_modes_, fits[1].seed_modes_)


def test_auto_takes_products_where_the_index_cannot_prune(caplog):
    X, _, _ = make_vmf(6000, 128, centers=4, kappa=256.0, random_state=0)
    eng = get_engine("numba")
    with caplog.at_level(logging.INFO, logger="meanshift"):
        b = eng.bind(X, None, bandwidth=1.0, kernel=get_kernel("flat"))
    assert b.blas is not None and eng.last_index[0] == "matmul"
    assert "matrix products" in caplog.text
    # Separated blobs: the index prunes, no products.
    B, _, _ = make_blobs(6000, 32, centers=10, random_state=0)
    assert eng.bind(B, None, bandwidth=3.0, kernel=get_kernel("flat")).blas is None
    # Few features: never.
    assert eng.bind(X[:, :8], None, bandwidth=1.0, kernel=get_kernel("flat")).blas is None
    assert numba_engine.BLAS_MIN_FEATURES > 8


def test_tiny_bandwidths_keep_the_exact_loops():
    X, _, _ = make_blobs(300, 32, centers=3, random_state=0)
    ok, why = blas_usable(X, 1e-5)
    assert not ok and "too small" in why
    b = get_engine("numba", matmul="always").bind(X, None, bandwidth=1e-5,
                                                  kernel=get_kernel("flat"))
    assert b.blas is None


def test_matmul_option_is_checked():
    with pytest.raises(ValueError, match="'matmul' option must be 'auto', 'always' or "
                                         "'never'; got 'yes'"):
        get_engine("numba", matmul="yes")


# -- neighbour lists with a skin (the climb's steps on the product path) ----------------
def _climbs(X, w, h, kernel, seeds, **options):
    return get_engine("numba", matmul="always", **options).climb(
        seeds, X, w, bandwidth=h, kernel=get_kernel(kernel), tol=1e-4, max_iter=300)


@pytest.mark.parametrize("kernel", ["flat", "epanechnikov", "triangular"])
@pytest.mark.parametrize("weighted", [False, True])
@pytest.mark.parametrize("skin, offset", [(0.05, 3.0), (0.5, 3.0), (0.5, 3.1)])
def test_neighbour_lists_climb_as_the_products_and_the_reference(kernel, weighted, skin,
                                                                  offset, monkeypatch, caplog):
    # Offsets 3.0 (every value a float32: the steps read the float32 rows) and 3.1 (not:
    # the centred float32 copy, and the data for the sums).
    from sklearn.datasets import load_digits

    from meanshift._engines._numba import _lists

    X = load_digits().data[:700] + offset
    w = np.random.default_rng(5).uniform(0.5, 2.0, len(X)) if weighted else None
    seeds = X[::4]
    plain = _climbs(X, w, 25.0, kernel, seeds, neighbour_lists="never")
    monkeypatch.setattr(_lists, "SKIN", skin)  # 0.05: a new list at almost every step
    with caplog.at_level(logging.DEBUG, logger="meanshift"):
        listed = _climbs(X, w, 25.0, kernel, seeds)
    assert "neighbour lists with a skin of" in caplog.text
    np.testing.assert_array_equal(listed.n_iter, plain.n_iter)
    np.testing.assert_array_equal(listed.converged, plain.converged)
    np.testing.assert_allclose(listed.modes, plain.modes, rtol=0, atol=1e-9)
    np.testing.assert_allclose(listed.density, plain.density, rtol=1e-12)
    ref = get_engine("numpy").climb(seeds, X, w, bandwidth=25.0, kernel=get_kernel(kernel),
                                    tol=1e-4, max_iter=300)
    np.testing.assert_array_equal(listed.n_iter, ref.n_iter)
    np.testing.assert_allclose(listed.modes, ref.modes, rtol=0, atol=1e-8)


def test_neighbour_lists_sum_a_position_met_again_once(monkeypatch):
    """Steps that land on a position met before in the climb (the flat kernel's climbs
    join) take its sums from the memo: the same climbs, bit for bit, with fewer sums.
    A memo with room for a few entries sums the rest directly."""
    from sklearn.datasets import load_digits

    from meanshift._engines._numba import _lists

    X = load_digits().data.astype(np.float64)
    plain = _climbs(X, None, 25.0, "flat", X, neighbour_lists="never")
    climbs, memos = [], []
    for room in (_lists.MEMO_BYTES, 6000):
        monkeypatch.setattr(_lists, "MEMO_BYTES", room)
        bound = get_engine("numba", matmul="always").bind(X, None, bandwidth=25.0,
                                                          kernel=get_kernel("flat"))
        climbs.append(bound.climb(X, tol=1e-4, max_iter=300))
        memos.append(bound._lists.memo)
    for listed in climbs:
        np.testing.assert_array_equal(listed.n_iter, plain.n_iter)
        np.testing.assert_allclose(listed.modes, plain.modes, rtol=0, atol=1e-9)
        np.testing.assert_array_equal(listed.modes, climbs[0].modes)
        np.testing.assert_array_equal(listed.density, climbs[0].density)
    # digits: about 9 700 sums for 16 000 steps; then a memo of 5 entries, full.
    assert 0 < memos[0].size < 0.7 * plain.n_iter.sum()
    assert memos[1].size == len(memos[1].den) == 6000 // ((2 * 64 + 1) * 8)


@pytest.mark.parametrize("h", [0.1, 0.2])
@pytest.mark.parametrize("step, offset", [(0.1, 7.3), (0.5, 7.0)])
def test_neighbour_lists_on_a_lattice_decide_the_boundary_as_the_reference(
        h, step, offset, monkeypatch, caplog):
    """A lattice of step 0.1 in 12-D: at radius 0.1 every neighbour lies exactly on the
    boundary; at 0.2 so do those four steps away, a sum of four squares whose rounding
    depends on the order.  The lists' distances are vectorised (in float32); the
    boundary is decided as the reference decides it.  A lattice of step 0.5 (every
    value a float32) at five times the radii: the same."""
    h = h * step / 0.1
    from meanshift._engines._numba import _lists

    monkeypatch.setattr(_lists, "SKIN", 0.05)  # short lists
    monkeypatch.setattr(_lists, "MAX_SHARE", 0.25)  # a pilot accepts them at h = 0.2
    rng = np.random.default_rng(3)
    X = rng.integers(0, 2, size=(1000, 12)).astype(np.float64) * step + offset
    with caplog.at_level(logging.DEBUG, logger="meanshift"):
        listed = _climbs(X, None, h, "flat", X[:300])
    assert "neighbour lists with a skin of" in caplog.text
    ref = get_engine("numpy").climb(X[:300], X, None, bandwidth=h, kernel=get_kernel("flat"),
                                    tol=1e-4, max_iter=300)
    assert (ref.density > 1).mean() > 0.3  # neighbours on the boundary, not just itself
    np.testing.assert_array_equal(listed.density, ref.density)
    np.testing.assert_array_equal(listed.n_iter, ref.n_iter)
    np.testing.assert_allclose(listed.modes, ref.modes, rtol=0, atol=1e-12)


def test_neighbour_lists_by_column_chunks(monkeypatch):
    # Lists made from products of a few points at a time (bounded memory on large data)
    # hold the same points, in order.
    from sklearn.datasets import load_digits

    from meanshift._engines._numba import _lists

    X = load_digits().data[:700]
    whole = _climbs(X, None, 25.0, "flat", X[::3])
    monkeypatch.setattr(_lists, "COLUMNS", 97)
    chunked = _climbs(X, None, 25.0, "flat", X[::3])
    np.testing.assert_array_equal(chunked.modes, whole.modes)
    np.testing.assert_array_equal(chunked.n_iter, whole.n_iter)
    # The float32 copy of the data made chunk by chunk instead of kept.
    from meanshift._engines._numba import _matmul

    monkeypatch.setattr(_matmul, "COPY_BYTES", 0)
    uncopied = _climbs(X, None, 25.0, "flat", X[::3])
    np.testing.assert_array_equal(uncopied.modes, whole.modes)
    np.testing.assert_array_equal(uncopied.n_iter, whole.n_iter)


@pytest.mark.parametrize("settings, message", [
    (["MAX_SHARE"], "no neighbour lists"),
    (["FLAT_LIST_BYTES", "FLAT_LARGE_SHARE"], "products cost less"),
    (["LIST_BYTES"], "neighbour lists stopped")])
def test_neighbour_lists_give_way_to_products(settings, message, monkeypatch, caplog):
    # Lists that would hold too much of the data (a pilot decides) or take too much
    # memory: the climb goes on by plain products, with the same result.
    from sklearn.datasets import load_digits

    from meanshift._engines._numba import _lists

    X = load_digits().data[:500]
    plain = _climbs(X, None, 25.0, "flat", X, neighbour_lists="never")
    for setting in settings:
        monkeypatch.setattr(_lists, setting, 0)
    with caplog.at_level(logging.DEBUG, logger="meanshift"):
        listed = _climbs(X, None, 25.0, "flat", X)
    assert message in caplog.text
    np.testing.assert_array_equal(listed.n_iter, plain.n_iter)
    np.testing.assert_array_equal(listed.modes, plain.modes)


def test_flat_lists_give_way_to_tiled_products(caplog):
    # Data over 2 MiB (6000 x 64), many clusters: a pilot's lists hold 2.4 % of the data,
    # under FLAT_LARGE_SHARE, but the tiles cut the products to 5 % of all pairs: the
    # lists must be shorter than 4 % of that share, so the climb takes the tiled
    # products (a choice that was 3.7x slower with lists at 2 x 10^4 rows); the index's
    # labels and centres either way.
    X, _ = _separated(6000, 64, centers=20, offset=0.0)
    h = 0.8 * math.sqrt(2 * 64)
    with caplog.at_level(logging.DEBUG, logger="meanshift"):
        fit = MeanShift(bandwidth=h).fit(X)
    assert _used_tiles(caplog)
    assert "of the share they multiply" in caplog.text
    assert "neighbour lists with a skin" not in caplog.text
    index = MeanShift(bandwidth=h, engine_options={"matmul": "never"}).fit(X)
    np.testing.assert_array_equal(fit.labels_, index.labels_)
    np.testing.assert_allclose(fit.cluster_centers_, index.cluster_centers_, atol=1e-9)


def test_neighbour_lists_climb_in_batches_that_fit(monkeypatch, caplog):
    # Where every seed's list together would outgrow the memory limit, the seeds climb
    # in batches (sized from a pilot, then from the longest list seen): the same climbs,
    # and the progress counts the seeds of every batch.
    from sklearn.datasets import load_digits

    from meanshift._engines._numba import _lists

    X = load_digits().data[:600]
    plain = _climbs(X, None, 25.0, "flat", X, neighbour_lists="never")
    monkeypatch.setattr(_lists, "LIST_BYTES", 64 * 4 * 600)  # 64 full lists: batches
    seen = []
    with caplog.at_level(logging.DEBUG, logger="meanshift"):
        listed = get_engine("numba", matmul="always").climb(
            X, X, None, bandwidth=25.0, kernel=get_kernel("flat"), tol=1e-4, max_iter=300,
            callback=lambda p: seen.append((p.done, p.total)))
    batches = [line for line in caplog.text.splitlines() if "climb as a batch" in line]
    assert len(batches) >= 2
    np.testing.assert_array_equal(listed.n_iter, plain.n_iter)
    np.testing.assert_array_equal(listed.converged, plain.converged)
    np.testing.assert_array_equal(listed.density, plain.density)
    np.testing.assert_allclose(listed.modes, plain.modes, rtol=0, atol=1e-9)
    done = [d for d, _ in seen]
    assert done == sorted(done) and done[-1] == len(X) and {t for _, t in seen} == {len(X)}


def test_neighbour_lists_option_is_checked():
    with pytest.raises(ValueError, match="'neighbour_lists' option must be 'auto' or "
                                         "'never'; got 'yes'"):
        get_engine("numba", neighbour_lists="yes")


def test_neighbour_lists_hold_every_point_within_their_radius():
    # Lists are made by float32 products: their error bound must keep every point whose
    # exact distance is within the list radius, even on the radius itself.  Points on a
    # large sphere about the data's mean make float32 rounding large (about 0.05 in d2
    # here); pairs placed exactly on the radius, with coordinates float32 cannot hold,
    # would be dropped without the bound (gamma32 = 0 loses them).
    from meanshift._engines._numba._lists import NeighbourLists
    from meanshift._engines._numba._matmul import BlasSums
    from meanshift._kernels import get_kernel

    rng = np.random.default_rng(3)
    d, n, h = 24, 600, 30.0
    U = rng.normal(size=(n, d))
    X = 150.0 * U / np.linalg.norm(U, axis=1, keepdims=True) + rng.normal(0, 1e-3, (n, d))
    blas = BlasSums(X, None, h, get_kernel("flat"))
    lists = NeighbourLists(blas, n)
    radius = math.sqrt(lists.limit2)
    P = X[:40] + 0.1234567891 * rng.normal(size=(40, d))
    # Put one point of the data exactly on the list radius of each position.
    for i in range(40):
        e = rng.normal(size=d)
        X[100 + i] = P[i] + radius * (1.0 - 1e-15) * e / np.linalg.norm(e)
    blas = BlasSums(X, None, h, get_kernel("flat"))
    lists = NeighbourLists(blas, n)
    Pc = P - blas.origin
    counts, cols = lists._candidates(Pc, np.einsum("ij,ij->i", Pc, Pc))
    starts = np.concatenate([[0], np.cumsum(counts)])
    d2 = ((P[:, None, :] - X[None, :, :]) ** 2).sum(axis=2)
    for i in range(40):
        within = np.flatnonzero(d2[i] <= lists.limit2)
        assert 100 + i in within
        assert np.isin(within, cols[starts[i]:starts[i + 1]]).all()


# -- tiles: a cover of the data prunes the products (clustered data, many features) -----
def _separated(n=3000, d=40, centers=6, seed=0, offset=50.0):
    X, y, _ = make_blobs(n, d, centers=centers, cluster_std=1.0, random_state=seed)
    return X + offset, y


@pytest.mark.parametrize("seed", range(4))
def test_tiles_hold_every_point_within_reach(seed):
    """The blocks' tiles hold every row within the support radius of each of their
    positions: data rows, rows moved by up to a bandwidth, far positions, and rows
    placed exactly on the radius of a position."""
    from meanshift._engines._numba._matmul import BlasSums

    rng = np.random.default_rng(seed)
    X, y = _separated(2000, 40, centers=5, seed=seed)
    h = 1.1 * math.sqrt(2 * 40) * (0.8 + 0.2 * seed)
    modes = np.array([X[y == c].mean(axis=0) for c in range(5)])
    P = np.concatenate([X[::9], X[::13] + rng.normal(0, h / 6, (len(X[::13]), 40)),
                        rng.uniform(X.min(), X.max(), (20, 40)),
                        np.repeat(modes, 40, axis=0) + rng.normal(0, 0.1, (200, 40))])
    for i in range(30):  # a row of the data exactly on the radius of position i
        e = rng.normal(size=40)
        X[1000 + i] = P[i] + h * (1.0 - 1e-16) * e / np.linalg.norm(e)
    blas = BlasSums(X, None, h, get_kernel("flat"))
    assert blas.use_tiles() < 0.7 and blas.tiles is not None
    Pc = P - blas.origin
    d2 = ((P[:, None, :] - X[None, :, :]) ** 2).sum(axis=2)
    blas.tiles.inner_sums(blas.Xc, None)
    wholes = 0
    for inside in (None, h):
        seen = np.zeros(len(P), dtype=int)
        for ids, tiles, whole in blas.tiles.blocks(Pc, np.einsum("ij,ij->i", Pc, Pc), 16,
                                                   inside):
            rows, inner = blas.tiles.rows(tiles), blas.tiles.rows(whole)
            assert not np.isin(rows, inner).any()
            wholes += len(inner)
            for i in ids:
                within = np.flatnonzero(d2[i] <= h * h * (1 + 1e-12))
                assert np.isin(within, np.concatenate([rows, inner])).all()
                assert (d2[i, inner] <= h * h).all()  # whole tiles: every row within h
                seen[i] += 1
        np.testing.assert_array_equal(seen, 1)  # every position in exactly one block
    assert wholes > 0 or seed == 0  # at h = 7.9 no tile lies within h of a mode
    assert (d2[:30, 1000:1030].diagonal() <= h * h * (1 + 1e-12)).all()


@pytest.mark.parametrize("kernel", ["flat", "epanechnikov", "triangular"])
@pytest.mark.parametrize("weighted", [False, True])
@pytest.mark.parametrize("dtype", [np.float64, np.float32])
def test_tiled_sums_match_the_reference(kernel, weighted, dtype):
    X, y = _separated()
    X = X.astype(dtype)
    w = np.random.default_rng(0).uniform(0.2, 3.0, len(X)) if weighted else None
    h = 1.3 * math.sqrt(2 * 40)
    rng = np.random.default_rng(1)
    modes = np.array([X[y == c].mean(axis=0) for c in range(6)])
    P = np.concatenate([X[::11], X[::11] + rng.normal(0, 2.0, X[::11].shape),
                        np.repeat(modes, 150, axis=0) + rng.normal(0, 0.05, (900, 40))])
    P = P.astype(np.float64)
    P[5] = P[4]  # coinciding positions are computed once
    mm = get_engine("numba", matmul="always").bind(X, w, bandwidth=h, kernel=get_kernel(kernel))
    mm.partial_sums(P)
    assert mm.blas.tiles is not None and mm.blas.pairs < len(P) * len(X) * 0.5
    if kernel == "flat":  # near the modes, whole tiles are added by their sums
        Pc = P[-900:] - mm.blas.origin
        blocks = mm.blas.tiles.blocks(Pc, np.einsum("ij,ij->i", Pc, Pc), 128, h)
        assert sum(whole.sum() for _, _, whole in blocks) > 0
    for part in (P, P[-900:]):  # the positions near the modes on their own too
        (num, den), (num2, den2) = _pair(kernel, X, w, h, part)
        np.testing.assert_allclose(den2, den, rtol=1e-9, atol=1e-12)
        np.testing.assert_allclose(num2, num, rtol=1e-9, atol=1e-9)


@pytest.mark.parametrize("h", [0.1, 0.2])
def test_tiled_flat_lattice_decided_as_the_reference(h):
    """Lattices of step 0.1 in 32-D about far apart centres: at radius 0.1 (0.2) every
    neighbour one (four) steps away lies exactly on the flat kernel's boundary, where
    the float32 products alone would decide either way."""
    rng = np.random.default_rng(4)
    centres = rng.choice([-0.2, 0.2], (4, 32))  # 1.6 apart (the products' error bound
    # against the bandwidth keeps the data near the origin)
    steps = np.zeros((400, 32))
    X = []
    for c in centres:  # each about its centre, on 8 of the axes (256 lattice points)
        steps[:, :8] = rng.integers(0, 2, size=(400, 8))
        X.append(c + 0.1 * steps)
    X = np.concatenate(X)
    ref = get_engine("numpy").bind(X, None, bandwidth=h, kernel=get_kernel("flat"))
    mm = get_engine("numba", matmul="always").bind(X, None, bandwidth=h,
                                                   kernel=get_kernel("flat"))
    assert mm.blas.flat32
    num, den = ref.partial_sums(X[::2])
    num2, den2 = mm.partial_sums(X[::2])
    assert mm.blas.tiles is not None
    assert (den > 1).mean() > 0.3  # neighbours on the boundary, not just itself
    np.testing.assert_array_equal(den2, den)
    np.testing.assert_allclose(num2, num, rtol=1e-13)


def test_auto_takes_tiles_on_separated_clusters_only(caplog, monkeypatch):
    from meanshift._engines._numba import _engine, _lists

    X, _ = _separated(6000, 64, centers=5)
    h = 1.1 * math.sqrt(2 * 64)
    eng = get_engine("numba")
    pilots = []
    shares = _engine._NumbaBound._visited_share
    monkeypatch.setattr(_engine._NumbaBound, "_visited_share",
                        lambda self, data: pilots.append(1) or shares(self, data))
    with caplog.at_level(logging.DEBUG, logger="meanshift"):
        b = eng.bind(X, None, bandwidth=h, kernel=get_kernel("flat"))
        b.partial_sums(X[:10])
        # Most of a cluster is within reach of its points: no index can visit fewer
        # pairs than the tiles multiply (no index pilot), and no list is short enough
        # (no list pilot).
        assert "(no index visits fewer)" in eng.last_index[1] and not pilots
        monkeypatch.setattr(_lists.NeighbourLists, "_candidates", None)  # no pilot
        assert b._list_batch(X) == 0
    assert b.blas is not None and b.blas.tiles is not None
    assert "matrix products" in caplog.text and "tiles of the data cut" in caplog.text
    assert "the tiles' pilot finds" in caplog.text
    # Small neighbourhoods (many modes): the index's fused climb.
    assert eng.bind(X, None, bandwidth=h / 3, kernel=get_kernel("flat")).blas is None
    # The gaussian reaches every point: never tiles.
    g = eng.bind(X, None, bandwidth=h, kernel=get_kernel("gaussian"))
    g.partial_sums(X[:10])
    assert g.blas is None or g.blas.tiles is None
    # Fewer features: tiles are chosen over the index for the flat kernel only (its
    # products need no second product), where they multiply at most 1.5x the index's
    # pairs (here 20 % against 41 %).
    eng.bind(X[:, :24], None, bandwidth=h, kernel=get_kernel("flat"))
    assert "tiles of the data cut" in eng.last_index[1]
    eng.bind(X[:, :24], None, bandwidth=h, kernel=get_kernel("epanechnikov"))
    assert eng.last_index[0] != "matmul" and pilots  # the index's pilot decided


def _used_tiles(caplog):
    """Whether a fit logged a cover of tiles that it kept."""
    return any("tiles of the data cut" in r.getMessage() and "not used" not in
               r.getMessage() for r in caplog.records)


@pytest.mark.parametrize("kernel", ["flat", "epanechnikov"])
def test_tiled_fits_equal_the_index_and_the_reference(kernel, caplog):
    X, y = _separated(5000, 64, centers=5, seed=3)
    h = 1.1 * math.sqrt(2 * 64)
    with caplog.at_level(logging.DEBUG, logger="meanshift"):
        fit = MeanShift(bandwidth=h, kernel=kernel).fit(X)
    assert _used_tiles(caplog)
    index = MeanShift(bandwidth=h, kernel=kernel, engine_options={"matmul": "never"}).fit(X)
    np.testing.assert_array_equal(fit.labels_, index.labels_)
    np.testing.assert_allclose(fit.cluster_centers_, index.cluster_centers_, atol=1e-9)
    ref = MeanShift(bandwidth=h, kernel=kernel, engine="numpy", seeds=X[::25]).fit(X)
    ours = MeanShift(bandwidth=h, kernel=kernel, seeds=X[::25]).fit(X)
    np.testing.assert_allclose(ours.cluster_centers_, ref.cluster_centers_, atol=1e-9)
    np.testing.assert_array_equal(ours.labels_, ref.labels_)


def test_flat_kernel_takes_tiles_in_fewer_features(caplog):
    """From 16 features the flat kernel's fit takes the products with tiles where they
    multiply at most 1.5x the index's pairs: the index's labels and centres."""
    X, _ = _separated(5000, 20, centers=5, seed=2)
    h = 0.8 * math.sqrt(2 * 20)
    with caplog.at_level(logging.DEBUG, logger="meanshift"):
        fit = MeanShift(bandwidth=h).fit(X)
    assert "kernel sums by matrix products (20 features: tiles of the data" in caplog.text
    index = MeanShift(bandwidth=h, engine_options={"matmul": "never"}).fit(X)
    np.testing.assert_array_equal(fit.labels_, index.labels_)
    np.testing.assert_allclose(fit.cluster_centers_, index.cluster_centers_, atol=1e-9)


def test_tiled_fits_do_not_depend_on_threads(caplog):
    X, _ = _separated(5000, 64, centers=5, seed=1)
    h = 1.1 * math.sqrt(2 * 64)
    with caplog.at_level(logging.DEBUG, logger="meanshift"):
        fits = [MeanShift(bandwidth=h, n_jobs=j).fit(X) for j in (1, 2)]
    assert _used_tiles(caplog)
    np.testing.assert_array_equal(fits[0].seed_modes_, fits[1].seed_modes_)
    np.testing.assert_array_equal(fits[0].labels_, fits[1].labels_)


def test_tiles_option(caplog):
    X, _ = _separated(3000, 40)
    h = 1.1 * math.sqrt(2 * 40)
    with pytest.raises(ValueError, match="'tiles' option must be 'auto' or 'never'; got 'on'"):
        get_engine("numba", tiles="on")
    plain = get_engine("numba", matmul="always", tiles="never").bind(
        X, None, bandwidth=h, kernel=get_kernel("flat"))
    num, den = plain.partial_sums(X[::7])
    assert plain.blas.tiles is None and plain.blas.pairs == len(X[::7]) * len(X)
    tiled = get_engine("numba", matmul="always").bind(X, None, bandwidth=h,
                                                      kernel=get_kernel("flat"))
    num2, den2 = tiled.partial_sums(X[::7])
    assert tiled.blas.tiles is not None and tiled.blas.pairs < plain.blas.pairs / 2
    np.testing.assert_array_equal(den2, den)
    np.testing.assert_allclose(num2, num, rtol=1e-12)


def test_distinct_rows_groups_equal_rows_even_when_hashes_collide(monkeypatch):
    from meanshift import _arrays

    rng = np.random.default_rng(0)
    base = rng.normal(size=(7, 5))
    P = base[rng.integers(0, 7, 60)]
    P[3] = -0.0 * P[3]  # -0.0 and 0.0 rows are one row
    P[4] = 0.0 * P[4]
    for collide in (False, True):
        if collide:
            monkeypatch.setattr(_arrays, "quick_row_hashes",
                                lambda A: np.zeros(len(A), np.uint64))
        first, inverse = _arrays.distinct_rows(P)
        np.testing.assert_array_equal(P[first][inverse], P)  # each row its own values
        distinct = len(np.unique(P + 0.0, axis=0))
        # Collisions only cost repeated rows (never merge different ones).
        assert len(first) == distinct if not collide else distinct <= len(first) <= len(P)
