"""Orchestration costs around the engines: import, first-call compile, per-fit overhead,
basin against standard, a fully automatic fit of data with many repeated rows, and the
progress callback.

Uses only what every version of the package has (``MeanShift``, ``get_engine``), so that
two source trees can be compared in one session, alternating::

    PYTHONPATH=/path/to/old/src python benchmarks/bench_overhead.py --label before
    PYTHONPATH=src python benchmarks/bench_overhead.py --label after

Each timing is the best of several repeats; the load average is printed with the table
(the machine is shared: compare rows only within one session).
"""

from __future__ import annotations

import argparse
import os
import subprocess
import sys
import tempfile
import time

import numpy as np

_COLD = """
import time
t0 = time.perf_counter()
from meanshift import MeanShift
from meanshift.datasets import six_blobs
t1 = time.perf_counter()
X, _, _ = six_blobs()
MeanShift(bandwidth=4.0).fit(X)
t2 = time.perf_counter()
print(t1 - t0, t2 - t1)
"""


def _best(fn, repeat):
    times = []
    for _ in range(repeat):
        t = time.perf_counter()
        fn()
        times.append(time.perf_counter() - t)
    return min(times)


def cold_start():
    """(import s, first fit s) in a fresh process with an empty Numba cache."""
    with tempfile.TemporaryDirectory() as cache:
        env = dict(os.environ, NUMBA_CACHE_DIR=cache)
        out = subprocess.run([sys.executable, "-c", _COLD], env=env, capture_output=True,
                             text=True, timeout=600, check=True)
    imp, fit = (float(v) for v in out.stdout.split())
    return imp, fit


def rows(label, quick=False):
    from sklearn.datasets import load_iris

    from meanshift import MeanShift
    from meanshift._engines import get_engine
    from meanshift._kernels import KERNELS
    from meanshift.datasets import make_blobs, six_blobs

    out = []

    def add(case, seconds, note=""):
        out.append((label, case, seconds, note))

    imp, first = cold_start()
    add("import meanshift (fresh process)", imp)
    add("first flat fit, empty Numba cache (compile)", first)

    iris = load_iris().data
    MeanShift(bandwidth=1.0).fit(iris)
    add("iris fit (per-fit overhead)", _best(lambda: MeanShift(bandwidth=1.0).fit(iris), 200))

    Y = np.random.default_rng(0).uniform(-1, 1, size=(8000, 2))
    eng = get_engine("numba", gaussian_radius=1e6)
    eng.partial_sums(Y[:100], Y, None, 1.0, KERNELS["gaussian"])
    t = _best(lambda: eng.partial_sums(Y, Y, None, 1.0, KERNELS["gaussian"]), 15)
    add("dense gaussian partial sums, 8000 x 8000", t, f"{8000 * 8000 / t:.3g} pairs/s")

    six, _, _ = six_blobs()
    X30, _, _ = make_blobs(30000, 2, centers=5, random_state=0)
    for case, X, kw in (("six blobs, gaussian 2.5", six, dict(bandwidth=2.5, kernel="gaussian")),
                        ("30000 2-D blobs, flat 1.0", X30, dict(bandwidth=1.0))):
        for algorithm in ("standard", "basin"):
            MeanShift(algorithm=algorithm, **kw).fit(X[:2000])
            t = _best(lambda: MeanShift(algorithm=algorithm, **kw).fit(X), 3)
            add(f"{case}, {algorithm}", t)

    # Many modes: a bandwidth so small that every point is its own cluster.  Merging and
    # labelling must stay near-linear in n (growth exponent printed in the note column).
    times = []
    sizes = (5000, 10000, 20000) if quick else (5000, 10000, 20000, 40000, 80000)
    for n in sizes:
        Xn = np.random.default_rng(n).uniform(0, 100, size=(n, 2))
        t = _best(lambda: MeanShift(bandwidth=1e-4).fit(Xn), 1)
        times.append(t)
        note = "" if len(times) < 2 else (
            f"growth exponent {np.log(times[-1] / times[-2]) / np.log(2):.2f}")
        add(f"{n} uniform 2-D points, bandwidth 1e-4 (every point a cluster)", t, note)

    # A fully automatic fit of data with many repeated rows: the bandwidth's
    # content-keyed sample ranks the copies of each row (5 000 distinct rows here).
    R = np.round(np.random.default_rng(1).normal(size=(10**6, 2)), 1)
    MeanShift().fit(R[:100000])
    add("10^6 2-D rows rounded to 0.1, fully automatic", _best(lambda: MeanShift().fit(R), 3))

    if "callback" in MeanShift().get_params():
        X, _, _ = make_blobs(100000, 2, centers=8, random_state=1)
        kw = dict(bandwidth=0.5, algorithm="standard")
        MeanShift(**kw).fit(X[:2000])
        for name, cb in (("without", None), ("with", lambda p: None)):
            t = _best(lambda: MeanShift(callback=cb, **kw).fit(X), 3)
            add(f"100000 2-D flat 0.5, all seeds, {name} a progress callback", t)
    return out


def main(argv=None):
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--label", default="this tree", help="name of the tree in the table")
    ap.add_argument("--quick", action="store_true",
                    help="many-modes case up to 20000 points only (the old code is quadratic)")
    args = ap.parse_args(argv)
    load = os.getloadavg()
    print(f"# {args.label}: load average {load[0]:.2f} {load[1]:.2f} {load[2]:.2f}; "
          f"numba threads {os.environ.get('NUMBA_NUM_THREADS', 'default')}; "
          f"OMP/OPENBLAS/MKL threads {os.environ.get('OMP_NUM_THREADS', 'unset')}/"
          f"{os.environ.get('OPENBLAS_NUM_THREADS', 'unset')}/"
          f"{os.environ.get('MKL_NUM_THREADS', 'unset')}")
    print("| tree | case | seconds | note |")
    print("|---|---|---|---|")
    for label, case, seconds, note in rows(args.label, args.quick):
        print(f"| {label} | {case} | {seconds:.4g} | {note} |", flush=True)


if __name__ == "__main__":
    main()
