"""The order of the rows does not matter, by construction: samples of the automatic
bandwidths are keyed by the rows' contents (meanshift._stages.sampling), sums that feed a
bandwidth are exactly rounded, and the torch engine's thread count changes nothing but
the last bits."""

import numpy as np
import pytest
from hypothesis import given
from hypothesis import strategies as st
from sklearn.metrics import adjusted_rand_score

from meanshift import MeanShift, auto_bandwidth, estimate_bandwidth
from meanshift._arrays import row_hashes
from meanshift._stages.sampling import sample_by_content
from meanshift.datasets import make_blobs


@pytest.fixture(scope="module")
def overlapping():
    # Five blobs that overlap: before, five orders of these rows gave 2, 2, 2, 4 and 4
    # clusters under bandwidth="auto".
    X, _, _ = make_blobs(3000, 2, centers=5, cluster_std=2.5, random_state=3)
    return X


def _perms(n, k=4):
    return [np.random.default_rng(s).permutation(n) for s in range(k)]


@pytest.mark.parametrize("bandwidth", ["auto", None])
def test_the_default_fit_does_not_depend_on_row_order(overlapping, bandwidth):
    X = overlapping
    ref = MeanShift(bandwidth=bandwidth).fit(X)
    for p in _perms(len(X)):
        got = MeanShift(bandwidth=bandwidth).fit(X[p])
        assert got.bandwidth_ == ref.bandwidth_
        assert len(got.cluster_centers_) == len(ref.cluster_centers_)
        assert adjusted_rand_score(ref.labels_[p], got.labels_) == 1.0


def test_weighted_auto_bandwidth_does_not_depend_on_row_order(overlapping):
    X = overlapping
    w = np.random.default_rng(0).uniform(0.5, 2.0, len(X))
    ref = auto_bandwidth(X, sample_weight=w)
    for p in _perms(len(X)):
        assert auto_bandwidth(X[p], sample_weight=w[p]) == ref


def test_sampled_estimate_bandwidth_does_not_depend_on_row_order():
    X, _, _ = make_blobs(25_000, 2, centers=4, random_state=1)  # above the exact limit
    ref = estimate_bandwidth(X)
    sub = estimate_bandwidth(X, n_samples=700)
    for p in _perms(len(X), 2):
        assert estimate_bandwidth(X[p]) == ref
        assert estimate_bandwidth(X[p], n_samples=700) == sub


def test_the_random_state_still_chooses_the_sample(overlapping):
    hs = {auto_bandwidth(overlapping, random_state=r) for r in range(4)}
    assert len(hs) > 1


def test_copies_of_a_row_are_drawn_independently():
    X = np.repeat(np.arange(10.0)[:, None], 100, axis=0)  # 10 rows, 100 copies each
    idx, mass = sample_by_content(row_hashes(X), None, 50, seed=0)
    assert mass is None and len(np.unique(idx)) == 50
    counts = np.bincount(X[idx, 0].astype(int), minlength=10)
    assert counts.min() >= 1 and counts.max() <= 12  # about 5 of each


def test_a_heavy_row_keeps_its_weight():
    X = np.arange(1000.0)[:, None]
    w = np.ones(1000)
    w[123] = 1000.0  # half of the total weight
    idx, mass = sample_by_content(row_hashes(X, w), w, 50, seed=0)
    assert 123 in idx
    share = mass[idx == 123][0] / mass.sum()
    assert 0.4 < share < 0.6


def test_zero_weight_rows_are_never_drawn():
    X = np.arange(100.0)[:, None]
    w = np.zeros(100)
    w[::10] = 1.0
    idx, _ = sample_by_content(row_hashes(X, w), w, 50, seed=0)
    assert set(idx.tolist()) == set(range(0, 100, 10))


def test_dask_rows_hash_like_rows_in_memory(overlapping):
    da = pytest.importorskip("dask.array")
    from meanshift._data._dask import DaskRows
    from meanshift._data._memory import MemoryRows

    w = np.linspace(1, 2, len(overlapping))
    a = MemoryRows(overlapping, w).hashes(w)
    b = DaskRows(da.from_array(overlapping, chunks=(700, 2)), None).hashes(w)
    np.testing.assert_array_equal(a, b)


@given(st.integers(0, 2**16), st.integers(0, 3))
def test_auto_bandwidth_is_permutation_invariant_with_duplicates(seed, dup):
    rng = np.random.default_rng(seed)
    X = np.round(rng.normal(size=(700, 2)) * 3, dup)  # rounding makes copies
    p = rng.permutation(len(X))
    assert auto_bandwidth(X[p]) == auto_bandwidth(X)


def test_torch_thread_count_changes_only_the_last_bits(overlapping):
    pytest.importorskip("torch")
    X = overlapping[:1500]
    fits = [MeanShift(bandwidth=2.0, engine="torch", n_jobs=k,
                      engine_options={"dtype": "float64"}).fit(X) for k in (1, 2)]
    np.testing.assert_allclose(fits[0].cluster_centers_, fits[1].cluster_centers_,
                               rtol=0, atol=1e-12)
    np.testing.assert_array_equal(fits[0].labels_, fits[1].labels_)


def test_copy_ranks_are_those_of_a_full_stable_sort():
    """The sample's uniforms rank copies of a row by a sort of the repeated hashes only;
    the ranks (and so every sample) are those a stable sort of all rows gives."""
    from meanshift._arrays import mix64
    from meanshift._stages.sampling import _uniforms

    rng = np.random.default_rng(0)
    hashes = rng.integers(0, 2**63, size=5000).astype(np.uint64)
    hashes[rng.integers(0, 5000, 800)] = hashes[rng.integers(0, 50, 800)]  # many copies
    n = hashes.size
    order = np.argsort(hashes, kind="stable")
    sh = hashes[order]
    first = np.ones(n, dtype=bool)
    first[1:] = sh[1:] != sh[:-1]
    start = np.maximum.accumulate(np.where(first, np.arange(n), 0))
    rank = np.empty(n, dtype=np.uint64)
    rank[order] = (np.arange(n) - start).astype(np.uint64)
    z = mix64(hashes ^ mix64(rank ^ mix64(np.full(n, 7, dtype=np.uint64))))
    expected = ((z >> np.uint64(11)).astype(np.float64) + 0.5) * 2.0**-53
    np.testing.assert_array_equal(_uniforms(hashes, 7), expected)
    unique = rng.integers(0, 2**63, size=1000).astype(np.uint64)
    assert np.unique(unique).size == unique.size
    z = mix64(unique ^ mix64(np.zeros(1000, np.uint64) ^ mix64(np.full(1000, 7, np.uint64))))
    np.testing.assert_array_equal(_uniforms(unique, 7),
                                  ((z >> np.uint64(11)).astype(np.float64) + 0.5) * 2.0**-53)


@given(st.lists(st.sampled_from([0.0, -0.0, 1.0, -2.5, 1e300, 5e-324, np.inf]),
                min_size=6, max_size=60), st.integers(1, 3), st.booleans())
def test_compiled_row_hashes_are_the_column_by_column_hash(values, d, weighted):
    from meanshift._arrays import hash_column

    X = np.array(values[: len(values) // d * d]).reshape(-1, d)
    w = np.abs(X[:, 0]) * -1.0 if weighted else None  # -0.0 weights hash as 0.0 too
    expected = np.zeros(len(X), dtype=np.uint64)
    for j in range(d):
        expected = hash_column(expected, X[:, j])
    if weighted:
        expected = hash_column(expected, w)
    np.testing.assert_array_equal(row_hashes(X, w), expected)
    np.testing.assert_array_equal(row_hashes(np.asfortranarray(X), w), expected)
    # A strided view hashes like its copy.
    np.testing.assert_array_equal(row_hashes(X[::2]), row_hashes(X[::2].copy()))


@given(st.lists(st.integers(0, 2**64 - 1), min_size=1, max_size=300), st.integers(0, 56),
       st.integers(1, 8))
def test_shared_buckets_is_a_bucket_count(values, shift, bits):
    from meanshift._arrays import shared_buckets

    h = np.array(values + values[: len(values) // 3], dtype=np.uint64)
    bucket = ((h >> np.uint64(shift)) & np.uint64((1 << bits) - 1)).astype(np.intp)
    expected = (np.bincount(bucket, minlength=1 << bits) > 1)[bucket]
    np.testing.assert_array_equal(shared_buckets(h, shift, bits), expected)
