"""The engine contract and the one pipeline: prepare once, explicit options, one meaning
of n_jobs, progress and cancellation, the same plan for every input."""

import numba
import numpy as np
import pytest

from meanshift import FitCancelled, MeanShift, Progress
from meanshift._engines import ENGINES, engine_available, engine_options, get_engine
from meanshift._engines._contract import Engine
from meanshift._engines._threads import (
    check_n_jobs,
    compiled_threads,
    effective_threads,
    run_ranges,
)
from meanshift.datasets import make_blobs

AVAILABLE = [name for name in sorted(ENGINES) if engine_available(name)]
ALGORITHMS = ["standard", "basin", "compressed", "blurring"]


@pytest.fixture(scope="module")
def blobs():
    X, y, _ = make_blobs(3000, 2, centers=4, cluster_std=0.6, random_state=5)
    return X, y


# -- explicit options ----------------------------------------------------------------------
@pytest.mark.parametrize("name", AVAILABLE)
def test_unknown_engine_option_is_an_error_naming_the_allowed_ones(name):
    allowed = engine_options(name)
    assert "n_jobs" in allowed  # every engine takes the common thread option
    with pytest.raises(ValueError, match=rf"Unknown option\(s\) \['block_elemnts'\] for the "
                                         rf"'{name}' engine; its options are \[.*'n_jobs'"):
        get_engine(name, block_elemnts=16)


@pytest.mark.parametrize("name", AVAILABLE)
def test_unknown_engine_option_through_the_estimator(name, blobs):
    X, _ = blobs
    if name == "dask":
        pytest.importorskip("dask.array")
    with pytest.raises(ValueError, match=rf"'block_elemnts'.*'{name}' engine"):
        MeanShift(bandwidth=1.0, engine=name, engine_options={"block_elemnts": 16}).fit(X[:50])


def test_unknown_engine_option_for_dask_input(blobs):
    da = pytest.importorskip("dask.array")
    X, _ = blobs
    dX = da.from_array(X[:300], chunks=(100, 2))
    with pytest.raises(ValueError, match=r"'seed_shrd'.*'dask' engine; its options are"):
        MeanShift(bandwidth=1.0, engine_options={"seed_shrd": 4}).fit(dX)
    with pytest.raises(ValueError, match="'device' parameter applies to the 'torch' engine"):
        MeanShift(bandwidth=1.0, device="cuda:0").fit(dX)


# -- one meaning of n_jobs ---------------------------------------------------------------------
@pytest.mark.parametrize("n_jobs,current,expected", [
    (None, 8, 8), (None, 3, 3), (-1, 3, 8), (-2, 8, 7), (-8, 8, 1), (-20, 8, 1), (1, 8, 1),
    (3, 8, 3), (64, 8, 8),
])
def test_n_jobs_rule(n_jobs, current, expected):
    # 8 threads available; ``current`` is the runtime's setting, which None keeps.
    assert effective_threads(n_jobs, 8, current) == expected


@pytest.mark.parametrize("bad", [0, True, False, 1.5, "2"])
def test_n_jobs_bad_values_are_errors_everywhere(bad, blobs):
    X, _ = blobs
    msg = r"'n_jobs' parameter must be None \(the current setting\), -1 \(every thread\).*got"
    with pytest.raises(ValueError, match=msg):
        check_n_jobs(bad)
    for name in AVAILABLE:
        with pytest.raises((ValueError, TypeError)):
            get_engine(name, n_jobs=bad)
    from meanshift.image import segment

    with pytest.raises((ValueError, TypeError)):
        segment(np.zeros((4, 4)), n_jobs=bad)
    if bad == 0:
        with pytest.raises(ValueError, match=msg):
            MeanShift(bandwidth=1.0, n_jobs=0).fit(X[:50])


def test_compiled_threads_follow_n_jobs_and_numbas_setting():
    total = numba.config.NUMBA_NUM_THREADS
    before = numba.get_num_threads()
    assert compiled_threads(-2) == max(1, total - 1)
    assert compiled_threads(1) == 1 and compiled_threads(-1) == total
    numba.set_num_threads(1)  # the user's own setting is what None keeps
    try:
        assert compiled_threads(None) == 1
    finally:
        numba.set_num_threads(before)
    assert numba.get_num_threads() == before


@pytest.mark.parametrize("n_jobs", [1, 2])
def test_run_ranges_covers_every_index_once_and_reports(n_jobs):
    import threading

    seen, threads, progress = [], set(), []

    def fn(a, b):
        seen.extend(range(a, b))
        threads.add(threading.get_ident())

    run_ranges(fn, 1000, n_jobs, on_progress=progress.append, seconds=0.0)
    assert sorted(seen) == list(range(1000))
    assert len(threads) <= compiled_threads(n_jobs)
    assert progress == sorted(progress) and progress[-1] == 1000

    def stop(done):
        raise FitCancelled("stop")

    with pytest.raises(FitCancelled):
        run_ranges(fn, 1000, n_jobs, on_progress=stop)


def test_run_ranges_from_several_threads_and_errors():
    # Concurrent calls share the process's helper pool: each still covers its indices
    # once; an error on any thread reaches the caller, and the next call works.
    import threading

    from meanshift._engines import _threads

    results = {}

    def one(key):
        seen = []
        lock = threading.Lock()

        def fn(a, b):
            with lock:
                seen.extend(range(a, b))

        for _ in range(20):
            run_ranges(fn, 3000, 2)
        results[key] = sorted(seen)

    workers = [threading.Thread(target=one, args=(k,)) for k in range(4)]
    for w in workers:
        w.start()
    for w in workers:
        w.join(timeout=60)
    assert all(not w.is_alive() for w in workers)
    expected = sorted(list(range(3000)) * 20)
    assert [results[k] == expected for k in range(4)] == [True] * 4
    assert _threads._helpers(1) is _threads._helpers(1)  # one pool, reused

    def fails(a, b):
        if a >= 500:
            raise RuntimeError(f"range {a}")

    with pytest.raises(RuntimeError, match="range"):
        run_ranges(fails, 1000, 2)
    seen = []
    run_ranges(lambda a, b: seen.extend(range(a, b)), 1000, 2)
    assert sorted(seen) == list(range(1000))


# -- prepare once ----------------------------------------------------------------------------
class _Counter:
    def __init__(self, monkeypatch):
        self.binds = 0
        original = Engine.bind

        def counting_bind(engine, *args, **kwargs):
            self.binds += 1
            return original(engine, *args, **kwargs)

        monkeypatch.setattr(Engine, "bind", counting_bind)


@pytest.mark.parametrize("label_by", ["nearest", "mode"])
@pytest.mark.parametrize("algorithm", ["standard", "basin", "compressed"])
def test_the_numba_index_is_built_once_per_fit(algorithm, label_by, blobs, monkeypatch):
    from meanshift._engines._numba._index import Index
    from meanshift._pipeline import basin

    monkeypatch.setattr(basin, "MIN_SEEDS", 0)  # absorb from the first pilot on
    X, _ = blobs
    counter = _Counter(monkeypatch)
    before = Index.built
    model = MeanShift(bandwidth=0.8, kernel="gaussian", algorithm=algorithm,
                      label_by=label_by, engine="numba").fit(X)
    assert model.n_iter_ > 3  # many steps, one index
    assert Index.built - before == 1
    assert counter.binds == 1


@pytest.mark.parametrize("name", [n for n in AVAILABLE if n != "dask"])
def test_every_engine_binds_once_per_fit(name, blobs, monkeypatch):
    X, _ = blobs
    counter = _Counter(monkeypatch)
    opts = {"device": "cpu"} if name == "torch" else {}
    MeanShift(bandwidth=0.8, kernel="gaussian", algorithm="basin", label_by="mode",
              engine=name, engine_options=opts).fit(X[::3])
    assert counter.binds == 1


def test_blurring_binds_once_per_step(blobs, monkeypatch):
    X, _ = blobs
    counter = _Counter(monkeypatch)
    model = MeanShift(bandwidth=0.8, kernel="gaussian", algorithm="blurring").fit(X[::5])
    # The data move at every step: one bind per step, and one for the final densities.
    assert counter.binds == model.n_iter_ + 1


def test_predict_binds_once(blobs, monkeypatch):
    X, _ = blobs
    model = MeanShift(bandwidth=0.8, label_by="mode").fit(X)
    counter = _Counter(monkeypatch)
    assert np.array_equal(model.predict(X[:200]), model.labels_[:200])
    assert counter.binds == 1


# -- progress and cancellation ---------------------------------------------------------------
@pytest.mark.parametrize("name", [n for n in AVAILABLE if n != "dask"])
def test_every_engine_reports_progress_during_the_climb(name, blobs):
    X, _ = blobs
    seen = []
    opts = {"device": "cpu"} if name == "torch" else {}
    model = MeanShift(bandwidth=0.8, kernel="gaussian", engine=name, engine_options=opts,
                      callback=seen.append).fit(X)
    assert all(isinstance(p, Progress) for p in seen)
    assert [p.stage for p in seen if p.stage != "climb"] == ["merge", "merge"]  # after
    climb = [p for p in seen if p.stage == "climb"]
    done = [p.done for p in climb]
    assert len(climb) >= 2 and done == sorted(done)  # during, not only after
    assert climb[-1] == Progress("climb", model.n_seeds_, model.n_seeds_)
    assert done[0] < model.n_seeds_


@pytest.mark.parametrize("algorithm", ALGORITHMS)
def test_a_callback_returning_false_cancels(algorithm, blobs):
    X, _ = blobs
    calls = []

    def stop(progress):
        calls.append(progress)
        return False

    with pytest.raises(FitCancelled, match="cancelled by the progress callback"):
        MeanShift(bandwidth=0.8, algorithm=algorithm, callback=stop).fit(X)
    assert len(calls) == 1


def test_the_callback_changes_nothing(blobs):
    X, _ = blobs
    a = MeanShift(bandwidth=0.8, kernel="gaussian", callback=lambda p: None).fit(X)
    b = MeanShift(bandwidth=0.8, kernel="gaussian").fit(X)
    np.testing.assert_array_equal(a.labels_, b.labels_)
    np.testing.assert_array_equal(a.cluster_centers_, b.cluster_centers_)


# -- one pipeline: the same plan and answer for every container -------------------------------
@pytest.mark.parametrize("n,params", [
    (2000, {"bandwidth": 1.0}),
    (60_000, {"bandwidth": 1.0}),  # compressed for both
    (60_000, {}),  # fully automatic
    (3000, {"bandwidth": 1.0, "label_by": "mode", "kernel": "gaussian"}),
    (3000, {"bandwidth": 1.0, "algorithm": "basin", "seeds": 500}),
])
def test_numpy_and_dask_input_give_the_same_answer_under_auto(n, params):
    da = pytest.importorskip("dask.array")
    dask = pytest.importorskip("dask")
    X, _, _ = make_blobs(n, 2, centers=4, cluster_std=0.6, random_state=1)
    ref = MeanShift(**params).fit(X)
    with dask.config.set(scheduler="threads"):
        got = MeanShift(**params).fit(da.from_array(X, chunks=(n // 3 + 1, 2)))
        labels = got.labels_
        labels = labels.compute() if hasattr(labels, "compute") else labels
    assert (got.algorithm_, got.bandwidth_) == (ref.algorithm_, ref.bandwidth_)
    assert got.engine_ == "dask"
    np.testing.assert_allclose(got.cluster_centers_, ref.cluster_centers_, rtol=0, atol=1e-9)
    np.testing.assert_array_equal(labels, ref.labels_)
    np.testing.assert_allclose(got.seeds_, ref.seeds_)


def test_dask_chunks_are_bound_once_per_fit_and_released(blobs, monkeypatch):
    import gc

    dask = pytest.importorskip("dask")
    da = pytest.importorskip("dask.array")
    from meanshift._engines import _dask as dask_engine

    X, _ = blobs
    counter = _Counter(monkeypatch)
    with dask.config.set(scheduler="threads"):
        model = MeanShift(bandwidth=0.8, kernel="gaussian", algorithm="standard",
                          seeds=200).fit(da.from_array(X, chunks=(500, 2)))
    gc.collect()
    assert model.n_iter_ > 3
    # One bind of the dask array, then one per chunk (6), whatever the number of steps.
    assert counter.binds == 1 + 6
    assert not dask_engine._BOUND_CACHE  # released with the fit's bound data


def test_a_kernel_without_an_engines_form_is_a_clear_error(blobs):
    from meanshift._kernels import Kernel

    X, _ = blobs
    cosine = Kernel("cosine", 9, 1.0, 1.0, "cos(pi u / 2) if u <= 1",
                    lambda u2: np.where(u2 <= 1.0, np.cos(np.pi * np.sqrt(u2) / 2), 0.0))
    num, den = get_engine("numpy").partial_sums(X[:5], X, None, 1.0, cosine)
    assert np.all(den > 0)
    with pytest.raises(ValueError, match="numba engine needs the kernel's compiled form; "
                                         "kernel 'cosine' has none"):
        get_engine("numba").partial_sums(X[:5], X, None, 1.0, cosine)


def test_the_package_works_without_its_optional_extras():
    """dask, distributed, torch and matplotlib are extras: import and fit without them."""
    import subprocess
    import sys

    code = (
        "import sys\n"
        "class Missing:\n"
        "    def find_spec(self, name, path=None, target=None):\n"
        "        if name.split('.')[0] in ('dask', 'distributed', 'torch', 'matplotlib'):\n"
        "            raise ModuleNotFoundError(f'No module named {name!r}')\n"
        "sys.meta_path.insert(0, Missing())\n"
        "import numpy as np\n"
        "from meanshift import MeanShift\n"
        "from meanshift._engines import engine_available\n"
        "X = np.r_[np.zeros((20, 2)), np.ones((20, 2)) * 5]\n"
        "m = MeanShift(bandwidth=1.0).fit(X)\n"
        "assert len(m.cluster_centers_) == 2 and m.engine_ == 'numba'\n"
        "assert not engine_available('dask') and not engine_available('torch')\n"
        "try:\n"
        "    MeanShift(bandwidth=1.0, engine='dask').fit(X)\n"
        "except ImportError as exc:\n"
        "    assert 'meanshift[dask]' in str(exc), exc\n"
        "else:\n"
        "    raise AssertionError('engine=dask without dask')\n"
        "print('ok')\n"
    )
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True,
                         timeout=300)
    assert out.returncode == 0 and out.stdout.strip() == "ok", out.stderr


# -- found in review: every path validates, a failed fit changes nothing, same labels ----------
@pytest.mark.parametrize("params", [dict(algorithm="blurring"),
                                    dict(algorithm="standard", max_samples=300)])
def test_dask_input_is_validated_on_every_path(params, blobs):
    dask = pytest.importorskip("dask")
    da = pytest.importorskip("dask.array")
    X, _ = blobs
    X = X[:600]
    w = np.ones(len(X))
    w[5] = -1.0
    Xbad = X.copy()
    Xbad[7, 1] = np.inf
    with dask.config.set(scheduler="threads"):
        with pytest.raises(ValueError, match="sample_weight must be non-negative"):
            MeanShift(bandwidth=0.8, **params).fit(da.from_array(X, chunks=(200, 2)),
                                                   sample_weight=da.from_array(w, chunks=200))
        with pytest.raises(ValueError, match="Input X contains NaN or infinity"):
            MeanShift(bandwidth=0.8, **params).fit(da.from_array(Xbad, chunks=(200, 2)))


def test_a_failed_or_cancelled_fit_leaves_the_estimator_as_it_was(blobs):
    X, _ = blobs
    model = MeanShift(bandwidth=0.8).fit(X)
    before = {k: v for k, v in vars(model).items() if k.endswith("_")}
    labels = model.predict(X)
    model.set_params(bandwidth=np.array([10.0, 0.5]), callback=lambda p: False)
    with pytest.raises(FitCancelled):
        model.fit(X)
    for name, value in before.items():
        np.testing.assert_array_equal(getattr(model, name), value)
    model.set_params(bandwidth=0.8, callback=None)
    np.testing.assert_array_equal(model.predict(X), labels)


@pytest.mark.parametrize("params", [
    dict(algorithm="blurring", kernel="gaussian", max_samples=500),
    dict(algorithm="compressed", label_by="mode", max_samples=2000),
    dict(algorithm="standard", label_by="mode", max_samples=0.3),
])
def test_max_samples_gives_the_same_labels_for_numpy_and_dask(params, blobs):
    dask = pytest.importorskip("dask")
    da = pytest.importorskip("dask.array")
    X, _ = blobs
    ref = MeanShift(bandwidth=0.8, **params).fit(X)
    with dask.config.set(scheduler="threads"):
        got = MeanShift(bandwidth=0.8, **params).fit(da.from_array(X, chunks=(700, 2)))
        labels = np.asarray(got.labels_.compute() if hasattr(got.labels_, "compute")
                            else got.labels_)
    np.testing.assert_allclose(got.cluster_centers_, ref.cluster_centers_, atol=1e-9)
    np.testing.assert_array_equal(labels, ref.labels_)


def test_chunk_indexes_are_not_kept_for_data_that_do_not_fit(blobs, monkeypatch):
    dask = pytest.importorskip("dask")
    da = pytest.importorskip("dask.array")
    from meanshift._engines import _dask as dask_engine

    monkeypatch.setattr(dask_engine, "_scheduler_memory", lambda: 1000.0)  # 1 kB
    X, _ = blobs
    counter = _Counter(monkeypatch)
    with dask.config.set(scheduler="threads"):
        model = MeanShift(bandwidth=0.8, algorithm="standard", seeds=100).fit(
            da.from_array(X, chunks=(1000, 2)))
    assert not dask_engine._BOUND_CACHE
    # Not persisted, not cached: every step reads and binds every chunk (3) again.
    assert counter.binds > 1 + 3 * (model.n_iter_ - 1)


def test_iter_climb_labels_the_training_rows_for_every_algorithm(blobs):
    X, _ = blobs
    for algorithm in ALGORITHMS:
        model = MeanShift(bandwidth=0.8, algorithm=algorithm, record_history=True).fit(X)
        for _, centers, labels in model.iter_climb():
            assert labels.shape == (len(X),) and labels.max() < len(centers)


def test_n_jobs_given_twice_must_agree(blobs):
    X, _ = blobs
    with pytest.raises(ValueError, match=r"n_jobs is given twice.*n_jobs=1.*'n_jobs': 2"):
        MeanShift(bandwidth=0.8, n_jobs=1, engine_options={"n_jobs": 2}).fit(X[:100])
    MeanShift(bandwidth=0.8, engine_options={"n_jobs": 1}).fit(X[:100])


def test_dask_weights_with_numpy_rows_run_on_the_dask_engine(blobs):
    dask = pytest.importorskip("dask")
    da = pytest.importorskip("dask.array")
    X, _ = blobs
    w = np.ones(len(X))
    with dask.config.set(scheduler="threads"):
        model = MeanShift(bandwidth=0.8).fit(X, sample_weight=da.from_array(w, chunks=500))
        assert model.engine_ == "dask"
        with pytest.raises(ValueError, match="Dask input runs on engine='dask'"):
            MeanShift(bandwidth=0.8, engine="numba").fit(
                X, sample_weight=da.from_array(w, chunks=500))


def test_basin_pilots_and_mode_labels_report_progress(blobs, monkeypatch):
    from meanshift._pipeline import basin

    monkeypatch.setattr(basin, "MIN_SEEDS", 0)
    X, _ = blobs
    seen = []
    model = MeanShift(bandwidth=0.8, algorithm="basin", seeds=1500, label_by="mode",
                      callback=seen.append).fit(X)
    climb = [p for p in seen if p.stage == "climb"]
    labels = [p for p in seen if p.stage == "labels"]
    assert climb[0].total == model.n_seeds_ and climb[0].done < model.n_seeds_
    assert [p.done for p in climb] == sorted(p.done for p in climb)
    assert labels and labels[-1] == Progress("labels", len(X), len(X))


@pytest.mark.parametrize("name", ["bandwidth", "seeds", "min_bin_freq", "n_jobs", "max_iter",
                                  "tol", "merge_radius", "max_samples"])
def test_booleans_are_not_numbers(name, blobs):
    X, _ = blobs
    with pytest.raises(ValueError, match=rf"The '{name}' parameter of MeanShift must be .*"
                                         r"Got True instead"):
        MeanShift(**{name: True}).fit(X[:50])


def test_a_refit_keeps_nothing_of_the_earlier_fit(blobs):
    X, _ = blobs
    model = MeanShift(bandwidth=0.8, record_history=True).fit(X)
    assert hasattr(model, "history_")
    model.set_params(record_history=False).fit(X)
    assert not hasattr(model, "history_")
    with pytest.raises(Exception, match="history_"):
        next(model.iter_climb())


def test_predict_uses_the_fitted_rules_not_later_parameters(blobs):
    X, _ = blobs
    model = MeanShift(bandwidth=0.8, cluster_all=True).fit(X)
    far = X.max(axis=0) + 50.0
    assert model.predict(far[None])[0] >= 0
    model.set_params(cluster_all=False, label_by="mode")
    assert model.predict(far[None])[0] >= 0  # until the next fit


@pytest.mark.parametrize("n", [3000, 25_000])
def test_bandwidth_none_is_the_same_for_numpy_and_dask(n):
    dask = pytest.importorskip("dask")
    da = pytest.importorskip("dask.array")
    X, _, _ = make_blobs(n, 2, centers=4, random_state=2)
    ref = MeanShift(bandwidth=None).fit(X)
    with dask.config.set(scheduler="threads"):
        got = MeanShift(bandwidth=None).fit(da.from_array(X, chunks=(n // 4 + 1, 2)))
    assert got.bandwidth_ == ref.bandwidth_


def test_concurrent_fits_do_not_crash_under_the_workqueue_layer():
    """Numba's workqueue layer aborts the process on concurrent parallel regions; fits from
    several Python threads and on dask's threaded scheduler must survive it (issue 13)."""
    import subprocess
    import sys

    code = (
        "import threading, numpy as np\n"
        "from meanshift import MeanShift\n"
        "from meanshift.datasets import make_blobs\n"
        "X = [make_blobs(3000, 2, centers=4, random_state=s)[0] for s in range(3)]\n"
        "ref = [MeanShift(bandwidth=0.8, kernel='gaussian').fit(x).labels_ for x in X]\n"
        "out = [None] * 3\n"
        "def work(i):\n"
        "    for _ in range(3):\n"
        "        out[i] = MeanShift(bandwidth=0.8, kernel='gaussian').fit(X[i]).labels_\n"
        "ts = [threading.Thread(target=work, args=(i,)) for i in range(3)]\n"
        "[t.start() for t in ts]\n"
        "[t.join() for t in ts]\n"
        "assert all(np.array_equal(a, b) for a, b in zip(out, ref))\n"
        "import dask, dask.array as da\n"
        "with dask.config.set(scheduler='threads'):\n"
        "    MeanShift(bandwidth=0.8, seeds=100, algorithm='standard').fit(\n"
        "        da.from_array(X[0], chunks=(500, 2)))\n"
        "import numba\n"
        "print(numba.threading_layer())\n"
    )
    pytest.importorskip("dask")
    env = dict(__import__("os").environ, NUMBA_THREADING_LAYER="workqueue")
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True,
                         env=env, timeout=600)
    assert out.returncode == 0, out.stderr[-2000:]
    assert out.stdout.strip() == "workqueue"


def test_the_merge_reports_its_walk_and_can_be_cancelled(monkeypatch):
    # Thousands of end points: the walk over them reports as it goes (stage "merge",
    # never backwards, ending full), and a callback that returns False stops it.
    from meanshift._stages import merge

    rng = np.random.default_rng(0)
    modes = rng.normal(size=(5000, 40))
    monkeypatch.setattr(merge, "PROGRESS_SECONDS", 0.0)
    seen = []
    merge.merge_modes(modes, np.ones(len(modes)), 0.5, seen.append)
    done = [p.done for p in seen]
    assert {p.stage for p in seen} == {"merge"} and {p.total for p in seen} == {5000}
    assert done == sorted(done) and done[0] == 0 and done[-1] == 5000
    assert len(set(done)) > 2  # during the walk, not only before and after
    with pytest.raises(FitCancelled, match="'merge'"):
        MeanShift(bandwidth=0.8, callback=lambda p: p.stage != "merge").fit(modes[:300])


def test_labels_by_the_nearest_of_many_centres_report_and_can_be_cancelled(monkeypatch):
    # Labels by nearest centre with much work go in parts, each reported as stage
    # "labels" (never backwards, ending full): the same labels as in one go; a callback
    # that returns False during them stops the fit.
    from meanshift._stages import labels

    rng = np.random.default_rng(1)
    X = rng.normal(size=(3000, 8))
    plain = MeanShift(bandwidth=0.9).fit(X)
    monkeypatch.setattr(labels, "LABEL_WORK", 10_000)
    seen = []
    fit = MeanShift(bandwidth=0.9, callback=seen.append).fit(X)
    np.testing.assert_array_equal(fit.labels_, plain.labels_)
    done = [p.done for p in seen if p.stage == "labels"]
    assert {p.total for p in seen if p.stage == "labels"} == {3000}
    assert done == sorted(done) and done[0] == 0 and done[-1] == 3000 and len(done) > 3
    assert seen[-1].stage == "labels"  # the last stage of the fit
    with pytest.raises(FitCancelled, match="'labels'"):
        MeanShift(bandwidth=0.9, callback=lambda p: p.stage != "labels").fit(X)


# -- linear cost with many modes (issue 13): trees, with the all-pairs answer ---------------------
@pytest.mark.parametrize("seed, d", [(0, 2), (1, 2), (2, 2), (3, 2), (0, 40), (1, 40)])
def test_attach_and_nearest_through_a_tree_equal_all_pairs(seed, d, monkeypatch):
    # A tree of the centres (2-D) or blocks of products (40-D): the all-pairs answer.
    from meanshift import _arrays
    from meanshift._stages import labels

    rng = np.random.default_rng(seed)
    # Lattice points and centres: many exact ties in distance and on the radius.
    top = 12 if d == 2 else 2
    points = rng.integers(0, top, size=(3000, d)) * 0.5
    centers = np.unique(rng.integers(0, top, size=(300, d)) * 0.5, axis=0)
    if d > 2:  # points a few lattice steps from a centre: on and near the radii
        flips = rng.random((3000, d)) < 0.05
        points = np.abs(centers[rng.integers(0, len(centers), 3000)] - 0.5 * flips)
    centers = np.vstack([centers, centers[:5]])  # duplicates: ties to the lowest index
    assert len(centers) > 64  # the tree is used from 65 centres on
    rng.shuffle(centers)
    for radius in (0.5, 1.0, 1.5):
        brute = labels.attach(points, centers, radius)
        monkeypatch.setattr(labels, "TREE_MIN_PAIRS", 0)
        tree = labels.attach(points, centers, radius)
        monkeypatch.setattr(labels, "TREE_MIN_PAIRS", _arrays.TREE_MIN_PAIRS)
        np.testing.assert_array_equal(tree[0], brute[0])
        np.testing.assert_array_equal(tree[1], brute[1])
    far = points + 100.0  # no centre within reach: the nearest, ties to the lowest index
    idx, d2 = _arrays.nearest_centres(far, centers)
    ref_idx, ref_dist = get_engine("numpy").nearest(far, centers)
    np.testing.assert_array_equal(idx, ref_idx)
    np.testing.assert_allclose(np.sqrt(d2), ref_dist)


@pytest.mark.parametrize("d", [3, 8, 64])
def test_numba_nearest_through_a_tree_equals_the_reference(d, monkeypatch):
    # Up to 31 features a tree of the centres, from 32 by blocks of products (then exact
    # distances for the centres within the products' error of the nearest): lattice
    # points, exact ties, a duplicated centre; the rule's ties to the lowest index.
    from meanshift._engines._numba import _engine

    rng = np.random.default_rng(1)
    top = 40 if d == 3 else 3
    X = rng.integers(0, top, size=(2000, d)).astype(np.float64) * 0.1 + 5.0
    centers = rng.integers(0, top, size=(500, d)).astype(np.float64) * 0.1 + 5.0
    centers[7] = centers[3]
    monkeypatch.setattr(_engine, "TREE_NEAREST_PAIRS", 0)
    idx, dist = get_engine("numba").nearest(X, centers)
    ref_idx, ref_dist = get_engine("numpy").nearest(X, centers)
    np.testing.assert_array_equal(idx, ref_idx)
    np.testing.assert_allclose(dist, ref_dist)


@pytest.mark.parametrize("call,kwargs,message", [
    ("auto_bandwidth", {"n_sample": True}, r"'n_sample' parameter of auto_bandwidth must be "
                                           r"an int in the range \[2, inf\)\. Got True"),
    ("auto_bandwidth", {"min_cluster_fraction": 2.0}, r"'min_cluster_fraction' parameter .* "
                                                      r"range \(0\.0, 1\.0\)\. Got 2\.0"),
    ("auto_bandwidth", {"kernel": "box"}, r"'kernel' parameter of auto_bandwidth"),
    ("estimate_bandwidth", {"quantile": True}, r"'quantile' parameter must be in \[0, 1\]; "
                                               r"got True"),
    ("estimate_bandwidth", {"n_samples": True}, r"'n_samples' parameter must be >= 1; got True"),
])
def test_bandwidth_functions_validate_like_the_estimator(call, kwargs, message, blobs):
    import meanshift

    X, _ = blobs
    with pytest.raises(ValueError, match=message):
        getattr(meanshift, call)(X[:100], **kwargs)
