"""Declared parameter constraints of the estimator (scikit-learn's validation)."""

from __future__ import annotations

import numpy as np
from sklearn.utils._param_validation import Interval

__all__ = ["Number"]


class Number(Interval):
    """scikit-learn's Interval, without booleans: ``bandwidth=True`` is not 1.0."""

    def is_satisfied_by(self, val):
        return not isinstance(val, (bool, np.bool_)) and super().is_satisfied_by(val)
