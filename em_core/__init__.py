"""em_core: EM for Gaussian mixtures on complete and incomplete data, as the MIT 6.86x
project "Collaborative Filtering via Gaussian Mixtures" specifies it.

numpy and scipy only; this package never imports streamlit or plotly.
"""

from em_core import em, kmeans, naive_em, stepping
from em_core.errors import DataError
from em_core.mixture import GaussianMixture, bic, init, n_parameters, rmse

__all__ = [
    "DataError",
    "GaussianMixture",
    "bic",
    "em",
    "init",
    "kmeans",
    "n_parameters",
    "naive_em",
    "rmse",
    "stepping",
]
