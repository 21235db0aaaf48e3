"""Exports that read back exactly: matrices as text or CSV, a mixture as JSON, a score history as CSV.

Numbers are written with Python's ``repr``, the shortest text that parses back to the same
float64 (a trailing ``.0`` is dropped, so ratings read ``2 5 3 0 0`` as in the course's
files); :func:`em_core.matrix_file.parse_matrix`, :func:`read_mixture_json` and the ``csv`` module
read every value back bit for bit.
"""

from __future__ import annotations

import csv
import io
import json
import re
from collections.abc import Iterable
from typing import Any

import numpy as np

from em_core.covariance_em import CovarianceMixture
from em_core.errors import DataError
from em_core.mixture import GaussianMixture
from em_core.validation import check_matrix

#: The keys :func:`mixture_json` writes itself; metadata may not use them.
MIXTURE_KEYS = ("K", "d", "mu", "var", "p", "covariance_type", "cov")
#: How far the weights of a mixture read from JSON may sum from 1.
WEIGHT_SUM_TOL = 1e-6

# "5.0" -> "5", "-0.0" -> "-0": a ".0" that ends a number (repr never writes "1.0e+16")
_TRAILING_ZERO = re.compile(r"\.0(?=[,\n])")


def _csv_rows(X: np.ndarray) -> str:
    X = check_matrix(X, "X", bounded=False)  # writing numbers needs no bound on their size
    text = "\n".join(",".join(map(repr, row)) for row in X.tolist()) + "\n"
    return _TRAILING_ZERO.sub("", text)


def matrix_text(X: np.ndarray) -> str:
    """The course's format: one row per line, values separated by one space, newline at the end.

    Parameters
    ----------
    X : ndarray of shape (n, d)
        Finite values (0 means missing in a rating matrix).

    Returns
    -------
    str
        Integer values are written without a decimal point (``2 5 3 0 0``); every value reads
        back to the same float64.
    """
    return _csv_rows(X).replace(",", " ")


def matrix_csv(X: np.ndarray) -> str:
    """Comma-separated values, one row per line, no header; every value reads back exactly.

    Parameters
    ----------
    X : ndarray of shape (n, d)
    """
    return _csv_rows(X)


# ---------------------------------------------------------------- mixture JSON


def _plain(value: Any) -> Any:
    """``json.dumps``'s fallback for numpy values."""
    if isinstance(value, np.generic):
        return value.item()
    if isinstance(value, np.ndarray):
        return value.tolist()
    raise TypeError(f"{type(value).__name__} is not JSON serialisable")


def _dump(value: Any) -> str:
    return json.dumps(value, allow_nan=False, default=_plain)


def _mixture_arrays(mixture: GaussianMixture) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    mu = np.asarray(mixture.mu, dtype=float)
    var = np.asarray(mixture.var, dtype=float)
    p = np.asarray(mixture.p, dtype=float)
    if mu.ndim != 2 or mu.shape[0] == 0 or mu.shape[1] == 0:
        raise DataError(f"mixture means: expected a (K, d) matrix with K, d >= 1, got shape {mu.shape}")
    K = mu.shape[0]
    if var.shape != (K,) or p.shape != (K,):
        raise DataError(
            f"mixture: expected {K} variances and {K} weights (one per mean), got shapes {var.shape} and {p.shape}"
        )
    for name, array in (("means", mu), ("variances", var), ("weights", p)):
        if not np.all(np.isfinite(array)):
            raise DataError(f"mixture {name} must be finite numbers; found {array[~np.isfinite(array)][0]}")
    return mu, var, p


def mixture_json(mixture: GaussianMixture | CovarianceMixture, /, **meta: Any) -> str:
    """The mixture as a JSON object: ``K``, ``d``, the metadata, then ``mu``, ``var`` and ``p``.

    A :class:`~em_core.covariance_em.CovarianceMixture` (diag or full) is written with
    ``covariance_type`` and ``cov`` (K lists of d variances, or K d x d matrices) in place of ``var``.

    Parameters
    ----------
    mixture : GaussianMixture or CovarianceMixture
        ``mu`` of shape (K, d), ``var`` and ``p`` of shape (K,); finite.
    **meta
        JSON-serialisable values to keep beside the mixture (numpy scalars and arrays are
        converted), e.g. ``dataset="test", seed=0, iteration=12, log_likelihood=-84.98``.

    Returns
    -------
    str
        Indented JSON, one mean per line, ending with a newline. :func:`read_mixture_json`
        reads it back exactly.
    """
    covariance = isinstance(mixture, CovarianceMixture)
    if covariance:  # the means and weights are checked as a spherical mixture's, with a stand-in variance each
        mu, _, p = _mixture_arrays(GaussianMixture(mixture.mu, np.ones(len(mixture.p)), mixture.p))
        cov = np.asarray(mixture.cov, dtype=float)
        if not np.all(np.isfinite(cov)):
            raise DataError("mixture covariances must be finite numbers")
    else:
        mu, var, p = _mixture_arrays(mixture)
    clash = [key for key in meta if key in MIXTURE_KEYS]
    if clash:
        raise DataError(
            f"metadata key(s) {', '.join(map(repr, clash))} would overwrite the mixture's own "
            f"{', '.join(MIXTURE_KEYS)}; rename them"
        )
    fields = [("K", _dump(mu.shape[0])), ("d", _dump(mu.shape[1]))]
    for key, value in meta.items():
        try:
            fields.append((key, _dump(value)))
        except (TypeError, ValueError) as err:
            raise DataError(
                f"metadata {key!r}: {err}; give numbers (finite), strings, lists or dicts, or None"
            ) from None
    means = ",\n".join(f"    {_dump(row)}" for row in mu.tolist())
    fields.append(("mu", f"[\n{means}\n  ]"))
    if covariance:
        covs = ",\n".join(f"    {_dump(block)}" for block in cov.tolist())
        fields += [("covariance_type", _dump(mixture.covariance_type)), ("cov", f"[\n{covs}\n  ]")]
    else:
        fields.append(("var", _dump(var.tolist())))
    fields.append(("p", _dump(p.tolist())))
    body = ",\n".join(f"  {json.dumps(key)}: {value}" for key, value in fields)
    return "{\n" + body + "\n}\n"


def _array(obj: dict, key: str, ndim: int) -> np.ndarray:
    try:
        array = np.asarray(obj[key], dtype=float)
    except (TypeError, ValueError):
        array = None
    if array is None or array.ndim != ndim:
        shape = "a list of K lists of d numbers" if ndim == 2 else "a list of K numbers"
        raise DataError(f"mixture JSON: {key!r} must be {shape}")
    if not np.all(np.isfinite(array)):
        raise DataError(f"mixture JSON: {key!r} holds a value that is not a finite number")
    return array


def read_mixture_json(text: str | bytes) -> tuple[GaussianMixture | CovarianceMixture, dict[str, Any]]:
    """Read what :func:`mixture_json` wrote.

    Returns
    -------
    mixture : GaussianMixture or CovarianceMixture
        ``mu`` of shape (K, d), ``var`` and ``p`` of shape (K,), bit for bit as written; a
        CovarianceMixture when the file has ``covariance_type`` and ``cov``.
    meta : dict
        The other keys, in file order.

    Raises
    ------
    DataError
        Not JSON, not an object, ``mu``/``var``/``p`` missing or of the wrong shape, ``K`` or
        ``d`` disagreeing with them, a variance <= 0, a negative weight or weights that do not
        sum to 1.
    """
    try:
        obj = json.loads(text)
    except json.JSONDecodeError as err:
        raise DataError(
            f"mixture JSON line {err.lineno} column {err.colno}: {err.msg}; give the file mixture_json wrote"
        ) from None
    except UnicodeDecodeError:
        raise DataError("mixture JSON is not UTF-8 text; give the file mixture_json wrote") from None
    if not isinstance(obj, dict):
        raise DataError(f"mixture JSON: expected an object {{...}}, found {type(obj).__name__}")
    if "cov" in obj or "covariance_type" in obj:
        return _read_covariance_mixture(obj)
    missing = [key for key in ("mu", "var", "p") if key not in obj]
    if missing:
        raise DataError(f"mixture JSON: missing {', '.join(map(repr, missing))}; a mixture needs mu, var and p")
    mu, var, p = _array(obj, "mu", 2), _array(obj, "var", 1), _array(obj, "p", 1)
    K, d = mu.shape
    if K == 0 or d == 0:
        raise DataError(f"mixture JSON: 'mu' is {K} x {d}; give at least one mean of at least one number")
    if var.shape != (K,) or p.shape != (K,):
        raise DataError(
            f"mixture JSON: {K} means but {var.size} variances and {p.size} weights; give one of each per mean"
        )
    for key, size in (("K", K), ("d", d)):
        if key in obj and (isinstance(obj[key], bool) or obj[key] != size):
            raise DataError(f"mixture JSON: {key!r} is {obj[key]!r} but 'mu' is {K} x {d}; make them agree")
    if np.any(var <= 0):
        raise DataError(f"mixture JSON: every variance must be > 0, found {float(var[var <= 0][0])!r}")
    if np.any(p < 0) or abs(p.sum() - 1.0) > WEIGHT_SUM_TOL:
        raise DataError(f"mixture JSON: the weights must be >= 0 and sum to 1, they sum to {float(p.sum())!r}")
    meta = {key: value for key, value in obj.items() if key not in MIXTURE_KEYS}
    return GaussianMixture(mu, var, p), meta


def _read_covariance_mixture(obj: dict) -> tuple[CovarianceMixture, dict[str, Any]]:
    """A diag or full mixture of :func:`mixture_json`: ``mu``, ``covariance_type``, ``cov``, ``p``."""
    kind = obj.get("covariance_type")
    if kind not in ("diag", "full") or "cov" not in obj:
        raise DataError(
            f"mixture JSON: 'covariance_type' is {kind!r}; a file with 'cov' is a 'diag' or 'full' mixture "
            "(a spherical one has 'var' instead)"
        )
    missing = [key for key in ("mu", "p") if key not in obj]
    if missing:
        raise DataError(f"mixture JSON: missing {', '.join(map(repr, missing))}; a mixture needs mu, cov and p")
    mu, p = _array(obj, "mu", 2), _array(obj, "p", 1)
    K, d = mu.shape
    try:
        cov = np.asarray(obj["cov"], dtype=float)
    except (TypeError, ValueError):
        cov = np.empty(0)
    shape = (K, d) if kind == "diag" else (K, d, d)
    if cov.shape != shape or not np.all(np.isfinite(cov)):
        raise DataError(f"mixture JSON: 'cov' of a {kind} mixture with {K} means in {d} dimensions is {shape}")
    if p.shape != (K,) or np.any(p < 0) or abs(p.sum() - 1.0) > WEIGHT_SUM_TOL:
        raise DataError(f"mixture JSON: give {K} weights >= 0 that sum to 1")
    if kind == "diag" and np.any(cov <= 0):
        raise DataError("mixture JSON: every variance of a diag mixture must be > 0")
    if kind == "full":
        definite = True
        try:
            np.linalg.cholesky(cov)
        except np.linalg.LinAlgError:
            definite = False
        if not definite or not np.allclose(cov, np.swapaxes(cov, 1, 2), rtol=1e-10, atol=0):  # rounding only
            raise DataError("mixture JSON: every covariance of a full mixture must be symmetric positive definite")
    meta = {key: value for key, value in obj.items() if key not in MIXTURE_KEYS}
    return CovarianceMixture(mu, cov, p, kind), meta


# ---------------------------------------------------------------- history


def history_csv(scores: Iterable[float], score_name: str = "log_likelihood") -> str:
    """One row per iteration: header ``iteration,<score_name>``, then ``1,<score>``, ``2,...``.

    Parameters
    ----------
    scores : sequence of float
        ``scores[t-1]`` belongs to iteration t (:attr:`em_core.stepping.FitState.scores`).
    score_name : str
        The column's name, e.g. ``"log_likelihood"`` or ``"cost"``.

    Returns
    -------
    str
        CSV with ``\\n`` line ends; every score reads back exactly with ``float``.
    """
    if not isinstance(score_name, str) or not score_name.strip():
        raise DataError(f"score_name must be a non-empty string, got {score_name!r}; e.g. 'log_likelihood'")
    try:
        values = np.asarray(list(scores), dtype=float)
    except (TypeError, ValueError):
        values = None
    if values is None or values.ndim != 1:
        raise DataError("scores must be a flat sequence of numbers (one per iteration), e.g. FitState.scores")
    buffer = io.StringIO()
    writer = csv.writer(buffer, lineterminator="\n")
    writer.writerow(["iteration", score_name])
    writer.writerows((t, repr(score)) for t, score in enumerate(values.tolist(), start=1))
    return buffer.getvalue()
