"""Completion baselines to compare EM with: means, Soft-Impute and KNN.

Outside em_core because :func:`~baselines.completion.knn` uses scikit-learn (imported only when
called); everything else needs numpy and scipy.
"""

from baselines.completion import (
    METHODS,
    NUMPY_METHODS,
    BaselineResult,
    global_mean,
    item_mean,
    knn,
    run_all,
    score_on,
    soft_impute,
    user_mean,
)

__all__ = [
    "METHODS",
    "NUMPY_METHODS",
    "BaselineResult",
    "global_mean",
    "item_mean",
    "knn",
    "run_all",
    "score_on",
    "soft_impute",
    "user_mean",
]
