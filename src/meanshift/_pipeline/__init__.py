"""The fit pipelines, one module per algorithm, registered by name.

Every pipeline takes rows (any input adapter of :mod:`meanshift._data`) and a
:class:`Plan` (every choice already made, by :mod:`meanshift._resolve`) and returns a
:class:`FitResult`.  Adding an algorithm: a module here with ``run_<name>(rows, plan)``,
one entry in :data:`ALGORITHMS`, and tests against ``"standard"``.
"""

from __future__ import annotations

from ._plan import FitResult, Plan
from .basin import run_basin
from .blurring import run_blurring
from .checked import run_checked
from .compressed import run_compressed
from .standard import run_standard

__all__ = ["ALGORITHMS", "FitResult", "Plan", "run"]

# name -> pipeline function; the estimator validates ``algorithm`` against these names.
ALGORITHMS = {
    "standard": run_standard,
    "compressed": run_compressed,
    "basin": run_basin,
    "blurring": run_blurring,
    "checked": run_checked,
}


def run(rows, plan: Plan) -> FitResult:
    """Run the plan's algorithm on the rows."""
    return ALGORITHMS[plan.algorithm](rows, plan)
