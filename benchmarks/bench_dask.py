"""Dask benchmarks: data from disk, memory flat in n, 1 -> 2 workers, next to in memory.

Run alone (writes benchmarks/results_dask.md)::

    PYTHONPATH=src python benchmarks/bench_dask.py [--quick]

or through the main benchmark (``benchmarks/bench.py`` calls :func:`suite`).  Everything
goes through the public estimator: ``MeanShift(...).fit(X)`` with X a dask array (the
dask engine, lazy labels) or the same data loaded into a NumPy array (the in-memory
engine).

Two tables:

1. **Out of core** - 2-D points (three gaussian blobs 10 apart, unit spread) written to a
   Zarr array on disk in chunks of 10^6 rows (their true blob in a second Zarr array),
   clustered with ``MeanShift(bandwidth=2.0)`` on dask's local threaded scheduler
   (``algorithm="auto"`` picks the streamed compressed path), then labelled (the lazy
   labels computed into cluster sizes).  Side by side, the same estimator on the whole
   array loaded into memory, for the sizes where that fits in a few GB.  Each
   measurement runs in a fresh process; peak memory is its peak resident set size above
   the size after imports and a warm-up fit of 1000 rows, next to the size of the data.
   Quality: clusters found, worst distance from a true centre to the nearest centre
   found, and the adjusted Rand index (ARI) of the labels against the true blobs
   (computed after the timed fit, chunk by chunk for the lazy labels).
2. **Scaling** - ``algorithm="compressed"`` on the Zarr points and ``algorithm="standard"``
   (data persisted on the workers, 200 random seeds) on an in-memory array wrapped in
   dask, on a LocalCluster of 1 and then 2 worker processes (1 thread each), next to the
   same fits of NumPy arrays in this process (the compressed one loads the Zarr array
   into memory first, inside its time).  Time, steps, clusters and ARI against
   the true blobs; "client peak MB" is the extra resident memory of this (client)
   process during the fit (the workers' memory is not measured here).

The machine has 2 cores shared with other work: scaling ratios are upper-bounded by 2 and
noisy; the time columns are wall clock of one run (runs under 1 s in table 1: best of 6,
five of them without the memory sampler).
"""

from __future__ import annotations

import argparse
import os
import shutil
import sys
import tempfile
import time
from math import comb
from pathlib import Path

import numpy as np

HERE = Path(__file__).resolve().parent
sys.path.insert(0, str(HERE.parent))
sys.path.insert(0, str(HERE.parent / "src"))

from benchmarks._common import markdown_table, measure  # noqa: E402

CENTERS = np.array([[0.0, 0.0], [10.0, 0.0], [0.0, 10.0]])
BANDWIDTH = 2.0
ZARR_CHUNK = 1_000_000


def write_points(path, n, seed=0):
    """n 2-D points (3 gaussian blobs, unit spread) written to a Zarr array chunk by
    chunk, and their true blobs (int8) to ``<path>.truth``."""
    import zarr

    chunks = min(n, ZARR_CHUNK)
    z = zarr.create_array(store=str(path), shape=(n, 2), chunks=(chunks, 2),
                          dtype="f8", overwrite=True)
    t = zarr.create_array(store=str(truth_path(path)), shape=(n,), chunks=(chunks,),
                          dtype="i1", overwrite=True)
    rng = np.random.default_rng(seed)
    for start in range(0, n, ZARR_CHUNK):
        m = min(ZARR_CHUNK, n - start)
        blob = rng.integers(0, 3, m)
        z[start : start + m] = CENTERS[blob] + rng.normal(size=(m, 2))
        t[start : start + m] = blob
    return path


def truth_path(path):
    return Path(f"{path}.truth")


def _fit_and_label(X, **params):
    """Fit, and compute the cluster sizes (for a dask array: the lazy labels, labelled)."""
    from meanshift import MeanShift

    model = MeanShift(bandwidth=BANDWIDTH, **params).fit(X)
    sizes = model.cluster_sizes_
    sizes = sizes.compute() if hasattr(sizes, "compute") else np.asarray(sizes)
    return model, sizes


def _load(path):
    import zarr

    return zarr.open_array(str(path), mode="r")[:]


def _fit_in_memory(path, **params):
    """The same estimator on the whole array loaded into memory first."""
    return _fit_and_label(_load(path), **params)


def _ari_from_table(table):
    """Adjusted Rand index from a contingency table (rows: truth, columns: labels)."""
    table = np.asarray(table, dtype=np.int64)
    n = int(table.sum())
    index = sum(comb(int(v), 2) for v in table.ravel())
    a = sum(comb(int(v), 2) for v in table.sum(axis=1))
    b = sum(comb(int(v), 2) for v in table.sum(axis=0))
    expected = a * b / comb(n, 2)
    top = (a + b) / 2
    return 1.0 if top == expected else float((index - expected) / (top - expected))


def adjusted_rand(truth, labels, k):
    """ARI of ``labels`` (k clusters, -1 for orphans) against ``truth`` (0..2); both NumPy
    or both dask (then computed chunk by chunk: memory flat in n)."""
    codes = truth.astype(np.int64) * (k + 1) + (labels.astype(np.int64) + 1)
    size = len(CENTERS) * (k + 1)
    if hasattr(codes, "compute"):
        import dask.array as da

        counts = da.bincount(codes, minlength=size).compute()
    else:
        counts = np.bincount(codes, minlength=size)
    return _ari_from_table(np.asarray(counts)[:size].reshape(len(CENTERS), k + 1))


def _center_error(centers):
    d = np.sqrt(((centers[:, None, :] - CENTERS[None]) ** 2).sum(-1))
    return float(d.min(axis=0).max())


def _child_measure(kind, path, n):
    """One measurement in a fresh process (an allocator's high-water mark from an earlier
    run would hide the next one's peak): JSON of seconds, peak RSS above the baseline
    after imports and a warm-up on 1000 rows, and the result summary."""
    import dask
    import dask.array as da

    X = da.from_zarr(str(path))
    with dask.config.set(scheduler="threads", num_workers=2):
        # Imports and compiled code, not data: both paths, so that either child is warm.
        _fit_and_label(X[:1000], algorithm="compressed")
        _fit_and_label(np.asarray(X[:1000]), algorithm="compressed")
        if kind == "dask":
            m = measure("dask streamed", _fit_and_label, X)
            truth = da.from_zarr(str(truth_path(path)))
        else:
            m = measure("in memory", _fit_in_memory, path)
            truth = _load(truth_path(path))
        model, counts = m.result
        centers = np.asarray(model.cluster_centers_)
        ari = adjusted_rand(truth, model.labels_, len(centers))  # after the timing
    return {"seconds": m.seconds, "peak": m.peak_bytes, "algorithm": model.algorithm_,
            "engine": model.engine_, "clusters": len(centers), "error": _center_error(centers),
            "ari": ari, "labelled": int(np.sum(counts))}


def _measure_in_child(kind, path, n):
    import json
    import subprocess

    out = subprocess.run(
        [sys.executable, __file__, "--child", kind, str(path), str(n)],
        check=True, capture_output=True, text=True,
    ).stdout
    return json.loads(out.strip().splitlines()[-1])


def out_of_core(workdir, sizes, in_memory_max):
    rows = []
    for n in sizes:
        path = workdir / f"points_{n}.zarr"
        t0 = time.perf_counter()
        write_points(path, n)
        write_s = time.perf_counter() - t0
        disk = sum(f.stat().st_size for f in path.rglob("*") if f.is_file())
        data_bytes = n * 2 * 8
        kinds = ["dask"] + (["memory"] if n <= in_memory_max else [])
        for kind in kinds:
            r = _measure_in_child(kind, path, n)
            rows.append({
                "n": f"{n:.0e}",
                "how": "dask, streamed from Zarr (2 threads)" if kind == "dask"
                else "in memory (load all, same estimator)",
                "algorithm": r["algorithm"], "engine": r["engine"],
                "fit+label s": r["seconds"],
                "peak MB": r["peak"] / 1e6, "data MB": data_bytes / 1e6,
                "peak / data": r["peak"] / data_bytes, "clusters": r["clusters"],
                "max centre error": r["error"], "ARI": r["ari"],
                "points labelled": r["labelled"],
            })
            if kind == "dask":
                rows[-1].update({"write s": write_s, "zarr MB on disk": disk / 1e6})
            else:
                rows[-2]["time vs in memory"] = rows[-2]["fit+label s"] / r["seconds"]
                rows[-2]["peak vs in memory"] = rows[-2]["peak MB"] / max(rows[-1]["peak MB"], 1e-9)
        print(markdown_table(rows[-len(kinds):], list(rows[-len(kinds)])), flush=True)
    return rows


def _scaling_row(name, n, workers, fn, truth, base):
    m = measure(name, fn, repeat=1)
    model, _ = m.result
    centers = np.asarray(model.cluster_centers_)
    base.setdefault(name, m.seconds)
    return {"case": name, "n": f"{n:.0e}", "workers": workers, "engine": model.engine_,
            "algorithm": model.algorithm_, "seconds": m.seconds,
            "speed-up vs 1 worker": base[name] / m.seconds if workers != "in memory" else None,
            "client peak MB": m.peak_bytes / 1e6, "steps": model.n_iter_,
            "clusters": len(centers), "ARI": adjusted_rand(truth, model.labels_, len(centers))}


def scaling(workdir, n_stream, n_standard):
    import dask.array as da
    from distributed import Client, LocalCluster

    path = workdir / f"points_{n_stream}.zarr"
    if not path.exists():
        write_points(path, n_stream)
    rng = np.random.default_rng(1)
    ys = rng.integers(0, 3, n_standard)
    Xs = CENTERS[ys] + rng.normal(size=(n_standard, 2))
    compressed, standard = "compressed, Zarr", "standard, persisted, 200 seeds"
    rows = []
    base = {}
    for workers in (1, 2):
        with LocalCluster(n_workers=workers, threads_per_worker=1, processes=True,
                          dashboard_address=None) as cluster, Client(cluster):
            # Warm up the workers (imports, compiled kernels) before timing.
            small = da.from_array(Xs[:2000], chunks=(500, 2))
            _fit_and_label(small, algorithm="standard", seeds=20)
            _fit_and_label(small, algorithm="compressed")
            cases = [
                (compressed, n_stream, da.from_zarr(str(truth_path(path))),
                 lambda: _fit_and_label(da.from_zarr(str(path)), algorithm="compressed")),
                (standard, n_standard, ys, lambda: _fit_and_label(
                    da.from_array(Xs, chunks=(n_standard // 8, 2)), algorithm="standard",
                    seeds=200)),
            ]
            for name, n, truth, fn in cases:
                rows.append(_scaling_row(name, n, workers, fn, truth, base))
                print(markdown_table(rows[-1:], list(rows[-1])), flush=True)
    # The same fits in memory, in this process (no dask; warmed up the same way).
    _fit_and_label(Xs[:2000], algorithm="standard", seeds=20)
    _fit_and_label(Xs[:2000], algorithm="compressed")
    rows.append(_scaling_row(compressed, n_stream, "in memory",
                             lambda: _fit_in_memory(path, algorithm="compressed"),
                             _load(truth_path(path)), base))
    rows.append(_scaling_row(standard, n_standard, "in memory",
                             lambda: _fit_and_label(Xs, algorithm="standard", seeds=200),
                             ys, base))
    print(markdown_table(rows[-2:], list(rows[-1])), flush=True)
    return rows


def suite(quick: bool) -> list[dict]:
    """All rows of the two tables (``quick``: 10^6 points only)."""
    workdir = Path(tempfile.mkdtemp(prefix="meanshift_bench_dask_"))
    try:
        sizes = [10**6] if quick else [10**7, 10**8]
        rows = out_of_core(workdir, sizes, in_memory_max=10**7)
        rows += scaling(workdir, 10**6 if quick else 10**7, 20_000 if quick else 100_000)
    finally:
        shutil.rmtree(workdir, ignore_errors=True)
    return rows


def main(argv=None):
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--quick", action="store_true",
                        help="10^6 points only (full: 10^7 and 10^8)")
    parser.add_argument("--out", default=str(HERE / "results_dask.md"),
                        help="Markdown file to write (default: benchmarks/results_dask.md)")
    parser.add_argument("--child", nargs=3, metavar=("KIND", "PATH", "N"), help=argparse.SUPPRESS)
    args = parser.parse_args(argv)
    if args.child:
        import json

        print(json.dumps(_child_measure(args.child[0], Path(args.child[1]), int(args.child[2]))))
        return
    import dask
    import distributed

    from meanshift._engines._dask import cpu_engine_name

    load_start = os.getloadavg()
    date = time.strftime("%Y-%m-%d %H:%M UTC", time.gmtime())
    t0 = time.perf_counter()
    rows = suite(args.quick)
    load_end = os.getloadavg()
    ooc = [r for r in rows if "how" in r]
    sc = [r for r in rows if "case" in r]
    cols = ["n", "how", "algorithm", "engine", "fit+label s", "peak MB", "data MB",
            "peak / data", "time vs in memory", "peak vs in memory", "clusters",
            "max centre error", "ARI", "points labelled", "write s", "zarr MB on disk"]
    mode = (" Quick mode: 10^6 points only (the full run, without --quick, uses 10^7 and "
            "10^8 points, 1.6 GB on disk)." if args.quick else "")
    text = "\n".join([
        "# Dask benchmarks",
        "",
        f"Command: `PYTHONPATH=src python benchmarks/bench_dask.py"
        f"{' --quick' if args.quick else ''}`, {date}, on {os.cpu_count()} cores shared "
        f"with other jobs (load average 1/5/15 min at the start: "
        f"{'/'.join(f'{v:.2f}' for v in load_start)}, at the end: "
        f"{'/'.join(f'{v:.2f}' for v in load_end)}); dask {dask.__version__}, distributed "
        f"{distributed.__version__}; CPU engine in the chunk tasks: `{cpu_engine_name()}`; "
        f"total {time.perf_counter() - t0:.0f} s.{mode}",
        "",
        "## Out of core: 2-D points from a Zarr array on disk (bandwidth 2, flat kernel)",
        "",
        "Each row runs in a fresh process. Peak = peak resident memory during fit + "
        "labelling, above the size after imports and a warm-up fit on 1000 rows; data = "
        "n x 2 x 8 bytes. Zarr chunks of 10^6 rows (16 MB). ARI: labels against the true "
        "blobs.",
        "",
        markdown_table(ooc, cols),
        "",
        "## Scaling from 1 to 2 worker processes (LocalCluster, 1 thread each), and in memory",
        "",
        markdown_table(sc, ["case", "n", "workers", "engine", "algorithm", "seconds",
                            "speed-up vs 1 worker", "client peak MB", "steps", "clusters",
                            "ARI"]),
        "",
    ])
    out = Path(args.out)
    out.write_text(text)
    print(text)
    print(f"wrote {out}")


if __name__ == "__main__":
    main()
