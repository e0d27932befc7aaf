"""The Numba CPU engine and its neighbour index."""

from ._engine import NumbaEngine

__all__ = ["NumbaEngine"]
