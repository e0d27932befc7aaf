"""The PyTorch walk-through's algorithm next to ours, on its six-blob data, in one process.

The walk-through (Isaac Flath, after Jeremy Howard): dense all-pairs distances, gaussian
weights with bandwidth 2.5, ``X = W @ X / W.sum(1)`` (blurring mean shift), stop when no
coordinate changes or after 100 epochs, ``torch.unique`` for the centroids; its "ramp"
variant uses ``(8 - d).clamp_min(0) / 8`` and its sampling variant clusters 300 random
points.  We run that code as written (torch, float32) and ``meanshift.MeanShift`` with
the same kernel and bandwidth, standard and blurring, on the same data, and print
clusters found, iterations, best wall time, the adjusted Rand index against the true
blobs and the worst distance from a true centre to the nearest centre found.

Run from the repository root::

    PYTHONPATH=src python examples/walkthrough_compare.py [--quick]
"""

from __future__ import annotations

import argparse
import math
import sys
from pathlib import Path

import numpy as np
from sklearn.metrics import adjusted_rand_score

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))  # for benchmarks._common

from benchmarks._common import markdown_table, measure  # noqa: E402

from meanshift import MeanShift  # noqa: E402
from meanshift.datasets import six_blobs  # noqa: E402


# -- the walk-through, as written ----------------------------------------------------
def walkthrough_fns(torch):
    def calculate_distances(data):
        axis_distances = data.reshape(-1, 1, 2).sub(data.reshape(1, -1, 2))
        return axis_distances.square().sum(axis=-1).sqrt()

    def gaussian(x, bw):
        return torch.exp(-0.5 * (x / bw) ** 2) / (bw * math.sqrt(2 * torch.pi))

    def tri(d, i):
        return (-d + i).clamp_min(0) / i

    def meanshift1(X):
        weight = gaussian(calculate_distances(X), 2.5)
        return weight @ X / weight.sum(1, keepdim=True)

    def meanshift2(X):
        weight = tri(calculate_distances(X), 8)
        return weight @ X / weight.sum(1, keepdim=True)

    def run_exp(data, fn, max_epochs=100):
        coord = data.clone()
        for i in range(max_epochs):
            _coord = fn(coord)
            if (i > 0) and (coord == _coord).all() == True:  # noqa: E712 - as written
                break
            else:
                coord = _coord
                p_centroids = torch.unique(coord, dim=0)
        return p_centroids, coord, i

    return meanshift1, meanshift2, run_exp


def main(argv=None):
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--quick", action="store_true", help="one run each instead of best of 3")
    parser.add_argument("--engine", default="auto", help="engine for meanshift (default: auto)")
    args = parser.parse_args(argv)
    repeat = 1 if args.quick else 3

    X, y, true_centers = six_blobs()
    rng = np.random.default_rng(0)
    sample = np.sort(rng.choice(len(X), 300, replace=False))
    rows = []

    def centre_error(centers):
        d = np.linalg.norm(np.asarray(centers)[:, None] - true_centers[None], axis=-1)
        return float(d.min(axis=0).max())  # worst true centre's distance to a found one

    try:
        import torch
    except ImportError:
        torch = None
        print("torch is not installed: the walk-through rows are skipped "
              '(pip install "meanshift[gpu]").')
    if torch is not None:
        ms1, ms2, run_exp = walkthrough_fns(torch)
        for label, fn, data_rows in [
            ("walk-through gaussian bw 2.5", ms1, None),
            ("walk-through ramp bw 8", ms2, None),
            ("walk-through gaussian, 300-pt sample", ms1, sample),
        ]:
            data = torch.tensor(X if data_rows is None else X[data_rows], dtype=torch.float32)
            m = measure(label, run_exp, data, fn, repeat=repeat)
            p_centroids, coord, epochs = m.result
            # What the walk-through's centroids would be if it grouped collapsed points
            # (within 1e-3 bandwidths) instead of requiring exact equality.
            groups = len(np.unique(np.round(coord.numpy() / 2.5e-3), axis=0))
            rows.append({
                "method": label, "clusters found": int(p_centroids.shape[0]),
                "iterations": int(epochs), "stopped by rule": int(epochs) < 99,
                "time (ms)": 1e3 * m.seconds, "ARI": "-", "worst centre error": "-",
                "note": f"{groups} groups of points within 1e-3 bw",
            })

    ours = [
        ("meanshift standard gaussian bw 2.5", dict(kernel="gaussian", bandwidth=2.5)),
        ("meanshift blurring gaussian bw 2.5",
         dict(kernel="gaussian", bandwidth=2.5, algorithm="blurring")),
        ("meanshift blurring triangular bw 8",
         dict(kernel="triangular", bandwidth=8.0, algorithm="blurring")),
        ("meanshift standard gaussian, max_samples=300",
         dict(kernel="gaussian", bandwidth=2.5, max_samples=300)),
        ("meanshift blurring gaussian, max_samples=300",
         dict(kernel="gaussian", bandwidth=2.5, algorithm="blurring", max_samples=300)),
    ]
    for label, params in ours:
        model = MeanShift(engine=args.engine, **params)
        model.fit(X)  # warm-up (first-call compilation of a compiled engine)
        m = measure(label, lambda: MeanShift(engine=args.engine, **params).fit(X),
                    repeat=repeat)
        fitted = m.result
        rows.append({
            "method": label, "clusters found": len(fitted.cluster_centers_),
            "iterations": fitted.n_iter_, "stopped by rule": fitted.n_converged_ > 0,
            "time (ms)": 1e3 * m.seconds, "ARI": round(adjusted_rand_score(y, fitted.labels_), 4),
            "worst centre error": round(centre_error(fitted.cluster_centers_), 3),
            "note": f"engine={fitted.engine_}",
        })
    print(f"six-blob data set: {len(X)} points, 6 true clusters; best of {repeat} run(s)")
    if torch is not None:
        print(f"torch {torch.__version__}, {torch.get_num_threads()} threads, float32")
    print(markdown_table(rows, ["method", "clusters found", "iterations", "stopped by rule",
                                "time (ms)", "ARI", "worst centre error",
                                "note"]))


if __name__ == "__main__":
    main()
