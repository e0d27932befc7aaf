"""The NumPy reference engine next to scikit-learn, same data and bandwidth, one run.

    python benchmarks/bench_reference.py

Flat kernel, every point a seed, scikit-learn's MeanShift and ours with engine="numpy"
(and the default engine for scale); writes benchmarks/results_reference.md.
"""

from __future__ import annotations

import sys
from pathlib import Path

from sklearn.cluster import MeanShift as SkMeanShift
from sklearn.metrics import adjusted_rand_score

sys.path.insert(0, str(Path(__file__).resolve().parents[1] / "src"))
sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from benchmarks._common import markdown_table, measure  # noqa: E402
from meanshift import MeanShift  # noqa: E402
from meanshift.datasets import make_blobs, six_blobs  # noqa: E402


def main():
    X6, y6, _ = six_blobs()
    X10, y10, _ = make_blobs(10_000, 2, centers=5, random_state=0)
    rows = []
    for name, X, y, h in [("six blobs (1500 x 2)", X6, y6, 4.0), ("10k 2-D blobs", X10, y10, 2.0)]:
        MeanShift(bandwidth=h).fit(X[:200])  # load the compiled engine before timing
        sk = measure("sklearn", lambda: SkMeanShift(bandwidth=h).fit(X))
        for label, fn in [
            ("scikit-learn MeanShift", None),
            ("meanshift engine=numpy (reference)",
             lambda: MeanShift(bandwidth=h, engine="numpy").fit(X)),
            ("meanshift engine=numba (default)", lambda: MeanShift(bandwidth=h).fit(X)),
        ]:
            m = sk if fn is None else measure(label, fn)
            model = m.result
            rows.append(dict(data=name, method=label, bandwidth=h, time_s=m.seconds,
                             clusters=len(model.cluster_centers_),
                             ari_truth=adjusted_rand_score(y, model.labels_),
                             labels_equal_sklearn=bool((model.labels_ == sk.result.labels_).all()),
                             speedup=sk.seconds / m.seconds))
            print(rows[-1], flush=True)
    cols = ["data", "method", "bandwidth", "time_s", "clusters", "ari_truth",
            "labels_equal_sklearn", "speedup"]
    text = ("# NumPy reference engine vs scikit-learn\n\nCommand: "
            "`python benchmarks/bench_reference.py` (flat kernel, all points as seeds)\n\n"
            + markdown_table(rows, cols) + "\n")
    Path(__file__).with_name("results_reference.md").write_text(text)
    print(text)


if __name__ == "__main__":
    main()
