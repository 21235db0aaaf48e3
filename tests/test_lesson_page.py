"""The Lesson page through AppTest: a whole lesson answered right (full score) and wrong (explanations), a
retry from another seed, the answers' downloads, and the instructor's script (link, stepping, notes hidden
when presenting, a bad upload refused in one line)."""

from __future__ import annotations

import json
import math

import numpy as np
import pytest

from dashboard import lesson_questions, lesson_state, lesson_view
from em_core import lesson_plan
from em_core.data import available_datasets, load_dataset
from tests.apptest_helpers import Dashboard


def _asked(stage: lesson_plan.Stage, attempt: int = 0) -> lesson_plan.Asked:
    """The stage as the page sets it up here (the same em_core call, made by the test)."""
    choice = lesson_plan.choose_data(stage, available_datasets())
    data = load_dataset(choice.dataset)
    return lesson_plan.ask(stage, choice, data.X, data.gold, attempt)


def _key(asked: lesson_plan.Asked, what: str) -> str:
    return f"lesson_{asked.stage.key}_{asked.seed}_{what}"


def _enter(d: Dashboard, asked: lesson_plan.Asked, guess) -> None:
    """Put ``guess`` into the stage's inputs as a student would."""
    at, kind = d.at, asked.stage.question
    if kind == "score_change":
        direction, size = guess
        at.radio(key=_key(asked, "direction")).set_value(direction)
        if size is not None:
            at.select_slider(key=_key(asked, "size")).set_value(size)
    elif kind == "mean_move":
        at.number_input(key=_key(asked, "x")).set_value(round(float(guess[0]), 2))
        at.number_input(key=_key(asked, "y")).set_value(round(float(guess[1]), 2))
    elif kind == "frozen":
        items, reason = guess
        at.multiselect(key=_key(asked, "items")).set_value(list(items))
        at.radio(key=_key(asked, "reason")).set_value(reason)
    elif kind == "completion":
        at.number_input(key=_key(asked, "guess")).set_value(round(float(guess), 2))
    else:
        at.radio(key=_key(asked, "guess")).set_value(guess)
    d.run()


def _size_choice(change: float) -> float:
    """The slider's power of ten nearest to ``change`` (what a student who knows the answer picks)."""
    return 10.0 ** round(math.log10(abs(change)))


def _as_entered(asked: lesson_plan.Asked, guess):
    """A guess as the inputs hold it: positions and numbers to the inputs' two decimals."""
    if asked.stage.question == "mean_move":
        return tuple(round(float(v), 2) for v in guess)
    if asked.stage.question == "completion":
        return round(float(guess), 2)
    return guess


def _right(asked: lesson_plan.Asked):
    guess = lesson_plan.right_guess(asked)
    if asked.stage.question == "score_change" and guess[1] is not None:
        return (guess[0], _size_choice(guess[1]))
    return _as_entered(asked, guess)


def _wrong(asked: lesson_plan.Asked):
    answer, kind = asked.answer, asked.stage.question
    guess = {
        "strongest": lambda: (answer.component + 1) % answer.responsibilities.size,
        "score_change": lambda: ("fall", 0.001),
        "mean_move": lambda: tuple(answer.old),
        "frozen": lambda: ((), 2),
        "completion": lambda: answer.value + 1.0,
        "best_k": lambda: next(k for k in answer.ks if k != answer.best_k),
        "versus_baseline": lambda: "user mean" if answer.winner == "mixture" else "mixture",
    }[kind]()
    return _as_entered(asked, guess)


def _score_line(d: Dashboard) -> str:
    return next(m.value for m in d.at.markdown if m.value.startswith("**Stage "))


def _play(right: bool) -> Dashboard:
    d = Dashboard(page="lesson")
    for index, stage in enumerate(lesson_plan.LESSON):
        assert _score_line(d).startswith(f"**Stage {index + 1} of {len(lesson_plan.LESSON)}**")
        asked = _asked(stage)
        assert d.button("lesson_submit").disabled == (stage.question != "mean_move")  # nothing chosen yet
        _enter(d, asked, _right(asked) if right else _wrong(asked))
        d.click("lesson_submit")
        boxes = [*d.at.success, *d.at.warning, *d.at.error]
        assert len(boxes) == 1, stage.key
        assert (boxes[0] in d.at.success) == right, boxes[0].value
        expected = lesson_plan.verdict(asked, _right(asked) if right else _wrong(asked))
        assert expected.sentence in boxes[0].value  # the numbers and the sentence of em_core's verdict
        assert not d.button("lesson_retry").disabled
        if index < len(lesson_plan.LESSON) - 1:
            d.click("lesson_next")
    return d


def test_a_lesson_answered_right_scores_full_marks():
    d = _play(right=True)
    records = d.at.session_state["lesson_records"]
    points, out_of = lesson_plan.score_total(records)
    assert points == out_of == sum(2 if s.question in ("frozen", "score_change") else 1 for s in lesson_plan.LESSON)
    assert f"score **{points} / {out_of}**" in _score_line(d)


def test_a_lesson_answered_wrong_explains_every_answer():
    d = _play(right=False)
    records = d.at.session_state["lesson_records"]
    assert len(records) == len(lesson_plan.LESSON)
    assert all(r.points < r.out_of for r in records)
    assert all(r.right != r.guess and r.explanation for r in records)


def test_a_retry_uses_another_seed_and_keeps_the_first_answer():
    d = Dashboard(page="lesson")
    stage = lesson_plan.LESSON[0]
    first = _asked(stage)
    _enter(d, first, _right(first))
    d.click("lesson_submit")
    d.click("lesson_retry")
    again = _asked(stage, attempt=1)
    assert again.seed == first.seed + 1
    assert f"seed {again.seed}" in " ".join(d.captions)
    assert not d.at.success  # the question again, unanswered
    _enter(d, again, _wrong(again))
    d.click("lesson_submit")
    records = d.at.session_state["lesson_records"]
    assert [(r.seed, r.points) for r in records] == [(first.seed, 1), (again.seed, 0)]


def test_the_answers_download_as_csv_and_json():
    d = Dashboard(page="lesson")
    asked = _asked(lesson_plan.LESSON[0])
    _enter(d, asked, _right(asked))
    d.click("lesson_submit")
    rows = d.at.session_state["lesson_records"]
    data = json.loads(lesson_state.records_json(rows))
    assert (data["points"], data["out_of"]) == (1, 1)
    assert data["answers"][0]["stage"] == "kmeans-assign"
    csv = lesson_state.records_csv(rows).splitlines()
    assert csv[0].startswith("stage,dataset,k,seed,question,guess,right,points,out_of,explanation")
    assert len(csv) == 2
    keys = {b.key for b in d.at.get("download_button")}
    assert {"lesson_csv", "lesson_json"} <= keys


# ---------------------------------------------------------------- the instructor's script


def _script_title(d: Dashboard) -> str:
    return next(m.value for m in d.at.markdown if m.value.startswith("**State "))


def test_a_script_link_opens_its_state_and_steps():
    d = Dashboard(page="lesson", link={"script": "default", "state": "3"})
    assert _script_title(d).startswith("**State 3 of 10: K-means converged")
    d.click("script_next")
    assert _script_title(d).startswith("**State 4 of 10")
    assert d.at.query_params["state"] == "4" and d.at.query_params["script"] == "default"
    d.click("script_prev")
    d.click("script_prev")
    assert _script_title(d).startswith("**State 2 of 10")


def test_speaker_notes_show_on_the_laptop_and_hide_on_the_projector():
    d = Dashboard(page="lesson", link={"script": "default", "state": "2"})
    notes = [m.value for m in d.at.markdown if "Point 9 sits between two" in m.value]
    assert notes
    projected = Dashboard(page="lesson", link={"script": "default", "state": "2", "present": "1"})
    assert not [m.value for m in projected.at.markdown if "Point 9 sits between two" in m.value]
    assert projected.at.query_params["present"] == "1"
    notes_view = Dashboard(page="lesson", link={"script": "default", "state": "2", "view": "notes"})
    assert [m.value for m in notes_view.at.markdown if "Point 9 sits between two" in m.value]
    assert not notes_view.at.get("plotly_chart")  # the notes view is for the laptop: notes, no chart


@pytest.mark.parametrize("state", ["1", "7", "10"])
def test_every_kind_of_script_state_draws_a_chart(state):
    d = Dashboard(page="lesson", link={"script": "default", "state": state})
    assert not d.errors
    assert len([c for c in d.at.get("plotly_chart") if c.key == "script_fig"]) == 1


def test_a_bad_script_upload_is_refused_in_one_line_and_the_script_stays():
    d = Dashboard(page="lesson", link={"script": "default", "state": "2"})
    d.at.file_uploader(key="script_upload").set_value(("mine.txt", b"title: a\npage: em2d\nk: two\n", "text/plain"))
    d.run()
    assert d.errors == ["mine.txt line 3: k is 'two', not a whole number; write k: 1"]
    assert _script_title(d).startswith("**State 2 of 10")
    good = b"title: Mine\npage: em2d\ndataset: demo-2d\nk: 2\nnotes: my note\n"
    d.at.file_uploader(key="script_upload").set_value(("mine.txt", good, "text/plain"))
    d.run()
    assert not d.errors
    assert _script_title(d).startswith("**State 1 of 1: Mine")


def test_a_link_to_an_unknown_script_says_so():
    d = Dashboard(page="lesson", link={"script": "../secrets", "state": "2"})
    assert any(e.startswith("The link's no script '../secrets'") for e in d.errors)
    assert _script_title(d).startswith("**State 1 of 10")  # the default instead


def test_the_answer_runs_the_step_and_shows_the_fit_after_it():
    d = Dashboard(page="lesson")
    d.click("lesson_next")  # the M-step stage
    asked = _asked(lesson_plan.stage("em-mean"))
    before = d.figure(f"lesson_em-mean_{asked.seed}_fig")
    assert before["layout"]["title"]["text"].startswith("Iteration 2 — after the E-step")
    _enter(d, asked, _right(asked))
    d.click("lesson_submit")
    after = d.figure(f"lesson_em-mean_{asked.seed}_after")
    assert after["layout"]["title"]["text"].startswith("Iteration 2 — after the M-step")
    guess = [t for t in after["data"] if t.get("name") == "your guess"]
    assert len(guess) == 1 and (guess[0]["x"][0], guess[0]["y"][0]) == pytest.approx(_right(asked))


def test_the_line_under_a_stage_title_never_gives_its_answer_away():
    # "toy · K = 3 · seed 0" stood above "Which K will BIC choose?", whose answer was 3
    for stage in lesson_plan.LESSON:
        asked = _asked(stage)
        line = lesson_view.setting(asked)
        if stage.question == "best_k":
            ks = ", ".join(map(str, asked.answer.ks))
            assert line == f"{asked.choice.dataset} · K = {ks} compared · the best of seeds 0, 1, 2, 3, 4 for each"
            assert len(asked.answer.ks) > 1
        else:
            assert line == f"{asked.choice.dataset} · K = {asked.choice.k} · seed {asked.seed}"


def test_the_lessons_tables_leave_missing_ratings_blank_and_give_three_decimals():
    X = np.array([[4.0, 0.0, 3.5], [0.0, 5.0, 1.0]])
    table = lesson_questions._ratings_table(X, 0, np.array([0.11, 0.0642]), "p(j=1|u)")
    # st.dataframe shows a NaN as "None" (a Styler's na_rep is not used): the cells are text, a missing one ""
    assert table.values.tolist() == [["0.110", "4", "", "3.5"], ["0.064", "", "5", "1"]]
    assert list(table.columns) == ["p(j=1|u)", "item 1", "item 2", "item 3"]
    assert list(table.index) == ["user 1", "user 2"]
    assert lesson_questions._table_height(20) == 35 * 21 + 3  # the 20 users of the frozen-coordinate stage, no scroll
