"""One question of the lesson on screen: before the answer, the fit and the inputs that take a prediction;
after it, the fit after the step, the guess against what happened and the numbers.

Every right answer and every number comes from :mod:`em_core.lesson_answers` (through
:class:`em_core.lesson_plan.Asked`); this module only draws. Widget keys are
``lesson_{stage}_{attempt}_{what}``, so a retry starts with empty inputs.
"""

from __future__ import annotations

import numpy as np
import pandas as pd
import streamlit as st

from dashboard import curve_figures, lesson_figures, lesson_state, matrix_figures, mixture_figures, presentation
from em_core import lesson_answers as answers
from em_core import lesson_plan
from em_core.narration import strongest

#: Sizes offered for a log-likelihood change (powers of ten: the question asks for the order).
SIZES = (0.001, 0.01, 0.1, 1.0, 10.0, 100.0, 1000.0, 10000.0)


def _key(asked: lesson_plan.Asked, what: str) -> str:
    return f"lesson_{asked.stage.key}_{asked.seed}_{what}"


def _chart(fig, key: str, **kwargs):
    if presentation.is_on():
        fig = presentation.sized(fig)
    return st.plotly_chart(fig, key=key, **kwargs)


def _components(K: int) -> list[int]:
    return list(range(K))


def _fit_title(asked: lesson_plan.Asked, after: bool) -> str:
    return lesson_figures.fit_title(asked.after if after else asked.state, asked.stage.algorithm == "kmeans")


def _data(asked: lesson_plan.Asked) -> np.ndarray:
    return lesson_state.dataset(asked.choice.dataset).X


def _has_spread(asked: lesson_plan.Asked) -> bool:
    return asked.stage.algorithm != "kmeans"


# ---------------------------------------------------------------- before the answer: figures and inputs


def _ask_strongest(asked: lesson_plan.Asked):
    X, state = _data(asked), asked.state
    fig = lesson_figures.fit_figure(X, state.post, state.mixture, _fit_title(asked, False), _has_spread(asked))
    _chart(lesson_figures.ring_point(fig, X[asked.target], f"point {asked.target + 1}"), _key(asked, "fig"))
    return st.radio(
        "Strongest component after the next step",
        _components(state.mixture.n_components),
        format_func=lambda j: f"centre {j + 1}" if asked.stage.algorithm == "kmeans" else f"j={j + 1}",
        index=None,
        horizontal=True,
        key=_key(asked, "guess"),
    )


def _ask_score_change(asked: lesson_plan.Asked):
    X, state = _data(asked), asked.state
    left, right = st.columns([3, 2])
    with left:
        _chart(
            lesson_figures.fit_figure(X, state.post, state.mixture, _fit_title(asked, False), True), _key(asked, "fig")
        )
    with right:
        _chart(
            curve_figures.score_curve(list(state.scores), "log_likelihood", current=state.iteration), _key(asked, "ll")
        )
    direction = st.radio(
        "The log-likelihood will", answers.DIRECTIONS, index=None, horizontal=True, key=_key(asked, "direction")
    )
    size = st.select_slider(
        "By roughly how much (its size, whatever the sign)?",
        SIZES,
        value=1.0,
        format_func=lambda v: f"{v:g}",
        key=_key(asked, "size"),
        disabled=direction == "stay",
    )
    return None if direction is None else (direction, None if direction == "stay" else size)


def _ask_mean_move(asked: lesson_plan.Asked):
    X, state = _data(asked), asked.state
    j = asked.target
    xkey, ykey = _key(asked, "x"), _key(asked, "y")
    if xkey not in st.session_state:
        st.session_state[xkey], st.session_state[ykey] = (round(float(v), 2) for v in state.mixture.mu[j])
    fig = lesson_figures.fit_figure(X, state.post, state.mixture, _fit_title(asked, False), True)
    fig = lesson_figures.ring_point(fig, state.mixture.mu[j], f"j={j + 1}")
    fig = lesson_figures.click_grid(fig, X)
    guess = (st.session_state[xkey], st.session_state[ykey])
    if not np.allclose(guess, np.round(state.mixture.mu[j], 2)):  # placed by the student: show it
        fig = lesson_figures.mark_guess(fig, guess)
    event = _chart(fig, _key(asked, "fig"), on_select="rerun", selection_mode="points")
    # the click grid's point under the cursor, or a data point where one is closer: either way, where the click was
    points = event.get("selection", {}).get("points", []) if isinstance(event, dict) else []
    if points:
        clicked = (round(float(points[-1]["x"]), 2), round(float(points[-1]["y"]), 2))
        if clicked != st.session_state.get(_key(asked, "clicked")):
            st.session_state[_key(asked, "clicked")] = clicked
            st.session_state[xkey], st.session_state[ykey] = clicked
            st.rerun()
    left, right = st.columns(2)
    x = left.number_input("x", step=0.1, format="%.2f", key=xkey)
    y = right.number_input("y", step=0.1, format="%.2f", key=ykey)
    return (x, y)


#: Height of a row of ``st.dataframe``, and of its header, in CSS px (Streamlit's default row height).
ROW_PX = 35


def _ratings_table(X: np.ndarray, first_user: int = 0, post_column=None, label: str = "") -> pd.DataFrame:
    """Users x items as text: a missing rating blank (st.dataframe shows a NaN as "None", whatever a Styler's
    ``na_rep``), and optionally a responsibility column first, every one with three decimals (0.110, not
    0.11 beside 0.064). :func:`_show_table` writes it with the numbers to the right."""
    table = pd.DataFrame(
        [[f"{value:g}" if value != 0 else "" for value in row] for row in X],
        columns=[f"item {i + 1}" for i in range(X.shape[1])],
    )
    if post_column is not None:
        table.insert(0, label, [f"{value:.3f}" for value in np.asarray(post_column, dtype=float)])
    table.index = [f"user {u + 1}" for u in range(first_user, first_user + X.shape[0])]
    return table


def _show_table(table: pd.DataFrame, key: str, **kwargs) -> None:
    """``st.dataframe`` of a table of numbers written as text, each column aligned to the right."""
    config = {column: st.column_config.TextColumn(alignment="right") for column in table.columns}
    st.dataframe(table, key=key, column_config=config, **kwargs)


def _table_height(rows: int) -> int:
    """The height that shows ``rows`` rows and the header without a scroll bar of the table's own."""
    return ROW_PX * (rows + 1) + 3


def _ask_frozen(asked: lesson_plan.Asked):
    X, state, j = _data(asked), asked.state, asked.target
    # every user in view: the student adds up responsibilities per item, which a table scrolling inside the page hid
    table = _ratings_table(X, 0, state.post[:, j], f"p(j={j + 1}|u)")
    _show_table(table, _key(asked, "table"), height=_table_height(X.shape[0]))
    st.caption("Blank = missing. The first column is each user's responsibility for the component, from the E-step.")
    items = st.multiselect(
        f"Items whose mean coordinate j={j + 1} keeps (none: leave empty)",
        list(range(X.shape[1])),
        format_func=lambda i: f"item {i + 1}",
        key=_key(asked, "items"),
    )
    reason = st.radio(
        "Why?",
        list(range(len(answers.FROZEN_REASONS))),
        format_func=lambda r: answers.FROZEN_REASONS[r],
        index=None,
        key=_key(asked, "reason"),
    )
    return None if reason is None else (tuple(items), reason)


def _cell_tables(asked: lesson_plan.Asked) -> None:
    X, mixture = _data(asked), asked.state.mixture
    user, item = asked.target
    _show_table(_ratings_table(X[user : user + 1], user), _key(asked, "row"))
    parts = pd.DataFrame(
        {"p(j|u)": asked.answer.post, f"μⱼ at item {item + 1}": mixture.mu[:, item]},
        index=[f"j={j + 1}" for j in range(mixture.n_components)],
    )
    _show_table(parts.T.map(lambda value: f"{value:.3f}"), _key(asked, "parts"))


def _ask_completion(asked: lesson_plan.Asked):
    _cell_tables(asked)
    return st.number_input("Completed value", value=None, step=0.1, format="%.2f", key=_key(asked, "guess"))


def _ask_best_k(asked: lesson_plan.Asked):
    _chart(mixture_figures.plain_points(_data(asked), title="The data"), _key(asked, "fig"))
    return st.radio("BIC will choose K =", list(asked.answer.ks), index=None, horizontal=True, key=_key(asked, "guess"))


def _ask_versus(asked: lesson_plan.Asked):
    X = _data(asked)
    _chart(matrix_figures.matrix_image(X, X == 0, title="Observed ratings (grey: missing)"), _key(asked, "fig"))
    return st.radio(
        "Closer to gold on the missing entries:",
        answers.COMPLETIONS,
        index=None,
        horizontal=True,
        key=_key(asked, "guess"),
    )


ASK = {
    "strongest": _ask_strongest,
    "score_change": _ask_score_change,
    "mean_move": _ask_mean_move,
    "frozen": _ask_frozen,
    "completion": _ask_completion,
    "best_k": _ask_best_k,
    "versus_baseline": _ask_versus,
}


# ---------------------------------------------------------------- after the answer: what happened


def _show_strongest(asked: lesson_plan.Asked, guess) -> None:
    X, after = _data(asked), asked.after
    before = strongest(asked.state.post) if asked.state.iteration else None
    changed = None if before is None else np.flatnonzero(before != np.argmax(after.post, axis=1))
    fig = lesson_figures.fit_figure(X, after.post, after.mixture, _fit_title(asked, True), _has_spread(asked), changed)
    _chart(lesson_figures.ring_point(fig, X[asked.target], f"point {asked.target + 1}"), _key(asked, "after"))


def _show_score_change(asked: lesson_plan.Asked, guess) -> None:
    after = asked.after
    _chart(
        curve_figures.score_curve(list(after.scores), "log_likelihood", current=after.iteration + 1),
        _key(asked, "after"),
    )


def _show_mean_move(asked: lesson_plan.Asked, guess) -> None:
    X, after, answer = _data(asked), asked.after, asked.answer
    fig = lesson_figures.fit_figure(
        X, after.post, after.mixture, _fit_title(asked, True), True, previous=asked.state.mixture
    )
    _chart(lesson_figures.mark_guess(fig, guess, answer.new), _key(asked, "after"))


def _show_frozen(asked: lesson_plan.Asked, guess) -> None:
    answer, j = asked.answer, asked.target
    table = pd.DataFrame(
        {
            "support": np.round(answer.support, 3),
            "kept (support < 1)": ["yes" if i in answer.items else "" for i in range(answer.support.size)],
            "mean before": np.round(asked.state.mixture.mu[j], 3),
            "mean after": np.round(asked.after.mixture.mu[j], 3),
        },
        index=[f"item {i + 1}" for i in range(answer.support.size)],
    )
    st.dataframe(table, key=_key(asked, "after"))


def _show_completion(asked: lesson_plan.Asked, guess) -> None:
    answer = asked.answer
    st.dataframe(
        pd.DataFrame(
            {
                "your guess": [round(float(guess), 3)],
                "completion": [round(answer.value, 3)],
                "user's mean": [round(answer.user_mean, 3)],
            }
        ),
        hide_index=True,
        key=_key(asked, "after"),
    )


def _show_best_k(asked: lesson_plan.Asked, guess) -> None:
    answer = asked.answer
    series = {"log-likelihood": answer.log_likelihoods, "BIC": answer.bics}
    _chart(curve_figures.model_selection_figure(answer.ks, series, answer.best_k), _key(asked, "after"))


def _show_versus(asked: lesson_plan.Asked, guess) -> None:
    answer = asked.answer
    winner = answers.COMPLETIONS.index(answer.winner)
    fig = curve_figures.bar_chart(
        list(answers.COMPLETIONS),
        [answer.mixture_rmse, answer.user_mean_rmse],
        "RMSE on the missing entries",
        "RMSE",
        winner,
    )
    _chart(fig, _key(asked, "after"))


SHOW = {
    "strongest": _show_strongest,
    "score_change": _show_score_change,
    "mean_move": _show_mean_move,
    "frozen": _show_frozen,
    "completion": _show_completion,
    "best_k": _show_best_k,
    "versus_baseline": _show_versus,
}
