"""Synthetic data sets for examples, tests and benchmarks (generated, never downloaded)."""

from __future__ import annotations

import numpy as np
from sklearn.utils import check_random_state

__all__ = ["six_blobs", "make_blobs", "make_vmf", "make_cities", "CITIES"]


def six_blobs(n_per_cluster=250, *, random_state=7):
    """The six gaussian blobs of the PyTorch walk-through.

    Six centres drawn uniformly in [-35, 35]^2, then ``n_per_cluster`` points around each
    from a gaussian with covariance diag(5, 5) (standard deviation sqrt(5) per axis).
    Uniform centres often land on top of each other (with seed 42 two are 3.4 standard
    deviations apart); the default seed, 7, gives six blobs at least 8 standard deviations
    apart, the picture the walk-through shows.

    Returns
    -------
    X : ndarray of shape (6 * n_per_cluster, 2)
    y : ndarray of shape (6 * n_per_cluster,)
        The blob each point came from.
    centers : ndarray of shape (6, 2)

    Examples
    --------
    >>> from meanshift.datasets import six_blobs
    >>> X, y, centers = six_blobs()
    >>> X.shape, centers.shape
    ((1500, 2), (6, 2))
    """
    rng = check_random_state(random_state)
    centers = rng.uniform(-35.0, 35.0, size=(6, 2))
    X = np.concatenate([rng.normal(c, np.sqrt(5.0), size=(n_per_cluster, 2)) for c in centers])
    y = np.repeat(np.arange(6), n_per_cluster)
    return X, y, centers


def make_blobs(
    n_samples=1000,
    n_features=2,
    *,
    centers=3,
    cluster_std=1.0,
    min_separation=8.0,
    box=None,
    weights=None,
    random_state=None,
    dtype=np.float64,
):
    """Isotropic gaussian blobs whose centres are guaranteed to be apart.

    Unlike ``sklearn.datasets.make_blobs``, centres are drawn so that any two are at
    least ``min_separation * cluster_std`` apart: "well separated" is a property of the
    data, not luck.

    Parameters
    ----------
    n_samples : int, default=1000
    n_features : int, default=2
    centers : int or array-like of shape (n_centers, n_features), default=3
    cluster_std : float, default=1.0
    min_separation : float, default=8.0
        Minimum distance between two centres, in units of ``cluster_std``.
    box : float, default=None
        Half-width of the cube the centres are drawn in; by default large enough for the
        centres to fit at the requested separation.
    weights : array-like of shape (n_centers,), default=None
        Share of the samples in each blob (equal by default).
    random_state : int, RandomState instance or None, default=None
    dtype : numpy dtype, default=float64

    Returns
    -------
    X : ndarray of shape (n_samples, n_features)
    y : ndarray of shape (n_samples,)
    centers : ndarray of shape (n_centers, n_features)
    """
    rng = check_random_state(random_state)
    if np.ndim(centers) == 0:
        k = int(centers)
        if k < 1:
            raise ValueError(f"The 'centers' parameter must be >= 1; got {centers!r}.")
        sep = min_separation * cluster_std
        if box is None:
            # Volume argument: k balls of radius sep/2 fit easily in a cube of this size.
            box = sep * max(1.0, 0.75 * k ** (1.0 / n_features)) * 1.5
        chosen: list[np.ndarray] = []
        for _ in range(100000):
            c = rng.uniform(-box, box, size=n_features)
            if all(np.linalg.norm(c - o) >= sep for o in chosen):
                chosen.append(c)
                if len(chosen) == k:
                    break
        else:  # pragma: no cover - only with an impossible box
            raise ValueError(
                f"Could not place {k} centres {sep:g} apart in a box of half-width {box:g}; "
                "increase 'box' or decrease 'min_separation'."
            )
        centers = np.array(chosen)
    centers = np.asarray(centers, dtype=np.float64)
    k = len(centers)
    p = np.full(k, 1.0 / k) if weights is None else np.asarray(weights, float) / np.sum(weights)
    counts = np.floor(p * n_samples).astype(int)
    counts[: n_samples - counts.sum()] += 1
    y = np.repeat(np.arange(k), counts)
    X = centers[y] + rng.normal(0.0, cluster_std, size=(n_samples, centers.shape[1]))
    perm = rng.permutation(n_samples)
    return X[perm].astype(dtype), y[perm], centers


def make_vmf(n_samples=1000, n_features=3, *, centers=3, kappa=100.0, min_angle=60.0,
             weights=None, random_state=None):
    """Directions drawn from von Mises-Fisher distributions (embedding-like clusters).

    Each cluster is ``vMF(mu, kappa)`` on the unit sphere of R^n_features, sampled
    exactly by Wood's rejection algorithm (Wood, "Simulation of the von Mises Fisher
    distribution", Comm. Stat. 1994); the mean directions are drawn uniformly at random
    and at least ``min_angle`` degrees apart.

    Parameters
    ----------
    n_samples : int
    n_features : int, >= 2
    centers : int or array-like of shape (k, n_features)
        How many clusters, or their mean directions (normalised).
    kappa : float or array-like of shape (k,)
        Concentration: in high dimension a point's cosine to its mean is about
        ``kappa / (n_features / 2 + sqrt(kappa**2 + n_features**2 / 4))``
        (``kappa = 2 * n_features`` gives about 0.79).
    min_angle : float
        Least angle between drawn mean directions, degrees.
    weights : array-like of shape (k,), default=None
        Share of each cluster (equal by default).
    random_state : int, RandomState instance or None

    Returns
    -------
    X : ndarray of shape (n_samples, n_features)
        Unit vectors.
    y : ndarray of shape (n_samples,)
    centers : ndarray of shape (k, n_features)
        The mean directions.

    Examples
    --------
    >>> from meanshift.datasets import make_vmf
    >>> X, y, mu = make_vmf(300, 16, centers=3, kappa=50.0, random_state=0)
    >>> X.shape, round(float((X * mu[y]).sum(axis=1).mean()), 2)
    ((300, 16), 0.86)
    """
    rng = check_random_state(random_state)
    p = int(n_features)
    if p < 2:
        raise ValueError(f"make_vmf needs n_features >= 2; got {n_features!r}.")
    if np.ndim(centers) == 0:
        k = int(centers)
        mu = np.empty((0, p))
        cos_min = np.cos(np.radians(min_angle))
        for _ in range(1000 * k):
            if len(mu) == k:
                break
            v = rng.normal(size=p)
            v /= np.linalg.norm(v)
            if len(mu) == 0 or (mu @ v).max() <= cos_min:
                mu = np.vstack([mu, v])
        if len(mu) < k:
            raise ValueError(f"could not draw {k} directions {min_angle} degrees apart in "
                             f"{p} dimensions; lower min_angle.")
    else:
        mu = np.asarray(centers, dtype=np.float64)
        mu = mu / np.linalg.norm(mu, axis=1, keepdims=True)
        k = len(mu)
    kappas = np.broadcast_to(np.asarray(kappa, dtype=np.float64), (k,))
    share = np.full(k, 1.0 / k) if weights is None else np.asarray(weights, float) / np.sum(
        weights)
    counts = np.floor(share * n_samples).astype(int)
    counts[: n_samples - counts.sum()] += 1
    X = np.empty((n_samples, p))
    y = np.repeat(np.arange(k), counts)
    start = 0
    for j in range(k):
        m = counts[j]
        w = _wood_cosines(m, p, kappas[j], rng)
        v = rng.normal(size=(m, p))
        v -= (v @ mu[j])[:, None] * mu[j]
        v /= np.linalg.norm(v, axis=1, keepdims=True)
        X[start:start + m] = w[:, None] * mu[j] + np.sqrt(np.maximum(1 - w * w, 0))[:, None] * v
        start += m
    return X, y, mu


def _wood_cosines(m, p, kappa, rng):
    """``m`` draws of the cosine ``w = x . mu`` of vMF(mu, kappa) in R^p (Wood 1994)."""
    b = (p - 1) / (2 * kappa + np.sqrt(4 * kappa**2 + (p - 1) ** 2))
    x0 = (1 - b) / (1 + b)
    c = kappa * x0 + (p - 1) * np.log(1 - x0 * x0)
    out = np.empty(0)
    while out.size < m:
        z = rng.beta((p - 1) / 2, (p - 1) / 2, size=2 * (m - out.size) + 16)
        w = (1 - (1 + b) * z) / (1 - (1 - b) * z)
        u = rng.uniform(size=z.size)
        ok = kappa * w + (p - 1) * np.log(1 - x0 * w) - c >= np.log(u)
        out = np.concatenate([out, w[ok]])
    return out[:m]


#: (name, latitude, longitude) of the cities :func:`make_cities` draws around.
CITIES = [
    ("London", 51.507, -0.128), ("Paris", 48.857, 2.352), ("New York", 40.713, -74.006),
    ("Tokyo", 35.690, 139.692), ("Sydney", -33.869, 151.209), ("Sao Paulo", -23.551, -46.633),
    ("Cairo", 30.044, 31.236), ("Mumbai", 19.076, 72.878), ("Suva", -18.142, 178.442),
    ("Anchorage", 61.218, -149.900), ("Reykjavik", 64.147, -21.943),
    ("Honolulu", 21.307, -157.858), ("Nairobi", -1.292, 36.822),
    ("McMurdo Station", -77.846, 166.676), ("Longyearbyen", 78.223, 15.627),
    ("Mexico City", 19.433, -99.133),
]


def make_cities(n_samples=10000, *, cities=None, spread_km=8.0, noise=0.02, weights=None,
                random_state=None):
    """GPS-like points (latitude, longitude in degrees) in city-like clusters.

    Every point is drawn around a city (:data:`CITIES` by default, from London to Suva
    next to the 180th meridian and McMurdo near the South Pole) at a gaussian distance
    of ``spread_km`` per direction on the sphere (exact: along the great circle, so
    clusters near a pole or across the 180th meridian are round), plus a share
    ``noise`` of points uniform on the globe.

    Returns
    -------
    X : ndarray of shape (n_samples, 2)
        (latitude, longitude), longitudes in [-180, 180).
    y : ndarray of shape (n_samples,)
        The city each point was drawn around; -1 for the uniform noise.
    centers : ndarray of shape (k, 2)

    Examples
    --------
    >>> from meanshift.datasets import make_cities
    >>> X, y, centers = make_cities(1000, random_state=0)
    >>> X.shape, centers.shape
    ((1000, 2), (16, 2))
    """
    rng = check_random_state(random_state)
    cities = CITIES if cities is None else cities
    centers = np.array([[c[-2], c[-1]] for c in cities], dtype=np.float64)
    k = len(centers)
    n_noise = int(round(noise * n_samples))
    n_city = n_samples - n_noise
    share = np.full(k, 1.0 / k) if weights is None else np.asarray(weights, float) / np.sum(
        weights)
    counts = np.floor(share * n_city).astype(int)
    counts[: n_city - counts.sum()] += 1
    y = np.concatenate([np.repeat(np.arange(k), counts), np.full(n_noise, -1)])
    R = 6371.0088
    lat, lon = np.radians(centers[:, 0]), np.radians(centers[:, 1])
    C = np.column_stack([np.cos(lat) * np.cos(lon), np.cos(lat) * np.sin(lon), np.sin(lat)])
    east = np.column_stack([-np.sin(lon), np.cos(lon), np.zeros(k)])
    north = np.cross(C, east)
    c, e, nn = C[y[:n_city]], east[y[:n_city]], north[y[:n_city]]
    off = rng.normal(0.0, spread_km / R, size=(n_city, 2))
    ang = np.hypot(off[:, 0], off[:, 1])
    d = (off[:, :1] * e + off[:, 1:] * nn) / np.maximum(ang, 1e-300)[:, None]
    P = np.cos(ang)[:, None] * c + np.sin(ang)[:, None] * d
    U = rng.normal(size=(n_noise, 3))
    P = np.vstack([P, U / np.linalg.norm(U, axis=1, keepdims=True)])
    out = np.column_stack([np.degrees(np.arctan2(P[:, 2], np.hypot(P[:, 0], P[:, 1]))),
                           np.degrees(np.arctan2(P[:, 1], P[:, 0]))])
    out[:, 1] = np.where(out[:, 1] >= 180.0, out[:, 1] - 360.0, out[:, 1])
    return out, y, centers
