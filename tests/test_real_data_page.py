"""The "Results on real data" page: nothing heavy until the click; then em_core's comparison as a table,
a bar chart and the course model's diagnosis, with the numbers em_core computes; options as toggles."""

from __future__ import annotations

import pytest

from em_core import real_data_comparison
from em_core.baselines import SPARSE_METHODS
from em_core.data import load_dataset
from em_core.real_data_options import DEFAULT_PRIOR_STRENGTH, EMOptions, variants_with
from tests.apptest_helpers import Dashboard
from tests.helpers import movielens_missing_reason, movielens_small_dir


def open_page(dataset: str) -> Dashboard:
    return Dashboard(dataset, "real_data")


def run_comparison(app: Dashboard, ks: list[int]) -> Dashboard:
    app.at.multiselect(key="rd_ks").set_value(ks)
    app.run()
    return app.click("rd_run")


def table_rows(app: Dashboard) -> list[dict]:
    (frame,) = app.at.dataframe
    return frame.value.to_dict("records")


def test_nothing_is_fitted_before_the_click():
    app = open_page("demo-small")
    assert app.titles == ["Results on real data"] and app.errors == []
    assert "rd_result" not in app.at.session_state
    assert any("click **Run the comparison**" in info for info in app.infos)
    assert not app.at.dataframe and not [c for c in app.at.get("plotly_chart") if c.key == "rd_bars"]


def test_the_table_shows_em_cores_numbers_for_the_chosen_options():
    app = open_page("demo-small")
    app.set_toggle("rd_item_mean_start", False)
    run_comparison(app, [2])
    X = load_dataset("demo-small").X
    variants = variants_with(False, True, DEFAULT_PRIOR_STRENGTH)
    expected = real_data_comparison.compare(  # the page's default: 3 splits
        X, [2], variants, holdout_seeds=[0, 1, 2], methods=SPARSE_METHODS, name="demo-small"
    )
    rows = table_rows(app)
    assert [row["method"] for row in rows] == [row.label for row in expected.rows]
    assert [row["method"] for row in rows][:4] == [
        "EM as in the course",
        "EM on residuals",
        f"EM, prior λ = {DEFAULT_PRIOR_STRENGTH:g}",
        f"EM on residuals, prior λ = {DEFAULT_PRIOR_STRENGTH:g}",
    ]
    for shown, row in zip(rows, expected.rows, strict=True):
        assert [shown[f"RMSE split {i + 1}"] for i in range(3)] == pytest.approx(row.rmse, rel=1e-12)
    # the verdict names the best EM variant against the user + item bias baseline
    verdicts = [m.value for m in [*app.at.success, *app.at.warning]]
    assert verdicts == [expected.verdict]
    bars = app.figure("rd_bars")["data"][0]
    assert list(bars["x"]) == pytest.approx([row.mean_rmse for row in expected.rows])
    command = [c for c in app.captions if "python -m em_core compare" in c]
    assert command and "--variants course residuals prior residuals+prior" in command[0]


def test_changed_settings_hide_the_old_result_until_the_next_click():
    app = open_page("demo-small")
    run_comparison(app, [2])
    assert app.at.dataframe
    app.set_toggle("rd_residuals", False)
    assert not app.at.dataframe
    assert any("the settings changed since the last one" in info for info in app.infos)


def test_a_point_set_offers_a_rating_set_instead():
    app = open_page("demo-2d")
    assert any("This page works on a rating matrix" in info for info in app.infos)
    assert app.button("switch_dataset").label == "Use demo-small"


@pytest.mark.skipif(movielens_small_dir() is None, reason=movielens_missing_reason())
def test_on_movielens_the_page_explains_the_course_model_with_numbers():
    app = open_page("movielens-small")
    run_comparison(app, [12])
    assert app.errors == []
    rows = {(row["method"], row["K"]): row for row in table_rows(app)}
    course = rows[("EM as in the course", "12")]["mean RMSE"]
    options = [row["mean RMSE"] for (method, k), row in rows.items() if k == "12" and method != "EM as in the course"]
    best_option = min(options)
    assert best_option < rows[("User mean", "—")]["mean RMSE"] < course  # measured: 0.880 < 0.935 < 1.204
    why = "\n".join(m.value for m in app.at.markdown if "Supports below 1" in m.value)
    assert "of the 116,688 mean coordinates were never updated" in why  # 12 x 9,724
    assert "collapsed onto (a share of) one user" in why
    assert "predicted below 0.5, the lowest rating" in why
    assert (EMOptions(True, True, DEFAULT_PRIOR_STRENGTH).label, "12") in rows  # all three options, combined


def test_work_past_one_clicks_limit_stops_and_says_so(monkeypatch):
    import dashboard.work

    monkeypatch.setattr(dashboard.work, "WORK_SECONDS", 0.0)
    app = open_page("demo-small")
    run_comparison(app, [2])
    (warning,) = [w.value for w in app.at.warning]
    assert warning.startswith("Stopped after") and "stopped after 0 of" in warning
    assert not app.at.dataframe and "rd_result" not in app.at.session_state


@pytest.mark.skipif(movielens_small_dir() is None, reason=movielens_missing_reason())
def test_completion_without_gold_on_a_sparse_set_points_to_where_it_is_scored():
    # it said "score on held-out ratings below", and below was only a pointer to this page
    app = Dashboard("movielens-small", "completion")
    [info] = [info for info in app.infos if "no gold matrix" in info]
    assert "on held-out ratings on the 'Results on real data' page." in info and "below" not in info
    assert any("'Results on real data' page" in caption for caption in app.captions)
