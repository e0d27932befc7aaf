"""Benchmark of the torch engine, side by side with the fast.ai-style dense algorithm.

Run alone (writes ``benchmarks/results_torch.md``)::

    python benchmarks/bench_torch.py --quick                 # CPU torch, about a minute
    python benchmarks/bench_torch.py --device cuda           # the GPU figures

or through the main benchmark (``benchmarks/bench.py`` calls :func:`suite`).

What is measured, every row on the same device in the same process:

* ``pairs``: kernel pair evaluations per second of the engine's dense path (one
  ``partial_sums`` pass of m positions over n points; sums come back as float64).
* ``fastai``: the dense algorithm of the fast.ai / PyTorch walk-through, batched as there:
  ``w = gaussian(dist(X[batch], X)); X[batch] = w @ X / w.sum(1)``, all pairs, a fixed
  number of steps, no convergence test, no merging, no labels.  Shown next to our
  blurring step (the same computation) and our full fit.
* ``six_blobs`` and ``blobs`` with 10^5 .. 10^7 2-D points: :class:`meanshift.MeanShift`
  end to end (auto bandwidth, bin seeding, climb to convergence, merge, labels), with its
  adjusted Rand index against the true blobs, and float32 against float64.
"""

from __future__ import annotations

import argparse
import math
import platform
import sys
import time
from pathlib import Path

import numpy as np

_ROOT = Path(__file__).resolve().parent.parent
try:
    from ._common import markdown_table, measure
except ImportError:  # run as a script
    sys.path.insert(0, str(_ROOT))
    from benchmarks._common import markdown_table, measure
try:
    import meanshift  # noqa: F401
except ImportError:  # a source checkout, not installed
    sys.path.insert(0, str(_ROOT / "src"))

__all__ = ["suite", "main"]

COLUMNS = ["case", "method", "device", "dtype", "n", "seconds", "pairs_per_s", "peak_mb",
           "clusters", "ari", "note"]


def _sync(device):
    import torch

    if torch.device(device).type == "cuda":
        torch.cuda.synchronize(device)


def fastai_meanshift(X, bandwidth, steps=5, batch=None):
    """The fast.ai walk-through's batched dense mean shift, ``X <- W @ X / W.sum(1)``.

    ``X`` is a tensor on the device; returns the moved points.  Memory per batch is
    ``batch * n * (d + 2)`` numbers (the walk-through's broadcast difference tensor).
    """
    import torch

    X = X.clone()
    n, d = X.shape
    if batch is None:
        budget = 2**29 if X.is_cuda else 2**25
        batch = max(1, min(n, budget // max(1, n * (d + 2))))
    for _ in range(steps):
        for i in range(0, n, batch):  # in place, as the walk-through does
            s = slice(i, min(i + batch, n))
            dist = ((X[None] - X[s, None]) ** 2).sum(2).sqrt()
            w = torch.exp(-0.5 * (dist / bandwidth) ** 2) / (bandwidth * math.sqrt(2 * math.pi))
            X[s] = (w @ X) / w.sum(1, keepdim=True)
    return X


def _pairs_row(engine, kernel_name, m, n, repeat):
    import torch

    from meanshift._kernels import KERNELS

    rng = np.random.default_rng(0)
    X = rng.normal(size=(n, 2)) * 10
    P = X[rng.choice(n, m, replace=False)]
    D = engine._Data(engine, X, None, KERNELS[kernel_name])
    P64 = engine._tensor64(P) - D.origin

    def run(D=D):
        out = engine._sums(P64, D, 3.0, KERNELS[kernel_name])
        _sync(engine.device)
        return out

    t0 = time.perf_counter()
    run()  # warm-up (CUDA context, allocator; compiles the fused block)
    first = time.perf_counter() - t0
    meas = measure("pairs", run, repeat=repeat)
    dtype = str(engine.dtype).replace("torch.", "")
    del D
    torch.cuda.empty_cache() if engine.device.type == "cuda" else None
    fused = engine.compile
    return dict(case=f"dense pairs ({kernel_name})",
                method="partial_sums, fused (compile=True)" if fused else "partial_sums, eager",
                device=str(engine.device), dtype=dtype, n=f"{m} x {n}", seconds=meas.seconds,
                pairs_per_s=m * n / meas.seconds, peak_mb=meas.peak_bytes / 2**20,
                note=f"first call {first:.1f} s" if fused else None)


def _fastai_rows(device, n, steps, max_seconds, compile_options=(False,)):
    """fast.ai dense loop vs our blurring step, on n points (skipped when too big)."""
    import torch

    from meanshift._engines import get_engine
    from meanshift._kernels import KERNELS
    from meanshift.datasets import make_blobs

    X, _, _ = make_blobs(n, 2, centers=6, random_state=0)
    rows = []
    Xt = torch.from_numpy(X).float().to(device)
    # Estimate the cost from a small run first; skip sizes that would not finish in time.
    small = Xt[: min(n, 2000)]
    t0 = time.perf_counter()
    fastai_meanshift(small, 2.5, steps=1)
    _sync(device)
    rate = small.shape[0] ** 2 / max(time.perf_counter() - t0, 1e-9)
    estimate = steps * n * n / rate
    if estimate > max_seconds:
        rows.append(dict(case=f"blurring x{steps}", method="fast.ai dense", device=str(device),
                         dtype="float32", n=n, note=f"skipped: about {estimate:.0f} s"))
    else:
        fastai_meanshift(small, 2.5, steps=1)
        meas = measure("fastai", lambda: (fastai_meanshift(Xt, 2.5, steps=steps), _sync(device)))
        rows.append(dict(case=f"blurring x{steps}", method="fast.ai dense", device=str(device),
                         dtype="float32", n=n, seconds=meas.seconds,
                         pairs_per_s=steps * n * n / meas.seconds,
                         peak_mb=meas.peak_bytes / 2**20, note="no convergence/merge/labels"))
    for fused in compile_options:
        engine = get_engine("torch", device=str(device), compile=fused)
        method = "meanshift blur_step" + (", fused" if fused else ", eager")

        def ours(steps=steps):
            pts = X
            for _ in range(steps):
                pts = engine.blur_step(pts, None, bandwidth=2.5, kernel=KERNELS["gaussian"])
            return pts

        # Time one step on a sample (after a warm-up that compiles) to skip what is too big.
        sample = X[: min(n, 2000)]
        engine.blur_step(sample, None, bandwidth=2.5, kernel=KERNELS["gaussian"])
        t0 = time.perf_counter()
        engine.blur_step(sample, None, bandwidth=2.5, kernel=KERNELS["gaussian"])
        estimate_ours = steps * n * n / (len(sample) ** 2 / max(time.perf_counter() - t0, 1e-9))
        if estimate_ours > max_seconds:
            rows.append(dict(case=f"blurring x{steps}", method=method, device=str(device),
                             dtype="float32", n=n, note=f"skipped: about {estimate_ours:.0f} s"))
            continue
        meas = measure("ours", ours)
        rows.append(dict(case=f"blurring x{steps}", method=method, device=str(device),
                         dtype="float32", n=n, seconds=meas.seconds,
                         pairs_per_s=steps * n * n / meas.seconds,
                         peak_mb=meas.peak_bytes / 2**20, note="NumPy in/out every step"))
    return rows


def _fit_row(case, X, y, device, dtype, fused=False, **params):
    from sklearn.metrics import adjusted_rand_score

    from meanshift import MeanShift

    def fit():
        return MeanShift(engine="torch", device=str(device),
                         engine_options={"dtype": dtype, "compile": fused}, **params).fit(X)

    meas = measure(case, fit)
    model = meas.result
    method = "MeanShift (full pipeline" + (", fused)" if fused else ")")
    row = dict(case=case, method=method, device=str(device), dtype=dtype,
               n=len(X), seconds=meas.seconds, peak_mb=meas.peak_bytes / 2**20,
               clusters=len(model.cluster_centers_),
               ari=adjusted_rand_score(y, model.labels_),
               note=f"bandwidth={model.bandwidth_:.3g}, {model.n_seeds_} seeds, "
                    f"{model.n_iter_} steps")
    return row, model


def suite(quick: bool, device: str = "auto") -> list[dict]:
    """Rows of results (dicts with the keys of ``COLUMNS``) for the main benchmark."""
    import torch

    from meanshift._engines import get_engine
    from meanshift._engines._torch import resolve_device
    from meanshift.datasets import make_blobs, six_blobs

    dev, _ = resolve_device(device)
    gpu = dev.type == "cuda"
    rows = []
    # 1. Dense pair rate.
    if gpu:
        sizes = [(4096, 2**20), (16384, 2**22)] if not quick else [(4096, 2**20)]
    else:
        sizes = [(256, 2**16)] if quick else [(512, 2**18)]
    for dtype, fused in (("float32", False), ("float64", False), ("float32", True)):
        engine = get_engine("torch", device=str(dev), dtype=dtype, compile=fused)
        for m, n in sizes:
            for kernel in ("gaussian", "flat"):
                rows.append(_pairs_row(engine, kernel, m, n, repeat=3))
    # 2. fast.ai dense loop vs our blurring step on the same points.
    blur_sizes = ([20_000, 10**6] if not quick else [20_000]) if gpu else (
        [1500] if quick else [1500, 10_000])
    for n in blur_sizes:
        rows += _fastai_rows(dev, n, steps=5, max_seconds=120 if gpu else 30,
                             compile_options=(False, True))
    # 3. Six blobs end to end, float32 and float64, and the agreement between them.
    X, y, _ = six_blobs()
    models = {}
    for dtype in ("float32", "float64"):
        row, models[dtype] = _fit_row("six_blobs", X, y, dev, dtype, bandwidth="auto")
        rows.append(row)
    a, b = models["float32"], models["float64"]
    same = len(a.cluster_centers_) == len(b.cluster_centers_)
    if same:
        gap = np.abs(a.cluster_centers_ - b.cluster_centers_).max()
        note = (f"max centre difference {gap:.2e}, labels equal: "
                f"{bool(np.array_equal(a.labels_, b.labels_))}")
    else:
        note = "different cluster counts"
    rows.append(dict(case="six_blobs", method="float32 vs float64", device=str(dev),
                     n=len(X), note=note))
    # 4. Large 2-D data end to end.
    if gpu:
        big = [10**6] if quick else [10**6, 10**7]
    else:
        big = [10**5] if quick else [10**5, 10**6]
    for n in big:
        Xb, yb, _ = make_blobs(n, 2, centers=6, random_state=0, dtype=np.float32)
        for fused in (False, True):
            row, _ = _fit_row("blobs 2-D", Xb, yb, dev, "float32", fused=fused,
                              bandwidth="auto", bin_seeding=True)
            rows.append(row)
    if gpu:
        for r in rows:
            r.setdefault("note", "")
        rows[0]["note"] = (rows[0].get("note") or "") + torch.cuda.get_device_name(dev)
    return rows


def main(argv=None):
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--quick", action="store_true", help="small sizes (about a minute)")
    parser.add_argument("--device", default="auto", help="auto, cpu, cuda or cuda:N")
    parser.add_argument("--out", default=str(Path(__file__).with_name("results_torch.md")))
    args = parser.parse_args(argv)
    import torch

    start = time.perf_counter()
    rows = suite(args.quick, args.device)
    text = "\n".join([
        "# Torch engine benchmark",
        "",
        f"Command: `python benchmarks/bench_torch.py {' '.join(argv or sys.argv[1:])}`  ",
        f"torch {torch.__version__}, {platform.processor() or platform.machine()}, "
        f"{torch.get_num_threads()} CPU threads"
        + (f", {torch.cuda.get_device_name()}" if torch.cuda.is_available() else "")
        + f"; total {time.perf_counter() - start:.0f} s.",
        "",
        markdown_table(rows, COLUMNS),
        "",
    ])
    Path(args.out).write_text(text)
    print(text)


if __name__ == "__main__":
    main()
