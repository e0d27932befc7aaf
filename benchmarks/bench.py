"""Main benchmark: meanshift side by side with its peers, in one process, same data and
bandwidth; prints a table and writes it to a Markdown file.

Peers: scikit-learn's MeanShift (flat kernel; all points as seeds, and bin_seeding=True;
its estimate_bandwidth), our NumPy reference engine, and the PyTorch blurring algorithm of
the walk-through (dense distances, gaussian bw 2.5, ``X = W @ X / W.sum(1)`` until nothing
changes or 100 epochs, ``torch.unique`` for the centroids) where it fits in memory.

Columns: time (s, after a warm-up of the compiled code; a run under 1 s is repeated and
the best of 6 kept, five of them timed without the memory sampler, for every method
alike), peak memory
(extra resident MB during the call), clusters found, ARI vs the truth, ARI vs the peer,
and ``speedup`` = peer time / our time, measured in the same run.  Where a peer would
take minutes, it is timed on a subset of the seeds and its time scaled up (marked
``extrapolated`` in the notes; the seeds are independent, so the scaling is linear).

Usage::

    PYTHONPATH=src python benchmarks/bench.py --quick      # < 2 minutes on 2 cores
    PYTHONPATH=src python benchmarks/bench.py              # full, writes benchmarks/results.md

The suites of ``benchmarks/bench_torch.py``, ``bench_dask.py`` and ``bench_image.py`` run
too when present (each defines ``suite(quick) -> list[dict]``; ``--no-extra`` skips them).
"""

from __future__ import annotations

import argparse
import importlib
import os
import subprocess
import sys
import tempfile
import time
from pathlib import Path

import numpy as np
from sklearn.metrics import adjusted_rand_score

HERE = Path(__file__).resolve().parent
sys.path.insert(0, str(HERE.parent))
sys.path.insert(0, str(HERE.parent / "src"))

from benchmarks._common import markdown_table, measure  # noqa: E402
from meanshift import MeanShift, estimate_bandwidth  # noqa: E402
from meanshift._engines import get_engine  # noqa: E402
from meanshift._kernels import KERNELS  # noqa: E402
from meanshift.datasets import make_blobs, six_blobs  # noqa: E402

COLUMNS = ["case", "method", "n", "d", "bandwidth", "time_s", "peak_mb", "clusters",
           "ari_truth", "ari_peer", "speedup", "notes"]


def _ari(a, b):
    if a is None or b is None:
        return float("nan")
    return float(adjusted_rand_score(a, b))


def _row(case, method, X, h, m, labels, n_clusters, truth, peer_labels, notes="",
         time_scale=1.0):
    return {
        "case": case, "method": method, "n": X.shape[0], "d": X.shape[1],
        "bandwidth": float(h), "time_s": m.seconds * time_scale,
        "peak_mb": m.peak_bytes / 2**20, "clusters": n_clusters,
        "ari_truth": _ari(truth, labels), "ari_peer": _ari(peer_labels, labels),
        "notes": notes,
    }


def _speedups(rows):
    """speedup = time of the case's peer (its first row) / time of each row."""
    peer = rows[0]["time_s"]
    for r in rows:
        r["speedup"] = peer / r["time_s"] if r["time_s"] > 0 else float("nan")
    return rows


# -- peers ---------------------------------------------------------------------------------

def sklearn_fit(X, h, *, bin_seeding=False, seeds=None):
    from sklearn.cluster import MeanShift as SkMeanShift

    return SkMeanShift(bandwidth=h, bin_seeding=bin_seeding, seeds=seeds).fit(X)


def torch_blurring(X, bw=2.5, max_epochs=100):
    """The walk-through's blurring mean shift, as written there (float32, dense)."""
    import math

    import torch

    def gaussian(d, bw):
        return torch.exp(-0.5 * (d / bw) ** 2) / (bw * math.sqrt(2 * math.pi))

    X = torch.tensor(X, dtype=torch.float32)
    for _ in range(max_epochs):
        dist = torch.sqrt(((X[None, :] - X[:, None]) ** 2).sum(2))
        weight = gaussian(dist, bw)
        new = (weight @ X) / weight.sum(1, keepdim=True)
        if torch.equal(new, X):
            break
        X = new
    centroids, labels = torch.unique(torch.round(X, decimals=2), dim=0, return_inverse=True)
    return centroids.numpy(), labels.numpy()


def ours(X, h, engine="auto", **params):
    return MeanShift(bandwidth=h, engine=engine, **params).fit(X)


def _warm_up():
    """Compile (or load) what the cases run, so that no timed run includes a compile:
    every kernel in 2-D, the flat kernel's k-d tiles (8-D) and matrix products (64-D),
    shared paths (flat, 3000 seeds), basin in 8-D, the fully automatic compressed and
    checked (8-D) fits,
    the walk-through's six blobs."""
    X, _, _ = make_blobs(300, 2, centers=2, random_state=0)
    for k in KERNELS:
        MeanShift(bandwidth=1.0, kernel=k).fit(X)
        MeanShift(bandwidth=1.0, kernel=k).fit(X.astype(np.float32))
    rng = np.random.default_rng(0)
    for d, spread, h in ((8, 1.0, 4.0), (8, 30.0, 2.0), (64, 1.0, 12.0)):
        # compact: k-d tiles (matrix products in 64-D); spread: cell lists
        MeanShift(bandwidth=h).fit(rng.normal(size=(300, d)) * spread)
    MeanShift(bandwidth=1.0).fit(make_blobs(3000, 2, centers=3, random_state=0)[0])
    # the basin algorithm's step-by-step sums in 8-D; the automatic bandwidth and the
    # compressed pipeline (weighted bin means)
    MeanShift(bandwidth=4.0, algorithm="basin").fit(rng.normal(size=(2000, 8)))
    MeanShift().fit(make_blobs(60_000, 2, centers=3, random_state=0)[0])
    # the checked pipeline and the automatic bandwidth in 8-D
    MeanShift().fit(make_blobs(50_000, 8, centers=3, random_state=0)[0])
    # The walk-through's data themselves: their index (cell lists at this density) is not
    # the one the small blobs above get, and a run after a change of the compiled
    # sources timed its compile (3.3 s) once.
    six = six_blobs()[0]
    for alg in ("standard", "basin"):
        MeanShift(bandwidth=2.5, kernel="gaussian", algorithm=alg).fit(six)


# -- cases ---------------------------------------------------------------------------------

def case_vs_sklearn(case, X, truth, h, *, bin_seeding=False, sk_seed_step=1, numpy_ref=True,
                    extra=()):
    """sklearn (flat) vs ours (numba standard, numba basin), optionally the reference."""
    rows = []
    if sk_seed_step > 1:
        seeds = X[::sk_seed_step]
        m = measure("sklearn", sklearn_fit, X, h, seeds=seeds)
        sk = m.result.labels_  # ARI vs the peer: vs its fit from the subset of seeds
        rows.append(_row(case, "sklearn MeanShift", X, h, m, sk, len(m.result.cluster_centers_),
                         truth, sk, notes=f"extrapolated: timed with every {sk_seed_step}th "
                         f"point as seed, time x {sk_seed_step}", time_scale=sk_seed_step))
    else:
        m = measure("sklearn", sklearn_fit, X, h, bin_seeding=bin_seeding)
        sk = m.result.labels_
        rows.append(_row(case, "sklearn MeanShift" + (" bin_seeding" if bin_seeding else ""),
                         X, h, m, sk, len(m.result.cluster_centers_), truth, sk))
    algs = ["standard", "auto"] if bin_seeding else ["standard", "basin"]
    for alg in algs:
        m = measure(alg, ours, X, h, algorithm=alg, bin_seeding=bin_seeding)
        name = alg if alg != "auto" else f"auto (algorithm={m.result.algorithm_})"
        rows.append(_row(case, f"meanshift numba {name}", X, h, m, m.result.labels_,
                         len(m.result.cluster_centers_), truth, sk))
    for params in extra:
        m = measure("x", ours, X, h, **params)
        rows.append(_row(case, "meanshift " + ",".join(f"{k}={v}" for k, v in params.items()),
                         X, h, m, m.result.labels_, len(m.result.cluster_centers_), truth, sk))
    if numpy_ref:
        m = measure("numpy", ours, X, h, engine="numpy", bin_seeding=bin_seeding)
        rows.append(_row(case, "meanshift numpy reference", X, h, m, m.result.labels_,
                         len(m.result.cluster_centers_), truth, sk))
    return _speedups(rows)


def case_everything_auto(n, quick):
    X, y, _ = make_blobs(n, 2, centers=5, random_state=0)
    rows = []
    if not quick:
        def sk_auto(X):
            h = estimate_bandwidth(X, n_samples=10000)  # scikit-learn's rule, same value
            return sklearn_fit(X, h, bin_seeding=True), h

        m = measure("sk", sk_auto, X)
        sk_model, h_sk = m.result
        sk = sk_model.labels_
        rows.append(_row("1e6 2-D, all automatic", "sklearn estimate_bandwidth(n_samples=1e4)"
                         " + MeanShift bin_seeding", X, h_sk, m, sk,
                         len(sk_model.cluster_centers_), y, sk))
    else:
        sk = None
    m = measure("auto", MeanShift().fit, X)
    r = _row(f"{n:.0e} 2-D, all automatic", "meanshift MeanShift() (auto bandwidth, "
             f"algorithm={m.result.algorithm_})", X, m.result.bandwidth_, m, m.result.labels_,
             len(m.result.cluster_centers_), y, sk)
    rows.append(r)
    return _speedups(rows) if not quick else rows


def case_memory_flat(n):
    X, y, _ = make_blobs(n, 2, centers=5, random_state=0)
    m = measure("auto", MeanShift(bandwidth=2.0).fit, X)
    r = _row(f"{n:.0e} 2-D, memory", f"meanshift algorithm={m.result.algorithm_}", X, 2.0, m,
             m.result.labels_, len(m.result.cluster_centers_), y, None,
             notes=f"peak / input array = {m.peak_bytes / X.nbytes:.2f}")
    return [r]


def case_walkthrough(quick):
    X, y, _ = six_blobs()
    rows = []
    m = measure("torch", torch_blurring, X)
    cents, tl = m.result
    rows.append(_row("six blobs, gaussian h=2.5", "walk-through PyTorch blurring (dense)", X,
                     2.5, m, tl, len(cents), y, tl))
    for alg in ("standard", "basin"):
        m = measure("ours", ours, X, 2.5, kernel="gaussian", algorithm=alg)
        rows.append(_row("six blobs, gaussian h=2.5", f"meanshift numba {alg}", X, 2.5, m,
                         m.result.labels_, len(m.result.cluster_centers_), y, tl))
    return _speedups(rows)


def case_throughput(quick):
    """Dense gaussian pair rate, d = 2: every pair within the truncation radius."""
    n = 8000 if quick else 40000
    X = np.random.default_rng(0).uniform(-1, 1, size=(n, 2))
    eng = get_engine("numba", gaussian_radius=1e6)
    eng.partial_sums(X[:100], X, None, 1.0, KERNELS["gaussian"])
    m = measure("rate", eng.partial_sums, X, X, None, 1.0, KERNELS["gaussian"])
    rate = eng.pairs / m.seconds
    return [{"case": "dense gaussian throughput", "method": "numba partial_sums", "n": n,
             "d": 2, "bandwidth": 1.0, "time_s": m.seconds, "peak_mb": m.peak_bytes / 2**20,
             "notes": f"{eng.pairs:.3g} pairs, {rate:.3g} pair evaluations / s"}]


def case_default_paths(quick):
    """Every pixel of china.jpg at the defaults: shared paths (the default, best of 3)
    against the same fit with ``share_paths="never"`` (the climb before them, best of 2);
    identical answers."""
    from sklearn.datasets import load_sample_image

    img = load_sample_image("china.jpg")
    X = (img[::4, ::4] if quick else img).reshape(-1, 3).astype(np.float64)
    case = f"china.jpg, every pixel ({len(X)}), defaults (bandwidth 12)"
    rows = []
    m = measure("never", ours, X, 12.0, engine_options={"share_paths": "never"}, repeat=2)
    ref = m.result
    rows.append(_row(case, f"meanshift share_paths=never (algorithm={ref.algorithm_})", X,
                     12.0, m, ref.labels_, len(ref.cluster_centers_), None, ref.labels_))
    m = measure("default", ours, X, 12.0, repeat=3)
    same = np.array_equal(m.result.cluster_centers_, ref.cluster_centers_)
    rows.append(_row(case, "meanshift defaults (shared paths)", X, 12.0, m,
                     m.result.labels_, len(m.result.cluster_centers_), None, ref.labels_,
                     notes="centres identical" if same else "CENTRES DIFFER"))
    return _speedups(rows)


def _vs_exact(fit, exact, h):
    """How a fit's clusters compare with the exact every-point fit's."""
    from scipy.spatial import cKDTree

    if len(fit.cluster_centers_) != len(exact.cluster_centers_):
        return (f"vs every point: {len(fit.cluster_centers_)} clusters, not "
                f"{len(exact.cluster_centers_)}")
    dist = cKDTree(exact.cluster_centers_).query(fit.cluster_centers_)[0].max()
    same = np.array_equal(fit.labels_, exact.labels_)
    labels = "same labels" if same else f"ARI {_ari(exact.labels_, fit.labels_):.4f}"
    return f"vs every point: {labels}, centres within {dist / h:.1e} h"


def case_mid_dimensions(quick):
    """10^5 x 8-D blobs (10 clusters) at a fixed bandwidth: scikit-learn's fastest
    setting (bin seeding); our default (algorithm="auto": checked bin seeds), the exact
    every-point fit (``algorithm="standard"``), basin and bin seeding; then the fully
    automatic fit (bandwidth too) against the exact fit at the bandwidth it chose."""
    n = 10**4 if quick else 10**5
    X, y, _ = make_blobs(n, 8, centers=10, cluster_std=1.0, random_state=0)
    h = 3.0
    case = f"{n} 8-D blobs (10 clusters), h=3"
    rows = []
    m = measure("sk", sklearn_fit, X, h, bin_seeding=True)
    sk = m.result.labels_
    rows.append(_row(case, "sklearn MeanShift bin_seeding", X, h, m, sk,
                     len(m.result.cluster_centers_), y, sk))
    exact = measure("exact", ours, X, h, algorithm="standard")
    for name, params in (("defaults", {}), ("every point", {"algorithm": "standard"}),
                         ("basin", {"algorithm": "basin"}),
                         ("bin_seeding", {"bin_seeding": True})):
        m = exact if name == "every point" else measure(name, ours, X, h, **params)
        notes = "" if name == "every point" else _vs_exact(m.result, exact.result, h)
        rows.append(_row(case, f"meanshift {name} (algorithm={m.result.algorithm_})", X, h,
                         m, m.result.labels_, len(m.result.cluster_centers_), y, sk,
                         notes=notes))
    rows = _speedups(rows)
    auto = measure("auto", lambda: MeanShift().fit(X))
    h_auto = float(auto.result.bandwidth_)
    exact = measure("exact", ours, X, h_auto, algorithm="standard")
    case = f"{n} 8-D blobs (10 clusters), all automatic"
    more = [_row(case, "meanshift exact every point at that bandwidth (algorithm=standard)",
                 X, h_auto, exact, exact.result.labels_, len(exact.result.cluster_centers_),
                 y, sk),
            _row(case, f"meanshift MeanShift() (auto bandwidth, algorithm="
                 f"{auto.result.algorithm_})", X, h_auto, auto, auto.result.labels_,
                 len(auto.result.cluster_centers_), y, sk,
                 notes=_vs_exact(auto.result, exact.result, h_auto))]
    return rows + _speedups(more)


def compile_times():
    """First fit in a fresh process: with the on-disk cache warm, and cold."""
    code = ("import time; t=time.perf_counter(); import numpy as np; "
            "from meanshift import MeanShift; "
            "X=np.random.default_rng(0).normal(size=(500,2)); "
            "MeanShift(bandwidth=1.0).fit(X); print(time.perf_counter()-t)")
    env = dict(os.environ, PYTHONPATH=str(HERE.parent / "src"))
    out = {}
    for label, extra in (("warm cache", {}), ("cold (empty cache)", None)):
        e = dict(env)
        tmp = None
        if extra is None:
            tmp = tempfile.mkdtemp(prefix="numba_cache_")
            e["NUMBA_CACHE_DIR"] = tmp
        res = subprocess.run([sys.executable, "-c", code], env=e, capture_output=True,
                             text=True, timeout=900)
        ok = res.returncode == 0
        out[label] = float(res.stdout.strip().splitlines()[-1]) if ok else float("nan")
    return out


def main(argv=None):
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--quick", action="store_true", help="small sizes, < 2 minutes")
    ap.add_argument("--no-extra", action="store_true", help="skip the other suites")
    ap.add_argument("--out", default=None, help="Markdown file to write")
    args = ap.parse_args(argv)
    quick = args.quick
    out = Path(args.out) if args.out else HERE / ("results_quick.md" if quick else "results.md")
    t_start = time.perf_counter()
    load_start = os.getloadavg()
    started = time.strftime("%Y-%m-%d %H:%M UTC", time.gmtime())
    _warm_up()
    rows = []

    def add(r):
        rows.extend(r)
        print(markdown_table(r, COLUMNS), flush=True)
        # Written after every case, so an interrupted run still leaves its rows.
        out.write_text("# Benchmark results (partial)\n\n" + markdown_table(rows, COLUMNS) + "\n")

    n10k = 1000 if quick else 10000
    X, y, _ = make_blobs(n10k, 2, centers=5, random_state=0)
    add(case_vs_sklearn(f"{n10k} 2-D blobs, flat, all seeds", X, y, 2.0,
                        sk_seed_step=1 if quick else 5, numpy_ref=quick))
    n100k = 10000 if quick else 100000
    X, y, _ = make_blobs(n100k, 2, centers=5, random_state=1)
    add(case_vs_sklearn(f"{n100k} 2-D blobs, flat, bin_seeding", X, y, 2.0, bin_seeding=True,
                        numpy_ref=False))
    add(case_everything_auto(10**5 if quick else 10**6, quick))
    if not quick:
        add(case_memory_flat(10**7))
    add(case_walkthrough(quick))
    add(case_throughput(quick))
    for d in (8, 64):
        n = 2000 if quick else 10000
        X, y, _ = make_blobs(n, d, centers=5, random_state=d)
        h = 1.1 * np.sqrt(2.0 * d)  # about the typical distance between two points of a blob
        step = 10
        add(case_vs_sklearn(f"{n} {d}-D blobs, flat, all seeds", X, y, h,
                            sk_seed_step=step, numpy_ref=False))
    from sklearn.datasets import load_digits, load_iris, load_sample_image, load_wine

    for name, loader, h in (("iris", load_iris, 0.9), ("wine", load_wine, 60.0),
                            ("digits (64-D)", load_digits, 25.0)):
        data = loader()
        step = 20 if quick and name.startswith("digits") else 1
        add(case_vs_sklearn(f"{name}, flat", data.data, data.target, h, sk_seed_step=step,
                            numpy_ref=not quick or name == "iris"))
    img = load_sample_image("china.jpg").reshape(-1, 3).astype(np.float64)
    npix = 5000 if quick else 100000
    pix = img[np.random.default_rng(0).permutation(img.shape[0])[:npix]]
    rows_img = []
    m = measure("sk", sklearn_fit, pix, 12.0, bin_seeding=True)
    sk = m.result.labels_
    rows_img.append(_row("china.jpg pixels (RGB), random sample",
                         "sklearn MeanShift bin_seeding", pix, 12.0,
                         m, sk, len(m.result.cluster_centers_), None, sk))
    m = measure("ours", ours, pix, 12.0, bin_seeding=True)
    rows_img.append(_row("china.jpg pixels (RGB), random sample",
                         f"meanshift bin_seeding (algorithm={m.result.algorithm_})", pix, 12.0,
                         m, m.result.labels_, len(m.result.cluster_centers_), None, sk))
    add(_speedups(rows_img))
    add(case_default_paths(quick))
    add(case_mid_dimensions(quick))

    comp = compile_times()
    text = [
        "# Benchmark results" + (" (quick)" if quick else ""),
        "",
        f"Command: `PYTHONPATH=src python benchmarks/bench.py"
        f"{''.join(' ' + a for a in (argv if argv is not None else sys.argv[1:]))}`  ",
        f"Machine: {os.cpu_count()} CPU cores; numba threads: "
        f"{__import__('numba').get_num_threads()}; scikit-learn with n_jobs=None.  ",
        f"Run: {started}; load average 1/5/15 min at the start: "
        f"{'/'.join(f'{v:.2f}' for v in load_start)}, at the end: "
        f"{'/'.join(f'{v:.2f}' for v in os.getloadavg())}; "
        + "; ".join(f"{k}={os.environ.get(k, 'unset')}" for k in (
            "OMP_NUM_THREADS", "OPENBLAS_NUM_THREADS", "MKL_NUM_THREADS")) + ".  ",
        "speedup = time of the first row of each case (the peer) / time of the row.  ",
        f"First fit in a fresh process (import + compile or cache load): "
        f"{comp['warm cache']:.2f} s with the on-disk cache, "
        f"{comp['cold (empty cache)']:.1f} s with an empty cache.",
        "",
        markdown_table(rows, COLUMNS),
    ]
    if not args.no_extra:
        for mod_name in ("bench_torch", "bench_dask", "bench_image"):
            try:
                mod = importlib.import_module(f"benchmarks.{mod_name}")
            except ImportError:
                continue
            try:
                extra_rows = mod.suite(quick)
            except Exception as exc:  # report, keep the main table
                text += ["", f"## {mod_name}", "", f"failed: {exc!r}"]
                continue
            cols = list(dict.fromkeys(k for r in extra_rows for k in r))
            table = markdown_table(extra_rows, cols)
            print(table, flush=True)
            text += ["", f"## {mod_name}", "", table]
    total = time.perf_counter() - t_start
    text += ["", f"Total benchmark time: {total:.0f} s."]
    out.write_text("\n".join(text) + "\n")
    print(f"\ncompile: {comp}\ntotal {total:.0f} s; wrote {out}")


if __name__ == "__main__":
    main()
