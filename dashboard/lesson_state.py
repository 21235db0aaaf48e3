"""The lesson page's session: its keys (initialised once, here), its cached stages and the student's answers.

Keys: ``lesson_stage`` (index into :data:`em_core.lesson_plan.LESSON`), ``lesson_attempts`` (stage key ->
retry count; the seed is the stage's plus it), ``lesson_answers`` (stage key -> (guess, verdict) of the
current attempt), ``lesson_records`` (every answer given, :class:`em_core.lesson_plan.Record`),
``lesson_script`` (the instructor's script in use), ``lesson_script_index`` (its state shown, 0-based).
"""

from __future__ import annotations

import json

import pandas as pd
import streamlit as st

from dashboard import presentation, session
from dashboard.byte_cache import byte_cache
from dashboard.limits import CACHE_BYTES
from em_core import lesson_plan, lesson_script
from em_core.data import available_datasets
from em_core.errors import DataError

#: The page's two modes and the link parameter that opens the second.
MODES = ("Lesson", "Instructor's script")
SCRIPT_PARAM = "script"
STATE_PARAM = "state"
VIEW_PARAM = "view"


def init() -> None:
    """Initialise every lesson key once; a link's ``?script=NAME&state=N`` opens that script state."""
    if "lesson_stage" in st.session_state:
        return
    st.session_state.lesson_stage = 0
    st.session_state.lesson_attempts = {}
    st.session_state.lesson_answers = {}
    st.session_state.lesson_records = []
    st.session_state.lesson_script = None
    st.session_state.lesson_script_index = 0
    st.session_state.lesson_script_error = None
    st.session_state.lesson_script_link = "default"  # the shipped script's name, None for an upload
    st.session_state.lesson_mode = MODES[0]
    name = st.query_params.get(SCRIPT_PARAM)
    if name is not None:
        st.session_state.lesson_mode = MODES[1]
        try:
            st.session_state.lesson_script = lesson_script.load_script(name)
            st.session_state.lesson_script_link = name
        except DataError as err:
            st.session_state.lesson_script_error = f"The link's {err}"
        number = st.query_params.get(STATE_PARAM, "1")
        script = st.session_state.lesson_script
        if script is not None and number.isdigit() and 1 <= int(number) <= len(script.states):
            st.session_state.lesson_script_index = int(number) - 1


def notes_view() -> bool:
    """The link asks for the speaker-notes view (``&view=notes``)."""
    return st.query_params.get(VIEW_PARAM) == "notes"


# ---------------------------------------------------------------- data and stages


def dataset(name: str):
    """A built-in or course data set, loaded once per process (the sidebar's cache)."""
    return session.load_named(name, session.folders_key())


@byte_cache(CACHE_BYTES["lesson"])
def _asked(stage_key: str, dataset_name: str, folders: str, attempt: int) -> lesson_plan.Asked:
    stage = lesson_plan.stage(stage_key)
    choice = lesson_plan.choose_data(stage, [dataset_name])
    data = dataset(dataset_name)
    return lesson_plan.ask(stage, choice, data.X, data.gold, attempt)


def current_stage() -> lesson_plan.Stage:
    return lesson_plan.LESSON[st.session_state.lesson_stage]


def attempt(stage: lesson_plan.Stage) -> int:
    return st.session_state.lesson_attempts.get(stage.key, 0)


def asked(stage: lesson_plan.Stage) -> lesson_plan.Asked:
    """The stage put in place on the first of its data sets available here, for the current attempt."""
    choice = lesson_plan.choose_data(stage, available_datasets())
    with st.spinner("Setting up the stage ..."):
        return _asked(stage.key, choice.dataset, session.folders_key(), attempt(stage))


def go_to(index: int) -> None:
    st.session_state.lesson_stage = max(0, min(index, len(lesson_plan.LESSON) - 1))


def retry(stage: lesson_plan.Stage) -> None:
    """The same stage again from the next seed; the earlier answer stays in the records."""
    st.session_state.lesson_attempts[stage.key] = attempt(stage) + 1
    st.session_state.lesson_answers.pop(stage.key, None)


# ---------------------------------------------------------------- answers


def answer(asked: lesson_plan.Asked, guess) -> None:
    """Score ``guess`` and keep it (once per attempt: a second click changes nothing)."""
    key = asked.stage.key
    if key in st.session_state.lesson_answers:
        return
    result = lesson_plan.verdict(asked, guess)
    st.session_state.lesson_answers[key] = (guess, result)
    st.session_state.lesson_records.append(lesson_plan.record(asked, guess, result))


def answered(stage: lesson_plan.Stage):
    """``(guess, verdict)`` of the current attempt, or None before the answer."""
    return st.session_state.lesson_answers.get(stage.key)


def records() -> list[lesson_plan.Record]:
    return list(st.session_state.lesson_records)


def records_csv(rows: list[lesson_plan.Record]) -> str:
    return pd.DataFrame([r._asdict() for r in rows], columns=lesson_plan.Record._fields).to_csv(index=False)


def records_json(rows: list[lesson_plan.Record]) -> str:
    points, out_of = lesson_plan.score_total(rows)
    return json.dumps({"points": points, "out_of": out_of, "answers": [r._asdict() for r in rows]}, indent=2)


# ---------------------------------------------------------------- the instructor's script


def script() -> lesson_script.Script:
    """The script in use: the one loaded or linked, else the shipped default."""
    if st.session_state.lesson_script is None:
        st.session_state.lesson_script = lesson_script.load_script("default")
    return st.session_state.lesson_script


def load_upload(name: str, content: bytes) -> None:
    """Use an uploaded script; a bad one leaves the current script in place and keeps the message."""
    try:
        st.session_state.lesson_script = lesson_script.read_script(content, name)
    except DataError as err:
        st.session_state.lesson_script_error = str(err)
        return
    st.session_state.lesson_script_error = None
    st.session_state.lesson_script_link = None
    st.session_state.lesson_script_index = 0


def step_script(delta: int) -> None:
    """Next (+1) or previous (-1) state, kept within the script."""
    count = len(script().states)
    st.session_state.lesson_script_index = max(0, min(st.session_state.lesson_script_index + delta, count - 1))


def sync_script_url() -> None:
    """``?script=NAME&state=N`` (and present/view) for the state shown: the link reopens it."""
    wanted = {STATE_PARAM: str(st.session_state.lesson_script_index + 1)}
    if st.session_state.lesson_script_link:
        wanted = {SCRIPT_PARAM: st.session_state.lesson_script_link, **wanted}
    if presentation.is_on():
        wanted[presentation.KEY] = "1"
    if notes_view():
        wanted[VIEW_PARAM] = "notes"
    if dict(st.query_params) != wanted:
        st.query_params.from_dict(wanted)  # one message to the browser
