"""Helpers shared by the subcommands: the progress bar, option parsers, the estimator's
options."""

from __future__ import annotations

import argparse
import logging
import os
import re
import sys
import tempfile
import time
from contextlib import contextmanager
from pathlib import Path

__all__ = ["usage_error", "add_common_options", "ALGORITHM_NAMES", "ENGINE_NAMES", "KERNEL_NAMES",
           "CLIError", "CLIUsageError", "fit_with_progress", "show_progress",
           "check_outputs", "written_atomically", "PLOT_HINT", "CLI_HINT"]

logger = logging.getLogger("meanshift.cli")

def _registry_names(which: str) -> list[str]:
    """The kernels, algorithms or engines offered by the library's registries."""
    if which == "kernels":
        from .._kernels import KERNELS

        return list(KERNELS)
    if which == "algorithms":
        from .._pipeline import ALGORITHMS

        return ["auto", *ALGORITHMS]
    from .._engines import ENGINES

    return ["auto", *ENGINES]


class _Names:
    """A registry's names, looked up on first use: argparse tests a given value with
    ``in`` and lists them by iteration (help, errors), so building the parser imports
    none of the library (the pipeline's registry brings scikit-learn and SciPy, about
    2 s on a 2 GHz core: ``meanshift --help`` waited for them)."""

    def __init__(self, which: str):
        self._which = which
        self._names: list[str] | None = None

    def _get(self) -> list[str]:
        if self._names is None:
            self._names = _registry_names(self._which)
        return self._names

    def __iter__(self):
        return iter(self._get())

    def __contains__(self, value) -> bool:
        return value in self._get()

    def __len__(self) -> int:
        return len(self._get())

    def __repr__(self) -> str:
        return repr(self._get())


KERNEL_NAMES, ALGORITHM_NAMES, ENGINE_NAMES = (_Names("kernels"), _Names("algorithms"),
                                               _Names("engines"))
PLOT_HINT = 'pip install "meanshift[plot]"'
CLI_HINT = 'pip install "meanshift[cli]"'


class CLIError(Exception):
    """A user error: printed as ``meanshift: error: ...`` with exit code 1."""

    exit_code = 1


class CLIUsageError(CLIError):
    """Options that cannot be carried out as given (exit code 2, as for bad options)."""

    exit_code = 2


@contextmanager
def written_atomically(path):
    """Yield a temporary path next to ``path`` (same suffix, so writers pick the same
    format); when the block succeeds it is renamed onto ``path``, else removed: an
    interrupted or failed write never leaves a half-written file, nor destroys an
    existing one."""
    path = Path(path)
    folder = path.parent if str(path.parent) else Path(".")
    fd, name = tempfile.mkstemp(prefix=f".{path.name}.", suffix=path.suffix, dir=folder)
    os.close(fd)
    tmp = Path(name)
    umask = os.umask(0)
    os.umask(umask)
    os.chmod(tmp, 0o666 & ~umask)  # the permissions a plain open() would give
    try:
        yield tmp
        os.replace(tmp, path)
    except BaseException:
        tmp.unlink(missing_ok=True)
        raise


def check_outputs(source, outputs):
    """Refuse, before any work, outputs that would destroy data or cannot be written: an
    output that is the input file (by name, through a link, or the same file by another
    path), two outputs naming the same file, an output in a folder that does not exist
    (exit code 2, naming the option).  ``outputs`` maps option names to paths (or None);
    ``source`` is the input file (None: no input file)."""
    src = None if source is None else Path(source).resolve()
    seen: dict[Path, str] = {}
    for option, path in outputs.items():
        if path is None:
            continue
        out = Path(path).resolve()
        if not out.parent.is_dir():
            raise CLIUsageError(f"{option} {str(path)!r}: the folder {str(out.parent)!r} "
                                "does not exist; create it or choose another path.")
        if out.is_dir():
            raise CLIUsageError(f"{option} {str(path)!r} is a folder; give a file name.")
        if src is not None and (
                out == src or (out.exists() and src.exists() and os.path.samefile(out, src))):
            raise CLIUsageError(f"{option} {str(path)!r} is the input file {str(source)!r}; "
                           "meanshift never overwrites its input: choose another path.")
        if out in seen:
            raise CLIUsageError(f"{seen[out]} and {option} both name {str(path)!r}; give each "
                           "output a path of its own.")
        seen[out] = option


def add_common_options(p):
    """``-v/--verbose`` and ``-q/--quiet``, accepted after the subcommand as before it
    (``meanshift -v cluster ...`` and ``meanshift cluster ... -v`` are the same)."""
    p.add_argument("-v", "--verbose", action="count", default=argparse.SUPPRESS,
                   help="log what the library decides (-v) and each step (-vv)")
    p.add_argument("-q", "--quiet", action="store_true", default=argparse.SUPPRESS,
                   help="no progress display, errors only")


def show_progress(quiet=False) -> bool:
    """Whether to draw progress: on a terminal (standard error), unless ``--quiet``."""
    isatty = getattr(sys.stderr, "isatty", None)
    return not quiet and bool(isatty and isatty())


def fit_with_progress(model, X, sample_weight=None, *, quiet=False):
    """``model.fit(X)`` with the progress display of :mod:`meanshift._progress` on
    standard error when it is a terminal and not ``quiet`` (erased before the caller
    prints its results; nothing on a pipe).  Returns the fit time."""
    previous = model.progress
    model.set_params(progress=show_progress(quiet))
    start = time.perf_counter()
    try:
        model.fit(X, sample_weight=sample_weight)
    finally:
        model.set_params(progress=previous)
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


def _checked(kind, ok, rule):
    """An argparse type: ``kind(text)`` that must pass ``ok`` (else "must be ``rule``")."""
    def parse(text):
        try:
            value = kind(text)
        except ValueError:
            raise argparse.ArgumentTypeError(f"must be a {kind.__name__}; got {text!r}") from None
        if not ok(value):
            raise argparse.ArgumentTypeError(f"must be {rule}; got {text!r}")
        return value

    return parse


_non_negative = _checked(float, lambda v: v >= 0, ">= 0")
_n_jobs_arg = _checked(int, lambda v: v != 0,
                       "a positive count, -1 for all threads or -2 for all but one (not 0)")


def usage_error(exc: ValueError) -> CLIError:
    """The estimator's error about a parameter, as an option error (exit code 2): the
    parameter ``'min_bin_freq'`` becomes the option ``--min-bin-freq``."""
    text = re.sub(r"The '(\w+)' parameter( of \w+)?",
                  lambda m: "--" + m.group(1).replace("_", "-"), str(exc))
    return CLIUsageError(text) if text != str(exc) else CLIError(str(exc))


def _positive(kind):
    return _checked(kind, lambda v: v > 0, "positive")


def _add_estimator_options(p):
    """Every MeanShift parameter as an option."""
    g = p.add_argument_group("mean shift parameters (see help(meanshift.MeanShift))")
    g.add_argument("--bandwidth", type=_bandwidth_arg, default="auto",
                   help='positive number, "auto" (default: scale-space rule) or "estimate" '
                        "(scikit-learn's estimate_bandwidth)")
    g.add_argument("--kernel", choices=KERNEL_NAMES, default="flat",
                   help="weight profile (default: flat, as scikit-learn)")
    g.add_argument("--algorithm", choices=ALGORITHM_NAMES, default="auto",
                   help="standard (seeds climb fixed data), basin (seeds stop in a found "
                        "mode's basin), compressed (weighted bin means), checked (bin "
                        "seeds checked by 1024 every-point climbs), blurring (the data "
                        "move); default: auto")
    g.add_argument("--engine", choices=ENGINE_NAMES, default="auto",
                   help="default: auto (the fastest available)")
    g.add_argument("--seeds", type=_seeds_arg, default=None,
                   help='"all", "bins" or a number of random seeds (default: all)')
    g.add_argument("--bin-seeding", action="store_true", help="seed from grid bins")
    g.add_argument("--min-bin-freq", type=_positive(float), default=1,
                   help="least points in a seeding bin (default: 1)")
    g.add_argument("--no-cluster-all", dest="cluster_all", action="store_false",
                   help="label points outside every cluster -1")
    g.add_argument("--n-jobs", type=_n_jobs_arg, default=None,
                   help="threads for compiled engines (-1 all, -2 all but one; not 0)")
    g.add_argument("--max-iter", type=_positive(int), default=300,
                   help="most steps per seed (default: 300)")
    g.add_argument("--tol", type=_non_negative, default=1e-3,
                   help="stop a seed moving less than tol x bandwidth (default: 1e-3)")
    g.add_argument("--label-by", choices=["nearest", "mode"], default="nearest",
                   help="nearest centre (default) or the mode the point climbs to")
    g.add_argument("--merge-radius", type=_positive(float), default=None,
                   help="merge modes closer than this (default: the bandwidth)")
    g.add_argument("--random-state", type=int, default=0, help="random seed (default: 0)")
    g.add_argument("--max-samples", type=_max_samples_arg, default=None,
                   help="fit on a random sample (row count or fraction), label the rest")
    g.add_argument("--metric", choices=["euclidean", "haversine", "cosine"],
                   default="euclidean",
                   help="euclidean (default); haversine: columns are latitude, longitude "
                        "in degrees and the bandwidth is in km; cosine: rows are directions "
                        "and the bandwidth is a cosine distance")
    g.add_argument("--radius", type=_positive(float), default=None, metavar="KM",
                   help="sphere radius for --metric haversine (default: the Earth's mean "
                        "radius, 6371.0088 km; the bandwidth is in its units)")


def _estimator_params(args):
    if args.radius is not None and args.metric != "haversine":
        raise CLIUsageError(f"--radius applies to --metric haversine only; got --metric "
                            f"{args.metric}")
    return dict(
        bandwidth=args.bandwidth, kernel=args.kernel, algorithm=args.algorithm,
        engine=args.engine, seeds=args.seeds, bin_seeding=args.bin_seeding,
        min_bin_freq=args.min_bin_freq, cluster_all=args.cluster_all, n_jobs=args.n_jobs,
        max_iter=args.max_iter, tol=args.tol, label_by=args.label_by,
        merge_radius=args.merge_radius, random_state=args.random_state,
        max_samples=args.max_samples, metric=args.metric,
        metric_params=None if args.radius is None else {"radius": args.radius},
    )


def _matplotlib_available():
    try:
        import matplotlib  # noqa: F401
    except ImportError:
        return False
    return True

