"""The first run of a fresh install: import and first fit with an empty compile cache.

Every case runs in a fresh Python process with ``NUMBA_CACHE_DIR`` pointing at a new
empty folder (and the package's own ``__pycache__`` compile caches hidden from it by a
copy of the sources in a temporary folder), so that everything the first call needs is
compiled, as on a user's first run.  Then the same case again in a fresh process with
that cache filled (a warm second run).  Cases: each kernel in 2-D (cell lists, the
low-dimension loops) and in 8-D (k-d tiles), and image segmentation.

Uses only the public API, so two source trees can be compared in one session::

    python benchmarks/bench_cold_start.py --src /path/to/old/src --label before
    python benchmarks/bench_cold_start.py --src src --label after
"""

from __future__ import annotations

import argparse
import os
import shutil
import subprocess
import sys
import tempfile
import time
from pathlib import Path

_FIT = """
import time
t0 = time.perf_counter()
import numpy as np
from meanshift import MeanShift
t1 = time.perf_counter()
rng = np.random.default_rng(0)
X = rng.normal(size=(2000, {d})) + rng.integers(0, 4, 2000)[:, None] * 6.0
MeanShift(bandwidth=2.0, kernel={kernel!r}).fit(X)
t2 = time.perf_counter()
print(t1 - t0, t2 - t1)
"""

# Many features, separated clusters: the matrix products with tiles (and the index's
# pilot that the choice measures).
_FIT_WIDE = """
import time
t0 = time.perf_counter()
import numpy as np
from meanshift import MeanShift
t1 = time.perf_counter()
rng = np.random.default_rng(0)
X = rng.normal(size=(6000, 64)) + rng.integers(0, 4, 6000)[:, None] * 6.0
MeanShift(bandwidth=12.4, kernel={kernel!r}).fit(X)
t2 = time.perf_counter()
print(t1 - t0, t2 - t1)
"""

_SEGMENT = """
import time
t0 = time.perf_counter()
import numpy as np
from meanshift.image import segment
t1 = time.perf_counter()
img = (np.random.default_rng(0).random((64, 64, 3)) * 255).astype(np.uint8)
segment(img, spatial_bandwidth=5, range_bandwidth=8)
t2 = time.perf_counter()
print(t1 - t0, t2 - t1)
"""


def _run(code, src, cache):
    env = dict(os.environ, PYTHONPATH=str(src), NUMBA_CACHE_DIR=str(cache))
    t = time.perf_counter()
    out = subprocess.run([sys.executable, "-c", code], env=env, capture_output=True,
                         text=True, timeout=900)
    wall = time.perf_counter() - t
    if out.returncode != 0:
        raise RuntimeError(out.stderr[-2000:])
    imp, first = (float(v) for v in out.stdout.split()[-2:])
    return imp, first, wall


def main(argv=None):
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--src", default=str(Path(__file__).resolve().parents[1] / "src"),
                    help="the src folder of the tree to measure")
    ap.add_argument("--label", default="this tree")
    ap.add_argument("--quick", action="store_true", help="flat and gaussian in 2-D only")
    ap.add_argument("--case", default="", help="only the cases whose name holds this")
    args = ap.parse_args(argv)
    cases = [(f"{k}, {d}-D", _FIT.format(d=d, kernel=k))
             for d in (2, 8) for k in ("flat", "gaussian", "epanechnikov", "triangular")]
    cases.append(("flat, 64-D clusters (products, tiles)", _FIT_WIDE.format(kernel="flat")))
    cases.append(("segment 64 x 64 RGB", _SEGMENT))
    if args.quick:
        cases = cases[:2]
    cases = [(name, code) for name, code in cases if args.case in name]
    load = os.getloadavg()
    print(f"# {args.label}: load average {load[0]:.2f} {load[1]:.2f} {load[2]:.2f}; "
          f"NUMBA_NUM_THREADS={os.environ.get('NUMBA_NUM_THREADS', 'default')}")
    print("| tree | case | import s | first call, empty cache s | process s | "
          "first call, warm cache s |")
    print("|---|---|---|---|---|---|")
    with tempfile.TemporaryDirectory() as tmp:
        src = Path(tmp) / "src"  # a copy without the tree's own compile caches
        shutil.copytree(Path(args.src) / "meanshift", src / "meanshift",
                        ignore=shutil.ignore_patterns("__pycache__", "*.nbi", "*.nbc"))
        for name, code in cases:
            cache = Path(tmp) / f"cache-{len(os.listdir(tmp))}"
            cache.mkdir()
            imp, first, wall = _run(code, src, cache)
            _, warm, _ = _run(code, src, cache)
            print(f"| {args.label} | {name} | {imp:.2f} | {first:.2f} | {wall:.2f} | "
                  f"{warm:.2f} |", flush=True)


if __name__ == "__main__":
    main()
