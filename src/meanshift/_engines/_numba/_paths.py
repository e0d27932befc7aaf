"""Shared paths: a seed that steps onto a position another seed's climb already left
follows that climb from there, exactly.

A climb is deterministic: the step from a position depends only on the position (the
kernel sums over the bound data, in the index's fixed order).  So when a seed's step
lands on a position, bit for bit, that an earlier climb stepped *from*, the rest of its
climb is that climb's rest: the same positions, the same end, density and convergence,
in ``r`` more steps (``r``: the steps the earlier climb took from there).  The seed stops
and takes that outcome; its own result is the one the plain climb computes, not an
approximation (``n_iter``, ``density`` and ``converged`` included).  Two conditions keep
it so:

* only positions a climb stepped *from* are recorded (its start and the positions
  before its last step; the first ``RECORD_STEPS`` of them), never its end: the end is
  where the climb stopped, not a fixed point, and a later step from it may move;
* a seed takes the outcome only when its own steps plus ``r`` stay within ``max_iter``
  (otherwise its own climb would have stopped on the way, unconverged), and only
  outcomes of converged climbs are recorded.

Positions coincide bit for bit where a step's mean is taken over the same data points:
with the flat kernel (its weights are 0 or 1, so nearby positions share whole
neighbourhoods) on data with many near-duplicate climbs, such as pixel colours or other
integer-valued data, where most climbs merge into a few paths long before they stop
(on scikit-learn's ``china.jpg`` colours, about three quarters of all steps; what is
left is about one step per distinct position on all the paths).  Smooth
kernels practically never repeat a position, and neither do continuous data in many
dimensions: the engine shares paths for the flat kernel only.

Determinism.  Seeds climb in waves (:func:`waves`: a spread order over the seeds, wave
sizes doubling from ``FIRST_WAVE`` up to ``WAVE_BYTES`` of recorded positions); within
a wave the table of recorded positions is read only, and after it the wave's paths are
added in seed order.  So which seed follows which path does not depend on the number of
threads, and the result never depends on it at all.  After a wave whose followed paths
saved less than ``MIN_SAVED`` of its steps, the other seeds climb in one wave without
the table (the engine decides; continuous data stop there after two or three waves).

The table (:class:`PathTable`) is an open-addressing hash table on the positions' bits,
capped at ``TABLE_BYTES`` of memory (afterwards it is only read).
"""

from __future__ import annotations

import numpy as np

from ..._arrays import mix_one
from ..._compile import njit

__all__ = ["PathTable", "climb_in_waves", "no_sharing", "probe", "probe_from", "waves",
           "FIRST_WAVE", "WAVE_BYTES", "RECORD_STEPS", "TABLE_BYTES", "MIN_SEEDS",
           "MIN_SAVED"]

#: Seeds of the first wave (the later waves double up to the memory cap).
FIRST_WAVE = 256
#: Bytes of one wave's recorded positions (wave size x RECORD_STEPS x features x 8).
WAVE_BYTES = 8 * 2**20
#: Positions each seed records: its first ones (on china.jpg's colours, recording the
#: first 32 shares as many paths as recording all 300, and the last 32 almost none).
RECORD_STEPS = 32
#: Most bytes the table takes (8 per feature and 32 per position, with its hash slots):
#: 5.6 million positions in 2-D, 0.49 million in 64-D.
TABLE_BYTES = 256 * 2**20
#: Fewer seeds climb as one wave without a table (nothing to share that pays).
MIN_SEEDS = 2048
#: After a wave whose followed paths saved less than this share of its steps, the
#: other seeds climb in one wave without the table (its upkeep costs more).
MIN_SAVED = 0.25


@njit(cache=True, nogil=True, inline="always")
def _slot(keys, bits):
    """The first slot :func:`probe` tries for a position (``keys`` not empty)."""
    h = np.uint64(0)
    for k in range(bits.shape[0]):
        h = mix_one(h ^ np.uint64(bits[k]))
    return np.int64(h & np.uint64(keys.shape[0] - 1))


@njit(cache=True, nogil=True)
def probe(keys, ebits, bits):
    """The entry holding the position with these 64-bit words, or ``-2 - slot`` (the
    empty slot where it would go), or -1 when the table has no slots.

    The slot is a hash of the words: each goes through splitmix64's finaliser, so every
    bit reaches the low bits (integer coordinates, whose low mantissa bits are all zero,
    would otherwise share a few slots); collisions probe the next slots."""
    if keys.shape[0] == 0:
        return -1
    return probe_from(keys, ebits, bits, _slot(keys, bits))


@njit(cache=True, nogil=True, inline="always")
def probe_from(keys, ebits, bits, slot):
    """:func:`probe`'s search from the first slot ``slot`` on (the neighbour lists'
    memo keeps a table of the same layout with its own hash): the entry holding these
    words, or ``-2 - slot`` of the empty slot where it would go."""
    mask = np.uint64(keys.shape[0] - 1)
    d = bits.shape[0]
    while True:
        e = keys[slot] - 1
        if e < 0:
            return -2 - slot
        same = True
        for k in range(d):
            if ebits[e, k] != bits[k]:
                same = False
                break
        if same:
            return e
        slot = np.int64((np.uint64(slot) + np.uint64(1)) & mask)


@njit(cache=True, nogil=True)
def _update(keys, epos, ebits, erem, eres, m, rehash, order, hit, buf, own, modes, n_iter,
            converged, density):
    """One compiled pass for :meth:`PathTable.finish_wave` (one function: one compile).

    1. With ``rehash``, put the ``m`` entries into the (new, empty) ``keys``.
    2. The wave's seeds that stepped onto a recorded position (``hit[j]``: its entry)
       take that climb's outcome: end, density, convergence, its remaining steps.
    3. Record the positions each converged seed ``order[j]`` stepped from
       (its first ``own[j]``, at most ``buf.shape[1]``) as entries from ``m`` on, up to
       the arrays' size.
    Returns the new number of entries (and a sum of the slots read ahead, which only
    keeps the compiler from dropping those reads)."""
    if rehash:
        for e in range(m):
            keys[-2 - probe(keys, ebits, ebits[e])] = e + 1
    for j in range(order.shape[0]):
        e = hit[j]
        if e >= 0:
            q, r = order[j], eres[e]
            for k in range(modes.shape[1]):
                modes[q, k] = modes[r, k]
            density[q] = density[r]
            converged[q] = True
            n_iter[q] += erem[e]
    cap = epos.shape[0]
    touched = 0
    for j in range(order.shape[0]):
        q = order[j]
        if not converged[q]:
            continue
        # The seed's positions go to the free entries; their first slots are read
        # first, all of them, so that their cache misses overlap (each read depends on
        # no other), then each is probed and kept if new (entries compacted).
        count = min(own[j], cap - m)
        for i in range(count):
            for k in range(epos.shape[1]):
                epos[m + i, k] = buf[j, i, k]
        if keys.shape[0] > 0:
            for i in range(count):
                touched += keys[_slot(keys, ebits[m + i])]
        top = m
        for i in range(count):
            if top < m + i:
                for k in range(epos.shape[1]):
                    epos[top, k] = epos[m + i, k]
            slot = probe(keys, ebits, ebits[top])
            if slot < 0:  # a new position (else the first to record it keeps it)
                keys[-2 - slot] = top + 1
                erem[top] = n_iter[q] - i
                eres[top] = q
                top += 1
        m = top
        if m >= cap:
            break
    return m, touched


class PathTable:
    """The recorded positions of finished climbs (module notes), growing by waves:
    ``epos`` (their bits ``ebits``), the steps from each to its climb's end ``erem``,
    that climb's seed ``eres``; ``keys``: the hash slots (entry + 1, 0 empty), at most
    half full."""

    epos: np.ndarray
    ebits: np.ndarray
    erem: np.ndarray
    eres: np.ndarray
    keys: np.ndarray

    def __init__(self, d: int, max_bytes: int = TABLE_BYTES):
        self.d, self.m = d, 0
        self.cap = int(max_bytes // (8 * d + 32))
        self._alloc(1024)

    def _alloc(self, size):
        """Arrays for ``size`` entries (at most the cap), the old entries copied; the
        keys (a power of two, at least twice the entries) must then be rebuilt
        (``_update`` with ``rehash``)."""
        size = min(int(size), self.cap)
        slots = 2 << max(0, size - 1).bit_length()
        epos = np.empty((size, self.d))
        erem = np.empty(size, dtype=np.int64)
        eres = np.empty(size, dtype=np.int64)
        if self.m:
            epos[: self.m] = self.epos[: self.m]
            erem[: self.m] = self.erem[: self.m]
            eres[: self.m] = self.eres[: self.m]
        self.epos, self.ebits, self.erem, self.eres = epos, epos.view(np.int64), erem, eres
        self.keys = np.zeros(slots, dtype=np.int64)

    @property
    def full(self) -> bool:
        return self.m >= self.cap

    def lookup_arrays(self):
        """What the compiled climb reads: ``(keys, entry bits, remaining steps)``."""
        return self.keys, self.ebits, self.erem

    def finish_wave(self, order, hit, buf, own, modes, n_iter, converged, density,
                    waiting=0):
        """Resolve the wave's seeds that followed a recorded path, then record its own
        paths (up to the cap; ``buf`` is empty once the table is full).

        When the arrays must grow, they grow to what the ``waiting`` seeds (those of the
        later waves) would add at this wave's rate of positions per seed, at least
        double: later waves follow more and record less, so this is usually the last
        growth.  Each growth re-inserts every entry at a random slot (a cache miss
        each); doubling from the first wave's size re-inserted about twice the final
        entries."""
        new = int(own.sum())
        need = min(self.m + new, self.cap)
        rehash = need > self.epos.shape[0]
        if rehash:
            ahead = new / max(1, order.shape[0]) * waiting
            self._alloc(max(need + ahead, 2 * self.epos.shape[0]))
        self.m = _update(self.keys, self.epos, self.ebits, self.erem, self.eres, self.m,
                         rehash, order, hit, buf, own, modes, n_iter, converged, density)[0]


def spread_order(n: int) -> np.ndarray:
    """The seeds in bit-reversed index order: every prefix is spread over the seeds
    (seeds usually come in the data's order, often sorted in space)."""
    bits = max(1, int(n - 1).bit_length())
    i = np.arange(n, dtype=np.uint64)
    rev = np.zeros(n, dtype=np.uint64)
    for b in range(bits):
        rev |= ((i >> np.uint64(b)) & np.uint64(1)) << np.uint64(bits - 1 - b)
    return np.argsort(rev, kind="stable").astype(np.int64)


def waves(n: int, max_iter: int, d: int):
    """``(order, bounds)``: the seeds' climbing order and the waves as ``order[a:b]``
    runs: ``FIRST_WAVE`` seeds, then doubling, each at most ``WAVE_BYTES`` of recorded
    positions.  Waves take the seeds in spread order; within a wave they climb in
    their own order (seeds are often sorted in space, and near seeds read the same
    data)."""
    order = spread_order(n)
    top = max(64, WAVE_BYTES // (8 * min(max(1, max_iter), RECORD_STEPS) * max(1, d)))
    bounds, a, size = [], 0, min(FIRST_WAVE, top)
    while a < n:
        b = min(n, a + size)
        order[a:b].sort()  # within a wave, the seeds' own order (neighbours share data)
        bounds.append((a, b))
        a, size = b, min(top, 2 * size)
    return order, bounds


def no_sharing(n: int, d: int):
    """The table and recording arguments of a climb that shares nothing: ``(lookup,
    buf, own, hit)`` with an empty table and no recording."""
    lookup = (np.zeros(0, np.int64), np.zeros((0, d), np.int64), np.zeros(0, np.int64))
    return lookup, np.empty((n, 0, d)), np.zeros(n, np.int64), np.zeros(n, np.int64)


def climb_in_waves(climb, n, d, max_iter, modes, n_iter, converged, density):
    """Every seed climbs, wave by wave, sharing paths (module notes); ``climb(wave,
    start, lookup, buf, own, hit)`` climbs the seeds ``wave`` with the compiled climb,
    its results going into ``modes``, ``n_iter``, ``converged`` and ``density``.
    Returns ``(seeds that followed a recorded path, waves climbed)``."""
    order, bounds = waves(n, max_iter, d)
    table = PathTable(d)
    followed = 0
    for w, (a, b) in enumerate(bounds):
        wave = order[a:b]
        own, hit = np.zeros(b - a, np.int64), np.zeros(b - a, np.int64)
        buf = np.empty((b - a, 0 if table.full else min(max_iter, RECORD_STEPS), d))
        climb(wave, a, table.lookup_arrays(), buf, own, hit)
        saved = int(table.erem[hit[hit >= 0]].sum())
        steps = int(n_iter[wave].sum())  # the wave's own steps (before it follows)
        table.finish_wave(wave, hit, buf, own, modes, n_iter, converged, density, n - b)
        followed += int((hit >= 0).sum())
        if w > 0 and b < n and saved < MIN_SAVED * (saved + steps):
            # Sharing does not pay: the other seeds climb in one wave, in their order.
            rest = np.sort(order[b:])
            climb(rest, b, *no_sharing(rest.size, d))
            return followed, w + 2
    return followed, len(bounds)
