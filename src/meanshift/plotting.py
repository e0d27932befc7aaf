"""Pictures of mean shift: clusters, kernels, the climb and its animation.

Needs matplotlib (``pip install "meanshift[plot]"``), imported only when a function here
is called.  Every function draws on a given Matplotlib ``Axes`` or on a new figure
rendered by the Agg backend (no display needed) and returns the Axes (or array of
Axes); save it with ``ax.figure.savefig(path)``.  Data with more than two features are
drawn in the plane of their first two principal components (:func:`project_2d`).

Examples
--------
>>> from meanshift import MeanShift
>>> from meanshift.datasets import six_blobs
>>> from meanshift.plotting import plot_clusters
>>> X, y, centers = six_blobs()
>>> model = MeanShift(bandwidth=2.5, kernel="gaussian").fit(X)
>>> ax = plot_clusters(X, model.labels_, model.cluster_centers_, true_centers=centers)
>>> ax.figure.savefig("clusters.png")  # doctest: +SKIP
"""

from __future__ import annotations

import logging

import numpy as np

from ._kernels import KERNELS, get_kernel

__all__ = [
    "plot_clusters",
    "plot_kernels",
    "plot_trajectories",
    "animate_climb",
    "project_2d",
]

logger = logging.getLogger(__name__)

_NOISE_COLOR = "#b0b0b0"


def _mpl():
    """Import matplotlib or say which extra provides it."""
    try:
        import matplotlib
        from matplotlib.figure import Figure
    except ImportError as exc:
        raise ImportError(
            "meanshift.plotting needs matplotlib, which is not installed. Install it "
            'with: pip install "meanshift[plot]"'
        ) from exc
    return matplotlib, Figure


def _figure(figsize=(6.0, 5.0), dpi=100, ncols=1):
    """A new figure with an Agg canvas (works without a display) and its axes."""
    _, Figure = _mpl()
    from matplotlib.backends.backend_agg import FigureCanvasAgg

    fig = Figure(figsize=figsize, dpi=dpi, layout="constrained")
    FigureCanvasAgg(fig)
    axes = fig.subplots(1, ncols)
    return fig, axes


def _colors(n):
    """``n`` distinct colours (tab10, then tab20, then a continuous map)."""
    import matplotlib

    if n <= 10:
        return [matplotlib.colormaps["tab10"](i) for i in range(n)]
    if n <= 20:
        return [matplotlib.colormaps["tab20"](i) for i in range(n)]
    cmap = matplotlib.colormaps["turbo"]
    return [cmap(x) for x in np.linspace(0.05, 0.95, n)]


def project_2d(X, *others, dims=None):
    """Two coordinates to draw: the data's own two features, ``dims``, or a PCA plane.

    Parameters
    ----------
    X : array-like of shape (n_samples, n_features)
    *others : arrays of shape (m, n_features)
        Projected the same way as X (cluster centres, seeds, ...); None passes through.
    dims : pair of int, default=None
        Feature indices to draw; by default features 0 and 1 for 2-D data and the first
        two principal components of X otherwise.

    Returns
    -------
    projected : list of ndarray of shape (m, 2)
        X first, then ``others``.
    axis_labels : tuple of str
    """
    X = np.asarray(X, dtype=np.float64)
    if X.ndim != 2:
        raise ValueError(f"X must be 2-D (n_samples, n_features); got shape {X.shape}.")
    d = X.shape[1]
    if dims is not None:
        i, j = (int(k) for k in dims)
        if not (0 <= i < d and 0 <= j < d):
            raise ValueError(f"dims must be two feature indices in [0, {d}); got {dims!r}.")

        def proj(a):
            return np.asarray(a, dtype=np.float64)[:, [i, j]]

        names = (f"feature {i}", f"feature {j}")
    elif d == 1:

        def proj(a):
            a = np.asarray(a, dtype=np.float64)
            return np.column_stack([a[:, 0], np.zeros(len(a))])

        names = ("feature 0", "")
    elif d == 2:

        def proj(a):
            return np.asarray(a, dtype=np.float64)

        names = ("feature 0", "feature 1")
    else:
        mean = X.mean(axis=0)
        _, _, vt = np.linalg.svd(X - mean, full_matrices=False)
        basis = vt[:2].T

        def proj(a):
            return (np.asarray(a, dtype=np.float64) - mean) @ basis

        names = ("principal component 1", "principal component 2")
    out = [proj(X)] + [None if o is None else proj(o) for o in others]
    return out, names


def _axis_name(name, feature_names):
    """"feature i" as the data's own column name, when they are known."""
    if feature_names is not None and name.startswith("feature "):
        return str(list(feature_names)[int(name.split()[1])])
    return name


def _geo_view(X, centers, true_centers):
    """(latitude, longitude) rows as (x, y) = (longitude, latitude) for a map, with
    longitudes in [0, 360) instead of [-180, 180) when that keeps the points together
    (data across the 180th meridian); and the aspect ratio of a map at the points'
    median latitude (a degree of longitude is cos(latitude) degrees of latitude)."""
    lon = X[:, 1] % 360.0
    wrap = X.shape[0] > 0 and np.ptp(lon) < np.ptp((X[:, 1] + 180.0) % 360.0)

    def view(A):
        if A is None:
            return None
        A = np.asarray(A, dtype=np.float64)
        x = A[:, 1] % 360.0 if wrap else (A[:, 1] + 180.0) % 360.0 - 180.0
        return np.column_stack([x, A[:, 0]])

    lat = float(np.median(X[:, 0])) if X.shape[0] else 0.0
    aspect = 1.0 / max(np.cos(np.radians(lat)), 0.1)
    return (view(X), view(centers), view(true_centers)), aspect, wrap


def plot_clusters(X, labels, centers=None, *, true_centers=None, ax=None, title=None,
                  dims=None, point_size=4.0, feature_names=None, geo=False):
    """Scatter the points coloured by cluster, with the found (and true) centres.

    Parameters
    ----------
    X : array-like of shape (n_samples, n_features)
    labels : array-like of shape (n_samples,)
        Cluster of each point; -1 (orphans) are drawn in grey.
    centers : array-like of shape (n_clusters, n_features), default=None
        Found centres, drawn as crosses.
    true_centers : array-like of shape (k, n_features), default=None
        Centres the data were generated from, drawn as open circles (as in the
        walk-through's plots).
    ax : matplotlib Axes, default=None
        Where to draw; a new 6 x 5 inch figure by default.
    title : str, default=None
    dims : pair of int, default=None
        See :func:`project_2d`.
    point_size : float, default=4
    feature_names : sequence of str, default=None
        Names of the features (the columns of a table), for the axes; by default the
        ``feature_names_in_`` of a DataFrame's columns are not known here: "feature 0"...
    geo : bool, default=False
        X (and the centres) are (latitude, longitude) in degrees, as for
        ``metric="haversine"``: drawn as a map, longitude across and latitude up, with
        the aspect of the points' median latitude (no map projection library needed);
        data across the 180th meridian are drawn with longitudes in [0, 360).

    Returns
    -------
    ax : matplotlib Axes
    """
    X = np.asarray(X, dtype=np.float64)
    labels = np.asarray(labels)
    if labels.shape != (X.shape[0],):
        raise ValueError(
            f"labels must have shape ({X.shape[0]},), one per row of X; got {labels.shape}."
        )
    if ax is None:
        _, ax = _figure()
    if geo:
        if X.shape[1] != 2:
            raise ValueError("geo=True draws (latitude, longitude) rows: X must have 2 "
                             f"columns; got {X.shape[1]}.")
        (P, C, T), aspect, wrap = _geo_view(X, centers, true_centers)
        names = ["longitude (degrees, 0 to 360)" if wrap else "longitude (degrees)",
                 "latitude (degrees)"]
        feature_names = None
    else:
        (P, C, T), names = project_2d(X, centers, true_centers, dims=dims)
        aspect = 1.0
    ks = np.unique(labels[labels >= 0])
    colors = _colors(max(len(ks), 1))
    noise = labels < 0
    if noise.any():
        ax.scatter(P[noise, 0], P[noise, 1], s=point_size, color=_NOISE_COLOR, label="orphans")
    # One colour more than labels when every point is an orphan (no labels at all).
    for color, k in zip(colors, ks, strict=False):
        sel = labels == k
        ax.scatter(P[sel, 0], P[sel, 1], s=point_size, color=color)
    if T is not None:
        ax.scatter(T[:, 0], T[:, 1], s=160, facecolors="none", edgecolors="black",
                   linewidths=1.5, label="true centres")
    if C is not None:
        # Many centres (noise points are modes of their own with the flat kernel): the
        # crosses shrink so that they do not hide the points.
        shrink = min(1.0, np.sqrt(20.0 / max(len(C), 1)))
        ax.scatter(C[:, 0], C[:, 1], s=max(8.0, 120 * shrink), marker="x", color="black",
                   linewidths=max(1.0, 4 * shrink), zorder=5)
        ax.scatter(C[:, 0], C[:, 1], s=max(4.0, 60 * shrink), marker="x", color="magenta",
                   linewidths=max(0.5, 2 * shrink), zorder=6,
                   label=f"{len(C)} centres found")
    ax.set_xlabel(_axis_name(names[0], feature_names))
    ax.set_ylabel(_axis_name(names[1], feature_names))
    ax.set_aspect(aspect, adjustable="datalim")
    if title:
        ax.set_title(title)
    if C is not None or T is not None or noise.any():
        ax.legend(loc="best", fontsize="small")
    return ax


def plot_kernels(bandwidths=(0.5, 1.0, 2.0), kernels=None, *, max_distance=None, axes=None):
    """Weight against distance for several kernels and bandwidths (one panel each).

    Parameters
    ----------
    bandwidths : sequence of float, default=(0.5, 1, 2)
    kernels : sequence of str, default=None
        Kernel names (all registered kernels by default).
    max_distance : float, default=None
        Right end of the distance axis (default 2.5 x the largest bandwidth).
    axes : sequence of matplotlib Axes, default=None
        One per bandwidth; a new row of panels by default.

    Returns
    -------
    axes : ndarray of matplotlib Axes
    """
    bandwidths = [float(b) for b in np.atleast_1d(bandwidths)]
    if not bandwidths or min(bandwidths) <= 0:
        raise ValueError(f"bandwidths must be positive numbers; got {bandwidths!r}.")
    names = list(KERNELS) if kernels is None else list(kernels)
    ks = [get_kernel(k) for k in names]
    if axes is None:
        _, axes = _figure(figsize=(4.0 * len(bandwidths), 3.2), ncols=len(bandwidths))
    axes = np.atleast_1d(axes)
    if len(axes) != len(bandwidths):
        raise ValueError(f"axes must hold one Axes per bandwidth ({len(bandwidths)}); "
                         f"got {len(axes)}.")
    top = max_distance if max_distance is not None else 2.5 * max(bandwidths)
    dist = np.linspace(0.0, top, 400)
    colors = _colors(len(ks))
    for ax, h in zip(axes, bandwidths, strict=True):
        for color, k in zip(colors, ks, strict=True):
            ax.plot(dist, k.profile((dist / h) ** 2), color=color, label=k.name, lw=2)
        ax.set_title(f"bandwidth = {h:g}")
        ax.set_xlabel("distance")
        ax.set_ylim(-0.03, 1.05)
    axes[0].set_ylabel("weight")
    axes[0].legend(fontsize="small")
    return axes


def _history_array(model):
    history = getattr(model, "history_", None)
    if history is None:
        raise ValueError(
            "The model has no recorded climb: fit it with MeanShift(record_history=True)."
        )
    return np.stack(history)  # (n_steps + 1, n_seeds, n_features)


def _seed_subset(n_seeds, max_seeds, random_state=0):
    if max_seeds is None or n_seeds <= max_seeds:
        return np.arange(n_seeds)
    rng = np.random.default_rng(random_state)
    return np.sort(rng.choice(n_seeds, size=max_seeds, replace=False))


def plot_trajectories(model, X, *, ax=None, max_seeds=300, dims=None, title=None):
    """The path of every seed (or a sample of ``max_seeds``) from start to mode.

    Parameters
    ----------
    model : fitted MeanShift with ``record_history=True``
    X : array-like of shape (n_samples, n_features)
        The data the model was fitted on (drawn in grey under the paths).
    ax : matplotlib Axes, default=None
    max_seeds : int or None, default=300
        Draw at most this many paths (a fixed random sample).
    dims : pair of int, default=None
        See :func:`project_2d`.
    title : str, default=None

    Returns
    -------
    ax : matplotlib Axes
    """
    H = _history_array(model)
    X = np.asarray(X, dtype=np.float64)
    if ax is None:
        _, ax = _figure()
    pick = _seed_subset(H.shape[1], max_seeds)
    flat = H[:, pick].reshape(-1, H.shape[2])
    (P, F, C), names = project_2d(X, flat, model.cluster_centers_, dims=dims)
    F = F.reshape(H.shape[0], len(pick), 2)
    ax.scatter(P[:, 0], P[:, 1], s=2, color=_NOISE_COLOR, label="data")
    from matplotlib.collections import LineCollection

    segments = np.transpose(F, (1, 0, 2))  # (n_paths, n_steps + 1, 2)
    # Colour each path by the centre its end point is nearest to.
    end_cluster = np.argmin(((F[-1][:, None] - C[None]) ** 2).sum(-1), axis=1)
    palette = _colors(max(len(C), 1))
    ax.add_collection(LineCollection(list(segments), colors=[palette[k] for k in end_cluster],
                                     linewidths=1.0, alpha=0.8, label="seed paths"))
    ax.scatter(F[0, :, 0], F[0, :, 1], s=6, color="black", label="start", zorder=3)
    # The centres on top of everything, in the same two-tone cross as plot_clusters.
    ax.scatter(C[:, 0], C[:, 1], s=160, marker="x", color="black", linewidths=4, zorder=5)
    ax.scatter(C[:, 0], C[:, 1], s=80, marker="x", color="magenta", linewidths=2, zorder=6,
               label="centres")
    ax.set_xlabel(names[0])
    ax.set_ylabel(names[1])
    ax.set_aspect("equal", adjustable="datalim")
    ax.set_title(title or f"{len(pick)} seed paths, {H.shape[0] - 1} steps")
    ax.legend(loc="best", fontsize="small")
    return ax


def animate_climb(model, X, path, *, fps=4, max_seeds=500, dims=None, dpi=80,
                  figsize=(5.0, 4.5)):
    """Write an animation of the recorded climb, one frame per step.

    Each frame shows the data coloured by the nearest of the current (merged) seed
    positions and the seeds themselves, from :meth:`MeanShift.iter_climb`.

    Parameters
    ----------
    model : fitted MeanShift with ``record_history=True``
    X : array-like of shape (n_samples, n_features)
        The data the model was fitted on.
    path : str or path-like
        ``.gif`` (written with Pillow) or ``.mp4`` (needs ffmpeg on the PATH).
    fps : float, default=4
    max_seeds : int or None, default=500
        Draw at most this many seeds per frame.
    dims : pair of int, default=None
        See :func:`project_2d`.
    dpi : int, default=80
    figsize : (float, float), default=(5, 4.5)

    Returns
    -------
    path : str
        Where the animation was written.
    """
    from pathlib import Path

    _mpl()
    from matplotlib import animation

    path = Path(path)
    suffix = path.suffix.lower()
    writer: animation.AbstractMovieWriter
    if suffix == ".gif":
        writer = animation.PillowWriter(fps=fps)
    elif suffix == ".mp4":
        if not animation.FFMpegWriter.isAvailable():
            raise RuntimeError(
                f"Writing {path.name} needs ffmpeg on the PATH, which was not found; "
                "write a .gif instead."
            )
        writer = animation.FFMpegWriter(fps=fps)
    else:
        raise ValueError(f"path must end in .gif or .mp4; got {str(path)!r}.")
    H = _history_array(model)
    X = np.asarray(X, dtype=np.float64)
    fit_rows = getattr(model, "sample_indices_", None)
    if fit_rows is not None and len(fit_rows) != len(X):
        X = X[fit_rows]
    frames = list(model.iter_climb())
    pick = _seed_subset(H.shape[1], max_seeds)
    (P,), names = project_2d(X, dims=dims)
    fig, ax = _figure(figsize=figsize, dpi=dpi)
    allpos = [project_2d(X, f[0][pick], dims=dims)[0][1] for f in frames]
    lo = np.minimum(P.min(axis=0), np.min([a.min(axis=0) for a in allpos], axis=0))
    hi = np.maximum(P.max(axis=0), np.max([a.max(axis=0) for a in allpos], axis=0))
    pad = 0.05 * (hi - lo + 1e-12)
    n_colors = max(len(f[1]) for f in frames)
    palette = np.array(_colors(min(n_colors, 20)))

    def draw(t):
        positions, centers, labels = frames[t]
        ax.clear()
        ax.scatter(P[:, 0], P[:, 1], s=3, c=palette[labels % len(palette)])
        S = allpos[t]
        ax.scatter(S[:, 0], S[:, 1], s=10, color="black", marker="o")
        ax.set_xlim(lo[0] - pad[0], hi[0] + pad[0])
        ax.set_ylim(lo[1] - pad[1], hi[1] + pad[1])
        ax.set_xlabel(names[0])
        ax.set_ylabel(names[1])
        ax.set_title(f"step {t}: {len(centers)} modes")
        return []

    anim = animation.FuncAnimation(fig, draw, frames=len(frames), blit=False)
    anim.save(str(path), writer=writer, dpi=dpi)
    logger.info("wrote %d frames to %s", len(frames), path)
    return str(path)
