"""Image segmentation by mean shift in the joint spatial-range domain.

:func:`segment` climbs every pixel (position and colour) to its mode with compiled
window loops (:mod:`._climb`), fuses and merges the regions (:mod:`._regions`), in a
colour space of :mod:`._color`.
"""

from ._segment import Segmentation, find_boundaries, mark_boundaries, segment

__all__ = ["segment", "Segmentation", "find_boundaries", "mark_boundaries"]
