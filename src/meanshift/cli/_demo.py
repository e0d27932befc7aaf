"""``meanshift demo``: cluster the built-in six-blob data set and draw it."""

from __future__ import annotations

import argparse

from ._common import (
    ALGORITHM_NAMES,
    ENGINE_NAMES,
    KERNEL_NAMES,
    PLOT_HINT,
    _bandwidth_arg,
    _matplotlib_available,
    _positive,
    add_common_options,
    check_outputs,
    fit_with_progress,
    usage_error,
    written_atomically,
)


def _demo(args) -> int:
    import numpy as np
    from sklearn.metrics import adjusted_rand_score

    from .. import MeanShift
    from ..datasets import six_blobs

    can_plot = not args.no_plot and _matplotlib_available()
    if can_plot:  # before any work: a picture that cannot be written fails now
        check_outputs(None, {"-o/--output": args.out, "--animate": args.animate})
    X, y, centers = six_blobs(random_state=args.seed)
    model = MeanShift(kernel=args.kernel, bandwidth=args.bandwidth, algorithm=args.algorithm,
                      engine=args.engine, record_history=can_plot)
    print(f"six-blob data set: {X.shape[0]} points, 6 true clusters", flush=True)
    try:
        elapsed = fit_with_progress(model, X, quiet=args.quiet)
    except ValueError as exc:  # the estimator's own message names the parameter
        raise usage_error(exc) from exc
    print(
        f"kernel={args.kernel}, algorithm={model.algorithm_}, "
        f"bandwidth={np.round(model.bandwidth_, 4)}, engine={model.engine_}: found "
        f"{len(model.cluster_centers_)} clusters in {model.n_iter_} iterations, "
        f"{elapsed:.3f} s"
    )
    print(f"adjusted Rand index vs truth: {adjusted_rand_score(y, model.labels_):.4f}")
    for i, (c, size) in enumerate(
        zip(model.cluster_centers_, model.cluster_sizes_, strict=True)
    ):
        print(f"  cluster {i}: centre ({c[0]:8.3f}, {c[1]:8.3f}), {size} points")
    if args.no_plot:
        return 0
    if not can_plot:
        print(f"picture skipped: matplotlib is not installed. To get it: {PLOT_HINT}")
        return 0
    from .. import plotting

    fig, (left, right) = plotting._figure(figsize=(12.0, 5.5), dpi=args.dpi, ncols=2)
    plotting.plot_clusters(
        X, model.labels_, model.cluster_centers_, true_centers=centers, ax=left,
        title=f"{len(model.cluster_centers_)} clusters ({model.algorithm_}, "
              f"{args.kernel} kernel, bandwidth {float(np.max(model.bandwidth_)):.3g})",
    )
    plotting.plot_trajectories(model, X, ax=right, max_seeds=300)
    with written_atomically(args.out) as tmp:
        fig.savefig(tmp)
    print(f"wrote {args.out}")
    if args.animate:
        plotting.animate_climb(model, X, args.animate, max_seeds=400)
        print(f"wrote {args.animate}")
    return 0


def add_demo(sub):
    p = sub.add_parser(
        "demo",
        help="cluster the six-blob data set, print what was found, draw it",
        description="Cluster the six gaussian blobs of the PyTorch walk-through, print the "
                    "clusters found, the iterations and the time, and draw the clusters "
                    "and the seeds' climb to a PNG (needs matplotlib).",
        epilog="Examples:\n"
               "  meanshift demo\n"
               "  meanshift demo --kernel gaussian --bandwidth 2.5 --out demo.png\n"
               "  meanshift demo --algorithm blurring --animate climb.gif\n"
               "  meanshift demo --no-plot",
        formatter_class=argparse.RawDescriptionHelpFormatter,
    )
    p.add_argument("--kernel", default="gaussian", choices=KERNEL_NAMES,
                   help="default: gaussian")
    p.add_argument("--bandwidth", default="auto", type=_bandwidth_arg,
                   help='positive number, "auto" (default) or "estimate"')
    p.add_argument("--algorithm", default="standard", choices=ALGORITHM_NAMES,
                   help="default: standard (every point climbs, paths drawn)")
    p.add_argument("--engine", default="auto", choices=ENGINE_NAMES)
    p.add_argument("--seed", default=7, type=int, help="random seed of the data set")
    p.add_argument("-o", "--output", "--out", dest="out", default="meanshift_demo.png",
                   metavar="PNG", help="picture to write (default: meanshift_demo.png; "
                                       "--out is the old name)")
    p.add_argument("--dpi", default=100, type=_positive(int),
                   help="resolution (default: 100, a 1200 x 550 picture)")
    p.add_argument("--animate", metavar="GIF", default=None,
                   help="also write an animation of the climb (.gif, or .mp4 with ffmpeg)")
    p.add_argument("--no-plot", action="store_true", help="print only, draw nothing")
    add_common_options(p)
    p.set_defaults(func=_demo)
    return p

