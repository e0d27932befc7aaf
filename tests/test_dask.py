"""The dask engine and the fit path for dask input (issue 6).

One LocalCluster with 2 worker processes serves the module; the out-of-core test runs on
the local threaded scheduler so that its memory is measured in this process.
"""

import os
import signal
import threading
import tracemalloc

import numpy as np
import pytest

dask = pytest.importorskip("dask")
da = pytest.importorskip("dask.array")
distributed = pytest.importorskip("distributed")

from meanshift import MeanShift  # noqa: E402
from meanshift._data import DaskRows, MemoryRows  # noqa: E402
from meanshift._engines import get_engine  # noqa: E402
from meanshift._engines._dask import DaskEngine  # noqa: E402
from meanshift._kernels import get_kernel  # noqa: E402
from meanshift._pipeline import Plan  # noqa: E402
from meanshift._pipeline.standard import run_standard  # noqa: E402
from meanshift._stages.compression import (  # noqa: E402  # noqa: E402
    BIN_FRACTION,  # noqa: E402
    add_chunk_bins,
    bin_means,
    bin_stats,
    chunk_bins,
)
from meanshift.datasets import make_blobs  # noqa: E402

pytestmark = pytest.mark.timeout(120)

H = 2.0


@pytest.fixture(scope="module")
def client():
    cluster = distributed.LocalCluster(
        n_workers=2, threads_per_worker=1, processes=True, dashboard_address=None,
        memory_limit="1GiB",
    )
    cl = distributed.Client(cluster)
    yield cl
    cl.close()
    cluster.close()


@pytest.fixture(scope="module")
def data():
    X, _, _ = make_blobs(900, 2, centers=4, random_state=1)
    w = np.random.default_rng(2).uniform(0.5, 2.0, size=len(X))
    return X, w


def _assert_same_fit(got, ref, h):
    assert got.cluster_centers_.shape == ref.cluster_centers_.shape
    np.testing.assert_allclose(got.cluster_centers_, ref.cluster_centers_, rtol=0, atol=1e-6 * h)
    labels = got.labels_.compute() if hasattr(got.labels_, "compute") else got.labels_
    np.testing.assert_array_equal(labels, ref.labels_)
    np.testing.assert_allclose(got.cluster_densities_, ref.cluster_densities_, rtol=1e-9)


# -- the engine contract -------------------------------------------------------------------
@pytest.mark.parametrize("kernel", ["flat", "gaussian", "epanechnikov", "triangular"])
def test_partial_sums_equal_reference(client, data, kernel):
    X, w = data
    k = get_kernel(kernel)
    positions = X[::37]
    ref = get_engine("numpy").partial_sums(positions, X, w, H, k)
    engine = DaskEngine(seed_shard=7)  # several shards x several chunks
    got = engine.partial_sums(positions, da.from_array(X, chunks=(100, 2)),
                              da.from_array(w, chunks=100), H, k)
    np.testing.assert_allclose(got[0], ref[0], rtol=1e-12, atol=1e-12)
    np.testing.assert_allclose(got[1], ref[1], rtol=1e-12, atol=1e-12)


def test_nearest_labels_of_dask_rows_are_lazy_and_equal_reference(client, data):
    from meanshift._stages.labels import nearest_labels

    X, _ = data
    centers = X[:5]
    # The engine contract is NumPy in and out; lazy results are the input adapter's job.
    idx, dist = DaskEngine().nearest(X, centers)
    ref_idx, ref_dist = get_engine("numpy").nearest(X, centers)
    np.testing.assert_array_equal(idx, ref_idx)
    np.testing.assert_allclose(dist, ref_dist)
    rows = DaskRows(da.from_array(X, chunks=(250, 2)))
    lazy = rows.map_rows(nearest_labels, DaskEngine(), centers, 1.0, True)
    assert isinstance(lazy, da.Array)
    np.testing.assert_array_equal(lazy.compute(), ref_idx)


# -- the standard fit on the cluster equals the in-memory fit -------------------------------
@pytest.mark.parametrize("kernel", ["flat", "gaussian"])
@pytest.mark.parametrize("chunks", [900, 250, 97])
def test_dask_fit_equals_in_memory(client, data, kernel, chunks):
    X, _ = data
    params = dict(bandwidth=H, kernel=kernel, seeds=40, tol=1e-4)
    ref = MeanShift(engine="numpy", **params).fit(X)
    got = MeanShift(**params).fit(da.from_array(X, chunks=(chunks, 2)))
    assert got.engine_ == "dask" and got.algorithm_ == "standard"
    assert isinstance(got.labels_, da.Array)  # lazy, like dask-ml
    _assert_same_fit(got, ref, H)
    np.testing.assert_array_equal(got.cluster_sizes_.compute(), ref.cluster_sizes_)
    assert got.n_iter_ == ref.n_iter_ and got.n_converged_ == ref.n_converged_


@pytest.mark.parametrize(
    "params",
    [
        dict(bin_seeding=True),
        dict(seeds=None),
        dict(bin_seeding=True, min_bin_freq=5, cluster_all=False),
        dict(seeds=np.array([[0.0, 0.0], [-10.0, 13.0], [-13.0, -15.0]])),
        dict(bandwidth=np.array([2.0, 3.0]), bin_seeding=True),
        dict(bandwidth="auto", seeds=30),
    ],
    ids=["bins", "all", "bins-freq-orphans", "given", "per-feature", "auto"],
)
def test_dask_fit_seeding_and_options_equal_in_memory(client, data, params):
    X, w = data
    params = {"bandwidth": H, **params}
    h = float(np.max(params["bandwidth"])) if not isinstance(params["bandwidth"], str) else 1.0
    for weights in (None,) if isinstance(params["bandwidth"], str) else (None, w):
        ref = MeanShift(engine="numpy", **params).fit(X, sample_weight=weights)
        dw = None if weights is None else da.from_array(weights, chunks=300)
        got = MeanShift(**params).fit(da.from_array(X, chunks=(300, 2)), sample_weight=dw)
        np.testing.assert_allclose(got.bandwidth_, ref.bandwidth_)
        _assert_same_fit(got, ref, h)
        np.testing.assert_allclose(got.seeds_, ref.seeds_)


def test_numpy_input_with_dask_engine(client, data):
    X, w = data
    ref = MeanShift(bandwidth=H, engine="numpy", bin_seeding=True).fit(X, sample_weight=w)
    got = MeanShift(bandwidth=H, engine="dask", bin_seeding=True).fit(X, sample_weight=w)
    assert isinstance(got.labels_, np.ndarray) and got.engine_ == "dask"
    _assert_same_fit(got, ref, H)
    np.testing.assert_array_equal(got.predict(X[:50]), ref.predict(X[:50]))


def test_predict_is_lazy(client, data):
    X, _ = data
    model = MeanShift(bandwidth=H, bin_seeding=True).fit(da.from_array(X, chunks=(300, 2)))
    labels = model.predict(da.from_array(X[:100], chunks=(30, 2)))
    assert isinstance(labels, da.Array)
    np.testing.assert_array_equal(labels.compute(), model.labels_.compute()[:100])
    np.testing.assert_array_equal(model.predict(X[:100]), labels.compute())
    in_memory = MeanShift(bandwidth=H, bin_seeding=True, engine="numpy").fit(X)
    labels = in_memory.predict(da.from_array(X[:100], chunks=(30, 2)))
    assert isinstance(labels, da.Array)
    np.testing.assert_array_equal(labels.compute(), in_memory.labels_[:100])


def test_dask_dataframe_input_keeps_feature_names(client, data):
    pd = pytest.importorskip("pandas")
    dd = pytest.importorskip("dask.dataframe")
    X, _ = data
    frame = pd.DataFrame(X, columns=["a", "b"])
    ref = MeanShift(bandwidth=H, bin_seeding=True, engine="numpy").fit(frame)
    got = MeanShift(bandwidth=H, bin_seeding=True).fit(dd.from_pandas(frame, npartitions=3))
    assert list(got.feature_names_in_) == ["a", "b"]
    _assert_same_fit(got, ref, H)


# -- validation without computing everything ------------------------------------------------
@pytest.mark.parametrize("algorithm", ["standard", "compressed"])
def test_nan_and_bad_weights_are_errors(client, data, algorithm):
    X, w = data
    Xbad = X.copy()
    Xbad[700, 1] = np.nan
    model = MeanShift(bandwidth=H, algorithm=algorithm, bin_seeding=True)
    with pytest.raises(ValueError, match="Input X contains NaN or infinity"):
        model.fit(da.from_array(Xbad, chunks=(300, 2)))
    wbad = w.copy()
    wbad[800] = -1.0
    with pytest.raises(ValueError, match="sample_weight must be non-negative; got a minimum of -1"):
        model.fit(da.from_array(X, chunks=(300, 2)), sample_weight=da.from_array(wbad, chunks=300))
    with pytest.raises(ValueError, match=r"sample_weight must have shape \(900,\)"):
        model.fit(da.from_array(X, chunks=(300, 2)), sample_weight=w[:10])


def test_wrong_engine_and_algorithm_for_dask_input(client, data):
    X, _ = data
    dX = da.from_array(X, chunks=(300, 2))
    with pytest.raises(ValueError, match="Dask input runs on engine='dask'.*got engine='numpy'"):
        MeanShift(bandwidth=H, engine="numpy").fit(dX)
    with pytest.raises(ValueError, match=r"Expected a 2-D dask array.*shape \(900,\)"):
        MeanShift(bandwidth=H).fit(dX[:, 0])
    model = MeanShift(bandwidth=H, bin_seeding=True).fit(dX)
    with pytest.raises(ValueError, match="X has 3 features, but MeanShift is expecting 2"):
        model.predict(da.zeros((10, 3), chunks=5))


# -- compressed: bins from chunks add up -----------------------------------------------------
def _in_memory_compressed(X, w, params):
    """The compressed fit done by hand in memory: bins of all of X, then standard."""
    bs = H * BIN_FRACTION
    means, weights = bin_means(bin_stats(X, w, bs))
    plan = Plan(algorithm="standard", engine=get_engine("numpy"),
                kernel=get_kernel(params.get("kernel", "flat")), bandwidth=H, merge_radius=H)
    return run_standard(MemoryRows(means, weights), plan)


@pytest.mark.parametrize("chunks", [900, 128])
def test_compressed_streaming_equals_in_memory_binning(client, data, chunks):
    X, w = data
    ref = _in_memory_compressed(X, w, {})
    got = MeanShift(bandwidth=H, algorithm="compressed").fit(
        da.from_array(X, chunks=(chunks, 2)), sample_weight=da.from_array(w, chunks=chunks))
    assert got.algorithm_ == "compressed" and isinstance(got.labels_, da.Array)
    np.testing.assert_allclose(got.cluster_centers_, ref.centers, rtol=0, atol=1e-9)
    # ... and close to the exact fit: every point is within sqrt(d) * bin size of its bin mean.
    exact = MeanShift(bandwidth=H, engine="numpy", bin_seeding=True).fit(X, sample_weight=w)
    np.testing.assert_allclose(got.cluster_centers_, exact.cluster_centers_, atol=0.1 * H)
    assert (got.labels_.compute() == exact.labels_).mean() > 0.99


def test_stream_bins_add_up_over_chunkings(data):
    X, w = data
    with dask.config.set(scheduler="threads"):
        a, finite, summary = DaskRows(da.from_array(X, chunks=(900, 2)),
                                      da.from_array(w, chunks=900)).reduce(
            chunk_bins, add_chunk_bins, 0.1)
        b, _, _ = DaskRows(da.from_array(X, chunks=(61, 2)), da.from_array(w, chunks=61)).reduce(
            chunk_bins, add_chunk_bins, 0.1)
    assert finite and summary[0] and summary[1] == w.min()
    np.testing.assert_allclose(summary[2], w.sum())
    np.testing.assert_array_equal(a.keys, b.keys)
    np.testing.assert_allclose(a.weight, b.weight, rtol=1e-12)
    np.testing.assert_allclose(a.xsum, b.xsum, rtol=1e-12)


# -- fault tolerance --------------------------------------------------------------------------
def _kill_a_worker_soon(client):
    """SIGKILL one worker process (not its nanny, which starts a new one) in 10 ms."""
    addr = sorted(client.scheduler_info()["workers"])[0]
    pid = client.run(os.getpid)[addr]
    threading.Timer(0.01, os.kill, (pid, signal.SIGKILL)).start()


def test_worker_killed_mid_fit_still_gives_the_same_result(client, data, monkeypatch):
    X, _ = data
    params = dict(bandwidth=H, kernel="gaussian", seeds=40, tol=1e-5)
    ref = MeanShift(engine="numpy", **params).fit(X)
    before = set(client.scheduler_info()["workers"])
    calls = []
    from meanshift._engines._dask import _DaskBound

    original = _DaskBound.partial_sums

    def partial_sums_with_a_crash(self, *args, **kwargs):
        calls.append(1)
        if len(calls) == 3:  # mid-climb: persisted chunks live on the worker that dies
            _kill_a_worker_soon(client)
        return original(self, *args, **kwargs)

    monkeypatch.setattr(_DaskBound, "partial_sums", partial_sums_with_a_crash)
    got = MeanShift(**params).fit(da.from_array(X, chunks=(150, 2)))
    assert len(calls) > 3
    _assert_same_fit(got, ref, H)
    client.wait_for_workers(2, timeout=30)
    assert set(client.scheduler_info()["workers"]) != before  # a worker really was replaced


def test_worker_killed_mid_stream_still_gives_the_same_result(client, data, monkeypatch):
    import meanshift._data._dask as dask_rows

    X, w = data
    dX, dw = da.from_array(X, chunks=(50, 2)), da.from_array(w, chunks=50)  # 18 chunks
    with dask.config.set(scheduler="threads"):
        ref = MeanShift(bandwidth=H, algorithm="compressed").fit(dX, sample_weight=dw)
    before = set(client.scheduler_info()["workers"])
    rounds = []
    original = dask_rows.tree_reduce

    def tree_reduce_with_a_crash(*args, **kwargs):
        rounds.append(1)
        if len(rounds) == 2:  # second round of chunks: the first round's total is on a worker
            _kill_a_worker_soon(client)
        return original(*args, **kwargs)

    monkeypatch.setattr(dask_rows, "tree_reduce", tree_reduce_with_a_crash)
    monkeypatch.setattr(dask_rows, "_scheduler_threads", lambda: 1)  # rounds of 8 chunks
    got = MeanShift(bandwidth=H, algorithm="compressed").fit(dX, sample_weight=dw)
    assert len(rounds) >= 3
    _assert_same_fit(got, ref, H)
    client.wait_for_workers(2, timeout=30)
    assert set(client.scheduler_info()["workers"]) != before


# -- out of core: memory flat in n -------------------------------------------------------------
def test_out_of_core_streaming_from_disk(tmp_path):
    n, chunk = 4_000_000, 25_000
    path = tmp_path / "points.npy"
    centers = np.array([[0.0, 0.0], [10.0, 0.0], [0.0, 10.0]])
    disk = np.lib.format.open_memmap(path, mode="w+", dtype=np.float64, shape=(n, 2))
    rng = np.random.default_rng(0)
    for start in range(0, n, chunk):  # written chunk by chunk, never whole in memory
        rows = rng.integers(0, 3, size=chunk)
        disk[start : start + chunk] = centers[rows] + rng.normal(size=(chunk, 2))
    disk.flush()
    del disk
    X = da.from_array(np.load(path, mmap_mode="r"), chunks=(chunk, 2))
    data_bytes = n * 2 * 8
    with dask.config.set(scheduler="threads", num_workers=2):
        MeanShift(bandwidth=2.0, algorithm="compressed").fit(X[:1000])  # imports, not data
        model = MeanShift(bandwidth=2.0)
        tracemalloc.start()
        try:
            base = tracemalloc.get_traced_memory()[0]
            model.fit(X)
            sizes = model.cluster_sizes_.compute()
            peak = tracemalloc.get_traced_memory()[1] - base
        finally:
            tracemalloc.stop()
    assert model.algorithm_ == "compressed"  # chosen for 4e6 points in 2-D
    assert peak < 0.25 * data_bytes, (peak, data_bytes)
    order = np.lexsort(model.cluster_centers_.T[::-1])
    np.testing.assert_allclose(model.cluster_centers_[order], centers[[0, 2, 1]], atol=0.05)
    assert sizes.sum() == n and sizes.min() > 0.3 * n


def test_bin_seeding_fallback_and_empty_bins_like_in_memory(client):
    from meanshift._stages.seeding import NoSeedError
    from meanshift._warnings import MeanShiftWarning

    X = np.random.default_rng(3).normal(size=(60, 2)) * 10
    dX = da.from_array(X, chunks=(25, 2))
    with pytest.warns(MeanShiftWarning, match="every point has a bin of its own"):
        ref = MeanShift(bandwidth=0.01, bin_seeding=True, engine="numpy").fit(X)
    with pytest.warns(MeanShiftWarning, match="every point has a bin of its own"):
        got = MeanShift(bandwidth=0.01, bin_seeding=True).fit(dX)
    _assert_same_fit(got, ref, 0.01)
    with pytest.raises(NoSeedError, match="min_bin_freq=100 left no seed: the fullest bin holds"):
        MeanShift(bandwidth=5.0, bin_seeding=True, min_bin_freq=100).fit(dX)


def test_label_by_mode(client, data):
    X = data[0][::3]
    params = dict(bandwidth=H, bin_seeding=True, label_by="mode")
    ref = MeanShift(engine="numpy", **params).fit(X)
    got = MeanShift(**params).fit(da.from_array(X, chunks=(100, 2)))  # every point climbs
    _assert_same_fit(got, ref, H)
    comp = MeanShift(algorithm="compressed", **params).fit(da.from_array(X, chunks=(100, 2)))
    assert isinstance(comp.labels_, da.Array)  # climbs over the bins, block by block
    np.testing.assert_allclose(comp.cluster_centers_, ref.cluster_centers_, atol=0.1 * H)
    assert (comp.labels_.compute() == ref.labels_).mean() > 0.99
