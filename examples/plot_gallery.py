"""Every picture of meanshift.plotting, on the walk-through's six blobs.

Writes kernels.png (kernel profiles at three bandwidths, as in the walk-through),
clusters.png (found and true centres), paths.png (seed paths) and climb.gif (the climb,
one frame per step; blurring mean shift with --blurring) into OUT (default: gallery/).

    PYTHONPATH=src python examples/plot_gallery.py [--blurring] [OUT]
"""

import argparse
from pathlib import Path

from meanshift import MeanShift
from meanshift.datasets import six_blobs
from meanshift.plotting import animate_climb, plot_clusters, plot_kernels, plot_trajectories


def main(argv=None):
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("out", nargs="?", default="gallery")
    parser.add_argument("--blurring", action="store_true", help="blurring mean shift")
    args = parser.parse_args(argv)
    out = Path(args.out)
    out.mkdir(parents=True, exist_ok=True)

    X, y, centers = six_blobs()
    algorithm = "blurring" if args.blurring else "standard"
    model = MeanShift(bandwidth=2.5, kernel="gaussian", algorithm=algorithm,
                      record_history=True).fit(X)

    axes = plot_kernels([0.5, 1.0, 2.0], ["gaussian", "triangular", "flat"])
    axes[0].figure.savefig(out / "kernels.png")
    ax = plot_clusters(X, model.labels_, model.cluster_centers_, true_centers=centers,
                       title=f"{algorithm} mean shift: {len(model.cluster_centers_)} clusters")
    ax.figure.savefig(out / "clusters.png")
    plot_trajectories(model, X).figure.savefig(out / "paths.png")
    animate_climb(model, X, out / "climb.gif")
    for name in ("kernels.png", "clusters.png", "paths.png", "climb.gif"):
        print(f"wrote {out / name}")


if __name__ == "__main__":
    main()
