"""Mean shift on the globe and on directions, side by side with scikit-learn (issue 15).

Two cases, each timed in one process, ours and scikit-learn alternating, best of
``--repeat`` (a peer run over 60 s is not repeated), with the extra peak memory of
each call (:mod:`benchmarks._common`), the clusters found and the adjusted Rand index
against the generating clusters:

* **GPS points**: ``meanshift.datasets.make_cities`` (16 cities from Suva, next to the
  180th meridian, to McMurdo near the South Pole, 8 km spread, 2 % uniform noise on
  the globe).  Ours fully automatic: ``MeanShift(metric="haversine")`` (the bandwidth
  in km by the scale-space rule, the algorithm chosen by "auto").  scikit-learn has
  no haversine mean shift; it gets the same points as unit vectors of R^3 and the
  equivalent chord radius ``2 sin(h / 2R)`` of our bandwidth, with bin seeding (every
  point as a seed is hopeless at this size).  ARI over the city points (noise left out).
* **Embeddings**: ``meanshift.datasets.make_vmf`` (von Mises-Fisher clusters in 384
  dimensions, the size of sentence embeddings; kappa = 2 d: a point's cosine to its
  mean is about 0.79).  Ours: ``MeanShift(metric="cosine", seeds=S)`` with the
  bandwidth chosen automatically (a cosine distance); scikit-learn gets the normalised
  vectors, the equivalent chord radius ``sqrt(2 h)`` and the same seeds (the climb
  from every point costs n^2 d per step for both).

Run::

    python benchmarks/bench_metrics.py             # 10^6 GPS points, 10^5 x 384
    python benchmarks/bench_metrics.py --quick     # 10^5 GPS points, 2 x 10^4 x 384
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

R_EARTH = 6371.0088


def _unit(latlon):
    lat, lon = np.radians(latlon[:, 0]), np.radians(latlon[:, 1])
    return np.column_stack([np.cos(lat) * np.cos(lon), np.cos(lat) * np.sin(lon), np.sin(lat)])


def _ari(y, labels):
    from sklearn.metrics import adjusted_rand_score

    keep = y >= 0
    return float(adjusted_rand_score(y[keep], np.asarray(labels)[keep]))


def _big(labels, share=0.01):
    sizes = np.bincount(np.asarray(labels)[np.asarray(labels) >= 0])
    return int((sizes >= share * len(labels)).sum())


def _rows(best, y):
    """Table rows ``(name, seconds, MiB, clusters, clusters >= 1 %, ARI)``."""
    return [(name, res.seconds, res.peak_bytes / 2**20, int(np.max(res.result)) + 1,
             _big(res.result), _ari(y, res.result)) for name, res in best.items()]


def gps_case(n, repeat):
    from sklearn.cluster import MeanShift as SkMeanShift

    from meanshift import MeanShift
    from meanshift.datasets import make_cities

    X, y, _ = make_cities(n, random_state=0)
    U = _unit(X)
    ours_fit = {}

    def ours():
        m = MeanShift(metric="haversine").fit(X)
        ours_fit["m"] = m
        return m.labels_

    def peer():
        chord = 2 * np.sin(ours_fit["m"].bandwidth_ / (2 * R_EARTH))
        return SkMeanShift(bandwidth=chord, bin_seeding=True, n_jobs=-1).fit(U).labels_

    rows = _rows(alternate({"meanshift": ours, "scikit-learn": peer}, repeat), y)
    m = ours_fit["m"]
    how = (f"bandwidth {m.bandwidth_:.1f} km (auto), algorithm={m.algorithm_}, "
           f"engine={m.engine_}; scikit-learn: chord "
           f"{2 * np.sin(m.bandwidth_ / (2 * R_EARTH)):.5f}, bin_seeding=True, n_jobs=-1")
    return f"{n:,} GPS points (16 cities + 2 % noise)", rows, how


def embedding_case(n, d, n_seeds, repeat):
    from sklearn.cluster import MeanShift as SkMeanShift

    from meanshift import MeanShift
    from meanshift.datasets import make_vmf

    X, y, _ = make_vmf(n, d, centers=20, kappa=2.0 * d, min_angle=60.0, random_state=0)
    rng = np.random.default_rng(1)
    seeds = X[np.sort(rng.choice(n, n_seeds, replace=False))]
    ours_fit = {}

    def ours():
        m = MeanShift(metric="cosine", seeds=seeds).fit(X)
        ours_fit["m"] = m
        return m.labels_

    def peer():
        chord = float(np.sqrt(2 * ours_fit["m"].bandwidth_))
        return SkMeanShift(bandwidth=chord, seeds=seeds, n_jobs=-1).fit(X).labels_

    rows = _rows(alternate({"meanshift": ours, "scikit-learn": peer}, repeat), y)
    m = ours_fit["m"]
    # (the fit's engine records how its last bind computed the kernel sums)
    how = (f"bandwidth {m.bandwidth_:.3f} (cosine distance, auto), {n_seeds} seeds, "
           f"numba engine sums by {m._plan.engine.last_index[0]}; scikit-learn: chord "
           f"{np.sqrt(2 * m.bandwidth_):.4f}, the same seeds, n_jobs=-1")
    return f"{n:,} x {d} embeddings (20 vMF clusters)", rows, how


def main(argv=None):
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--quick", action="store_true")
    ap.add_argument("--repeat", type=int, default=3)
    ap.add_argument("--only", choices=["gps", "embeddings"], default=None)
    args = ap.parse_args(argv)

    from meanshift import MeanShift
    from meanshift.datasets import make_cities, make_vmf

    # Load the compiled code of both paths first (not timed).
    Xw, _, _ = make_cities(2000, random_state=1)
    MeanShift(metric="haversine").fit(Xw)
    Ew, _, _ = make_vmf(500, 384, centers=3, kappa=768.0, random_state=1)
    MeanShift(metric="cosine", seeds=50).fit(Ew)

    load = os.getloadavg()
    threads = {k: os.environ.get(k, "unset") for k in
               ("OMP_NUM_THREADS", "OPENBLAS_NUM_THREADS", "MKL_NUM_THREADS",
                "NUMBA_NUM_THREADS")}
    print(f"# bench_metrics ({time.strftime('%Y-%m-%d %H:%M')}, {os.cpu_count()} cores, "
          f"load average {load[0]:.2f} {load[1]:.2f} {load[2]:.2f}; {threads})\n")
    cases = []
    if args.only in (None, "gps"):
        cases.append(gps_case(100_000 if args.quick else 1_000_000, args.repeat))
    if args.only in (None, "embeddings"):
        cases.append(embedding_case(20_000 if args.quick else 100_000, 384,
                                    500 if args.quick else 1000, args.repeat))
    for title, rows, how in cases:
        print(f"## {title}\n\n{how}\n")
        print("| | seconds | extra peak MiB | clusters | clusters >= 1 % | ARI |")
        print("|---|---|---|---|---|---|")
        for name, s, mb, k, big, ari in rows:
            print(f"| {name} | {s:.2f} | {mb:.0f} | {k} | {big} | {ari:.3f} |")
        ours = dict((r[0], r[1]) for r in rows)
        if "scikit-learn" in ours:
            print(f"\nscikit-learn / meanshift: {ours['scikit-learn'] / ours['meanshift']:.1f}x\n")
    print(f"load average after: {os.getloadavg()[0]:.2f}")


if __name__ == "__main__":
    main()
