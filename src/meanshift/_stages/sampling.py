"""Samples of rows keyed by their contents, not their positions.

The automatic bandwidths look at a sample of the rows.  Drawn by row index, a sample
changes when the rows are permuted, and with it the bandwidth and, on overlapping
clusters, the number of clusters.  Here every row gets a pseudo-random number computed
from its contents (:func:`meanshift._arrays.row_hashes`, mixed with the seed and with
the row's rank among identical copies, so that copies are drawn independently): the
same rows in any order give the same sample, in the same order.

Weighted rows are drawn by *priority sampling* (Duffield, Lund and Thorup, 2007): the
``m`` rows of highest priority ``w / u`` are kept, each with the mass ``max(w, tau)``,
``tau`` the ``(m + 1)``-th priority; these masses estimate any sum over the rows without
bias, so a row of large weight is kept with its weight instead of one sample's share.
"""

from __future__ import annotations

import numpy as np

from .._arrays import copy_ranks, mix64, shared_buckets

__all__ = ["sample_by_content", "content_seed"]


def content_seed(random_state) -> int:
    """A 64-bit seed from ``random_state`` (an int is used as it is, so that
    ``random_state=0`` always draws the same sample)."""
    if random_state is None:
        return int(np.random.default_rng().integers(2**63))
    if isinstance(random_state, (int, np.integer)):
        return int(random_state) & (2**64 - 1)
    return int(random_state.randint(2**31)) if hasattr(random_state, "randint") else 0


def _sharing(hashes, end):
    """Which ``hashes`` share their bucket of hash bits with another (about 4 buckets
    per hash: a table of at most 4 M, cache-sized as booleans), the buckets being the
    bits just below bit ``end`` (64: the top bits, 0: the low bits)."""
    bits = int(min(22, max(8, hashes.shape[0].bit_length() + 2)))
    return shared_buckets(hashes, end - bits if end else 0, bits)


def _uniforms(hashes, seed):
    """A number in (0, 1) per row from its hash, its rank among rows of the same hash,
    and the seed."""
    n = hashes.shape[0]
    rank = np.zeros(n, dtype=np.uint64)
    # Only rows that share a bucket of the hashes' top bits with another row can repeat
    # (about 4 buckets per row, so about a fifth of distinct rows), and of those only
    # rows that also share a bucket of the low bits with another of them (a few percent
    # of distinct rows).  Their ranks among copies come from one pass over a hash table
    # (copy_ranks), whose size is twice theirs: small unless the data repeat rows.
    candidates = np.flatnonzero(_sharing(hashes, 64))
    candidates = candidates[_sharing(hashes[candidates], 0)]
    rank[candidates] = copy_ranks(hashes[candidates])
    # mix64(hashes ^ mix64(rank ^ mix64(seed))), with the seed's and rank 0's mixes
    # computed once: only repeated rows have another rank.
    mixed_seed = mix64(np.array([seed], dtype=np.uint64))  # arrays: wrapping, no warning
    salt = np.full(n, mix64(mixed_seed)[0], dtype=np.uint64)
    again = np.flatnonzero(rank)
    salt[again] = mix64(rank[again] ^ mixed_seed)
    z = mix64(hashes ^ salt)
    return ((z >> np.uint64(11)).astype(np.float64) + 0.5) * 2.0**-53


def sample_by_content(hashes, weights, m, seed):
    """``(idx, mass)``: the rows of a sample of ``m`` (all when there are fewer), in a
    fixed order that does not depend on the order of the rows, and their masses (None
    without weights: a uniform sample; else priority-sampling masses scaled to a mean of
    1).  Rows of weight 0 are never drawn."""
    hashes = np.asarray(hashes, dtype=np.uint64)
    n = hashes.shape[0]
    u = _uniforms(hashes, seed)
    if weights is None:
        key = u  # smallest first
        if n <= m:
            pick = np.arange(n)
        else:
            # The uniforms are spread evenly over (0, 1): the m smallest lie below about
            # m / n.  Partition only the rows below 4 m / n (a mask is 10 times cheaper
            # than partitioning all 10^6); all rows when too few are there.
            low = np.flatnonzero(key < min(1.0, 4.0 * m / n))
            if low.size >= m:
                pick = low[np.argpartition(key[low], m - 1)[:m]]
            else:
                pick = np.argpartition(key, m - 1)[:m]
        pick = pick[np.lexsort((hashes[pick], key[pick]))]
        return pick, None
    w = np.asarray(weights, dtype=np.float64)
    alive = np.flatnonzero(w > 0)
    with np.errstate(divide="ignore", over="ignore"):
        priority = w[alive] / u[alive]
    if alive.size <= m:
        pick, tau = np.arange(alive.size), 0.0
    else:
        part = np.argpartition(-priority, m)
        pick, tau = part[:m], float(priority[part[m]])
    pick = pick[np.lexsort((hashes[alive][pick], -priority[pick]))]
    mass = np.maximum(w[alive][pick], tau)
    return alive[pick], mass / mass.mean()
