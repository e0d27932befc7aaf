"""Command line: ``meanshift demo``, ``meanshift cluster FILE`` and more.

Each subcommand is added by a function ``add(subparsers)`` that creates its parser and
sets ``func`` (the handler, ``handler(args) -> exit code``).  They are listed by dotted
name in :data:`SUBCOMMANDS`, so adding a command from another module is one line there;
its module is imported only when the parser is built, and heavy libraries only inside
its handler.  A handler reports a user error by raising :class:`CLIError` (exit code 1;
bad options exit with 2, as argparse does).

Library progress goes through :mod:`logging` (``-v`` shows it); a tqdm progress bar
shows on long fits when stderr is a terminal, never with ``--quiet``.
"""

from __future__ import annotations

import argparse
import importlib
import json
import logging
import sys
import time
from pathlib import Path

__all__ = ["main", "build_parser", "CLIError", "SUBCOMMANDS"]

logger = logging.getLogger(__name__)

#: "module:function" of every subcommand's ``add(subparsers)``, in --help order.
SUBCOMMANDS = [
    "meanshift.cli:add_demo",
    "meanshift.cli:add_cluster",
    "meanshift._cli_segment:add_parser",
]

KERNEL_NAMES = ["flat", "gaussian", "epanechnikov", "triangular"]
PLOT_HINT = 'pip install "meanshift[plot]"'
CLI_HINT = 'pip install "meanshift[cli]"'


class CLIError(Exception):
    """A user error: printed as ``meanshift: error: ...`` with exit code 1."""


# -- shared helpers ------------------------------------------------------------------
class _ProgressEngine:
    """Wraps an engine to move a progress bar at every climb or blurring step."""

    def __init__(self, inner, bar):
        self._inner, self._bar = inner, bar

    def __getattr__(self, name):
        return getattr(self._inner, name)

    def climb(self, *args, callback=None, **kwargs):
        def step(i, n_active):
            self._bar.n = min(i, self._bar.total)
            self._bar.set_postfix(moving=n_active, refresh=False)
            self._bar.refresh()
            if callback is not None:
                callback(i, n_active)

        return self._inner.climb(*args, callback=step, **kwargs)

    def blur_step(self, *args, **kwargs):
        out = self._inner.blur_step(*args, **kwargs)
        self._bar.update(1)
        return out


def fit_with_progress(model, X, sample_weight=None, *, quiet=False):
    """``model.fit(X)`` with a tqdm bar on stderr (when it is a terminal, not ``quiet``,
    the fit takes over half a second and tqdm is installed).  Returns the fit time."""
    bar = None
    if not quiet:
        try:
            from tqdm import tqdm
        except ImportError:
            logger.debug("tqdm is not installed: no progress bar (%s)", CLI_HINT)
        else:
            bar = tqdm(total=model.max_iter, desc="mean shift", unit="step", disable=None,
                       delay=0.5, leave=False, file=sys.stderr)
    if bar is not None:
        make = model._engine_instance
        model._engine_instance = lambda name, **kw: _ProgressEngine(make(name, **kw), bar)
    start = time.perf_counter()
    try:
        model.fit(X, sample_weight=sample_weight)
    finally:
        if bar is not None:
            del model._engine_instance
            bar.close()
    return time.perf_counter() - start


def _bandwidth_arg(text):
    if text in ("auto", "estimate"):
        return "auto" if text == "auto" else None
    try:
        value = float(text)
    except ValueError:
        raise argparse.ArgumentTypeError(
            f'must be a positive number, "auto" or "estimate"; got {text!r}'
        ) from None
    if not value > 0:
        raise argparse.ArgumentTypeError(f"must be positive; got {text!r}")
    return value


def _seeds_arg(text):
    if text in ("all", "bins"):
        return text
    try:
        value = int(text)
    except ValueError:
        raise argparse.ArgumentTypeError(
            f'must be "all", "bins" or a positive integer; got {text!r}'
        ) from None
    if value < 1:
        raise argparse.ArgumentTypeError(f"must be a positive integer; got {text!r}")
    return value


def _max_samples_arg(text):
    try:
        value = float(text)
    except ValueError:
        raise argparse.ArgumentTypeError(
            f"must be a row count (integer >= 1) or a fraction in (0, 1]; got {text!r}"
        ) from None
    if value.is_integer() and value >= 1 and "." not in text:
        return int(value)
    if 0 < value <= 1:
        return value
    raise argparse.ArgumentTypeError(
        f"must be a row count (integer >= 1) or a fraction in (0, 1]; got {text!r}"
    )


def _positive(kind):
    def parse(text):
        try:
            value = kind(text)
        except ValueError:
            raise argparse.ArgumentTypeError(f"must be a {kind.__name__}; got {text!r}") from None
        if not value > 0:
            raise argparse.ArgumentTypeError(f"must be positive; got {text!r}")
        return value

    return parse


def _add_estimator_options(p):
    """Every MeanShift parameter as an option."""
    g = p.add_argument_group("mean shift parameters (see help(meanshift.MeanShift))")
    g.add_argument("--bandwidth", type=_bandwidth_arg, default="auto",
                   help='positive number, "auto" (default: scale-space rule) or "estimate" '
                        "(scikit-learn's estimate_bandwidth)")
    g.add_argument("--kernel", choices=KERNEL_NAMES, default="flat",
                   help="weight profile (default: flat, as scikit-learn)")
    g.add_argument("--algorithm", choices=["auto", "standard", "blurring"], default="auto",
                   help="standard (seeds climb fixed data) or blurring (the data move)")
    g.add_argument("--engine", default="auto",
                   help="auto, numpy, numba, torch, dask (default: fastest available)")
    g.add_argument("--seeds", type=_seeds_arg, default=None,
                   help='"all", "bins" or a number of random seeds (default: all)')
    g.add_argument("--bin-seeding", action="store_true", help="seed from grid bins")
    g.add_argument("--min-bin-freq", type=_positive(float), default=1,
                   help="least points in a seeding bin (default: 1)")
    g.add_argument("--no-cluster-all", dest="cluster_all", action="store_false",
                   help="label points outside every cluster -1")
    g.add_argument("--n-jobs", type=int, default=None, help="threads for compiled engines")
    g.add_argument("--max-iter", type=_positive(int), default=300,
                   help="most steps per seed (default: 300)")
    g.add_argument("--tol", type=float, default=1e-3,
                   help="stop a seed moving less than tol x bandwidth (default: 1e-3)")
    g.add_argument("--label-by", choices=["nearest", "mode"], default="nearest",
                   help="nearest centre (default) or the mode the point climbs to")
    g.add_argument("--merge-radius", type=_positive(float), default=None,
                   help="merge modes closer than this (default: the bandwidth)")
    g.add_argument("--random-state", type=int, default=0, help="random seed (default: 0)")
    g.add_argument("--max-samples", type=_max_samples_arg, default=None,
                   help="fit on a random sample (row count or fraction), label the rest")


def _estimator_params(args):
    return dict(
        bandwidth=args.bandwidth, kernel=args.kernel, algorithm=args.algorithm,
        engine=args.engine, seeds=args.seeds, bin_seeding=args.bin_seeding,
        min_bin_freq=args.min_bin_freq, cluster_all=args.cluster_all, n_jobs=args.n_jobs,
        max_iter=args.max_iter, tol=args.tol, label_by=args.label_by,
        merge_radius=args.merge_radius, random_state=args.random_state,
        max_samples=args.max_samples,
    )


def _matplotlib_available():
    try:
        import matplotlib  # noqa: F401
    except ImportError:
        return False
    return True


# -- demo ----------------------------------------------------------------------------
def _demo(args) -> int:
    import numpy as np
    from sklearn.metrics import adjusted_rand_score

    from . import MeanShift
    from .datasets import six_blobs

    X, y, centers = six_blobs(random_state=args.seed)
    can_plot = not args.no_plot and _matplotlib_available()
    model = MeanShift(kernel=args.kernel, bandwidth=args.bandwidth, algorithm=args.algorithm,
                      engine=args.engine, record_history=can_plot)
    elapsed = fit_with_progress(model, X, quiet=args.quiet)
    print(f"six-blob data set: {X.shape[0]} points, 6 true clusters")
    print(
        f"kernel={args.kernel}, algorithm={model.algorithm_}, "
        f"bandwidth={np.round(model.bandwidth_, 4)}, engine={model.engine_}: found "
        f"{len(model.cluster_centers_)} clusters in {model.n_iter_} iterations, "
        f"{elapsed:.3f} s"
    )
    print(f"adjusted Rand index vs truth: {adjusted_rand_score(y, model.labels_):.4f}")
    for i, (c, size) in enumerate(zip(model.cluster_centers_, model.cluster_sizes_)):
        print(f"  cluster {i}: centre ({c[0]:8.3f}, {c[1]:8.3f}), {size} points")
    if args.no_plot:
        return 0
    if not can_plot:
        print(f"picture skipped: matplotlib is not installed. To get it: {PLOT_HINT}")
        return 0
    from . import plotting

    fig, (left, right) = plotting._figure(figsize=(11.0, 5.0), dpi=args.dpi, ncols=2)
    plotting.plot_clusters(
        X, model.labels_, model.cluster_centers_, true_centers=centers, ax=left,
        title=f"{len(model.cluster_centers_)} clusters ({model.algorithm_}, "
              f"{args.kernel} kernel, bandwidth {float(np.max(model.bandwidth_)):.3g})",
    )
    plotting.plot_trajectories(model, X, ax=right, max_seeds=300)
    fig.savefig(args.out)
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
    p.add_argument("--algorithm", default="standard", choices=["standard", "blurring"])
    p.add_argument("--engine", default="auto")
    p.add_argument("--seed", default=7, type=int, help="random seed of the data set")
    p.add_argument("--out", default="meanshift_demo.png", help="PNG to write "
                   "(default: meanshift_demo.png)")
    p.add_argument("--dpi", default=80, type=_positive(int), help="resolution (default: 80)")
    p.add_argument("--animate", metavar="GIF", default=None,
                   help="also write an animation of the climb (.gif, or .mp4 with ffmpeg)")
    p.add_argument("--no-plot", action="store_true", help="print only, draw nothing")
    p.add_argument("-q", "--quiet", action="store_true", help="no progress bar")
    p.set_defaults(func=_demo)
    return p


# -- cluster -------------------------------------------------------------------------
_FORMATS = {".csv": "csv", ".tsv": "csv", ".txt": "csv", ".npy": "npy",
            ".parquet": "parquet", ".pq": "parquet"}


def _pandas():
    try:
        import pandas
    except ImportError as exc:
        raise CLIError(f"reading and writing tables needs pandas: {CLI_HINT}") from exc
    return pandas


def _format_of(path, given=None):
    if given:
        return given
    fmt = _FORMATS.get(Path(path).suffix.lower())
    if fmt is None:
        raise CLIError(
            f"cannot tell the format of {str(path)!r} from its extension; use one of "
            f"{', '.join(sorted(_FORMATS))} or pass --format {{csv,npy,parquet}}"
        )
    return fmt


def _read_table(args):
    """The input as a pandas DataFrame (NumPy input gets columns x0, x1, ...)."""
    path = Path(args.file)
    if not path.exists():
        raise CLIError(f"input file not found: {str(path)!r}")
    if path.is_dir():
        raise CLIError(f"input is a directory, not a file: {str(path)!r}")
    fmt = _format_of(path, args.format)
    pd = _pandas()
    try:
        if fmt == "npy":
            import numpy as np

            arr = np.load(path, allow_pickle=False)
            if arr.ndim == 1:
                arr = arr[:, None]
            if arr.ndim != 2:
                raise CLIError(f"{str(path)!r} holds an array of shape {arr.shape}; "
                               "need (n_samples, n_features)")
            return pd.DataFrame(arr, columns=[f"x{i}" for i in range(arr.shape[1])]), fmt
        if fmt == "parquet":
            return pd.read_parquet(path), fmt
        sep = args.delimiter or ("\t" if path.suffix.lower() == ".tsv" else ",")
        return pd.read_csv(path, sep=sep, header=None if args.no_header else 0,
                           comment=args.comment), fmt
    except CLIError:
        raise
    except ImportError as exc:
        raise CLIError(f"reading {fmt} files needs a missing package ({exc}): {CLI_HINT}") from exc
    except Exception as exc:  # any parser's own error: say which file and format
        raise CLIError(f"could not read {str(path)!r} as {fmt}: {exc}") from exc


def _pick_columns(frame, spec, what="--columns"):
    """Column names from a comma list of names or 0-based indices."""
    cols = list(frame.columns)
    picked = []
    for item in (s.strip() for s in spec.split(",")):
        if not item:
            continue
        match = [c for c in cols if str(c) == item]
        if match:
            picked.append(match[0])
        elif item.lstrip("-").isdigit() and -len(cols) <= int(item) < len(cols):
            picked.append(cols[int(item)])
        else:
            raise CLIError(
                f"{what}: no column {item!r}; the columns are "
                f"{', '.join(map(str, cols))} (names or 0-based indices)"
            )
    if not picked:
        raise CLIError(f"{what} selects no column")
    return picked


def _features(frame, args):
    import numpy as np

    weight_col = _pick_columns(frame, args.weights, "--weights")[0] if args.weights else None
    if args.columns:
        cols = _pick_columns(frame, args.columns)
    else:
        cols = [c for c in frame.columns if c != weight_col]
    bad = [str(c) for c in cols if frame[c].dtype.kind not in "biuf"]
    if bad:
        raise CLIError(
            f"non-numeric column(s): {', '.join(bad)}. Choose numeric columns with "
            f"--columns (the numeric ones are: "
            f"{', '.join(str(c) for c in frame.columns if frame[c].dtype.kind in 'biuf') or 'none'})"
        )
    X = frame[cols].to_numpy(dtype=np.float64)
    if X.shape[0] == 0:
        raise CLIError("the input has no rows")
    if not np.all(np.isfinite(X)):
        rows = np.flatnonzero(~np.isfinite(X).all(axis=1))
        raise CLIError(f"missing or infinite values in {rows.size} row(s) (first: row "
                       f"{rows[0]}); clean the data or choose other --columns")
    w = None
    if weight_col is not None:
        if frame[weight_col].dtype.kind not in "biuf":
            raise CLIError(f"--weights: column {weight_col!r} is not numeric")
        w = frame[weight_col].to_numpy(dtype=np.float64)
    return X, w, cols


def _write_table(frame, path, what):
    fmt = _format_of(path)
    try:
        if fmt == "parquet":
            frame.to_parquet(path, index=False)
        elif fmt == "npy":
            import numpy as np

            np.save(path, frame.to_numpy())
        else:
            frame.to_csv(path, index=False, sep="\t" if str(path).endswith(".tsv") else ",")
    except ImportError as exc:
        raise CLIError(f"writing {fmt} needs a missing package ({exc}): {CLI_HINT}") from exc
    except OSError as exc:
        raise CLIError(f"could not write the {what} to {str(path)!r}: {exc}") from exc


def _cluster(args) -> int:
    import numpy as np

    from . import MeanShift

    frame, _ = _read_table(args)
    X, w, cols = _features(frame, args)
    pd = _pandas()
    model = MeanShift(**_estimator_params(args))
    try:
        elapsed = fit_with_progress(model, X, w, quiet=args.quiet)
    except ValueError as exc:  # the estimator's own message names the parameter
        raise CLIError(str(exc)) from exc
    labels = model.labels_
    names = [str(c) for c in cols]
    summary = {
        "file": str(args.file),
        "n_samples": int(X.shape[0]),
        "n_features": int(X.shape[1]),
        "columns": names,
        "n_clusters": int(len(model.cluster_centers_)),
        "n_iter": int(model.n_iter_),
        "seconds": round(elapsed, 6),
        "bandwidth": np.asarray(model.bandwidth_).tolist(),
        "algorithm": model.algorithm_,
        "engine": model.engine_,
        "kernel": model.kernel,
        "n_seeds": int(model.n_seeds_),
        "n_converged": int(model.n_converged_),
        "n_orphans": int((labels < 0).sum()),
        "cluster_sizes": model.cluster_sizes_.tolist(),
        "cluster_centers": model.cluster_centers_.tolist(),
        "parameters": {k: (v if isinstance(v, (int, float, str, bool, type(None))) else str(v))
                       for k, v in model.get_params().items()},
    }
    written = []
    if args.labels:
        _write_table(pd.DataFrame({args.label_column: labels}), args.labels, "labels")
        written.append(args.labels)
    if args.append:
        out = frame.copy()
        if args.label_column in out.columns:
            raise CLIError(f"the input already has a column {args.label_column!r}; "
                           "choose another name with --label-column")
        out[args.label_column] = labels
        _write_table(out, args.append, "labelled table")
        written.append(args.append)
    if args.centers:
        centres = pd.DataFrame(model.cluster_centers_, columns=names)
        centres.insert(0, "cluster", np.arange(len(centres)))
        centres["size"] = model.cluster_sizes_
        centres["density"] = model.cluster_densities_
        if _format_of(args.centers) == "npy":
            centres = pd.DataFrame(model.cluster_centers_)
        _write_table(centres, args.centers, "centres")
        written.append(args.centers)
    if args.plot:
        if not _matplotlib_available():
            raise CLIError(f"--plot needs matplotlib: {PLOT_HINT}")
        from . import plotting

        ax = plotting.plot_clusters(X, labels, model.cluster_centers_,
                                    title=f"{Path(args.file).name}: "
                                          f"{summary['n_clusters']} clusters")
        if X.shape[1] > 2:
            ax.set_title(ax.get_title() + " (PCA projection)")
        try:
            ax.figure.savefig(args.plot)
        except (OSError, ValueError) as exc:
            raise CLIError(f"could not write the picture to {args.plot!r}: {exc}") from exc
        written.append(args.plot)
    if args.summary:
        try:
            Path(args.summary).write_text(json.dumps(summary, indent=2) + "\n")
        except OSError as exc:
            raise CLIError(f"could not write the summary to {args.summary!r}: {exc}") from exc
        written.append(args.summary)
    summary["written"] = written
    if args.json:
        print(json.dumps(summary, indent=2))
    else:
        sizes = ", ".join(map(str, summary["cluster_sizes"][:10]))
        more = " ..." if summary["n_clusters"] > 10 else ""
        print(f"{args.file}: {summary['n_samples']} points x {summary['n_features']} "
              f"features ({', '.join(names)})")
        print(f"found {summary['n_clusters']} clusters in {summary['n_iter']} iterations, "
              f"{elapsed:.3f} s (algorithm={model.algorithm_}, engine={model.engine_}, "
              f"kernel={model.kernel}, bandwidth={np.round(model.bandwidth_, 4)})")
        print(f"cluster sizes: {sizes}{more}")
        for path in written:
            print(f"wrote {path}")
    return 0


def add_cluster(sub):
    p = sub.add_parser(
        "cluster",
        help="cluster the rows of a CSV, NPY or Parquet file",
        description="Cluster the rows of FILE (CSV/TSV, NPY or Parquet) with mean shift and "
                    "write the labels, the centres, a JSON summary and a picture.",
        epilog="Examples:\n"
               "  meanshift cluster points.csv --bandwidth 2.5 --kernel gaussian\n"
               "  meanshift cluster points.csv --columns x,y --labels labels.csv\n"
               "  meanshift cluster data.parquet --append labelled.parquet --label-column cluster\n"
               "  meanshift cluster X.npy --algorithm blurring --centers centres.csv "
               "--summary summary.json --plot clusters.png\n"
               "  meanshift cluster big.csv --max-samples 0.1 --engine numba --quiet --json",
        formatter_class=argparse.RawDescriptionHelpFormatter,
    )
    p.add_argument("file", help="input: .csv/.tsv/.txt, .npy or .parquet/.pq")
    g = p.add_argument_group("input")
    g.add_argument("--format", choices=["csv", "npy", "parquet"], default=None,
                   help="input format (default: from the extension)")
    g.add_argument("--columns", default=None,
                   help="comma list of feature columns, names or 0-based indices "
                        "(default: all columns except --weights)")
    g.add_argument("--no-header", action="store_true",
                   help="the CSV has no header row (columns are then 0, 1, ...)")
    g.add_argument("--delimiter", default=None, help="CSV field separator (default: , or tab)")
    g.add_argument("--comment", default=None, help="CSV comment character")
    g.add_argument("--weights", default=None, metavar="COLUMN",
                   help="column of sample weights (not a feature)")
    _add_estimator_options(p)
    o = p.add_argument_group("output")
    o.add_argument("--labels", metavar="PATH", help="write the labels (.csv, .parquet, .npy)")
    o.add_argument("--append", metavar="PATH",
                   help="write the input table with a label column appended")
    o.add_argument("--label-column", default="label", help="name of the label column")
    o.add_argument("--centers", metavar="PATH",
                   help="write the centres with their sizes and densities (.csv, .parquet, .npy)")
    o.add_argument("--summary", metavar="PATH", help="write a JSON summary")
    o.add_argument("--json", action="store_true", help="print the JSON summary to stdout")
    o.add_argument("--plot", metavar="PNG",
                   help="draw the clusters (2-D data, or their PCA plane); needs matplotlib")
    o.add_argument("-q", "--quiet", action="store_true", help="no progress bar")
    p.set_defaults(func=_cluster)
    return p


# -- entry point ---------------------------------------------------------------------
def build_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(
        prog="meanshift",
        description="Mean shift clustering from the command line.",
        epilog="Examples:\n"
               "  meanshift demo\n"
               "  meanshift demo --kernel gaussian --bandwidth 2.5 --animate climb.gif\n"
               "  meanshift cluster points.csv --kernel gaussian --labels labels.csv\n"
               "Run 'meanshift COMMAND --help' for each command's options and examples.",
        formatter_class=argparse.RawDescriptionHelpFormatter,
    )
    parser.add_argument("-v", "--verbose", action="count", default=0,
                        help="log what the library decides (-v) and each step (-vv)")
    sub = parser.add_subparsers(dest="command", required=True, metavar="COMMAND")
    for entry in SUBCOMMANDS:
        module, func = entry.split(":")
        getattr(importlib.import_module(module), func)(sub)
    return parser


def main(argv=None) -> int:
    """Run the command line; returns the exit code (0 ok, 1 error, 2 bad options)."""
    parser = build_parser()
    try:
        args = parser.parse_args(argv)
    except SystemExit as exc:  # --help (0) or bad options (2)
        return int(exc.code or 0)
    level = {0: logging.WARNING, 1: logging.INFO}.get(args.verbose, logging.DEBUG)
    if getattr(args, "quiet", False):
        level = logging.ERROR
    logging.basicConfig(level=level, format="%(levelname)s %(name)s: %(message)s")
    logging.getLogger("meanshift").setLevel(level)
    try:
        return int(args.func(args) or 0)
    except CLIError as exc:
        print(f"meanshift: error: {exc}", file=sys.stderr)
        return 1
    except BrokenPipeError:  # output piped into head & co.
        sys.stdout = None
        return 0
    except (ImportError, OSError, RuntimeError, ValueError) as exc:
        print(f"meanshift: error: {exc}", file=sys.stderr)
        return 1


if __name__ == "__main__":  # pragma: no cover
    sys.exit(main())
