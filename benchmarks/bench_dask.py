"""Dask engine benchmarks: data from disk, memory flat in n, and 1 -> 2 workers.

Run alone (writes benchmarks/results_dask.md)::

    PYTHONPATH=src python benchmarks/bench_dask.py [--quick]

Three tables:

1. **Out of core** - 2-D points (three gaussian blobs 10 apart, unit spread) written to a
   Zarr array on disk in chunks of 10^6 rows, clustered with ``MeanShift(bandwidth=2.0)``
   on dask's local threaded scheduler (``algorithm="auto"`` picks the streamed compressed
   path), then labelled (the lazy labels computed into cluster sizes).  Each measurement
   runs in a fresh process; peak memory is its peak resident set size above the size
   after imports and a warm-up fit of 1000 rows, next to the size of the data.  Side by side, the same fit done in memory (the whole array loaded,
   then the same compression and climb), for the sizes where that fits in a few GB.
2. **Scaling, streaming** - the compressed fit of the 10^6 / 10^7 points on a LocalCluster
   of 1 and then 2 worker processes (1 thread each).
3. **Scaling, standard** - the exact map-reduce climb (data persisted on the workers) on
   1 and 2 workers.

The machine has 2 cores shared with other work: scaling ratios are upper-bounded by 2 and
noisy; the time columns are wall clock of one run.
"""

from __future__ import annotations

import argparse
import os
import shutil
import sys
import tempfile
import time
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
    """n 2-D points (3 gaussian blobs, unit spread) written to a Zarr array chunk by chunk."""
    import zarr

    z = zarr.create_array(store=str(path), shape=(n, 2), chunks=(min(n, ZARR_CHUNK), 2),
                          dtype="f8", overwrite=True)
    rng = np.random.default_rng(seed)
    for start in range(0, n, ZARR_CHUNK):
        m = min(ZARR_CHUNK, n - start)
        z[start : start + m] = CENTERS[rng.integers(0, 3, m)] + rng.normal(size=(m, 2))
    return path


def _fit_and_label(X, **params):
    from meanshift import MeanShift

    model = MeanShift(bandwidth=BANDWIDTH, **params).fit(X)
    sizes = model.cluster_sizes_
    sizes = sizes.compute() if hasattr(sizes, "compute") else sizes
    return model, sizes


def _in_memory_compressed(path):
    """The same compressed fit with the whole array loaded into memory first."""
    import zarr

    from meanshift._compress import bin_means
    from meanshift._dask_fit import BINS_PER_BANDWIDTH, _fast_bin_stats
    from meanshift._engines._dask import DaskEngine
    from meanshift._kernels import get_kernel
    from meanshift._pipeline import run_standard

    X = zarr.open_array(str(path), mode="r")[:]
    means, weights = bin_means(_fast_bin_stats(X, None, BANDWIDTH / BINS_PER_BANDWIDTH))
    engine = DaskEngine().cpu
    res = run_standard(
        means, weights, engine=engine, kernel=get_kernel("flat"), bandwidth=BANDWIDTH,
        tol=1e-3, max_iter=300, seeds="bins", bin_seeding=False, min_bin_freq=1,
        random_state=0, merge_radius=BANDWIDTH, label_by="nearest", cluster_all=True,
        record_history=False,
    )
    labels, _ = engine.nearest(X, res.centers)
    return res.centers, np.bincount(labels, minlength=len(res.centers))


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
        _fit_and_label(X[:1000], algorithm="compressed")  # imports, not data
        if kind == "dask":
            m = measure("dask streamed", _fit_and_label, X)
            model, counts = m.result
            centers, algorithm = model.cluster_centers_, model.algorithm_
        else:
            m = measure("in memory", _in_memory_compressed, path)
            (centers, counts), algorithm = m.result, "compressed"
    return {"seconds": m.seconds, "peak": m.peak_bytes, "algorithm": algorithm,
            "clusters": len(centers), "error": _center_error(centers),
            "labelled": int(np.sum(counts))}


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
                else "in memory (load all, same compression)",
                "algorithm": r["algorithm"], "fit+label s": r["seconds"],
                "peak MB": r["peak"] / 1e6, "data MB": data_bytes / 1e6,
                "peak / data": r["peak"] / data_bytes, "clusters": r["clusters"],
                "max centre error": r["error"], "points labelled": r["labelled"],
            })
            if kind == "dask":
                rows[-1].update({"write s": write_s, "zarr MB on disk": disk / 1e6})
            else:
                rows[-2]["time vs in memory"] = rows[-2]["fit+label s"] / r["seconds"]
                rows[-2]["peak vs in memory"] = rows[-2]["peak MB"] / max(rows[-1]["peak MB"], 1e-9)
        print(markdown_table(rows[-len(kinds):], list(rows[-len(kinds)])), flush=True)
    return rows


def scaling(workdir, n_stream, n_standard):
    import dask.array as da
    from distributed import Client, LocalCluster

    path = workdir / f"points_{n_stream}.zarr"
    if not path.exists():
        write_points(path, n_stream)
    rng = np.random.default_rng(1)
    Xs = CENTERS[rng.integers(0, 3, n_standard)] + rng.normal(size=(n_standard, 2))
    rows = []
    base = {}
    for workers in (1, 2):
        with LocalCluster(n_workers=workers, threads_per_worker=1, processes=True,
                          dashboard_address=None) as cluster, Client(cluster):
            # Warm up the workers (imports, compiled kernels) before timing.
            _fit_and_label(da.from_array(Xs[:2000], chunks=(500, 2)), seeds=20)
            cases = [
                ("compressed, Zarr", n_stream, lambda: _fit_and_label(da.from_zarr(str(path)))),
                ("standard, persisted, 200 seeds", n_standard, lambda: _fit_and_label(
                    da.from_array(Xs, chunks=(n_standard // 8, 2)), seeds=200)),
            ]
            for name, n, fn in cases:
                t0 = time.perf_counter()
                model, _ = fn()
                sec = time.perf_counter() - t0
                base.setdefault(name, sec)
                rows.append({"case": name, "n": f"{n:.0e}", "workers": workers, "seconds": sec,
                             "speed-up vs 1 worker": base[name] / sec,
                             "steps": model.n_iter_, "clusters": len(model.cluster_centers_)})
                print(markdown_table(rows[-1:], list(rows[-1])), flush=True)
    return rows


def suite(quick: bool) -> list[dict]:
    """All rows of the three tables (``quick``: 10^6 points only)."""
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
    parser.add_argument("--quick", action="store_true", help="10^6 points only")
    parser.add_argument("--child", nargs=3, metavar=("KIND", "PATH", "N"), help=argparse.SUPPRESS)
    args = parser.parse_args(argv)
    if args.child:
        import json

        print(json.dumps(_child_measure(args.child[0], Path(args.child[1]), int(args.child[2]))))
        return
    from meanshift._engines._dask import cpu_engine_name

    t0 = time.perf_counter()
    rows = suite(args.quick)
    ooc = [r for r in rows if "how" in r]
    sc = [r for r in rows if "case" in r]
    cols = ["n", "how", "algorithm", "fit+label s", "peak MB", "data MB", "peak / data",
            "time vs in memory", "peak vs in memory", "clusters", "max centre error", "points labelled",
            "write s", "zarr MB on disk"]
    text = "\n".join([
        "# Dask engine benchmarks",
        "",
        f"`PYTHONPATH=src python benchmarks/bench_dask.py{' --quick' if args.quick else ''}` "
        f"on {os.cpu_count()} cores shared with other jobs (load average at the end: "
        f"{os.getloadavg()[0]:.1f}), CPU engine in the chunk tasks: "
        f"`{cpu_engine_name()}`, total {time.perf_counter() - t0:.0f} s.",
        "",
        "## Out of core: 2-D points from a Zarr array on disk (bandwidth 2, flat kernel)",
        "",
        "Each row runs in a fresh process. Peak = peak resident memory during fit + "
        "labelling, above the size after imports and a warm-up fit on 1000 rows; data = "
        "n x 2 x 8 bytes. Zarr chunks of 10^6 rows (16 MB).",
        "",
        markdown_table(ooc, cols),
        "",
        "## Scaling from 1 to 2 worker processes (LocalCluster, 1 thread each)",
        "",
        markdown_table(sc, ["case", "n", "workers", "seconds", "speed-up vs 1 worker", "steps",
                            "clusters"]),
        "",
    ])
    out = HERE / "results_dask.md"
    out.write_text(text)
    print(text)
    print(f"wrote {out}")


if __name__ == "__main__":
    main()
