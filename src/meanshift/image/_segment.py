"""Image segmentation by mean shift in the joint spatial-range domain.

Every pixel (or voxel) is a point ``(position / spatial_bandwidth, colour /
range_bandwidth)``; mean shift climbs each one to a mode of the joint density
(Comaniciu and Meer, 2002).  The mode colours form the *filtered* image
(discontinuity-preserving smoothing, like OpenCV's ``pyrMeanShiftFiltering``);
neighbouring pixels whose modes have nearly the same colour form a region, and regions
smaller than ``min_size`` pixels are merged into their most similar neighbour.

Pixels lie on a regular grid, so the spatial neighbours of a position are the pixels in a
window around it: each climb step only visits the pixels within the spatial radius (see
:mod:`meanshift.image._climb` and :mod:`meanshift.image._regions`, compiled with Numba
and run in parallel over pixels).
"""

from __future__ import annotations

import logging
from numbers import Integral, Real
from typing import Any, NamedTuple

import numpy as np

from .._engines._threads import check_n_jobs
from .._kernels import get_kernel
from ._color import COLOR_SPACES, rgb8_to, rgb_to, to_rgb

__all__ = ["segment", "Segmentation", "find_boundaries", "mark_boundaries"]

logger = logging.getLogger(__name__)

_COLOR_CHOICES = ("auto", "lab", "luv", "none")
# speedup > 1: colour distance (range bandwidths) within which a pixel adopts a lattice mode.
_SHARE_RADIUS = 0.5


class Segmentation(NamedTuple):
    """What :func:`segment` returns.

    Attributes
    ----------
    labels : ndarray of int64, the image's spatial shape
        Region of every pixel, ``0 .. n_regions - 1`` numbered in raster order of each
        region's first pixel.
    filtered : ndarray, the image's shape and dtype
        Every pixel painted with the colour of its mode (the mean shift filtered image).
    segmented : ndarray, the image's shape and dtype
        Every pixel painted with the mean mode colour of its region.
    n_iter : ndarray of int32, the image's spatial shape
        Mean shift steps each pixel's climb took (with ``speedup > 1``, 0 for a pixel that
        adopted a lattice mode before any step).
    """

    labels: np.ndarray
    filtered: np.ndarray
    segmented: np.ndarray
    n_iter: np.ndarray

    @property
    def n_regions(self) -> int:
        """Number of regions."""
        return int(self.labels.max()) + 1 if self.labels.size else 0


# -- validation ------------------------------------------------------------------------
def _positive(name, value):
    # Compared through an unnarrowed alias: numbers.Real declares no comparisons for mypy.
    number: Any = value
    if isinstance(value, bool) or not isinstance(value, Real) or not (
        np.isfinite(number) and number > 0
    ):
        raise ValueError(
            f"The '{name}' parameter must be a positive, finite number; got {value!r}."
        )
    return float(value)


def _spatial_layout(image, channel_axis):
    """Move the channel axis last; return (image with shape (*spatial, C), had_channels)."""
    if channel_axis is not None and image.ndim >= 3:
        if isinstance(channel_axis, bool) or not isinstance(channel_axis, Integral) or not (
            -image.ndim <= channel_axis < image.ndim
        ):
            raise ValueError(
                f"The 'channel_axis' parameter must be None or an axis of the image, an "
                f"integer in [{-image.ndim}, {image.ndim - 1}]; got {channel_axis!r} for an "
                f"image of shape {image.shape}."
            )
        return np.moveaxis(image, channel_axis, -1), True
    if channel_axis is not None and not (
        isinstance(channel_axis, Integral) and not isinstance(channel_axis, bool)
    ):
        raise ValueError(
            f"The 'channel_axis' parameter must be None or an integer; got {channel_axis!r}."
        )
    return image[..., None], False


def _unit_rgb(image):
    """RGB values as floats in [0, 1] from an unsigned integer, bool or [0, 1] float image."""
    kind = image.dtype.kind
    if kind == "b":
        return image.astype(np.float64)
    if kind == "u":
        return image.astype(np.float64) / np.iinfo(image.dtype).max
    if kind == "f":
        lo, hi = float(image.min()), float(image.max())
        if lo < -1e-6 or hi > 1 + 1e-6:
            raise ValueError(
                "A float RGB image converted to a perceptual colour space must hold values "
                f"in [0, 1]; got values in [{lo:g}, {hi:g}]. Rescale it, or pass "
                "color_space='none' to segment the raw values."
            )
        return np.clip(image.astype(np.float64), 0.0, 1.0)
    raise ValueError(
        f"A perceptual colour space needs an unsigned integer, bool or float RGB image; got "
        f"dtype {image.dtype}. Pass color_space='none' to segment the raw values."
    )


def _from_unit_rgb(rgb, dtype):
    if dtype.kind == "u":
        top = np.iinfo(dtype).max
        return np.clip(np.rint(rgb * top), 0, top).astype(dtype)
    if dtype.kind == "b":
        return rgb >= 0.5
    return rgb.astype(dtype)


def _cast_like(values, dtype):
    if dtype.kind in "iu":
        info = np.iinfo(dtype)
        return np.clip(np.rint(values), info.min, info.max).astype(dtype)
    if dtype.kind == "b":
        return values >= 0.5
    return values.astype(dtype)


#: Largest colour value in range-bandwidth units: the climb computes squared colour
#: distances in float32, which hold up to 3.4e38.
MAX_RANGE_UNITS = 2.0**60


def _check_range_resolution(values, range_bandwidth):
    """Refuse a range bandwidth so small against the colours that their squared
    distances would overflow the float32 climb."""
    top = float(np.abs(values).max()) if values.size else 0.0
    with np.errstate(over="ignore"):
        units = top / range_bandwidth
    if not units <= MAX_RANGE_UNITS:
        raise ValueError(
            f"The 'range_bandwidth' parameter is too small for the image: its colour "
            f"values reach {top:.3g} (in the working colour space), and segmentation "
            f"computes in float32, so range_bandwidth must be at least 2**-60 times that, "
            f"{top * 2.0**-60:.3g}; got {range_bandwidth!r}."
        )


def segment(
    image,
    *,
    spatial_bandwidth,
    range_bandwidth,
    kernel="flat",
    min_size=20,
    color_space="auto",
    channel_axis=-1,
    spacing=None,
    merge_radius=0.5,
    tol=0.1,
    max_iter=50,
    speedup=1,
    n_jobs=None,
    progress=False,
) -> Segmentation:
    """Segment an image or volume by mean shift in the joint spatial-range domain.

    Parameters
    ----------
    image : array-like of shape (*spatial, n_channels) or (*spatial,)
        A grayscale, RGB or multi-channel 2-D image, a 1-D signal or a 3-D volume (1 to 3
        spatial axes), of any real dtype (uint8, uint16, float, ...), without NaN or
        infinity.  A 2-D array is always a grayscale image.
    spatial_bandwidth : float
        Radius of the kernel in pixels (in the units of ``spacing`` when given): the
        climb of a pixel only sees pixels this close.
    range_bandwidth : float
        Radius of the kernel in colour: in L*a*b* / L*u*v* units (L from 0 to 100) for
        those colour spaces, else in the image's own units (0-255 for uint8).
    kernel : {"flat", "epanechnikov", "gaussian", "triangular"}, default="flat"
        Weight profile in the joint domain, of ``u2 = |dx|^2 / hs^2 + |dc|^2 / hr^2``
        (see :mod:`meanshift._kernels`).  The bandwidths are support radii for the
        compact kernels and standard deviations for the gaussian, which is truncated at
        3 of them (the window is then 3 times wider, so 9 times slower).
    min_size : int, default=20
        Regions with fewer pixels are merged into the adjacent region of nearest mean
        colour (0 or 1: no size limit).
    color_space : {"auto", "lab", "luv", "none"}, default="auto"
        Space in which colours are compared.  "auto" is "lab" for 3-channel images and
        "none" (the raw values) otherwise.  "lab" and "luv" need 3 channels holding sRGB:
        unsigned integers, bool, or floats in [0, 1].
    channel_axis : int or None, default=-1
        Axis of the channels, as in scikit-image.  None: no channel axis (grayscale
        images and volumes).  Ignored for 2-D arrays, which are grayscale images.
    spacing : sequence of float, default=None
        Pixel size along each spatial axis (anisotropic voxels of medical stacks); the
        spatial bandwidth is in the same units.  Default: 1 per axis.
    merge_radius : float, default=0.5
        A region grows from its first pixel (raster order) over neighbouring pixels
        whose modes' colours differ by less than this (in units of ``range_bandwidth``)
        from the neighbour they are reached from and from the region's first pixel, so
        a region's colours stay within this radius of its seed's and a smooth gradient
        cannot chain into one region; then adjacent regions whose mean mode colours
        differ by less than this are fused (repeatedly, as in EDISON's region fusion).
    tol : float, default=0.1
        A climb stops when one step moves it by at most ``tol`` (joint-domain bandwidth
        units: a tenth of a bandwidth, close to OpenCV's rule of stopping when the rounded
        position no longer moves).  Smaller is more exact and slower.
    max_iter : int, default=50
        Most steps per pixel.
    speedup : int, default=1
        1: every pixel climbs to its own mode (exact mean shift).  ``s > 1``: only the
        pixels on a lattice of step ``s`` (in y and x) climb all the way; every other
        pixel takes one step and then adopts the mode of the surrounding lattice pixel of
        nearest mode colour, when that colour is within half a range bandwidth (so that they
        would be grouped anyway) and
        that mode within one spatial bandwidth (first with its own colour, then after
        one step), and else climbs on.  ``speedup=2`` or 3 does about half or a third of
        the work with nearly the same regions (a deterministic relative of EDISON's
        speed-up).  Used for images of at most 3 channels (ignored otherwise).
    n_jobs : int, default=None
        Threads, as for every engine: None Numba's current setting (normally every core),
        -1 all of Numba's, -2 all but one, k > 0 that many; 0 is an error.  The result
        does not depend on it.
    progress : bool, default=False
        Show the climb's progress (pixels whose climb is over, of all pixels) on
        standard error while it runs, as ``MeanShift(progress=True)`` does.

    Returns
    -------
    Segmentation
        Named tuple ``(labels, filtered, segmented, n_iter)``; ``n_regions`` as a property.

    Raises
    ------
    ValueError
        Empty image, NaN or infinity, a non-numeric dtype, more than 3 spatial axes,
        wrong channel count for the colour space, non-positive bandwidths, bad options.

    Notes
    -----
    Cost: (pixels) x (steps per pixel) x (pixels in the spatial window, about
    ``pi * spatial_bandwidth**2`` in 2-D) x (channels), spread over the threads; memory
    O(pixels x channels).  Grouping and small-region merging are linear in the pixels.
    The flat kernel in the joint domain is a ball: a pixel counts when its scaled spatial
    and colour distances together are within one bandwidth.

    References
    ----------
    Comaniciu & Meer, "Mean shift: a robust approach toward feature space analysis",
    IEEE TPAMI 24(5), 2002.

    Examples
    --------
    >>> import numpy as np
    >>> from meanshift.image import segment
    >>> img = np.zeros((20, 20), dtype=np.uint8)
    >>> img[:, 10:] = 200
    >>> result = segment(img, spatial_bandwidth=3, range_bandwidth=20)
    >>> result.n_regions
    2
    >>> int(result.labels[0, 0]), int(result.labels[0, -1])
    (0, 1)
    """
    from . import _climb, _regions

    spatial_bandwidth = _positive("spatial_bandwidth", spatial_bandwidth)
    range_bandwidth = _positive("range_bandwidth", range_bandwidth)
    merge_radius = _positive("merge_radius", merge_radius)
    check_n_jobs(n_jobs)
    if not isinstance(progress, (bool, np.bool_)):
        raise ValueError(f"The 'progress' parameter must be True or False; got {progress!r}.")
    kern = get_kernel(kernel)
    if color_space not in _COLOR_CHOICES:
        raise ValueError(
            f"The 'color_space' parameter must be one of {list(_COLOR_CHOICES)}; "
            f"got {color_space!r}."
        )
    if isinstance(min_size, bool) or not isinstance(min_size, Integral) or min_size < 0:
        raise ValueError(
            f"The 'min_size' parameter must be a non-negative integer; got {min_size!r}."
        )
    if isinstance(max_iter, bool) or not isinstance(max_iter, Integral) or max_iter < 1:
        raise ValueError(f"The 'max_iter' parameter must be a positive integer; got {max_iter!r}.")
    if isinstance(speedup, bool) or not isinstance(speedup, Integral) or speedup < 1:
        raise ValueError(f"The 'speedup' parameter must be a positive integer; got {speedup!r}.")
    tol_number: Any = tol  # unnarrowed alias, as in _positive
    if isinstance(tol, bool) or not isinstance(tol, Real) or not (
        np.isfinite(tol_number) and tol_number >= 0
    ):
        raise ValueError(f"The 'tol' parameter must be a non-negative, finite number; got {tol!r}.")

    image = np.asarray(image)
    if image.dtype.kind not in "biuf":
        raise ValueError(
            f"The image must hold real numbers (bool, integer or float); got dtype {image.dtype}."
        )
    if image.ndim == 0 or image.size == 0:
        raise ValueError(f"The image is empty: shape {image.shape}; it needs at least one pixel.")
    if image.ndim == 2:
        channel_axis = None
    work, had_channels = _spatial_layout(image, channel_axis)
    spatial = work.shape[:-1]
    n_channels = work.shape[-1]
    if not 1 <= len(spatial) <= 3:
        raise ValueError(
            f"The image must have 1 to 3 spatial axes (plus an optional channel axis); got "
            f"shape {image.shape} with channel_axis={channel_axis!r}, {len(spatial)} spatial axes."
        )
    if n_channels == 0:
        raise ValueError(f"The image has no channels: shape {image.shape}.")
    if image.dtype.kind == "f" and not np.all(np.isfinite(image)):
        raise ValueError("The image contains NaN or infinity; replace them before segmenting.")

    spacing_arr: np.ndarray | None
    if spacing is None:
        spacing_arr = np.ones(len(spatial))
    else:
        spacing_arr = (
            np.asarray(spacing, dtype=np.float64).reshape(-1) if np.ndim(spacing) else None
        )
        if spacing_arr is None or spacing_arr.shape != (len(spatial),) or not np.all(
            np.isfinite(spacing_arr) & (spacing_arr > 0)
        ):
            raise ValueError(
                f"The 'spacing' parameter must hold one positive number per spatial axis "
                f"({len(spatial)}); got {spacing!r}."
            )

    space = color_space
    if space == "auto":
        space = "lab" if n_channels == 3 else "none"
    if space in COLOR_SPACES:
        if n_channels != 3:
            raise ValueError(
                f"color_space={space!r} needs an RGB image with 3 channels; got {n_channels} "
                f"channel(s) (image shape {image.shape}, channel_axis={channel_axis!r}). Pass "
                "color_space='none' for other channel counts."
            )
        values = (rgb8_to(space, work, n_jobs) if work.dtype == np.uint8
                  else rgb_to(space, _unit_rgb(work), n_jobs))
    else:
        values = work.astype(np.float64)

    # Volume layout (depth, height, width) and channel planes in range-bandwidth units.
    pad = 3 - len(spatial)
    shape3 = np.array((1,) * pad + spatial, dtype=np.int64)
    scale3 = np.concatenate([np.ones(pad), spacing_arr]) / spatial_bandwidth
    n_pixels = int(np.prod(spatial))
    flat_values = values.reshape(n_pixels, n_channels)
    _check_range_resolution(flat_values, range_bandwidth)
    planes = np.ascontiguousarray((flat_values / range_bandwidth).T, dtype=np.float32)
    support = float(kern.reach)

    display = None
    if progress:
        from .._progress import ProgressDisplay

        display = ProgressDisplay()
    try:
        if n_channels <= 3:
            if n_channels < 3:
                planes = np.vstack([planes, np.zeros((3 - n_channels, n_pixels), np.float32)])
            modes, n_iter = _climb.climb_pixels3(
                planes, shape3, scale3, kern.code, support, float(tol), int(max_iter),
                int(speedup), _SHARE_RADIUS, n_jobs=n_jobs, callback=display,
            )
            range_modes = modes[:, 3:3 + n_channels]
        else:
            modes, n_iter = _climb.climb_pixels(
                planes, shape3, scale3, kern.code, support, float(tol), int(max_iter),
                n_jobs=n_jobs, callback=display,
            )
            range_modes = modes[:, 3:]
    finally:
        if display is not None:
            display.close()
    range_modes = np.ascontiguousarray(range_modes)
    labels, k = _regions.fuse_regions(range_modes, shape3, merge_radius)
    labels, k = _regions.merge_regions(labels, k, range_modes, shape3, int(min_size), merge_radius)
    logger.info(
        "segment: %d pixels, %d regions, %.2f steps per pixel on average (max %d), "
        "color_space=%s, kernel=%s",
        n_pixels, k, float(n_iter.mean()), int(n_iter.max()), space, kern.name,
    )

    counts = np.bincount(labels, minlength=k)
    region_mean = np.stack([np.bincount(labels, weights=range_modes[:, c], minlength=k)
                            for c in range(n_channels)], axis=1) / counts[:, None]

    def colours(v):
        """Range values back to the image's colours and dtype, one row per colour."""
        v = v * range_bandwidth
        if space in COLOR_SPACES:
            return _from_unit_rgb(to_rgb(space, v, n_jobs), image.dtype)
        return _cast_like(v, image.dtype)

    def as_image(out):
        out = out.reshape(spatial + (n_channels,))
        if not had_channels:
            return out[..., 0]
        return np.moveaxis(out, -1, channel_axis)

    return Segmentation(
        labels=labels.reshape(spatial),
        filtered=as_image(colours(range_modes)),
        # each region's colour converted once, then painted
        segmented=as_image(colours(region_mean)[labels]),
        n_iter=n_iter.reshape(spatial),
    )


def find_boundaries(labels) -> np.ndarray:
    """Boolean mask of the pixels that have a face neighbour with another label.

    Parameters
    ----------
    labels : array-like of int, any number of axes

    Returns
    -------
    ndarray of bool, the shape of ``labels``

    Examples
    --------
    >>> import numpy as np
    >>> find_boundaries(np.array([[0, 0, 1, 1]])).astype(int)
    array([[0, 1, 1, 0]])
    """
    labels = np.asarray(labels)
    edge = np.zeros(labels.shape, dtype=bool)
    for axis in range(labels.ndim):
        a = [slice(None)] * labels.ndim
        b = [slice(None)] * labels.ndim
        a[axis] = slice(1, None)
        b[axis] = slice(None, -1)
        diff = labels[tuple(a)] != labels[tuple(b)]
        edge[tuple(a)] |= diff
        edge[tuple(b)] |= diff
    return edge


def mark_boundaries(image, labels, color=(255, 0, 0)) -> np.ndarray:
    """An RGB uint8 copy of ``image`` with the region boundaries painted in ``color``.

    Parameters
    ----------
    image : ndarray of shape (H, W) or (H, W, 3)
        Grayscale or RGB; integers are scaled by their dtype's maximum, floats are taken
        as [0, 1] (clipped).
    labels : ndarray of shape (H, W)
    color : tuple of 3 int, default=(255, 0, 0)

    Returns
    -------
    ndarray of uint8, shape (H, W, 3)
    """
    image = np.asarray(image)
    labels = np.asarray(labels)
    if image.shape[:2] != labels.shape or labels.ndim != 2:
        raise ValueError(
            f"labels must be 2-D with the image's height and width; got image shape "
            f"{image.shape} and labels shape {labels.shape}."
        )
    if image.dtype.kind in "iu":
        rgb = image.astype(np.float64) / max(np.iinfo(image.dtype).max, 1)
    else:
        rgb = image.astype(np.float64)
    rgb = np.clip(rgb, 0.0, 1.0)
    if rgb.ndim == 2:
        rgb = np.repeat(rgb[..., None], 3, axis=-1)
    elif rgb.shape[-1] != 3:
        raise ValueError(f"image must be grayscale or RGB; got shape {image.shape}.")
    out = np.rint(rgb * 255).astype(np.uint8)
    out[find_boundaries(labels)] = np.asarray(color, dtype=np.uint8)
    return out
