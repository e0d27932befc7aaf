"""How well does bandwidth="auto" recover the number of clusters?

Gaussian blobs (centres >= 8 standard deviations apart), 2-D to 16-D, 3 to 20 clusters,
10^3 to 10^6 points.  For each data set: the auto bandwidth (and its time), then a fit at
that bandwidth from 1000 random seeds, labels by nearest mode; reports the clusters found
and the ARI vs truth, next to scikit-learn's estimate_bandwidth rule at its default
quantile (n_samples=10000 above 10^4 points).

    python benchmarks/auto_bandwidth.py [--quick] [--kernel flat|gaussian|...]

writes benchmarks/results_auto_bandwidth.md.
"""

from __future__ import annotations

import argparse
import sys
import time
from pathlib import Path

from sklearn.metrics import adjusted_rand_score

sys.path.insert(0, str(Path(__file__).resolve().parents[1] / "src"))
sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from benchmarks._common import markdown_table  # noqa: E402
from meanshift import MeanShift, auto_bandwidth, estimate_bandwidth  # noqa: E402
from meanshift.datasets import make_blobs  # noqa: E402


def run(quick: bool, kernel: str) -> list[dict]:
    sizes = [1000, 10000] if quick else [1000, 10000, 100000, 1000000]
    grid = [(2, 3), (2, 10), (2, 20), (4, 5), (8, 10), (16, 3), (16, 20)]
    rows = []
    for n in sizes:
        for d, k in grid:
            X, y, _ = make_blobs(n, d, centers=k, random_state=n + 7 * d + k)
            t = time.perf_counter()
            h = auto_bandwidth(X, kernel=kernel)
            t_auto = time.perf_counter() - t
            model = MeanShift(bandwidth=h, kernel=kernel, seeds=1000).fit(X)
            row = dict(n=n, d=d, true_k=k, kernel=kernel, auto_h=round(h, 3),
                       auto_s=round(t_auto, 2), found_k=len(model.cluster_centers_),
                       ari=round(adjusted_rand_score(y, model.labels_), 4))
            if kernel == "flat":
                h_sk = estimate_bandwidth(X, n_samples=None if n <= 10000 else 10000)
                sk = MeanShift(bandwidth=h_sk, seeds=1000).fit(X)
                row.update(sklearn_rule_h=round(h_sk, 3), sklearn_rule_k=len(sk.cluster_centers_))
            rows.append(row)
            print(row, flush=True)
    return rows


def main(argv=None):
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--quick", action="store_true")
    parser.add_argument("--kernel", default="flat")
    parser.add_argument("--out", default=str(Path(__file__).with_name("results_auto_bandwidth.md")))
    args = parser.parse_args(argv)
    rows = run(args.quick, args.kernel)
    cols = ["n", "d", "true_k", "kernel", "auto_h", "auto_s", "found_k", "ari",
            "sklearn_rule_h", "sklearn_rule_k"]
    table = markdown_table(rows, cols)
    hits = sum(r["found_k"] == r["true_k"] for r in rows)
    text = (f"# bandwidth=\"auto\": true vs found clusters ({args.kernel} kernel)\n\n"
            f"Command: `python benchmarks/auto_bandwidth.py --kernel {args.kernel}"
            f"{' --quick' if args.quick else ''}`\n\n{table}\n\n"
            f"Recovered the true k in {hits} of {len(rows)} data sets.\n")
    Path(args.out).write_text(text)
    print(text)


if __name__ == "__main__":
    main()
