"""How fit time grows with n where the work is linear: many modes (issue 13, item 3).

Two families, each fitted with the default settings (``MeanShift(bandwidth=h).fit(X)``),
one process, sizes in increasing order:

* uniform 2-D points with a tiny bandwidth (1e-4 on a 100 x 100 square): every point is
  its own cluster, so merging and labelling face n modes;
* 8-D blobs (10 centres, spread 1) with bandwidth 1.0: in 8-D that is small, most points
  end as their own mode (tens of thousands of clusters).

For each size the table gives the seconds (best of ``--repeat``), the clusters found, and
the growth exponent ``log(t2 / t1) / log(n2 / n1)`` against the previous size (1 is
linear, 2 quadratic).  The load average and thread settings are printed with the table
(the machine is shared)::

    python benchmarks/bench_scaling.py            # 2-D up to 10^6, 8-D up to 3 x 10^5
    python benchmarks/bench_scaling.py --full     # and 10^6 in 8-D (half an hour)
    python benchmarks/bench_scaling.py --quick    # up to 10^5
"""

from __future__ import annotations

import argparse
import math
import os
import time

import numpy as np


def _cases(quick, full=False):
    from meanshift.datasets import make_blobs

    top = 100_000 if quick else 1_000_000
    sizes = [n for n in (10_000, 30_000, 100_000, 300_000, 1_000_000) if n <= top]
    # The exact climb of the 8-D family costs n x (points in reach), and the points in
    # reach grow with n: quadratic work (29 minutes at 10^6 on 2 cores); --full runs it.
    sizes8 = [n for n in sizes if full or n <= 300_000]

    def uniform(n):
        return np.random.default_rng(n).uniform(0, 100, size=(n, 2)), 1e-4

    def blobs8(n):
        return make_blobs(n, 8, centers=10, cluster_std=1.0, random_state=0)[0], 1.0

    return [("uniform 2-D, bandwidth 1e-4", uniform, sizes),
            ("8-D blobs (10, spread 1), bandwidth 1.0", blobs8, sizes8)]


def main(argv=None):
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--quick", action="store_true", help="sizes up to 10^5")
    ap.add_argument("--repeat", type=int, default=1, help="fits per size (best is kept)")
    ap.add_argument("--full", action="store_true",
                    help="also 10^6 points in 8-D (about half an hour on 2 cores)")
    args = ap.parse_args(argv)

    from meanshift import MeanShift

    # Compile (and warm) both paths first: the standard climb and the compressed one.
    MeanShift(bandwidth=1.0).fit(np.random.default_rng(0).normal(size=(500, 8)))
    MeanShift(bandwidth=1e-4).fit(np.random.default_rng(0).uniform(0, 100, (60_000, 2)))
    load = os.getloadavg()
    print(f"# load average {load[0]:.2f} {load[1]:.2f} {load[2]:.2f}; numba threads "
          f"{os.environ.get('NUMBA_NUM_THREADS', 'default')}; OMP/OPENBLAS threads "
          f"{os.environ.get('OMP_NUM_THREADS', 'unset')}/"
          f"{os.environ.get('OPENBLAS_NUM_THREADS', 'unset')}")
    print("| data | n | algorithm | clusters | seconds | growth exponent |")
    print("|---|---|---|---|---|---|")
    for name, make, sizes in _cases(args.quick, args.full):
        prev = None
        for n in sizes:
            X, h = make(n)
            best, model = math.inf, None
            for _ in range(args.repeat):
                t = time.perf_counter()
                model = MeanShift(bandwidth=h).fit(X)
                best = min(best, time.perf_counter() - t)
            growth = "" if prev is None else (
                f"{math.log(best / prev[1]) / math.log(n / prev[0]):.2f}")
            print(f"| {name} | {n} | {model.algorithm_} | {len(model.cluster_centers_)} | "
                  f"{best:.3g} | {growth} |", flush=True)
            prev = (n, best)


if __name__ == "__main__":
    main()
