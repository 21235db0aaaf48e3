"""EM on complete data with spherical, diagonal and full covariances (em_core.covariance_em): scikit-learn from the
same start, iteration by iteration and over a whole run; hand cases; properties; BIC; the command line."""

from __future__ import annotations

import json
import re
import subprocess
import sys
import warnings
from pathlib import Path

import numpy as np
import pytest
from hypothesis import given
from hypothesis import strategies as st
from hypothesis.extra import numpy as hnp
from scipy import stats
from sklearn.exceptions import ConvergenceWarning
from sklearn.mixture import GaussianMixture as SklearnMixture

from em_core import builtin, covariance_em, naive_em, stepping
from em_core.covariance_em import REG_COVAR, CovarianceMixture, with_covariance_type
from em_core.errors import DataError
from em_core.mixture import GaussianMixture, init
from em_core.mixture import bic as course_bic

#: Agreement with scikit-learn from the same start, per iteration (relative, per component).
AGREEMENT = 1e-7


# ---------------------------------------------------------------- helpers


def long_thin(n: int = 240, seed: int = 7) -> np.ndarray:
    """Two long thin clusters at 30 and -60 degrees: where a full covariance differs from a diagonal one."""
    rng = np.random.RandomState(seed)
    out = []
    for centre, angle in (((0.0, 0.0), np.pi / 6), ((6.0, 1.0), -np.pi / 3)):
        rotation = np.array([[np.cos(angle), -np.sin(angle)], [np.sin(angle), np.cos(angle)]])
        out.append(centre + (rng.standard_normal((n // 2, 2)) * [3.0, 0.3]) @ rotation.T)
    return np.vstack(out)


def precisions(mixture: CovarianceMixture) -> np.ndarray:
    return 1.0 / mixture.cov if mixture.covariance_type == "diag" else np.linalg.inv(mixture.cov)


def stepwise_sklearn(mixture: CovarianceMixture, reg_covar: float = REG_COVAR) -> SklearnMixture:
    """scikit-learn started from ``mixture``; each ``fit`` does one more E + M iteration (``warm_start``)."""
    return SklearnMixture(
        n_components=mixture.n_components,
        covariance_type=mixture.covariance_type,
        reg_covar=reg_covar,
        tol=0.0,
        max_iter=1,
        warm_start=True,
        weights_init=mixture.p,
        means_init=mixture.mu,
        precisions_init=precisions(mixture),
        init_params="random",  # unused: every parameter is given
        random_state=0,
    )


def fit_quietly(model: SklearnMixture, X: np.ndarray) -> SklearnMixture:
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", ConvergenceWarning)
        return model.fit(X)


def worst_relative_gap(ours: np.ndarray, theirs: np.ndarray) -> float:
    """The largest ``||ours_j - theirs_j|| / ||theirs_j||`` over components j (a mean, a covariance, ...)."""
    K = theirs.shape[0]
    gap = np.linalg.norm((ours - theirs).reshape(K, -1), axis=1)
    return float(np.max(gap / np.linalg.norm(theirs.reshape(K, -1), axis=1)))


def assert_same_mixture(ours: CovarianceMixture, model: SklearnMixture, where: str) -> None:
    for name, mine, theirs in (
        ("means", ours.mu, model.means_),
        ("covariances", ours.cov, model.covariances_),
        ("weights", ours.p[:, None], model.weights_[:, None]),
    ):
        gap = worst_relative_gap(mine, theirs)
        assert gap <= AGREEMENT, f"{where}: {name} differ from scikit-learn's by {gap:.2e} (relative)"


def starting_mixture(X: np.ndarray, K: int, seed: int, covariance_type: str) -> CovarianceMixture:
    """The course's init written for ``covariance_type``: the start both implementations share."""
    return with_covariance_type(init(X, K, seed)[0], covariance_type)


def datasets():
    return {"blobs": builtin.blobs_2d(), "long-thin": long_thin()}


# ---------------------------------------------------------------- scikit-learn from the same start


@pytest.mark.parametrize("covariance_type", ["diag", "full"])
@pytest.mark.parametrize(
    "data, K, seed, n_iter",
    [
        ("blobs", 4, 0, 40),
        ("blobs", 2, 3, 30),
        ("long-thin", 2, 0, 40),
        ("long-thin", 3, 1, 40),
        ("blobs", 1, 0, 3),  # one component: the data's own mean and covariance after one M-step
    ],
)
def test_every_iteration_agrees_with_sklearn(data, K, seed, n_iter, covariance_type):
    X = datasets()[data]
    mixture = starting_mixture(X, K, seed, covariance_type)
    model = stepwise_sklearn(mixture)
    for iteration in range(1, n_iter + 1):
        fit_quietly(model, X)
        post, log_likelihood = covariance_em.estep(X, mixture)
        mixture = covariance_em.mstep(X, post, mixture)
        assert_same_mixture(mixture, model, f"iteration {iteration}")
        # scikit-learn's lower bound is the mean log-likelihood of the iteration's E-step
        assert log_likelihood / X.shape[0] == pytest.approx(model.lower_bound_, rel=AGREEMENT)


@pytest.mark.parametrize("covariance_type", ["diag", "full"])
@pytest.mark.parametrize("data, K, seed", [("blobs", 4, 2), ("long-thin", 2, 0)])
def test_whole_run_agrees_with_sklearn(data, K, seed, covariance_type):
    X = datasets()[data]
    start = starting_mixture(X, K, seed, covariance_type)
    state = stepping.run(covariance_em.algorithm(covariance_type), X, stepping.start(start, init(X, K, seed)[1]))
    assert state.converged
    model = stepwise_sklearn(start)
    model.set_params(warm_start=False, max_iter=state.iteration)
    fit_quietly(model, X)
    assert_same_mixture(state.mixture, model, f"after {state.iteration} iterations")
    # the converged LL is that of the last E-step; scikit-learn scores its final parameters
    assert state.score == pytest.approx(model.lower_bound_ * X.shape[0], rel=AGREEMENT)


@pytest.mark.course
@pytest.mark.parametrize("covariance_type", ["diag", "full"])
@pytest.mark.parametrize("K, seed, n_iter", [(3, 0, 30), (4, 4, 30)])
def test_agrees_with_sklearn_on_toy_data(course_matrix, K, seed, n_iter, covariance_type):
    X = course_matrix("toy_data.txt")
    mixture = starting_mixture(X, K, seed, covariance_type)
    model = stepwise_sklearn(mixture)
    for iteration in range(1, n_iter + 1):
        fit_quietly(model, X)
        mixture = covariance_em.mstep(X, covariance_em.estep(X, mixture)[0], mixture)
        assert_same_mixture(mixture, model, f"toy_data.txt iteration {iteration}")


def test_a_fit_can_start_from_the_course_init_directly():
    X = long_thin()
    mixture, post = init(X, 2, 0)
    direct = stepping.run(covariance_em.algorithm("full"), X, stepping.start(mixture, post))
    widened = stepping.run(
        covariance_em.algorithm("full"), X, stepping.start(with_covariance_type(mixture, "full"), post)
    )
    assert direct.scores == widened.scores
    np.testing.assert_array_equal(direct.mixture.cov, widened.mixture.cov)


def test_a_matrix_prepared_for_the_spherical_steps_gives_the_same_fit():
    X = long_thin(80)
    start = stepping.start(*init(X, 2, 0))
    raw = stepping.run(covariance_em.algorithm("full"), X, start)
    prepared = stepping.run(covariance_em.algorithm("full"), naive_em.prepare(X), start)
    assert raw.scores == prepared.scores


def test_spherical_is_the_course_model_unchanged():
    X = builtin.blobs_2d()
    mixture, post = init(X, 3, 0)
    ours = covariance_em.run(X, mixture, post)
    course = naive_em.run(X, mixture, post)
    assert isinstance(ours[0], GaussianMixture)
    assert ours[2] == course[2]
    np.testing.assert_array_equal(ours[0].var, course[0].var)
    assert covariance_em.algorithm("spherical").name == naive_em.algorithm().name


def test_full_fits_the_long_thin_clusters_better_than_spherical():
    X = long_thin()
    mixture, post = init(X, 2, 0)
    log_likelihoods = {kind: covariance_em.run(X, mixture, post, kind)[2] for kind in covariance_em.COVARIANCE_TYPES}
    # tilted clusters: an axis-aligned model cannot follow them, a full one can
    assert log_likelihoods["full"] > max(log_likelihoods["diag"], log_likelihoods["spherical"]) + 100, log_likelihoods


# ---------------------------------------------------------------- hand cases and independent references


def test_one_component_mstep_is_the_data_covariance_plus_reg_covar():
    X = long_thin(60)
    post = np.ones((X.shape[0], 1))
    full = covariance_em.mstep(X, post, covariance_type="full", reg_covar=0.5)
    np.testing.assert_allclose(full.mu[0], X.mean(axis=0), rtol=1e-14)
    np.testing.assert_allclose(full.cov[0], np.cov(X, rowvar=False, bias=True) + 0.5 * np.eye(2), rtol=1e-13)
    diag = covariance_em.mstep(X, post, covariance_type="diag", reg_covar=0.5)
    np.testing.assert_allclose(diag.cov[0], X.var(axis=0) + 0.5, rtol=1e-13)
    assert full.p[0] == diag.p[0] == 1.0


@pytest.mark.parametrize("covariance_type", ["diag", "full"])
def test_estep_matches_scipy_densities(covariance_type):
    X = long_thin(40)
    cov = np.array([[2.0, 0.7], [0.7, 0.5]]) if covariance_type == "full" else np.array([2.0, 0.5])
    mixture = CovarianceMixture(
        np.array([[0.0, 0.0], [5.0, 1.0]]), np.array([cov, cov * 3.0]), np.array([0.3, 0.7]), covariance_type
    )
    dense = [np.diag(c) if covariance_type == "diag" else c for c in mixture.cov]
    f = np.column_stack(
        [
            np.log(p) + stats.multivariate_normal(m, c).logpdf(X)
            for m, c, p in zip(mixture.mu, dense, mixture.p, strict=True)
        ]
    )
    post, log_likelihood = covariance_em.estep(X, mixture)
    total = np.logaddexp.reduce(f, axis=1)
    assert log_likelihood == pytest.approx(total.sum(), rel=1e-12)
    np.testing.assert_allclose(post, np.exp(f - total[:, None]), rtol=1e-10)


def test_far_from_zero_data_keep_their_digits():
    # the same points shifted by 1e6: every difference, so every covariance, is unchanged
    X = long_thin(80)
    mixture, post = init(X, 2, 0)
    near = covariance_em.run(X, mixture, post, "full")[0]
    shift = np.array([1e6, -1e6])
    far = covariance_em.run(X + shift, mixture._replace(mu=mixture.mu + shift), post, "full")[0]
    assert worst_relative_gap(far.cov, near.cov) <= 1e-6


def test_reg_covar_keeps_a_collapsed_component_invertible():
    # a component holding three copies of one point has a covariance of 0; reg_covar puts 1e-6 on its diagonal
    X = np.array([[1.0, 2.0], [1.0, 2.0], [1.0, 2.0], [10.0, 0.0], [11.0, 3.0], [12.0, 1.0]])
    post = np.repeat([[1.0, 0.0], [0.0, 1.0]], 3, axis=0)
    mixture = covariance_em.mstep(X, post, covariance_type="full")
    assert np.linalg.eigvalsh(mixture.cov[0])[0] == pytest.approx(REG_COVAR, rel=1e-6)
    new_post, log_likelihood = covariance_em.estep(X, mixture)
    assert np.isfinite(log_likelihood) and np.all(np.isfinite(new_post))
    singular = covariance_em.mstep(X, post, covariance_type="full", reg_covar=0.0)
    with pytest.raises(DataError, match="component 1's covariance is not positive definite.*raise reg_covar"):
        covariance_em.estep(X, singular)


def test_component_without_weight_keeps_its_parameters():
    X = long_thin(40)
    mixture = starting_mixture(X, 3, 0, "full")
    post = np.zeros((X.shape[0], 3))
    post[:, 0], post[:, 1] = 0.4, 0.6
    after = covariance_em.mstep(X, post, mixture)
    np.testing.assert_array_equal(after.mu[2], mixture.mu[2])
    np.testing.assert_array_equal(after.cov[2], mixture.cov[2])
    assert after.p[2] == 0.0
    state = stepping.half_step(covariance_em.algorithm("full"), X, stepping.start(after, post))
    assert np.all(state.post[:, 2] == 0.0) and np.isfinite(state.score)


@pytest.mark.parametrize("covariance_type", ["diag", "full"])
@pytest.mark.parametrize("seed", [0, 1, 2, 3])
def test_log_likelihood_never_falls(covariance_type, seed):
    X = long_thin()
    state = stepping.run(covariance_em.algorithm(covariance_type), X, stepping.start(*init(X, 3, seed)))
    scores = np.array(state.scores)
    assert np.all(np.diff(scores) >= -1e-9 * np.abs(scores[1:])), scores


@st.composite
def complete_problems(draw):
    """Small complete data sets (ratings, values far from 0, repeated rows), a K and a seed."""
    n = draw(st.integers(2, 25))
    d = draw(st.integers(1, 4))
    kind = draw(st.sampled_from(["ratings", "far", "repeated"]))
    if kind == "ratings":
        X = draw(hnp.arrays(np.float64, (n, d), elements=st.sampled_from([1.0, 2.0, 3.0, 4.0, 5.0])))
    elif kind == "far":
        X = draw(hnp.arrays(np.float64, (n, d), elements=st.floats(1e4, 1e4 + 10, allow_subnormal=False)))
    else:
        X = np.repeat(draw(hnp.arrays(np.float64, (1, d), elements=st.floats(-50, 50))), n, axis=0)
        X[0] += 1.0
    return X, draw(st.integers(1, n)), draw(st.integers(0, 2**32 - 1)), draw(st.sampled_from(["diag", "full"]))


@given(complete_problems())
def test_iterations_keep_posteriors_normalised_and_covariances_positive_definite(problem):
    X, K, seed, covariance_type = problem
    mixture = starting_mixture(X, K, seed, covariance_type)
    for _ in range(5):
        post, log_likelihood = covariance_em.estep(X, mixture)
        assert np.isfinite(log_likelihood) and np.all(np.isfinite(post))
        np.testing.assert_allclose(post.sum(axis=1), 1.0, rtol=1e-12)
        mixture = covariance_em.mstep(X, post, mixture)
        eigenvalues = mixture.cov if covariance_type == "diag" else np.linalg.eigvalsh(mixture.cov)
        # reg_covar is a floor on every eigenvalue, up to the rounding of the covariance's own size
        scale = np.abs(mixture.cov).max()
        assert np.all(eigenvalues >= REG_COVAR - 1e-12 * scale), eigenvalues


def test_widening_keeps_the_gaussians_and_refuses_narrowing():
    mixture = GaussianMixture(np.array([[1.0, 2.0], [3.0, 4.0]]), np.array([0.5, 2.0]), np.array([0.4, 0.6]))
    diag = with_covariance_type(mixture, "diag")
    full = with_covariance_type(diag, "full")
    np.testing.assert_array_equal(diag.cov, [[0.5, 0.5], [2.0, 2.0]])
    np.testing.assert_array_equal(full.cov, [np.eye(2) * 0.5, np.eye(2) * 2.0])
    np.testing.assert_array_equal(covariance_em.covariance_matrices(mixture), full.cov)
    assert with_covariance_type(mixture, "spherical") is mixture
    with pytest.raises(DataError, match="a full mixture cannot be written as diag"):
        with_covariance_type(full, "diag")


@pytest.mark.parametrize(
    "call, message",
    [
        (lambda: covariance_em.algorithm("tied"), "covariance type must be one of spherical, diag, full, got 'tied'"),
        (lambda: covariance_em.algorithm("full", reg_covar=-1e-6), "reg_covar must be a finite number >= 0"),
        (lambda: covariance_em.algorithm("diag", reg_covar=float("nan")), "reg_covar must be a finite number >= 0"),
        (lambda: covariance_em.mstep(np.ones((3, 2)), np.ones((3, 1))), "mstep needs a covariance_type"),
    ],
)
def test_bad_arguments_are_refused_in_one_line(call, message):
    with pytest.raises(DataError, match=message):
        call()


# ---------------------------------------------------------------- BIC


@pytest.mark.parametrize(
    "covariance_type, K, d, expected",
    [
        ("spherical", 3, 2, 3 * 2 + 3 + 2),
        ("diag", 3, 2, 2 * 3 * 2 + 2),
        ("full", 3, 2, 3 * 2 + 3 * 3 + 2),
        ("full", 1, 5, 5 + 15),  # one component: no weight is free
        ("diag", 4, 1, 8 + 3),  # in 1-D every type has the same count
        ("spherical", 4, 1, 8 + 3),
    ],
)
def test_parameter_counts(covariance_type, K, d, expected):
    assert covariance_em.n_parameters(K, d, covariance_type) == expected


@pytest.mark.parametrize("covariance_type", ["diag", "full"])
def test_bic_is_minus_half_sklearns(covariance_type):
    X = long_thin()
    start = starting_mixture(X, 2, 0, covariance_type)
    model = stepwise_sklearn(start)
    model.set_params(warm_start=False, max_iter=20)
    fit_quietly(model, X)
    ours = CovarianceMixture(model.means_, model.covariances_, model.weights_, covariance_type)
    _, log_likelihood = covariance_em.estep(X, ours)
    assert covariance_em.bic(X, ours, log_likelihood) == pytest.approx(-0.5 * model.bic(X), rel=1e-10)


def test_spherical_bic_is_the_courses():
    X = builtin.blobs_2d()
    mixture, post, log_likelihood = naive_em.run(X, *init(X, 3, 0))
    assert covariance_em.bic(X, mixture, log_likelihood) == course_bic(X, mixture, log_likelihood)


# ---------------------------------------------------------------- through the command line


def naive_em_cli(*args: str) -> subprocess.CompletedProcess:
    """``python -m em_core fit --data demo-2d ... --quiet``, as a user runs it."""
    return subprocess.run(
        [sys.executable, "-m", "em_core", "fit", "--data", "demo-2d", *args, "--quiet"],
        cwd=Path(__file__).resolve().parents[1],
        capture_output=True,
        text=True,
        timeout=120,
    )


@pytest.mark.parametrize("covariance_type", ["diag", "full"])
def test_cli_covariance_type_fits_that_model_and_counts_its_parameters(covariance_type):
    done = naive_em_cli("--algorithm", "naive-em", "--k", "2", "--covariance-type", covariance_type, "--json")
    assert done.returncode == 0, done.stderr
    X = builtin.blobs_2d()
    mixture, log_likelihood = covariance_em.run(X, *init(X, 2, 0), covariance_type)[::2]
    best = json.loads(done.stdout)["best_per_k"][0]
    assert best["log_likelihood"] == pytest.approx(log_likelihood, rel=1e-12)
    assert best["bic"] == pytest.approx(covariance_em.bic(X, mixture, log_likelihood), rel=1e-12)


@pytest.mark.parametrize(
    "args, message",
    [
        (
            ["--algorithm", "kmeans", "--covariance-type", "full"],
            "error: covariance type full applies to naive-em \\(EM on complete points\\) only; kmeans is spherical",
        ),
        (["--algorithm", "em", "--covariance-type", "diag"], "error: covariance type diag applies to naive-em"),
        (["--algorithm", "naive-em", "--covariance-type", "tied"], ".*invalid choice: 'tied' \\(choose from"),
    ],
)
def test_cli_bad_covariance_type_is_refused_with_status_2(args, message):
    done = naive_em_cli("--k", "2", *args)
    assert done.returncode == 2
    assert done.stdout == ""
    assert re.match(message, done.stderr.splitlines()[-1]), done.stderr
