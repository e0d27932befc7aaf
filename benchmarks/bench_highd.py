"""High dimensions: kernel sums by matrix products against the tile tree and scikit-learn
(issue 14, item 2).

Cases, each in one process, methods alternating, best of ``--repeat``:

* ``digits`` (1797 x 64, scikit-learn's bundled data), flat kernel, bandwidth 25, every
  point a seed: scikit-learn's MeanShift, ours with the Numba engine's index
  (``matmul="never"``), with matrix products (``"always"``) and as "auto" chooses.
  Labels are compared with scikit-learn's (identical = ARI 1 and the same centres).
* ``blobs64``: 10^4 x 64-D blobs (5 centres), bandwidth ``1.1 sqrt(2 d)`` as in
  ``bench.py``, every point a seed; scikit-learn timed on every 10th seed and scaled
  (seeds climb independently); ours also with products over all of the data
  (``tiles="never"``).
* ``wide128``: 10^5 x 128-D von Mises-Fisher directions (20 clusters), cosine metric,
  1000 seeds: time and memory of ours (no peer: scikit-learn's 10^5 x 128 climb from
  1000 seeds is shown in ``bench_metrics.py`` for 384-D).
* ``every128``: 2 x 10^4 x 128-D von Mises-Fisher directions (20 clusters, kappa 256),
  cosine metric, bandwidth 0.488 (what the automatic bandwidth gives on 2000 of them),
  every point a seed, flat and epanechnikov kernels: ours as "auto" chooses (the
  epanechnikov with neighbour lists, its seeds climbing in batches whose lists fit in 128
  MiB; the flat kernel's products win on data this large with lists of 5 % of it, see
  ``_lists.FLAT_LARGE_SHARE``)
  against plain products (``neighbour_lists="never"``), time and memory.
* ``modes``: 10^4 x 64-D von Mises-Fisher directions, epanechnikov kernel at bandwidth
  0.5, every point a seed: thousands of modes; the fit, and its merge and labels on
  their own (matrix products in place of trees in many features).
* ``choice``: where ``matmul="auto"`` takes the products with tiles over the index:
  blobs at six sizes, feature counts and bandwidths, timed as auto chooses and with the
  index.
* ``rates``: pair rates of the two paths on 10^4 points, 1000 positions, uniform data
  (no pruning possible), 16 to 384 features, flat and gaussian.

Run::

    python benchmarks/bench_highd.py            # every case
    python benchmarks/bench_highd.py --quick    # smaller
    python benchmarks/bench_highd.py --case choice   # one case
"""

from __future__ import annotations

import argparse
import os
import sys
import time
from pathlib import Path

import numpy as np

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from benchmarks._common import alternate  # noqa: E402


def _ours(X, h, matmul, lists="auto", tiles="auto", **kw):
    from meanshift import MeanShift

    options = {"matmul": matmul, "neighbour_lists": lists, "tiles": tiles}
    return lambda: MeanShift(bandwidth=h, engine_options=options, **kw).fit(X)


def _sklearn(X, h, seeds=None):
    from sklearn.cluster import MeanShift as Sk

    return lambda: Sk(bandwidth=h, seeds=seeds, n_jobs=-1).fit(X)


def _table(title, best, ref_name, X_len, scale=None, note=""):
    from sklearn.metrics import adjusted_rand_score

    ref = best[ref_name].result
    print(f"## {title}\n")
    if note:
        print(note + "\n")
    print("| method | seconds | extra peak MiB | clusters | ARI vs scikit-learn | "
          "scikit-learn / this |")
    print("|---|---|---|---|---|---|")
    ref_s = best[ref_name].seconds * (scale or 1)
    for name, m in best.items():
        s = m.seconds * (scale if name == ref_name and scale else 1)
        labels = m.result.labels_
        ari = adjusted_rand_score(ref.labels_, labels) if len(labels) == len(ref.labels_) \
            else float("nan")
        print(f"| {name} | {s:.3f} | {m.peak_bytes / 2**20:.0f} | "
              f"{len(m.result.cluster_centers_)} | {ari:.3f} | {ref_s / s:.1f}x |")
    print()


def digits_case(repeat):
    from sklearn.datasets import load_digits

    X = load_digits().data.astype(np.float64)
    runs = {"scikit-learn": _sklearn(X, 25.0)}
    for mm in ("never", "always", "auto"):
        runs[f"meanshift matmul={mm}"] = _ours(X, 25.0, mm)
    runs["meanshift matmul=auto, neighbour_lists=never"] = _ours(X, 25.0, "auto", "never")
    best = alternate(runs, repeat)
    _table("digits (1797 x 64), flat, bandwidth 25, every point a seed", best,
           "scikit-learn", len(X))
    sk = best["scikit-learn"].result
    for name, m in best.items():
        if name.startswith("meanshift"):
            same = np.array_equal(m.result.labels_, sk.labels_)
            dc = np.abs(np.sort(m.result.cluster_centers_, axis=0)
                        - np.sort(sk.cluster_centers_, axis=0)).max() if len(
                m.result.cluster_centers_) == len(sk.cluster_centers_) else np.inf
            print(f"- {name}: labels identical to scikit-learn's: {same}; largest centre "
                  f"difference {dc:.2g}")
    print()


def blobs_case(n, repeat):
    from meanshift.datasets import make_blobs

    d = 64
    X, _, _ = make_blobs(n, d, centers=5, random_state=d)
    h = 1.1 * np.sqrt(2.0 * d)
    runs = {"scikit-learn": _sklearn(X, h, seeds=X[::10])}
    for mm in ("never", "always", "auto"):
        runs[f"meanshift matmul={mm}"] = _ours(X, h, mm)
    runs["meanshift matmul=always, tiles=never"] = _ours(X, h, "always", tiles="never")
    best = alternate(runs, repeat)
    _table(f"{n} x 64-D blobs (5), flat, bandwidth {h:.1f}, every point a seed", best,
           "scikit-learn", n, scale=10,
           note="scikit-learn timed with every 10th point as a seed, time x 10 (its ARI "
                "column compares labels from that run).")


def _fits_table(best, y):
    """Time, memory, clusters and ARI against the truth ``y`` of each measured fit."""
    from sklearn.metrics import adjusted_rand_score

    print("| method | seconds | extra peak MiB | clusters | ARI vs truth |")
    print("|---|---|---|---|---|")
    for name, m in best.items():
        print(f"| {name} | {m.seconds:.2f} | {m.peak_bytes / 2**20:.0f} | "
              f"{len(m.result.cluster_centers_)} | "
              f"{adjusted_rand_score(y, m.result.labels_):.3f} |")


def wide_case(n, repeat):
    from meanshift import MeanShift
    from meanshift.datasets import make_vmf

    X, y, _ = make_vmf(n, 128, centers=20, kappa=256.0, random_state=0)
    def fit(matmul, lists="auto"):
        options = {"matmul": matmul, "neighbour_lists": lists}
        return lambda: MeanShift(metric="cosine", seeds=1000, engine_options=options).fit(X)

    runs = {"meanshift matmul=auto": fit("auto"),
            "meanshift matmul=auto, neighbour_lists=never": fit("auto", "never"),
            "meanshift matmul=never": fit("never")}
    best = alternate(runs, repeat)
    print(f"## {n} x 128 directions (20 vMF clusters), cosine, auto bandwidth, 1000 seeds\n")
    _fits_table(best, y)
    print()


def every_case(n, repeat):
    from meanshift import MeanShift
    from meanshift.datasets import make_vmf

    X, y, _ = make_vmf(n, 128, centers=20, kappa=256.0, random_state=0)

    def fit(lists, kernel):
        options = {"neighbour_lists": lists}
        return lambda: MeanShift(metric="cosine", bandwidth=0.488, kernel=kernel,
                                 engine_options=options).fit(X)

    print(f"## {n} x 128 directions (20 vMF clusters), cosine, bandwidth 0.488, every point "
          "a seed\n")
    for kernel in ("flat", "epanechnikov"):
        best = alternate({f"meanshift {kernel}, auto": fit("auto", kernel),
                          f"meanshift {kernel}, neighbour_lists=never": fit("never", kernel)},
                         repeat)
        _fits_table(best, y)
        a, b = best.values()
        same = np.array_equal(a.result.labels_, b.result.labels_)
        print(f"\nLabels {'identical' if same else 'DIFFER'}; largest centre difference "
              f"{np.abs(a.result.cluster_centers_ - b.result.cluster_centers_).max():.1e}.\n")


def modes_case(n, repeat):
    """Many modes in many features: the merge of the seeds' ends and the labels (the
    nearest of thousands of centres) after the climb, timed on their own too."""
    from meanshift import MeanShift
    from meanshift._stages.merge import merge_modes
    from meanshift.datasets import make_vmf

    X, y, _ = make_vmf(n, 64, centers=10, kappa=200.0, random_state=1)

    def fit():
        return MeanShift(bandwidth=0.5, kernel="epanechnikov").fit(X)

    best = alternate({"meanshift epanechnikov, every point a seed": fit}, repeat)
    m = best["meanshift epanechnikov, every point a seed"].result
    print(f"## {n} x 64 directions (10 vMF clusters, kappa 200), epanechnikov, bandwidth "
          "0.5: thousands of modes\n")
    _fits_table(best, y)
    from meanshift._engines import get_engine

    t0 = time.perf_counter()
    merged = merge_modes(m.seed_modes_, np.ones(len(X)), 0.5)[0]
    t1 = time.perf_counter()
    get_engine("numba").nearest(X, m.cluster_centers_)
    t2 = time.perf_counter()
    print(f"\nTimed once after the fits: merging the fit's {len(X)} end points (each of "
          f"density 1) into {len(merged)} centres {t1 - t0:.2f} s; the nearest of the fit's "
          f"{len(m.cluster_centers_)} centres for every point {t2 - t1:.2f} s.\n")


def choice_case(repeat, quick):
    """Where "auto" takes the products with tiles over the index (the engine's
    TILE_* rule): blobs at several sizes, features and bandwidths, each timed as "auto"
    chooses and with the index (``matmul="never"``), alternating."""
    from meanshift._engines import get_engine
    from meanshift._kernels import get_kernel
    from meanshift.datasets import make_blobs

    print("## The choice of tiles: products with tiles against the index\n")
    print("| data | bandwidth | clusters | auto's path | auto s | index s | index / auto |")
    print("|---|---|---|---|---|---|---|")
    configs = [(6000, 32, 10, 3.0), (20000, 16, 10, None), (10000, 32, 5, None),
               (10000, 128, 5, None), (20000, 64, 20, 0.8), (10000, 32, 5, 0.6),
               (10000, 16, 5, None), (10000, 24, 5, None), (20000, 16, 10, 0.8),
               (10000, 20, 5, 0.8), (20000, 24, 10, None)]
    for n, d, c, h in configs:
        n = n // 4 if quick else n
        X, _, _ = make_blobs(n, d, centers=c, random_state=0)
        bw = h if h is not None and h > 1 else (h or 1.1) * np.sqrt(2.0 * d)
        eng = get_engine("numba")
        eng.bind(X, None, bandwidth=bw, kernel=get_kernel("flat"))
        path = "tiles" if "tiles of the data" in eng.last_index[1] else (
            "products" if eng.last_index[0] == "matmul" else eng.last_index[0])
        best = alternate({"auto": _ours(X, bw, "auto"), "index": _ours(X, bw, "never")},
                         repeat)
        a, i = best["auto"].seconds, best["index"].seconds
        print(f"| {n} x {d}-D, {c} blobs | {bw:.2f} | "
              f"{len(best['auto'].result.cluster_centers_)} | {path} | {a:.3f} | {i:.3f} | "
              f"{i / a:.2f} |")
    print()


def rates(quick):
    from meanshift._engines import get_engine
    from meanshift._kernels import get_kernel

    n, k = (5000, 500) if quick else (10000, 1000)
    print(f"## Pair rates: {k} positions x {n} uniform points (no pruning possible)\n")
    print("| features | kernel | index pairs/s | products pairs/s | products / index |")
    print("|---|---|---|---|---|")
    for d in (16, 32, 64, 128, 384):
        X = np.random.default_rng(d).uniform(size=(n, d))
        h = 0.5 * np.sqrt(d / 6.0)
        for kn in ("flat", "gaussian"):
            out = []
            for mm in ("never", "always"):
                b = get_engine("numba", matmul=mm).bind(X, None, bandwidth=h,
                                                        kernel=get_kernel(kn))
                b.partial_sums(X[:5])
                best = np.inf
                for _ in range(3):
                    t = time.perf_counter()
                    b.partial_sums(X[:k])
                    best = min(best, time.perf_counter() - t)
                out.append(k * n / best)
            print(f"| {d} | {kn} | {out[0]:.3g} | {out[1]:.3g} | {out[1] / out[0]:.2f} |")
    print()


def main(argv=None):
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--quick", action="store_true")
    ap.add_argument("--repeat", type=int, default=3)
    ap.add_argument("--case", default="", help="only the cases whose name holds this: "
                    "digits, blobs64, wide128, every128, modes, choice, rates")
    args = ap.parse_args(argv)
    from sklearn.datasets import load_digits

    from meanshift import MeanShift

    Xw = load_digits().data[:300].astype(np.float64)  # load the compiled code first
    for mm in ("never", "always"):
        MeanShift(bandwidth=25.0, engine_options={"matmul": mm}).fit(Xw)
    load = os.getloadavg()
    env = {k: os.environ.get(k, "unset") for k in
           ("OMP_NUM_THREADS", "OPENBLAS_NUM_THREADS", "MKL_NUM_THREADS", "NUMBA_NUM_THREADS")}
    print(f"# bench_highd ({time.strftime('%Y-%m-%d %H:%M')}, {os.cpu_count()} cores, load "
          f"average {load[0]:.2f} {load[1]:.2f} {load[2]:.2f}; {env})\n")
    cases = {"digits": lambda: digits_case(args.repeat),
             "blobs64": lambda: blobs_case(2000 if args.quick else 10000, args.repeat),
             "wide128": lambda: wide_case(10000 if args.quick else 100000, args.repeat),
             "every128": lambda: every_case(2000 if args.quick else 20000, min(args.repeat, 2)),
             "modes": lambda: modes_case(2000 if args.quick else 10000, min(args.repeat, 2)),
             "choice": lambda: choice_case(args.repeat, args.quick),
             "rates": lambda: rates(args.quick)}
    for name, case in cases.items():
        if args.case in name:
            case()
    print(f"load average after: {os.getloadavg()[0]:.2f}")


if __name__ == "__main__":
    main()
