"""The fit pipelines, one module per algorithm, registered by name.

Every pipeline takes rows (any input adapter of :mod:`meanshift._data`) and a
:class:`Plan` (every choice already made, by :mod:`meanshift._resolve`) and returns a
:class:`FitResult`.  Adding an algorithm: a module here with ``run_<name>(rows, plan)``,
one entry in :data:`ALGORITHMS` (``"module:function"``), and tests against
``"standard"``.
"""

from __future__ import annotations

import importlib

from ._plan import FitResult, Plan

__all__ = ["ALGORITHMS", "FitResult", "Plan", "pipeline", "run"]

# name -> "module:function" of its pipeline, imported when it first runs (the names alone,
# for the estimator's validation and the command line's choices, import no pipeline:
# with them scikit-learn and SciPy, about 2 s on a 2 GHz core).
ALGORITHMS = {
    "standard": ".standard:run_standard",
    "compressed": ".compressed:run_compressed",
    "basin": ".basin:run_basin",
    "blurring": ".blurring:run_blurring",
    "checked": ".checked:run_checked",
}


def pipeline(name: str):
    """The pipeline function of the algorithm ``name``."""
    module, func = ALGORITHMS[name].split(":")
    return getattr(importlib.import_module(module, __name__), func)


def run(rows, plan: Plan) -> FitResult:
    """Run the plan's algorithm on the rows."""
    return pipeline(plan.algorithm)(rows, plan)
