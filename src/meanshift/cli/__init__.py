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
import logging
import sys

from .. import __version__
from ._common import CLIError, fit_with_progress

__all__ = ["main", "build_parser", "CLIError", "SUBCOMMANDS", "fit_with_progress"]

logger = logging.getLogger(__name__)

#: "module:function" of every subcommand's ``add(subparsers)``, in --help order.
SUBCOMMANDS = [
    "meanshift.cli._demo:add_demo",
    "meanshift.cli._cluster:add_cluster",
    "meanshift.cli._segment:add_parser",
]


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
                        help="log what the library decides (-v) and each step (-vv); also "
                             "after the command")
    parser.add_argument("-q", "--quiet", action="store_true", default=False,
                        help="no progress display, errors only; also after the command")
    parser.add_argument("--version", action="version", version=f"meanshift {__version__}")
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
        return exc.exit_code
    except BrokenPipeError:  # output piped into head & co.
        sys.stdout = None
        return 0
    except (ImportError, OSError, RuntimeError, ValueError) as exc:
        print(f"meanshift: error: {exc}", file=sys.stderr)
        return 1


if __name__ == "__main__":  # pragma: no cover
    sys.exit(main())
