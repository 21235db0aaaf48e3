"""Dashboard checks beyond the pages' own: exports, the course's model-selection answer, limits, config."""

from __future__ import annotations

import csv
import io
import re
import tomllib

import numpy as np
import pytest

from dashboard import session
from em_core import em, init, rmse, stepping
from em_core.data import load_dataset
from em_core.experiment import algorithm_for
from em_core.export import read_mixture_json
from em_core.matrix_file import parse_matrix
from tests.apptest_helpers import Dashboard
from tests.helpers import REPO


def test_em_2d_exports_parse_back_to_the_numbers_on_screen():
    app = Dashboard(page="em2d", link={"dataset": "demo-2d", "k": "4", "seed": "0", "it": "3"})
    at = app.at
    table = at.dataframe[0].value  # the parameter table on screen
    files = {file.key: file for file in at.session_state["em2d_files"]}
    mixture, meta = read_mixture_json(files["mixture_json"].make())
    assert (meta["dataset"], meta["seed"], meta["iteration"], mixture.mu.shape[0]) == ("demo-2d", 0, 3, 4)
    np.testing.assert_array_equal(mixture.p, table["p"])
    np.testing.assert_array_equal(mixture.var, table["var"])
    np.testing.assert_array_equal(mixture.mu, table[["mu[1]", "mu[2]"]])
    history = list(csv.reader(io.StringIO(files["history_csv"].make())))
    assert history[0] == ["iteration", "log_likelihood"] and [row[0] for row in history[1:]] == ["1", "2", "3"]
    assert f"{float(history[-1][1]):,.6f}" == app.status().score_text


def test_completion_exports_parse_back_to_the_rmse_on_screen():
    app = Dashboard(page="completion", link={"dataset": "demo-small", "k": "3", "seed": "1", "it": "4"})
    metrics = app.metrics()
    files = {file.key: file for file in app.at.session_state["cmp_files"]}
    dataset = load_dataset("demo-small")
    for key in ("completed_txt", "completed_csv"):
        X_pred, _ = parse_matrix(files[key].make(), files[key].file_name)
        assert f"{rmse(dataset.gold, X_pred):.6f}" == metrics["RMSE (all entries)"]
        assert f"{rmse(dataset.gold, X_pred, dataset.X == 0):.6f}" == metrics["RMSE (missing only)"]
    mixture, meta = read_mixture_json(files["mixture_json"].make())
    assert meta["iteration"] == int(metrics["Iteration"]) == 4
    # and they are em_core's numbers for the same settings
    state = stepping.start(*init(dataset.X, 3, 1))
    for _ in range(4):
        state = stepping.step(algorithm_for("em", 0.25), dataset.X, state)
    np.testing.assert_array_equal(mixture.mu, state.mixture.mu)
    np.testing.assert_array_equal(parse_matrix(files["completed_txt"].make())[0], em.fill_matrix(dataset.X, mixture))


@pytest.mark.course
def test_model_selection_on_the_toy_data_gives_the_courses_best_k(course_dir):
    # the course's answer for toy_data.txt: BIC is highest at K = 3 (K = 1..4, seeds 0..4)
    at = Dashboard(page="model_selection", link={"dataset": "toy"}).at
    assert at.slider(key="ms_kmax").value == 4 and at.slider(key="ms_seeds").value == 5
    assert at.success[0].value.startswith("Best K by BIC: **3**")


def test_an_upload_past_the_size_cap_is_refused_and_the_session_keeps_its_data(monkeypatch):
    monkeypatch.setattr(session, "MAX_VALUES", 12)
    app = Dashboard(page="data", link={"dataset": "demo-small"})
    app.upload("big.txt", b"1 2 3 4\n" * 4)  # fails the test if the app raised
    assert app.errors == [  # verbatim, in a code span: the message quotes the user's file
        "` big.txt line 4: the matrix grows past 12 values (4 rows of 4), more than the dashboard holds; use a "
        "smaller matrix, or the command line (python -m em_core fit ...) which has no such limit `"
    ]
    assert app.dataset == "demo-small"


def test_the_server_config_is_production_minded():
    config = tomllib.loads((REPO / ".streamlit" / "config.toml").read_text(encoding="utf-8"))
    assert config["server"]["enableXsrfProtection"] is True
    assert 1 <= config["server"]["maxUploadSize"] <= 50
    assert config["client"]["showErrorDetails"] == "none"
    assert config["browser"]["gatherUsageStats"] is False


@pytest.mark.parametrize("pattern", [r"\bpickle\b", r"\beval\(", r"\bexec\(", r"allow_pickle\s*=\s*True"])
def test_no_code_path_unpickles_or_evaluates_input(pattern):
    sources = [REPO / "app.py", *sorted((REPO / "app_pages").glob("*.py"))]
    for package in ("em_core", "dashboard", "baselines"):
        sources += sorted((REPO / package).glob("*.py"))
    offenders = [str(path) for path in sources if re.search(pattern, path.read_text(encoding="utf-8"))]
    assert offenders == []


@pytest.mark.course
def test_the_formulas_show_the_numbers_em_core_computes_for_the_chosen_user(course_dir):
    app = Dashboard(page="matrix", link={"dataset": "test", "k": "4", "seed": "0"})
    at = app.at
    assert not at.get("latex")  # nothing is computed until the student asks
    app.set_number("emx_user", 2).set_toggle("emx_formulas", True).set_number("emx_fj", 1)  # each fails if it raised
    estep_latex = at.get("latex")[0].value
    X = load_dataset("test").X
    post, _ = em.estep(X, init(X, 4, 0)[0])
    # the last number of the E-step block is p(j=1 | u=2), to 6 significant digits
    assert estep_latex.rstrip("$\n").rstrip().endswith(f"{post[1, 0]:.6g}\\end{{aligned}}")


def test_the_sidebar_inputs_default_to_the_current_settings():
    # a browser that mounts an input anew sends its default back: the default must be the setting, not the
    # input's minimum (which would set K = 1 and reset the run)
    app = Dashboard(page="em2d", link={"dataset": "demo-2d", "k": "5", "seed": "3", "minvar": "0.5"})
    app.set_number("em_max_iter", 300)
    at = app.at
    defaults = {key: at.number_input(key=key).proto.default for key in ("em_k", "em_seed", "em_min_variance")}
    assert defaults == {"em_k": 5, "em_seed": 3, "em_min_variance": 0.5}
    assert at.number_input(key="em_max_iter").proto.default == 300
    box = at.selectbox(key="dataset")
    assert box.options[box.proto.default] == box.format_func("demo-2d")
