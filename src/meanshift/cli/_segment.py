"""``meanshift segment``: segment an image file from the command line.

Reads PNG, JPEG (Pillow), TIFF (tifffile, for 16-bit images and 3-D stacks) and ``.npy``;
writes the label image (PNG as 16-bit, TIFF as 32-bit, or ``.npy``) and optionally a
picture of the region boundaries over the image and the segmented image.
"""

from __future__ import annotations

import argparse
import os
import sys
import time

from ._common import (
    KERNEL_NAMES,
    CLIError,
    add_common_options,
    check_outputs,
    show_progress,
    written_atomically,
)

__all__ = ["add_parser"]

_EXAMPLES = """\
Examples:
  meanshift segment photo.jpg -o labels.png
  meanshift segment photo.jpg -o labels.png --overlay edges.png --segmented flat.png
  meanshift segment photo.png -o labels.tif -s 10 -r 8 --min-size 100 --kernel epanechnikov
  meanshift segment big.jpg -o labels.png --speedup 3
  meanshift segment stack.tif -o labels.tif --channel-axis none --spacing 2 1 1

Exit codes: 0 success, 1 input file missing or unreadable / output not writable,
2 bad option or an image the options do not fit."""

_EXIT_IO, _EXIT_USAGE = 1, 2


class _CliError(Exception):
    def __init__(self, message, code):
        super().__init__(message)
        self.code = code


def _channel_axis(text):
    if text.lower() in ("none", "no"):
        return None
    if text.lower() == "auto":
        return "auto"
    try:
        return int(text)
    except ValueError:
        raise argparse.ArgumentTypeError(
            f"must be an integer axis, 'none' or 'auto'; got {text!r}"
        ) from None


def add_parser(subparsers):
    """Add the ``segment`` subcommand to an argparse ``subparsers`` object."""
    p = subparsers.add_parser(
        "segment",
        help="segment an image (PNG, JPEG, TIFF) by mean shift; write the label image",
        description=(
            "Segment an image by mean shift in the joint spatial-range domain "
            "(Comaniciu & Meer 2002): each pixel climbs to a mode of (position, colour); "
            "neighbouring pixels with the same mode colour form a region; regions smaller "
            "than --min-size are merged into their closest neighbour."
        ),
        epilog=_EXAMPLES,
        formatter_class=argparse.RawDescriptionHelpFormatter,
    )
    p.add_argument("input", metavar="IN", help="image file: .png, .jpg/.jpeg, .tif/.tiff or .npy")
    p.add_argument("-o", "--output", "--labels", dest="output", required=True, metavar="OUT",
                   help="label image to write: .png (16-bit), .tif/.tiff (32-bit) or .npy "
                        "(--labels is the same)")
    p.add_argument("-s", "--spatial-bandwidth", type=float, default=7.0, metavar="HS",
                   help="spatial radius in pixels (default 7)")
    p.add_argument("-r", "--range-bandwidth", type=float, default=6.5, metavar="HR",
                   help="colour radius: L*a*b* units for RGB images (default 6.5), "
                        "the image's own units otherwise")
    p.add_argument("--kernel", default="flat",
                   choices=KERNEL_NAMES,
                   help="kernel in the joint domain (default flat)")
    p.add_argument("--min-size", type=int, default=20, metavar="N",
                   help="merge regions smaller than N pixels (default 20)")
    p.add_argument("--color-space", default="auto", choices=["auto", "lab", "luv", "none"],
                   help="where colours are compared (default auto: lab for RGB)")
    p.add_argument("--channel-axis", type=_channel_axis, default="auto", metavar="AXIS",
                   help="axis of the colour channels, or 'none' for grayscale volumes; "
                        "default auto: the last axis of a 3-D array with at most 4 entries")
    p.add_argument("--spacing", type=float, nargs="+", default=None, metavar="D",
                   help="pixel size per spatial axis (anisotropic volumes)")
    p.add_argument("--speedup", type=int, default=1, metavar="S",
                   help="1: exact (default); 2 or 3: only every S-th pixel along y and x "
                        "climbs fully, the others share a neighbouring mode (faster)")
    p.add_argument("--overlay", metavar="PNG", default=None,
                   help="also write the image with the region boundaries drawn in red (2-D only)")
    p.add_argument("--segmented", metavar="PNG", default=None,
                   help="also write the image painted with each region's mean colour (2-D only)")
    p.add_argument("--n-jobs", "--jobs", dest="jobs", type=int, default=None, metavar="N",
                   help="threads (default all; --jobs is the same)")
    add_common_options(p)
    p.set_defaults(func=_run)
    return p


def _read(path):
    import numpy as np

    if not os.path.isfile(path):
        raise _CliError(f"input file not found: {path}", _EXIT_IO)
    ext = os.path.splitext(path)[1].lower()
    try:
        if ext == ".npy":
            return np.load(path, allow_pickle=False)
        if ext in (".tif", ".tiff"):
            import tifffile

            return tifffile.imread(path)
        from PIL import Image

        with Image.open(path) as opened:
            im: Image.Image = opened
            if opened.mode in ("P", "RGBA", "CMYK", "YCbCr", "HSV", "LAB"):
                im = opened.convert("RGB")
            elif opened.mode in ("LA", "1"):
                im = opened.convert("L")
            return np.asarray(im)
    except ImportError as exc:
        raise _CliError(
            f"reading {ext or 'this'} files needs an optional dependency ({exc.name}): "
            'pip install "meanshift[image]"', _EXIT_IO) from None
    except Exception as exc:  # unreadable or corrupt file
        raise _CliError(f"cannot read image {path}: {exc}", _EXIT_IO) from None


def _write_labels(path, labels):
    import numpy as np

    ext = os.path.splitext(path)[1].lower()
    k = int(labels.max()) + 1 if labels.size else 0
    if ext not in (".npy", ".tif", ".tiff", ".png"):
        raise _CliError(f"unknown output format {ext!r}: use .png, .tif/.tiff or .npy",
                        _EXIT_USAGE)
    if ext == ".png" and labels.ndim != 2:
        raise _CliError("a .png label image must be 2-D; write .tif or .npy for volumes",
                        _EXIT_USAGE)
    if ext == ".png" and k > 65536:
        raise _CliError(f"{k} regions do not fit a 16-bit PNG; write .tif or .npy",
                        _EXIT_USAGE)
    with written_atomically(path) as tmp:
        if ext == ".npy":
            np.save(tmp, labels)
        elif ext in (".tif", ".tiff"):
            import tifffile

            tifffile.imwrite(tmp, labels.astype(np.uint32), photometric="minisblack")
        else:
            from PIL import Image

            Image.fromarray(labels.astype(np.uint16)).save(tmp)


def _write_picture(path, rgb):
    from PIL import Image

    with written_atomically(path) as tmp:
        Image.fromarray(rgb).save(tmp)


def _run(args) -> int:
    """Entry point of ``meanshift segment``; returns the exit code."""
    try:
        return _segment(args)
    except _CliError as exc:
        print(f"meanshift segment: error: {exc}", file=sys.stderr)
        return exc.code


def _segment(args) -> int:
    import numpy as np

    from ..image import mark_boundaries, segment

    for name in ("output", "overlay", "segmented"):
        path = getattr(args, name)
        if path is None:
            continue
        ext = os.path.splitext(path)[1].lower()
        allowed = (".png", ".tif", ".tiff", ".npy") if name == "output" else (
            ".png", ".jpg", ".jpeg", ".tif", ".tiff")
        if ext not in allowed:
            raise _CliError(f"--{name} must end in one of {', '.join(allowed)}; got {path!r}",
                            _EXIT_USAGE)
    try:
        check_outputs(args.input, {"-o/--output": args.output, "--overlay": args.overlay,
                                   "--segmented": args.segmented})
    except CLIError as exc:
        raise _CliError(str(exc), _EXIT_USAGE) from None
    image = _read(args.input)
    axis = args.channel_axis
    if axis == "auto":
        axis = -1 if image.ndim == 3 and image.shape[-1] <= 4 else None
    if axis is not None and image.ndim >= 3 and image.shape[axis] == 4:
        image = np.delete(image, 3, axis=axis)  # drop alpha
    start = time.perf_counter()
    try:
        result = segment(
            image, spatial_bandwidth=args.spatial_bandwidth,
            range_bandwidth=args.range_bandwidth, kernel=args.kernel, min_size=args.min_size,
            color_space=args.color_space, channel_axis=axis, spacing=args.spacing,
            speedup=args.speedup, n_jobs=args.jobs,
            progress=show_progress(getattr(args, "quiet", False)),
        )
    except ValueError as exc:
        raise _CliError(str(exc), _EXIT_USAGE) from None
    elapsed = time.perf_counter() - start
    try:
        _write_labels(args.output, result.labels)
        if args.overlay or args.segmented:
            if result.labels.ndim != 2:
                raise _CliError("--overlay and --segmented need a 2-D image", _EXIT_USAGE)
            shown = image if axis is None else np.moveaxis(image, axis, -1)
            seg = result.segmented if axis is None else np.moveaxis(result.segmented, axis, -1)
            if shown.ndim == 3 and shown.shape[-1] not in (1, 3):
                raise _CliError("--overlay and --segmented need a grayscale or RGB image",
                                _EXIT_USAGE)
            if shown.ndim == 3 and shown.shape[-1] == 1:
                shown, seg = shown[..., 0], seg[..., 0]
            if shown.dtype.kind == "f" or seg.dtype.kind == "f":
                # Floats: show them rescaled to [0, 1].
                lo, hi = float(shown.min()), float(shown.max())
                span = hi - lo if hi > lo else 1.0
                shown = (shown.astype(np.float64) - lo) / span
                seg = (seg.astype(np.float64) - lo) / span
            if args.overlay:
                _write_picture(args.overlay, mark_boundaries(shown, result.labels))
            if args.segmented:
                # No boundaries to draw: an all-zero label image just converts to RGB.
                _write_picture(args.segmented, mark_boundaries(seg, np.zeros_like(result.labels)))
    except OSError as exc:
        raise _CliError(f"cannot write output: {exc}", _EXIT_IO) from None
    print(
        f"{args.input}: {'x'.join(map(str, result.labels.shape))} pixels -> "
        f"{result.n_regions} regions in {elapsed:.2f} s; labels written to {args.output}"
    )
    return 0
