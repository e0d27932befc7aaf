"""``meanshift cluster FILE``: cluster the rows of a CSV, Parquet or .npy file."""

from __future__ import annotations

import argparse
import json
from pathlib import Path

from ._common import (
    CLI_HINT,
    PLOT_HINT,
    CLIError,
    _add_estimator_options,
    _estimator_params,
    _matplotlib_available,
    add_common_options,
    check_outputs,
    fit_with_progress,
    usage_error,
    written_atomically,
)

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


def _has_header(path, sep, comment=None) -> bool:
    """Whether the first row of a CSV is a header: it is data when every field of it
    is a number (so a file without a header loses no row)."""
    import csv

    with open(path, newline="", encoding="utf-8", errors="replace") as f:
        for line in f:
            if not line.strip() or (comment and line.lstrip().startswith(comment)):
                continue
            fields = next(csv.reader([line], delimiter=sep if len(sep) == 1 else ","))
            return not all(_is_number(v) for v in fields)
    return True


def _is_number(text) -> bool:
    try:
        float(text)
    except ValueError:
        return False
    return True


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
        header = args.header if args.header is not None else _has_header(path, sep,
                                                                          args.comment)
        frame = pd.read_csv(path, sep=sep, header=0 if header else None, comment=args.comment)
        if not header:
            frame.columns = [f"x{i}" for i in range(frame.shape[1])]
        return frame, fmt
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

    if len(frame) == 0:
        raise CLIError(f"{str(args.file)!r} has no data rows (only a header: "
                       f"{', '.join(str(c) for c in frame.columns) or 'none'})")
    weight_col = _pick_columns(frame, args.weights, "--weights")[0] if args.weights else None
    if args.columns:
        cols = _pick_columns(frame, args.columns)
    else:
        cols = [c for c in frame.columns if c != weight_col]
    bad = [str(c) for c in cols if frame[c].dtype.kind not in "biuf"]
    if bad:
        numeric = ", ".join(str(c) for c in frame.columns if frame[c].dtype.kind in "biuf")
        sample = " ".join(str(v) for v in frame[cols[0]].head(3)) + " " + str(cols[0])
        other = [d for d in (";", "\t", "|", " ") if d in sample]
        hint = (f" The values look separated by {other[0]!r}: try --delimiter "
                f"{other[0]!r}." if other and not args.delimiter else "")
        raise CLIError(
            f"non-numeric column(s): {', '.join(bad)}. Choose numeric columns with "
            f"--columns (the numeric ones are: "
            f"{numeric or 'none'}).{hint}"
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
        with written_atomically(path) as tmp:
            if fmt == "parquet":
                frame.to_parquet(tmp, index=False)
            elif fmt == "npy":
                import numpy as np

                np.save(tmp, frame.to_numpy())
            else:
                frame.to_csv(tmp, index=False, sep="\t" if str(path).endswith(".tsv") else ",")
    except ImportError as exc:
        raise CLIError(f"writing {fmt} needs a missing package ({exc}): {CLI_HINT}") from exc
    except OSError as exc:
        raise CLIError(f"could not write the {what} to {str(path)!r}: {exc}") from exc


def _cluster(args) -> int:
    import numpy as np

    from .. import MeanShift

    check_outputs(args.file, {"--labels": args.labels, "--append": args.append,
                              "--centers": args.centers, "--summary": args.summary,
                              "--plot": args.plot})
    frame, _ = _read_table(args)
    X, w, cols = _features(frame, args)
    pd = _pandas()
    model = MeanShift(**_estimator_params(args))
    names = [str(c) for c in cols]
    if not args.json:  # what was read, before the fit starts
        print(f"{args.file}: {X.shape[0]} points x {X.shape[1]} features "
              f"({', '.join(names)})", flush=True)
    try:
        elapsed = fit_with_progress(model, X, w, quiet=args.quiet)
    except ValueError as exc:  # the estimator's own message names the parameter
        raise usage_error(exc) from exc
    labels = model.labels_
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
        "metric": model.metric,
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
        from .. import plotting

        ax = plotting.plot_clusters(X, labels, model.cluster_centers_, feature_names=names,
                                    title=f"{Path(args.file).name}: "
                                          f"{summary['n_clusters']} clusters",
                                    geo=args.metric == "haversine")
        if X.shape[1] > 2:
            ax.set_title(ax.get_title() + " (PCA projection)")
        try:
            with written_atomically(args.plot) as tmp:
                ax.figure.savefig(tmp)
        except (OSError, ValueError) as exc:
            raise CLIError(f"could not write the picture to {args.plot!r}: {exc}") from exc
        written.append(args.plot)
    if args.summary:
        try:
            with written_atomically(args.summary) as tmp:
                tmp.write_text(json.dumps(summary, indent=2) + "\n")
        except OSError as exc:
            raise CLIError(f"could not write the summary to {args.summary!r}: {exc}") from exc
        written.append(args.summary)
    summary["written"] = written
    if args.json:
        print(json.dumps(summary, indent=2))
    else:
        sizes = ", ".join(map(str, summary["cluster_sizes"][:10]))
        more = " ..." if summary["n_clusters"] > 10 else ""
        print(f"found {summary['n_clusters']} clusters in {summary['n_iter']} iterations, "
              f"{elapsed:.3f} s (algorithm={model.algorithm_}, engine={model.engine_}, "
              f"kernel={model.kernel}, bandwidth={np.round(model.bandwidth_, 4)}"
              f"{' km' if model.metric == 'haversine' and args.radius is None else ''}"
              f"{', metric=' + model.metric if model.metric != 'euclidean' else ''})")
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
               "  meanshift cluster big.csv --max-samples 0.1 --engine numba --quiet --json\n"
               "  meanshift cluster pickups.csv --metric haversine --columns lat,lon "
               "--bandwidth 2 --plot map.png",
        formatter_class=argparse.RawDescriptionHelpFormatter,
    )
    p.add_argument("file", help="input: .csv/.tsv/.txt, .npy or .parquet/.pq")
    g = p.add_argument_group("input")
    g.add_argument("--format", choices=["csv", "npy", "parquet"], default=None,
                   help="input format (default: from the extension)")
    g.add_argument("--columns", default=None,
                   help="comma list of feature columns, names or 0-based indices "
                        "(default: all columns except --weights)")
    hdr = g.add_mutually_exclusive_group()
    hdr.add_argument("--header", dest="header", action="store_true", default=None,
                     help="the CSV's first row is a header (default: detected: a first "
                          "row of numbers is data)")
    hdr.add_argument("--no-header", dest="header", action="store_false",
                     help="the CSV has no header row (columns are then x0, x1, ...)")
    g.add_argument("--delimiter", default=None, help="CSV field separator (default: , or tab)")
    g.add_argument("--comment", default=None, help="CSV comment character")
    g.add_argument("--weights", default=None, metavar="COLUMN",
                   help="column of sample weights (not a feature)")
    _add_estimator_options(p)
    o = p.add_argument_group("output")
    o.add_argument("-o", "--output", "--labels", dest="labels", metavar="PATH",
                   help="write the labels (.csv, .parquet, .npy); --labels is the same")
    o.add_argument("--append", metavar="PATH",
                   help="write the input table with a label column appended")
    o.add_argument("--label-column", default="label", help="name of the label column")
    o.add_argument("--centers", metavar="PATH",
                   help="write the centres with their sizes and densities (.csv, .parquet, .npy)")
    o.add_argument("--summary", metavar="PATH", help="write a JSON summary")
    o.add_argument("--json", action="store_true", help="print the JSON summary to stdout")
    o.add_argument("--plot", metavar="PNG",
                   help="draw the clusters (2-D data, or their PCA plane); needs matplotlib")
    add_common_options(p)
    p.set_defaults(func=_cluster)
    return p

