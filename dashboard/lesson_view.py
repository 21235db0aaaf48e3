"""The guided lesson on the page: one stage at a time, predict, then step; the score and its download.

Widget keys: ``lesson_prev`` / ``lesson_next`` (stages), ``lesson_submit`` (check the answer, which runs
the step), ``lesson_retry`` (the stage again from another seed), ``lesson_csv`` / ``lesson_json``.
"""

from __future__ import annotations

import streamlit as st

from dashboard import lesson_questions, lesson_state
from em_core import lesson_plan
from em_core.errors import DataError


def _progress() -> None:
    index = st.session_state.lesson_stage
    points, out_of = lesson_plan.score_total(lesson_state.records())
    st.markdown(
        f"**Stage {index + 1} of {len(lesson_plan.LESSON)}** · score **{points} / {out_of}**",
        help="Each answer scores 1 point (2 where the question has two parts).",
    )


def _navigation(after: bool) -> None:
    index = st.session_state.lesson_stage
    last = index == len(lesson_plan.LESSON) - 1
    left, middle, right = st.columns(3)
    left.button(
        "Previous stage",
        key="lesson_prev",
        disabled=index == 0,
        on_click=lesson_state.go_to,
        args=(index - 1,),
        width="stretch",
    )
    middle.button(
        "Try again with another seed",
        key="lesson_retry",
        disabled=not after,
        on_click=lesson_state.retry,
        args=(lesson_state.current_stage(),),
        width="stretch",
        icon=":material/casino:",
    )
    right.button(
        "Next stage",
        key="lesson_next",
        disabled=last,
        on_click=lesson_state.go_to,
        args=(index + 1,),
        width="stretch",
        type="primary" if after else "secondary",
    )


def _downloads() -> None:
    rows = lesson_state.records()
    if not rows:
        return
    with st.expander(f"Your answers ({len(rows)})"):
        st.dataframe([r._asdict() for r in rows], key="lesson_records_table")
        left, right = st.columns(2)
        left.download_button(
            "Download CSV", lesson_state.records_csv(rows), "lesson_answers.csv", "text/csv", key="lesson_csv"
        )
        right.download_button(
            "Download JSON",
            lesson_state.records_json(rows),
            "lesson_answers.json",
            "application/json",
            key="lesson_json",
        )


def setting(asked: lesson_plan.Asked) -> str:
    """The line under a stage's title: its data set, K and seed; for the question which K BIC chooses, the
    Ks and seeds it compares (naming the one K the stage's chart was drawn with gave the answer away)."""
    if asked.stage.question == "best_k":
        answer = asked.answer
        return (
            f"{asked.choice.dataset} · K = {', '.join(map(str, answer.ks))} compared · "
            f"the best of seeds {', '.join(map(str, answer.seeds))} for each"
        )
    return f"{asked.choice.dataset} · K = {asked.choice.k} · seed {asked.seed}"


def show() -> None:
    """The current stage: intro, the question before the answer, what happened after it."""
    stage = lesson_state.current_stage()
    try:
        asked = lesson_state.asked(stage)
    except DataError as err:
        st.error(str(err), icon=":material/error:")
        st.stop()
    done = lesson_state.answered(stage)
    _progress()
    st.subheader(stage.title)
    st.caption(setting(asked))
    st.markdown(stage.intro)
    st.markdown(f"**{lesson_plan.prompt(asked)}**")
    if done is None:
        guess = lesson_questions.ASK[stage.question](asked)
        if st.button("Check my answer, then step", key="lesson_submit", type="primary", disabled=guess is None):
            lesson_state.answer(asked, guess)
            st.rerun()
    else:
        guess, verdict = done
        lesson_questions.SHOW[stage.question](asked, guess)
        box = st.success if verdict.correct else (st.warning if verdict.points else st.error)
        box(
            f"**{verdict.points} / {verdict.out_of}** — you said {lesson_plan.guess_text(asked, guess)}. "
            + verdict.sentence,
            icon=":material/check_circle:" if verdict.correct else ":material/lightbulb:",
        )
    _navigation(done is not None)
    _downloads()
