"""The dashboard (app.py, app_pages/, dashboard/) through Streamlit's AppTest, against em_core's own numbers.

Every number a page shows is compared with an independent computation: the course's loop
written out here with em_core's E- and M-steps (not em_core.stepping, which the pages use),
the modules' ``run`` functions, ``em.fill_matrix`` + ``rmse``, and the course's
``test_solutions.txt``. Data is read here without the dashboard's loader (built-in
generators, ``np.loadtxt``). Course data sets need ``EM_DATA_DIR``; without it those rows skip.
"""

from __future__ import annotations

import functools
import json
import re
from typing import NamedTuple

import numpy as np
import pytest

from em_core import DataError, bic, builtin, diagnostics, em, init, kmeans, naive_em, narration, rmse, stepping
from em_core.data import BUILTIN, COURSE_FILES, data_dir, load_dataset
from em_core.experiment import algorithm_for
from em_core.mixture import GaussianMixture
from em_core.validation import check_k
from tests.apptest_helpers import PAGES, STEPPERS, Dashboard, Status
from tests.badfiles import bad_cases, valid_cases
from tests.solutions import load_solutions, parse_solutions

# The pages run the same em_core functions in the same order as the references below, so
# the numbers agree to rounding; the tolerance only leaves room for BLAS summation order.
RTOL = 1e-10
# The status line and the metrics print 6 decimals: what shows is within 5e-7 of the value.
SHOWN = 5.1e-7


def course(*values):
    """A parametrize row that needs the course files (it skips, with the reason, without them)."""
    return pytest.param(*values, marks=pytest.mark.course, id="-".join(map(str, values[:4])))


@pytest.fixture(autouse=True)
def _course_files(request):
    if request.node.get_closest_marker("course"):
        request.getfixturevalue("course_dir")


# ---------------------------------------------------------------- independent references


def kind_of(name: str) -> str:
    return BUILTIN[name][1] if name in BUILTIN else COURSE_FILES[name][2]


@functools.cache
def reference_data(name: str) -> tuple[np.ndarray, np.ndarray | None]:
    """X and gold of a named set, read without the dashboard: the generators, or np.loadtxt."""
    if name == "demo-2d":
        return builtin.blobs_2d(), None
    if name == "demo-small":
        return builtin.small_ratings()
    if name == "demo-large":
        return builtin.large_ratings()
    matrix, gold, _ = COURSE_FILES[name]
    folder = data_dir()
    return np.loadtxt(folder / matrix, ndmin=2), (np.loadtxt(folder / gold, ndmin=2) if gold else None)


class Reference(NamedTuple):
    mixtures: list[GaussianMixture]  # mixtures[t]: after iteration t (mixtures[0] is the course's init)
    posts: list[np.ndarray]  # posts[t - 1]: the E-step of iteration t
    scores: list[float]  # scores[t - 1]: the log-likelihood (EM) or cost (K-means) of iteration t
    converged: bool


def course_loop(algorithm: str, X: np.ndarray, K: int, seed: int, min_variance: float = 0.25, max_iter=10_000):
    """The course's run loop, written out with em_core's E- and M-steps and the course's stopping rules."""
    mixture, _ = init(X, K, seed)
    ref = Reference([mixture], [], [], False)
    while len(ref.scores) < max_iter:
        if algorithm == "kmeans":
            post = kmeans.estep(X, mixture)
            mixture, score = kmeans.mstep(X, post, mixture)
        elif algorithm == "naive-em":
            post, score = naive_em.estep(X, mixture)
            mixture = naive_em.mstep(X, post, mixture)
        else:
            post, score = em.estep(X, mixture)
            mixture = em.mstep(X, post, mixture, min_variance)
        ref.mixtures.append(mixture)
        ref.posts.append(post)
        ref.scores.append(score)
        if len(ref.scores) >= 2:
            old, new = ref.scores[-2:]
            stop = old - new <= 1e-4 if algorithm == "kmeans" else new - old <= 1e-6 * abs(new)
            if stop:
                return ref._replace(converged=True)
    return ref


@functools.cache
def reference_fit(algorithm: str, name: str, K: int, seed: int, min_variance: float) -> Reference:
    """The whole run of a named set (to convergence), shared by every test that needs a prefix of it."""
    return course_loop(algorithm, reference_data(name)[0], K, seed, min_variance)


def settings_of(app: Dashboard) -> tuple[int, int, float]:
    state = app.at.session_state
    return int(state["em_k"]), int(state["em_seed"]), float(state["em_min_variance"])


def reference_for(app: Dashboard, page_name: str, name: str) -> Reference:
    """The reference run for the session's current K, seed and min variance."""
    return reference_fit(STEPPERS[page_name].algorithm, name, *settings_of(app))


def assert_same_mixture(got: GaussianMixture, want: GaussianMixture, rtol: float = RTOL) -> None:
    for field, a, b in zip(GaussianMixture._fields, got, want, strict=True):
        np.testing.assert_allclose(a, b, rtol=rtol, atol=1e-12, err_msg=field)


def assert_state_matches(state, ref: Reference, iteration: int) -> None:
    """A FitState after ``iteration`` steps is the reference's."""
    assert state.iteration == iteration
    assert state.next_step == "E"
    np.testing.assert_allclose(state.scores, ref.scores[:iteration], rtol=RTOL)
    assert_same_mixture(state.mixture, ref.mixtures[iteration])
    if iteration:
        np.testing.assert_allclose(state.post, ref.posts[iteration - 1], rtol=RTOL, atol=1e-12)
    assert state.converged == (ref.converged and iteration == len(ref.scores))


def assert_status_matches(status: Status, ref: Reference, iteration: int, page_name: str) -> None:
    """The status line shows the iteration and the score em_core gives, to its 6 decimals."""
    assert status.iteration == iteration
    if iteration == 0:
        assert status.initial
        return
    assert status.score_label == ("cost" if page_name == "kmeans" else "log-likelihood")
    assert status.score == pytest.approx(ref.scores[iteration - 1], abs=SHOWN)
    converged = ref.converged and iteration == len(ref.scores)
    assert (f"converged after {iteration} iterations" in status.text) == converged


# ---------------------------------------------------------------- every page on every named set

NAMED = ["demo-2d", "demo-small", "demo-large", course("toy"), course("test"), course("netflix")]
TITLES = {
    "data": "Data",
    "kmeans": "K-means (2-D)",
    "em2d": "EM on complete 2-D data",
    "matrix": "EM for matrix completion",
    "completion": "Completion vs gold",
    "model_selection": "Model selection",
    "check_numbers": "Check your numbers",
    "side_by_side": "K-means beside EM",
    "your_points": "Your own points",
    "recommendations": "Recommendations",
    "real_data": "Results on real data",
    "lesson": "Lesson: predict, then step",
}
#: Pages whose own test file checks their content; here: they render, titled, without an error.
#: (Their fallback, if any, is declared in PAGE_NEEDS.)
CONTENT_TESTED_ELSEWHERE = {"side_by_side", "your_points", "recommendations", "real_data", "lesson"}
#: page -> the kind of data it needs ("points2d" or "ratings"), for pages added after the first seven.
PAGE_NEEDS: dict[str, str] = {"side_by_side": "points2d", "recommendations": "ratings"}
#: Model selection fits every K up to "Largest K" for 5 seeds: on a 1200 x 1200 set that takes about a
#: minute on first open (see the report), so the render test starts it with K = 1..2 and one seed there.
SMALL_MODEL_SELECTION = {"ms_kmax": 2, "ms_seeds": 1}


def fallback_for(page_name: str, name: str) -> str | None:
    """The built-in set a page offers when ``name`` is the wrong kind for it (None: it fits)."""
    X, _ = reference_data(name)
    needs = PAGE_NEEDS.get(page_name)
    if (page_name in ("kmeans", "em2d") or needs == "points2d") and (kind_of(name) != "points" or X.shape[1] != 2):
        return "demo-2d"
    if (page_name in ("matrix", "completion", "check_numbers") or needs == "ratings") and kind_of(name) != "ratings":
        return "demo-small"
    return None


def assert_page_content(app: Dashboard, page_name: str, name: str) -> None:
    X, gold = reference_data(name)
    n, d = X.shape
    assert app.titles == [TITLES[page_name]]
    assert app.errors == []
    if page_name == "data":
        metrics = app.metrics()
        rows, columns = ("Points", "Dimensions") if kind_of(name) == "points" else ("Rows (users)", "Columns (items)")
        assert metrics[rows] == f"{n:,}" and metrics[columns] == f"{d:,}"
        assert metrics["Gold matrix"] == ("yes" if gold is not None else "no")
    elif page_name == "completion":
        metrics = app.metrics()
        assert metrics["Iteration"] == "0"
        assert metrics["Missing entries"] == f"{int((X == 0).sum()):,}"
        assert re.fullmatch(r"\d+\.\d{6}", metrics["RMSE (all entries)"])
    elif page_name == "model_selection":
        assert len(app.at.success) == 1 and app.at.success[0].value.startswith("Best K by BIC")
        assert list(app.at.dataframe[0].value["K"]) == list(range(1, app.at.slider(key="ms_kmax").value + 1))
    elif page_name in CONTENT_TESTED_ELSEWHERE:
        pass
    elif page_name == "check_numbers":
        assert len(app.at.code) == 1 and app.at.code[0].value.startswith("Input:")
    else:
        prefix = STEPPERS[page_name].prefix
        assert app.status().initial
        assert app.fit(STEPPERS[page_name].slot).state.iteration == 0
        keys = app.widget_keys()
        for action in ("estep", "mstep", "step", "run", "play", "reset"):
            assert f"{prefix}_{action}" in keys


@pytest.mark.parametrize("name", NAMED)
@pytest.mark.parametrize("page_name", list(PAGES))
def test_every_page_renders_on_every_named_data_set(page_name, name):
    app = Dashboard(name)
    if page_name == "model_selection" and reference_data(name)[0].shape[0] >= 400:
        for key, value in SMALL_MODEL_SELECTION.items():
            app.at.session_state[key] = value
    app.open(page_name)
    assert app.dataset == name
    if page_name == "model_selection" and reference_data(name)[0].size > 200_000:
        # a large matrix waits for a click before its many fits, and says so
        assert len(app.infos) == 1 and "take a while" in app.infos[0] and not app.at.success
        app.click("ms_run")
    fallback = fallback_for(page_name, name)
    if fallback is not None:
        # the wrong kind of data: say so, offer a built-in set, show nothing else
        assert len(app.infos) == 1 and app.infos[0].startswith("This page works on")
        assert app.button("switch_dataset").label == f"Use {fallback}"
        assert len(app.at.metric) == 0 and not app.chart_keys()
        app.click("switch_dataset")
        assert app.dataset == fallback
        assert app.infos == []
        name = fallback
    assert_page_content(app, page_name, name)


# ---------------------------------------------------------------- stepping against em_core

STEP_CASES = [
    ("matrix", "demo-small"),
    ("matrix", "demo-large"),  # converges at iteration 7
    course("matrix", "test"),
    course("matrix", "netflix"),
    ("kmeans", "demo-2d"),  # converges at iteration 4: Step is disabled from then on
    course("kmeans", "toy"),
    ("em2d", "demo-2d"),
    course("em2d", "toy"),
]


@pytest.mark.parametrize(("page_name", "name"), STEP_CASES)
def test_step_n_times_shows_what_em_core_computes(page_name, name):
    stepper = STEPPERS[page_name]
    app = Dashboard(name, page=page_name)
    ref = reference_for(app, page_name, name)
    done = 0
    # one session, checked after 1, 3 and 7 presses (a fresh session per N would only reload the data)
    for n_steps in (1, 3, 7):
        done += app.step(stepper.prefix, n_steps - done)
        expected = min(n_steps, len(ref.scores))  # Step is disabled once the run has converged
        assert done == expected
        assert_state_matches(app.fit(stepper.slot).state, ref, expected)
        assert_status_matches(app.status(), ref, expected, page_name)
        assert app.button(f"{stepper.prefix}_step").disabled == (ref.converged and expected == len(ref.scores))


HALF_STEP_CASES = [("kmeans", "demo-2d"), ("em2d", "demo-2d"), ("matrix", "demo-small")]


@pytest.mark.parametrize(("page_name", "name"), HALF_STEP_CASES)
def test_estep_then_mstep_equals_one_step(page_name, name):
    stepper = STEPPERS[page_name]
    prefix, (e_label, m_label) = stepper.prefix, stepper.half_labels
    halves, whole = Dashboard(name, page=page_name), Dashboard(name, page=page_name)
    for iteration in range(1, 4):
        before = halves.fit(stepper.slot).state
        assert halves.button(f"{prefix}_mstep").disabled  # no M-step before its E-step
        halves.click(f"{prefix}_estep")
        after_e = halves.fit(stepper.slot).state
        assert after_e.iteration == iteration - 1 and after_e.next_step == "M"
        assert_same_mixture(after_e.mixture, before.mixture, rtol=0)  # an E-step moves no parameter
        assert f"{e_label} done, {m_label} next" in halves.status().text
        # one number for one moment: the status line names the iteration the E-step belongs to, as the
        # narration's sentence does ("E-step 1: ...", "Assignment 1: ...")
        assert halves.status().iteration == iteration
        assert any(re.match(rf"[A-Z][a-z-]+ {iteration}: ", m.value) for m in halves.at.markdown)
        assert halves.button(f"{prefix}_estep").disabled and not halves.button(f"{prefix}_mstep").disabled
        halves.click(f"{prefix}_mstep")
        whole.click(f"{prefix}_step")
        got, want = halves.fit(stepper.slot).state, whole.fit(stepper.slot).state
        assert got.iteration == want.iteration == iteration
        assert got.scores == want.scores
        assert_same_mixture(got.mixture, want.mixture, rtol=0)
        np.testing.assert_array_equal(got.post, want.post)
        assert halves.status() == whole.status()


RUN_CASES = [
    ("kmeans", "demo-2d"),
    course("kmeans", "toy"),
    ("em2d", "demo-2d"),
    course("em2d", "toy"),
    ("matrix", "demo-small"),
    ("matrix", "demo-large"),
    course("matrix", "test"),
    course("matrix", "netflix"),
]
MODULE_RUN = {"kmeans": kmeans.run, "naive-em": naive_em.run, "em": em.run}


@pytest.mark.parametrize(("page_name", "name"), RUN_CASES)
def test_run_to_convergence_equals_the_module_run(page_name, name):
    stepper = STEPPERS[page_name]
    app = Dashboard(name, page=page_name)
    app.step(stepper.prefix, 1)  # Run continues a started fit
    app.click(f"{stepper.prefix}_run")
    K, seed, min_variance = settings_of(app)
    X = reference_data(name)[0]
    # the module's run starts from the same init; em.run's min variance is the course's 0.25, the sidebar's default
    assert min_variance == 0.25
    mixture, post, score = MODULE_RUN[stepper.algorithm](X, *init(X, K, seed))
    iterations = len(reference_for(app, page_name, name).scores)  # the module run does not count them
    state = app.fit(stepper.slot).state
    assert state.converged and state.iteration == iterations
    assert state.score == pytest.approx(score, rel=RTOL)
    assert_same_mixture(state.mixture, mixture)
    np.testing.assert_allclose(state.post, post, rtol=RTOL, atol=1e-12)
    status = app.status()
    assert status.iteration == iterations and status.score == pytest.approx(score, abs=SHOWN)
    assert f"converged after {iterations} iterations" in status.text
    for action in ("estep", "mstep", "step", "run", "play"):
        assert app.button(f"{stepper.prefix}_{action}").disabled, action
    assert not app.button(f"{stepper.prefix}_reset").disabled


@pytest.mark.parametrize(("page_name", "name"), HALF_STEP_CASES)
def test_reset_goes_back_to_iteration_zero(page_name, name):
    stepper = STEPPERS[page_name]
    prefix = stepper.prefix
    app = Dashboard(name, page=page_name)
    ref = reference_for(app, page_name, name)
    app.step(prefix, 3)
    app.click(f"{prefix}_estep")  # reset from the middle of an iteration too
    app.click(f"{prefix}_reset")
    state = app.fit(stepper.slot).state
    assert (state.iteration, state.next_step, state.scores, state.converged) == (0, "E", (), False)
    assert_same_mixture(state.mixture, ref.mixtures[0], rtol=0)
    assert app.status().initial
    assert f"{prefix}_view" not in app.widget_keys()  # nothing to scrub back to
    # and the run starts over from the same init
    app.step(prefix, 2)
    assert_state_matches(app.fit(stepper.slot).state, ref, 2)


def test_play_steps_on_each_rerun_and_stops_at_convergence():
    # AppTest does not fire the fragment's timer; each rerun stands for one tick
    app = Dashboard("demo-2d", page="kmeans")
    ref = reference_for(app, "kmeans", "demo-2d")
    assert ref.converged and len(ref.scores) == 4
    app.click("km_play")
    assert app.fit("kmeans").playing and app.button("km_play").label == "Pause"
    assert app.fit("kmeans").state.iteration == 1
    for _ in range(5):
        app.run()
    slot = app.fit("kmeans")
    assert not slot.playing and slot.state.converged
    assert_state_matches(slot.state, ref, 4)
    assert app.button("km_play").label == "Play" and app.button("km_play").disabled


def test_pause_stops_play():
    app = Dashboard("demo-small", page="matrix")
    app.click("emx_play")
    app.click("emx_play")  # Pause
    iteration = app.fit("matrix").state.iteration
    app.run()
    assert not app.fit("matrix").playing and app.fit("matrix").state.iteration == iteration == 1


# ---------------------------------------------------------------- settings reset the run, visibly

RESETS = [
    # page, start set, widget key, new value, what the notice must say
    ("kmeans", "demo-2d", "em_k", 3, "K is now 3"),
    ("kmeans", "demo-2d", "em_seed", 1, "seed is now 1"),
    ("em2d", "demo-2d", "em_k", 5, "K is now 5"),
    ("em2d", "demo-2d", "em_seed", 7, "seed is now 7"),
    ("matrix", "demo-small", "em_k", 2, "K is now 2"),
    ("matrix", "demo-small", "em_seed", 1, "seed is now 1"),
    ("matrix", "demo-small", "em_min_variance", 0.5, "min variance is now 0.5"),
    # a new data set brings its own suggested K
    ("matrix", "demo-small", "dataset", "demo-large", "data set is now demo-large (built-in), K is now 12"),
    course("matrix", "demo-small", "dataset", "test", "data set is now test (course), K is now 4"),
    course("kmeans", "demo-2d", "dataset", "toy", "data set is now toy (course), K is now 3"),
    course("em2d", "demo-2d", "dataset", "toy", "data set is now toy (course), K is now 3"),
]


@pytest.mark.parametrize(("page_name", "name", "key", "value", "notice"), RESETS)
def test_changing_a_setting_resets_the_run_visibly(page_name, name, key, value, notice):
    stepper = STEPPERS[page_name]
    app = Dashboard(name, page=page_name)
    app.step(stepper.prefix, 2)
    assert app.infos == []
    if key == "dataset":
        app.choose(value)
    else:
        app.set_number(key, value)
    resets = [info for info in app.infos if info.startswith("Run reset")]
    assert resets == [f"Run reset: {notice}."]
    assert app.fit(stepper.slot).state.iteration == 0
    assert app.status().initial
    place = app.status_place()
    # the new run is em_core's run for the new settings, and the notice goes with the first step
    new_name = value if key == "dataset" else name
    app.step(stepper.prefix, 1)
    assert not any(info.startswith("Run reset") for info in app.infos)
    # without it, the status line keeps its place: the browser shows no stale copy of the old one beside it
    assert app.status_place() == place
    assert_state_matches(app.fit(stepper.slot).state, reference_for(app, page_name, new_name), 1)


@pytest.mark.parametrize("present", [False, True], ids=["page", "presentation"])
@pytest.mark.parametrize(("page_name", "name"), [("kmeans", "demo-2d"), ("em2d", "demo-2d"), ("matrix", "demo-small")])
def test_the_status_line_and_live_charts_keep_their_places(page_name, name, present):
    # a notice, a warning or an error that comes and goes above them must not move them: a moved status
    # line stays on screen, stale, beside the new one until the run ends (a browser test met two), and a
    # moved live chart is mounted anew instead of redrawn in place
    prefix = STEPPERS[page_name].prefix
    link = {"dataset": name, **({"present": "1"} if present else {})}
    app = Dashboard(page=page_name, link=link)
    first = app.places()
    assert "status" in first and len(first) >= 3, first  # the status line and the page's live charts
    actions = [
        ("a first half-step", lambda: app.click(f"{prefix}_estep")),
        ("the second", lambda: app.click(f"{prefix}_mstep")),
        ("Step", lambda: app.click(f"{prefix}_step")),
        ("scrubbed back", lambda: app.scrub(prefix, 1)),
        ("run to convergence", lambda: app.click(f"{prefix}_run")),
        ("Reset", lambda: app.click(f"{prefix}_reset")),
        (
            "K changed (the reset notice)",
            lambda: app.set_number("em_k", 3 if app.at.number_input(key="em_k").value != 3 else 2),
        ),
        ("Step after it (the notice gone)", lambda: app.click(f"{prefix}_step")),
    ]
    notices = []
    for what, act in actions:
        act()
        assert app.places() == first, what
        notices.append(any(info.startswith("Run reset") for info in app.infos))
    assert notices[-2:] == [True, False]  # the notice came with the K change and went with the Step
    assert app.status().iteration == 1


@pytest.mark.parametrize("page_name", ["kmeans", "em2d"])
def test_min_variance_does_not_reset_the_2d_pages(page_name):
    # only EM on ratings floors the variance; K-means and EM on complete data ignore it
    stepper = STEPPERS[page_name]
    app = Dashboard("demo-2d", page=page_name)
    app.step(stepper.prefix, 2)
    app.set_number("em_min_variance", 0.5)
    assert app.infos == []
    assert app.fit(stepper.slot).state.iteration == 2


# ---------------------------------------------------------------- completion vs gold

COMPLETION_CASES = [
    ("demo-small", 0),  # the course's init, before any step
    ("demo-small", 3),
    ("demo-large", 1),
    course("test", 5),
]


@pytest.mark.parametrize(("name", "n_steps"), COMPLETION_CASES)
def test_completion_shows_em_core_rmse_for_the_current_iteration(name, n_steps):
    app = Dashboard(name, page="matrix")
    ref = reference_for(app, "matrix", name)
    assert app.step("emx", n_steps) == n_steps
    app.open("completion")
    X, gold = reference_data(name)
    X_pred = em.fill_matrix(X, ref.mixtures[n_steps])
    missing = X == 0
    metrics = app.metrics()
    assert metrics["Iteration"] == str(n_steps)
    assert metrics["Missing entries"] == f"{int(missing.sum()):,}"
    for label, expected in [
        ("RMSE (all entries)", rmse(gold, X_pred)),
        ("RMSE (missing only)", rmse(gold, X_pred, missing)),
    ]:
        assert re.fullmatch(r"\d+\.\d{6}", metrics[label]), metrics[label]
        assert float(metrics[label]) == pytest.approx(expected, abs=SHOWN), label
    # one user's row: the items they did not rate, predicted as em_core completes them
    user = 2
    app.set_number("cmp_user", user)
    assert app.at.toggle(key="cmp_only_missing").value
    table = app.at.dataframe[0].value
    np.testing.assert_array_equal(table["item"], np.flatnonzero(missing[user - 1]) + 1)
    np.testing.assert_allclose(table["predicted"], X_pred[user - 1, missing[user - 1]], rtol=RTOL)
    np.testing.assert_array_equal(table["gold"], gold[user - 1, missing[user - 1]])
    # predictions and errors shown to the same decimals (3.99999999998 as "4" beside an |error| of 2e-11 read
    # as a contradiction)
    formats = {
        name: column["type_config"]["format"]
        for name, column in json.loads(app.at.dataframe[0].proto.columns).items()
        if "type_config" in column
    }
    assert formats["predicted"] == formats["|error|"] == "%.3f", formats
    app.at.toggle(key="cmp_only_missing").set_value(False)
    app.run()
    table = app.at.dataframe[0].value
    assert len(table) == X.shape[1]
    observed = X[user - 1] != 0
    np.testing.assert_array_equal(table["predicted"][observed], X[user - 1, observed])  # observed ratings stay


@pytest.mark.course
def test_completion_after_convergence_matches_the_course_solutions(course_dir):
    expected = load_solutions(course_dir / "test_solutions.txt")["After a run"]
    app = Dashboard("test", page="matrix", em_k=4, em_seed=0)  # the solutions' K and seed
    app.click("emx_run")
    assert app.fit("matrix").state.converged
    assert app.status().score == pytest.approx(expected["LL"], abs=1e-6)
    app.open("completion")
    metrics = app.metrics()
    assert float(metrics["RMSE (all entries)"]) == pytest.approx(expected["RMSE"], abs=1e-6)


# ---------------------------------------------------------------- K larger than the data set


def k_message(K: int, n: int) -> str:
    with pytest.raises(DataError) as err:
        check_k(K, n)
    return str(err.value)


@pytest.mark.parametrize("page_name", ["data", "matrix", "completion"])
def test_k_larger_than_the_rows_shows_an_error(page_name):
    app = Dashboard("demo-small", page="matrix")
    app.step("emx", 2)
    before = app.fit("matrix").state
    app.open(page_name)
    app.set_number("em_k", 25)  # demo-small has 20 rows
    message = k_message(25, 20)
    assert "K must be between 1 and 20" in message
    assert any(message in error for error in app.errors), app.errors
    assert app.dataset == "demo-small"
    assert app.fit("matrix").state is before  # the run is kept, not reset or stepped
    if page_name != "data":
        # the page stops: no controls, no figures
        assert "emx_step" not in app.widget_keys()
        assert not app.chart_keys()


def test_k_below_one_cannot_be_entered():
    # the corpus's K = 0 and K = -2 cases are for the CLI: the sidebar's K input stops at 1
    cases = [case for case in bad_cases() if case.k < 1]
    assert cases
    app = Dashboard("demo-small", page="matrix")
    assert app.at.number_input(key="em_k").min == 1
    for case in cases:
        app.set_number("em_k", case.k)
        assert settings_of(app)[0] >= 1
        assert app.errors == []


# ---------------------------------------------------------------- uploads: the bad-input corpus

# the cases whose file is bad (the K cases have a valid file; see the K tests)
FILE_CASES = [case for case in bad_cases() if case.k == 1]


@pytest.mark.parametrize("case", FILE_CASES, ids=lambda case: case.name)
def test_bad_upload_shows_one_error_and_keeps_the_data_set_and_run(case):
    app = Dashboard("demo-small", page="matrix")
    app.step("emx", 1)
    before = app.fit("matrix").state
    options = app.at.selectbox(key="dataset").options
    app.upload(case.filename, case.content, case.gold_filename, case.gold)
    assert len(app.errors) == 1, app.errors
    assert re.search(case.message, app.errors[0]), app.errors[0]
    assert app.dataset == "demo-small"
    assert app.at.selectbox(key="dataset").options == options  # no "upload" option
    assert app.fit("matrix").state is before
    assert app.status().iteration == 1
    assert not any(info.startswith("Run reset") for info in app.infos)


def test_bad_upload_after_a_good_one_keeps_the_good_one():
    app = Dashboard(page="data", em_k=1)
    app.upload("good.txt", b"1 2 0\n0 4 5\n")
    app.open("matrix")
    app.step("emx", 1)
    before = app.fit("matrix").state
    case = FILE_CASES[0]
    app.upload(case.filename, case.content)
    assert len(app.errors) == 1 and re.search(case.message, app.errors[0])
    assert "The upload was not loaded. Still showing upload: good.txt." in app.captions
    assert app.dataset == "upload" and app.at.session_state["uploaded"]["name"] == "good.txt"
    assert app.fit("matrix").state is before


def test_a_rejected_upload_is_told_at_the_top_of_the_page_not_far_down_the_sidebar():
    # the upload box sits below the fold of a 720 px sidebar: a user who dropped a file saw nothing happen
    app = Dashboard("demo-small", page="matrix")
    case = FILE_CASES[0]
    app.upload(case.filename, case.content)
    assert [e.value for e in app.at.main.error] == app.errors and len(app.errors) == 1
    assert [e.value for e in app.at.sidebar.error] == []
    assert app.at.main.error[0].value.startswith(f"` {case.filename}")
    assert "Not loaded: the reason is at the top of the page." in [c.value for c in app.at.sidebar.caption]
    assert "The upload was not loaded. Still showing demo-small (built-in)." in app.captions


def test_an_uploaded_ratings_file_says_what_it_was_read_as():
    app = Dashboard(page="data", em_k=1)
    ratings = b"userId,movieId,rating,timestamp\n1,10,4.0,0\n1,20,3.5,0\n2,10,5.0,0\n"
    app.upload("ratings.csv", ratings)
    assert app.errors == [] and app.dataset == "upload"
    [read_as] = [c.value for c in app.at.sidebar.caption if c.value.startswith("Read as ")]
    assert read_as == (
        "Read as MovieLens ratings.csv: header userId,movieId,rating,timestamp: 3 ratings, 2 rows × 2 columns. "
        "Items are shown by id: titles come from a movies.csv beside the ratings (a folder in EM_DATA_DIR)."
    )
    app.upload("m.txt", b"1 2 0\n0 4 5\n")
    [read_as] = [c.value for c in app.at.sidebar.caption if c.value.startswith("Read as ")]
    assert read_as.startswith("Read as rating matrix: one row per user, one column per item, 0 = missing: 4 ratings")


def test_upload_with_k_larger_than_its_rows_shows_the_k_error():
    case = next(case for case in bad_cases() if case.name == "k-too-large")
    app = Dashboard(page="matrix")
    app.set_number("em_k", case.k)
    app.upload(case.filename, case.content)
    # the file is fine, so it becomes the data set; K is what the errors blame
    assert app.dataset == "upload"
    message = k_message(case.k, 3)
    assert app.errors and all(message in error for error in app.errors), app.errors
    assert "emx_step" not in app.widget_keys()


@pytest.mark.parametrize("case", valid_cases(), ids=lambda case: case.name)
def test_valid_upload_becomes_the_current_data_set(case):
    app = Dashboard(page="data", em_k=1)  # K = 1 fits even the one-row cases
    gold_name = case.gold_filename if case.gold is not None else None
    app.upload(case.filename, case.content, gold_name, case.gold)
    assert app.errors == []
    assert app.dataset == "upload"
    assert f"upload: {case.filename}" in app.at.selectbox(key="dataset").options
    n, d = case.shape
    assert f"upload: {case.filename} — {n:,} rows x {d:,} columns." in app.captions
    metrics = app.metrics()
    assert (metrics["Rows (users)"], metrics["Columns (items)"]) == (f"{n:,}", f"{d:,}")
    assert metrics["Gold matrix"] == ("yes" if case.gold is not None else "no")
    # the matrix page fits exactly the uploaded rows
    X = np.array(case.rows, dtype=float)
    app.open("matrix")
    app.step("emx", 1)
    assert_state_matches(app.fit("matrix").state, course_loop("em", X, 1, 0, max_iter=1), 1)
    app.open("completion")
    metrics = app.metrics()
    if case.gold is None:
        assert metrics["RMSE (all entries)"] == metrics["RMSE (missing only)"] == "—"
        assert any("no gold matrix" in info for info in app.infos)
    else:
        gold = np.array(case.gold_rows, dtype=float)
        expected = rmse(gold, em.fill_matrix(X, app.fit("matrix").state.mixture))
        assert float(metrics["RMSE (all entries)"]) == pytest.approx(expected, abs=SHOWN)
    app.open("check_numbers")
    assert app.at.code[0].value.startswith("Input:")
    if n > 1:  # one row: see test_model_selection_on_a_one_row_upload
        app.open("model_selection")
        assert app.at.success[0].value.startswith("Best K by BIC")


def test_a_second_upload_replaces_the_first_and_resets_the_run():
    app = Dashboard(page="matrix", em_k=1)
    app.upload("first.txt", b"1 2\n3 0\n")
    app.step("emx", 2)
    app.upload("second.txt", b"5 4 0\n1 0 2\n3 3 3\n")
    assert app.dataset == "upload" and app.at.session_state["uploaded"]["name"] == "second.txt"
    assert "Run reset: data set is now upload: second.txt." in app.infos
    assert app.fit("matrix").state.mixture.mu.shape == (1, 3)
    app.set_number("emx_user", 3)  # any later rerun keeps the second upload
    assert app.dataset == "upload" and app.at.session_state["uploaded"]["name"] == "second.txt"


def test_points_upload_runs_on_the_kmeans_page():
    app = Dashboard(page="data", em_k=2)
    app.upload("points.txt", b"0 0\n0 1\n1 0\n10 10\n10 11\n11 10\n", kind="points")
    app.open("kmeans")
    assert app.dataset == "upload" and app.infos == []
    app.click("km_run")
    X = np.array([[0, 0], [0, 1], [1, 0], [10, 10], [10, 11], [11, 10]], dtype=float)
    mixture, _, cost = kmeans.run(X, *init(X, 2, 0))
    assert app.status().score == pytest.approx(cost, abs=SHOWN)
    assert_same_mixture(app.fit("kmeans").state.mixture, mixture)


# ---------------------------------------------------------------- model selection and the course printout


@pytest.mark.parametrize("name", ["demo-2d", "demo-small"])
def test_model_selection_shows_the_best_seed_per_k(name):
    app = Dashboard(name, page="model_selection")
    X, gold = reference_data(name)
    k_max, n_seeds = app.at.slider(key="ms_kmax").value, app.at.slider(key="ms_seeds").value
    min_variance = settings_of(app)[2]
    table = app.at.dataframe[0].value
    assert list(table["K"]) == list(range(1, k_max + 1))
    em_name = "naive-em" if kind_of(name) == "points" else "em"
    for row, K in enumerate(range(1, k_max + 1)):
        runs = [course_loop(em_name, X, K, seed, min_variance) for seed in range(n_seeds)]
        scores = [run.scores[-1] for run in runs]
        seed = int(np.argmax(scores))  # ties go to the first seed
        assert table["best seed (EM)"][row] == seed
        assert table["EM log-likelihood (best seed)"][row] == pytest.approx(scores[seed], rel=RTOL)
        assert table["BIC"][row] == pytest.approx(bic(X, runs[seed].mixtures[-1], scores[seed]), rel=RTOL)
        if kind_of(name) == "points":
            costs = [course_loop("kmeans", X, K, s).scores[-1] for s in range(n_seeds)]
            assert table["K-means cost (best seed)"][row] == pytest.approx(min(costs), rel=RTOL)
        else:
            X_pred = em.fill_matrix(X, runs[seed].mixtures[-1])
            assert table["RMSE against gold"][row] == pytest.approx(rmse(gold, X_pred), rel=RTOL)
    best_k = int(table["K"][int(np.argmax(table["BIC"]))])
    assert app.at.success[0].value.startswith(f"Best K by BIC: **{best_k}**")


@pytest.mark.course
def test_check_your_numbers_prints_the_course_solutions(course_dir):
    expected = load_solutions(course_dir / "test_solutions.txt")
    app = Dashboard("test", page="check_numbers", em_k=4, em_seed=0)
    assert app.infos == []
    shown = parse_solutions(app.at.code[0].value)
    assert shown.keys() == expected.keys()
    for section, entries in expected.items():
        assert shown[section].keys() == entries.keys(), section
        for key, value in entries.items():
            # the printout has numpy's 8 digits, as test_solutions.txt
            np.testing.assert_allclose(shown[section][key], value, atol=1e-6, err_msg=f"{section} {key}")
    app.set_number("em_k", 3)
    assert any("K = 4, seed 0" in info for info in app.infos)


# ---------------------------------------------------------------- links (the URL holds the settings)


def test_a_link_reopens_the_settings_and_the_iteration():
    app = Dashboard(link={"dataset": "demo-small", "k": "2", "seed": "1", "it": "3"})
    assert (app.dataset, *settings_of(app)[:2]) == ("demo-small", 2, 1)
    app.open("matrix")
    ref = reference_for(app, "matrix", "demo-small")
    assert_state_matches(app.fit("matrix").state, ref, 3)
    assert_status_matches(app.status(), ref, 3, "matrix")


def test_the_url_follows_the_run():
    app = Dashboard("demo-small", page="matrix", em_seed=2)
    app.step("emx", 2)
    params = dict(app.at.query_params)
    assert params == {"dataset": "demo-small", "k": "3", "seed": "2", "minvar": "0.25", "it": "2"}


def test_a_link_in_presentation_mode_keeps_it_while_the_run_moves():
    app = Dashboard("demo-small", page="matrix", link={"present": "1"})
    app.step("emx", 1)
    assert dict(app.at.query_params)["present"] == "1"
    assert dict(app.at.query_params)["it"] == "1"


def test_a_bad_link_says_what_is_wrong_and_keeps_the_defaults():
    app = Dashboard(link={"dataset": "nope", "k": "abc", "minvar": "-1", "it": "99999"})
    warnings = [w.value for w in app.at.warning]
    assert len(warnings) == 1
    for part in ("data set 'nope' is not available here", "k='abc' is not a whole number", "minvar='-1'", "it=99999"):
        assert part in warnings[0]
    assert app.dataset == "demo-2d" and settings_of(app) == (4, 0, 0.25)


# ---------------------------------------------------------------- scrubbing the history


def centres(figure: dict) -> np.ndarray:
    """The component means drawn in a points figure (the x markers)."""
    marks = [trace for trace in figure["data"] if trace.get("marker", {}).get("symbol") == "x"]
    return np.array([[trace["x"][0], trace["y"][0]] for trace in marks])


SCRUB_CASES = [
    ("kmeans", "demo-2d", {"em_seed": 1}),  # seed 0 converges after 4 iterations, seed 1 after 12
    ("em2d", "demo-2d", {}),
    ("matrix", "demo-small", {}),
]


@pytest.mark.parametrize(("page_name", "name", "numbers"), SCRUB_CASES)
def test_between_an_estep_and_its_mstep_the_slider_reaches_both_states(page_name, name, numbers):
    """Paused between the halves of iteration 4, the slider's last position is 4 (that E-step, as the status
    line and the chart number it) and one back is 3 right after its M-step: the state the E-step started from,
    not skipped on the way back to 2."""
    stepper = STEPPERS[page_name]
    prefix = stepper.prefix
    app = Dashboard(name, page=page_name, **numbers)
    ref = reference_for(app, page_name, name)
    assert app.step(prefix, 3) == 3
    app.click(f"{prefix}_estep")
    slider = app.at.slider(key=f"{prefix}_view")
    assert (slider.max, slider.value) == (4, 4)
    status = app.status()
    assert (status.iteration, status.half_step, status.showing) == (4, True, None)
    app.scrub(prefix, 3)
    status = app.status()
    assert (status.iteration, status.half_step, status.showing) == (4, True, 3), status.text
    chart = "emx_means" if page_name == "matrix" else f"{prefix}_points"
    title = _title(app.figure(chart))
    if page_name == "matrix":
        assert title == "Cluster means after iteration 3"
        # the posterior of iteration 3's own E-step (on the mixture after 2), not the E-step of iteration 4
        bars = app.figure("emx_post")
        np.testing.assert_allclose(np.asarray(bars["data"][0]["y"], dtype=float), ref.posts[2][0], rtol=1e-9)
    else:
        assert title == f"Iteration 3 — after {'the update' if page_name == 'kmeans' else 'the M-step'}"
        np.testing.assert_allclose(centres(app.figure(chart)), ref.mixtures[3].mu, rtol=RTOL)
    app.scrub(prefix, 4)
    assert app.status().showing is None
    if page_name != "matrix":
        assert _title(app.figure(chart)).startswith("Iteration 4 — after ")
    app.click(f"{prefix}_mstep")  # the view follows the fit
    assert app.at.slider(key=f"{prefix}_view").value == 4 and app.status().iteration == 4


@pytest.mark.parametrize(("page_name", "name", "numbers"), SCRUB_CASES)
def test_scrub_slider_shows_an_earlier_iteration(page_name, name, numbers):
    stepper = STEPPERS[page_name]
    prefix = stepper.prefix
    app = Dashboard(name, page=page_name, **numbers)
    ref = reference_for(app, page_name, name)
    assert app.step(prefix, 5) == 5
    app.scrub(prefix, 2)
    want = ref.mixtures[2]
    status = app.status()
    assert status.iteration == 5  # the fit stays where it is; only the view goes back
    # ... and the line under the buttons says which iteration the charts show, with that iteration's own
    # sentences under it, not the latest step's
    assert status.showing == 2, status.text
    shown = [m.value for m in app.at.markdown if re.match(r"[A-Z][a-z-]+ \d+: ", m.value)]
    assert shown and all(re.match(r"[A-Z][a-z-]+ 2: ", sentence) for sentence in shown), shown
    app.scrub(prefix, 5)
    assert app.status().showing is None  # back at the latest: the line is the fit's alone
    assert all(
        re.match(r"[A-Z][a-z-]+ 5: ", m.value) for m in app.at.markdown if re.match(r"[A-Z][a-z-]+ \d+: ", m.value)
    )
    app.scrub(prefix, 2)
    if page_name == "matrix":
        means = app.figure("emx_means")
        assert means["layout"]["title"]["text"] == "Cluster means after iteration 2"
        np.testing.assert_allclose(np.asarray(means["data"][0]["z"], dtype=float), np.round(want.mu, 3), atol=1e-12)
        # the posterior shown is the E-step of iteration 2, on the mixture after iteration 1
        bars = app.figure("emx_post")
        np.testing.assert_allclose(np.asarray(bars["data"][0]["y"], dtype=float), ref.posts[1][0], rtol=1e-9)
    else:
        points = app.figure(f"{prefix}_points")
        after = "the update" if page_name == "kmeans" else "the M-step"
        assert points["layout"]["title"]["text"] == f"Iteration 2 — after {after}"
        np.testing.assert_allclose(centres(points), want.mu, rtol=RTOL)
        if page_name == "em2d":
            table = app.at.dataframe[0].value
            np.testing.assert_allclose(table["p"], want.p, rtol=RTOL)
            np.testing.assert_allclose(table["var"], want.var, rtol=RTOL)
            np.testing.assert_allclose(table[["mu[1]", "mu[2]"]], want.mu, rtol=RTOL)
    # a step brings the view back to the newest iteration
    app.step(prefix, 1)
    assert app.at.slider(key=f"{prefix}_view").value == 6


# ---------------------------------------------------------------- bugs found by these tests, now fixed


def test_empty_gold_added_after_the_matrix_is_refused():
    case = next(case for case in bad_cases() if case.name == "gold-empty")
    app = Dashboard(page="data", em_k=1)
    app.upload(case.filename, case.content)
    app.at.file_uploader(key="upload_gold").set_value((case.gold_filename, case.gold, "text/plain"))
    app.run()
    assert len(app.errors) == 1 and re.search(case.message, app.errors[0])


def test_uploading_the_same_file_again_makes_it_current():
    app = Dashboard(page="data", em_k=1)
    app.upload("again.txt", b"1 2\n3 0\n")
    app.choose("demo-small")
    app.at.file_uploader(key="upload_matrix").set_value(None)
    app.run()
    app.upload("again.txt", b"1 2\n3 0\n")
    assert app.dataset == "upload"


def test_k_error_names_the_uploaded_file():
    case = next(case for case in bad_cases() if case.name == "k-too-large")
    app = Dashboard(page="data")
    app.set_number("em_k", case.k)
    app.upload(case.filename, case.content)
    assert len(app.errors) == 1 and re.search(case.message, app.errors[0]), app.errors


def test_model_selection_on_a_one_row_upload():
    case = next(case for case in valid_cases() if case.name == "single-row")
    app = Dashboard(page="data", em_k=1)
    app.upload(case.filename, case.content)
    app.open("model_selection")
    assert app.at.success[0].value.startswith("Best K by BIC: **1**")


# ----------------------------------------------------------------------------- half-steps that read (issue 11)


def _trace(figure: dict, name: str) -> dict | None:
    return next((trace for trace in figure["data"] if trace.get("name") == name), None)


def _title(figure: dict) -> str:
    return figure["layout"]["title"]["text"]


def _arrow_heads(figure: dict) -> list[tuple[float, float]]:
    return sorted((a["x"], a["y"]) for a in figure["layout"].get("annotations", []) if a.get("showarrow"))


@pytest.mark.parametrize(
    ("page_name", "phrases"),
    [("em2d", ("the E-step", "the M-step")), ("kmeans", ("the assignment", "the update"))],
)
def test_an_estep_and_an_mstep_give_different_labelled_figures(page_name, phrases):
    stepper = STEPPERS[page_name]
    prefix, chart = stepper.prefix, f"{stepper.prefix}_points"
    X, _ = reference_data("demo-2d")
    app = Dashboard("demo-2d", page=page_name)
    assert _title(app.figure(chart)) == "Iteration 0 — initial"
    app.click(f"{prefix}_step")  # from iteration 1 on, an E-step can change a point's strongest component
    rung = arrowed = 0
    for iteration in (2, 3, 4):
        before = app.fit(stepper.slot).state
        app.click(f"{prefix}_estep")
        after_e, state = app.figure(chart), app.fit(stepper.slot).state
        assert _title(after_e) == f"Iteration {iteration} — after {phrases[0]}"
        assert _trace(after_e, "previous means") is None and not _arrow_heads(after_e)
        changed = narration.estep_change(before.post, state.post).changed
        rings = _trace(after_e, "changed strongest component")
        if changed.size:
            rung += 1
            np.testing.assert_allclose(rings["x"], X[changed, 0])
            np.testing.assert_allclose(rings["y"], X[changed, 1])
        else:
            assert rings is None
        app.click(f"{prefix}_mstep")
        after_m, new = app.figure(chart), app.fit(stepper.slot).state.mixture.mu
        assert _title(after_m) == f"Iteration {iteration} — after {phrases[1]}"
        assert _trace(after_m, "changed strongest component") is None  # the rings belong to the E-step
        ghosts = _trace(after_m, "previous means")
        np.testing.assert_allclose(ghosts["x"], state.mixture.mu[:, 0])  # where the means were before the M-step
        np.testing.assert_allclose(ghosts["y"], state.mixture.mu[:, 1])
        # each ghost in its component's colour; the legend's one key for them in none of those colours
        [key] = [t for t in after_m["data"] if t.get("name") == "previous means" and t.get("showlegend")]
        assert key["marker"]["color"] not in ghosts["marker"]["color"] and not ghosts.get("showlegend", True)
        moved = ~np.all(np.isclose(new, state.mixture.mu), axis=1)
        arrowed += bool(moved.any())
        np.testing.assert_allclose(_arrow_heads(after_m), sorted(map(tuple, new[moved])))
    # demo-2d's early steps do move points and means (else the rings and arrows were never checked)
    assert rung and arrowed


@pytest.mark.parametrize(("page_name", "name"), HALF_STEP_CASES)
def test_the_narration_says_what_em_core_computes(page_name, name):
    stepper = STEPPERS[page_name]
    prefix = stepper.prefix
    app = Dashboard(name, page=page_name)
    K, seed, min_variance = settings_of(app)
    X, _ = reference_data(name)
    algorithm = algorithm_for(stepper.algorithm, min_variance)
    floor = min_variance if stepper.algorithm == "em" else None
    state = stepping.start(*init(X, K, seed))
    expected = []
    for key in ("estep", "mstep", "step", "estep"):
        previous = state
        state = stepping.step(algorithm, X, state) if key == "step" else stepping.half_step(algorithm, X, state)
        entries = narration.log_entries(algorithm, X, state, previous, floor)
        expected.extend(entries)
        app.click(f"{prefix}_{key}")
        shown = [m.value for m in app.at.markdown if m.value in {e.sentence for e in entries}]
        assert shown == [e.sentence for e in entries]  # under the buttons, in order
    log = [m.value for m in app.at.markdown if m.value.startswith("- ")]
    assert log == ["\n".join(f"- {e.sentence}" for e in reversed(expected))]  # the step log, newest first


# ----------------------------------------------------------------------------- small bugs of issue 11


@pytest.mark.parametrize(
    ("page_name", "name", "chart"), [("em2d", "demo-2d", "em2d_ll"), ("matrix", "demo-small", "emx_ll")]
)
def test_after_the_first_estep_the_ll_chart_marks_iteration_1(page_name, name, chart):
    app = Dashboard(name, page=page_name)
    app.click(f"{STEPPERS[page_name].prefix}_estep")
    figure = app.figure(chart)
    shapes = figure["layout"]["shapes"]
    upright = {shape["x0"] for shape in shapes if shape.get("type") == "line" and shape["x0"] == shape["x1"]}
    assert upright == {1}  # where the only LL point is, not at x=0
    ring = _trace(figure, "iteration 1")
    assert ring is not None and list(ring["x"]) == [1]


def test_after_assign_the_cost_chart_says_when_its_cost_comes():
    app = Dashboard("demo-2d", page="kmeans")
    app.click("km_estep")
    texts = [a["text"] for a in app.figure("km_cost")["layout"].get("annotations", [])]
    assert texts == ["The cost of iteration 1 comes with its Update"]


def test_the_formulas_use_the_pages_user_and_start_from_their_strongest_component():
    app = Dashboard("demo-small", page="matrix")
    app.step("emx", 3)
    app.set_number("emx_user", 3).set_toggle("emx_formulas", True)
    assert "emx_fu" not in app.widget_keys()  # one user input for the posterior and the formulas
    X, _ = reference_data("demo-small")
    post, _ = em.estep(X, app.fit("matrix").state.mixture)
    strongest = int(np.argmax(post[2])) + 1
    assert app.at.number_input(key="emx_fj").value == strongest
    assert rf"u = 3,\; j = {strongest}," in app.at.get("latex")[0].value
    app.set_number("emx_user", 5)  # a new user: the component follows
    assert app.at.number_input(key="emx_fj").value == int(np.argmax(post[4])) + 1


@pytest.mark.course
def test_collapse_is_flagged_and_kept_means_are_drawn_as_no_data(course_dir):
    # the course's test set with K=12: 8 components end on one user each, 30 mean coordinates never updated
    app = Dashboard(page="matrix", link={"dataset": "test", "k": "12", "seed": "0"})
    assert not any(
        trace.get("name") == "no data: mean kept from its initial value" for trace in app.figure("emx_means")["data"]
    )
    app.click("emx_run")
    X, _ = reference_data("test")
    state = app.fit("matrix").state
    initial, _ = init(X, 12, 0)
    post, _ = em.estep(X, state.mixtures[-2])  # the posterior the last M-step used
    report = diagnostics.collapse_report(X, state.mixture, initial, 0.25, post)
    assert len(report.collapsed) == 8 and report.kept_from_init.sum() == 30
    figure = app.figure("emx_means")
    grey = next(trace for trace in figure["data"] if trace.get("name") == "no data: mean kept from its initial value")
    drawn = np.array([[cell is not None for cell in row] for row in grey["z"]])
    np.testing.assert_array_equal(drawn, report.kept_from_init)
    rows = list(figure["data"][0]["y"])
    flagged = [row for row in rows if "collapsed on user" in row]
    assert flagged == [f"j={c.j + 1} (collapsed on user {c.user + 1})" for c in report.collapsed]
    assert report.sentences()[0] in [warning.value for warning in app.at.warning]


@pytest.mark.course
def test_the_pca_caption_promises_circles_only_where_they_show(course_dir):
    app = Dashboard(page="matrix", link={"dataset": "netflix", "k": "12", "seed": "0"})
    app.click("emx_run")
    caption = next(text for text in app.captions if text.startswith("Users projected"))
    assert "too small against the users' spread" in caption and "so each circle is" not in caption
    small = Dashboard("demo-small", page="matrix")
    small.step("emx", 3)
    caption = next(text for text in small.captions if text.startswith("Users projected"))
    assert "so each circle is its component's 1σ and 2σ" in caption


def test_completion_vs_gold_at_the_start_says_so_and_runs_the_fit_from_the_page():
    # opened before any fit it scored the course's initial mixture (predicted 0.000 everywhere) with no way on
    app = Dashboard("test", page="completion", em_k=4)
    caption = next(c for c in app.captions if c.startswith("The completion of the mixture after iteration 0"))
    assert "That is the course's initial mixture: press Run EM to convergence" in caption
    app.click("cmp_run")
    state = app.fit("matrix").state
    assert state.converged and app.metrics()["Iteration"] == str(state.iteration)
    assert not any("initial mixture" in c for c in app.captions)
    assert app.button("cmp_run").disabled
    X = load_dataset("test").X
    expected = em.run(X, *init(X, 4, 0))
    assert state.score == expected[2]
