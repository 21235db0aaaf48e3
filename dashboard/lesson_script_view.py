"""The instructor's script on the page: one state at a time, stepped with Previous / Next (→ / ← in
presentation mode), the speaker notes hidden from the projected view, and a script file of one's own.

A state is drawn here with the dashboard's own figure builders (the fit page's scatter, the means heatmap,
the completed matrix, the BIC sweep) and links to its full page at the same data set, K, seed and iteration.
Widget keys: ``script_prev``, ``script_next``, ``script_upload``.
"""

from __future__ import annotations

import hashlib

import streamlit as st

from dashboard import curve_figures, lesson_figures, lesson_state, matrix_figures, presentation, session
from dashboard.byte_cache import byte_cache
from dashboard.limits import CACHE_BYTES
from em_core import em, lesson_answers, lesson_plan, lesson_script
from em_core.data import available_datasets
from em_core.errors import DataError
from em_core.experiment import algorithm_for

#: Keys that step the script in presentation mode (a presenter's clicker sends PageDown / PageUp, which
#: the browser would scroll with; the arrows are what a keyboard offers first).
NEXT_KEY, PREVIOUS_KEY = "Right", "Left"
KEYS_LEGEND = "**Keys:** `→` next state · `←` previous state"
#: The address of each script page, for the link that opens a state on its own page (in a new tab: a new
#: session, which reads the link's data set, K, seed and iteration).
PAGE_PATHS = {
    "kmeans": "kmeans_2d",
    "em2d": "em_2d",
    "matrix": "em_matrix",
    "completion": "completion",
    "model_selection": "model_selection",
}
#: Seeds of the BIC sweep a model-selection state shows (the course's five).
SWEEP_SEEDS = (0, 1, 2, 3, 4)


@byte_cache(CACHE_BYTES["lesson"])
def _fit(page: str, dataset: str, folders: str, k: int, seed: int, iteration: int | None, after_estep: bool):
    X = lesson_state.dataset(dataset).X
    algorithm = algorithm_for(lesson_script.PAGE_ALGORITHMS[page])
    return lesson_plan.position(algorithm, X, k, seed, iteration, "M" if after_estep else "E")


@byte_cache(CACHE_BYTES["lesson"])
def _sweep(dataset: str, folders: str, k: int) -> lesson_answers.BicAnswer:
    data = lesson_state.dataset(dataset)
    algorithm = "naive-em" if data.kind == "points" else "em"
    return lesson_answers.best_k_by_bic(data.X, algorithm, range(1, k + 1), SWEEP_SEEDS)


def _chart(fig, key: str) -> None:
    st.plotly_chart(presentation.sized(fig) if presentation.is_on() else fig, key=key)


def _draw(state: lesson_script.ScriptState, dataset: str) -> None:
    data = lesson_state.dataset(dataset)
    X = data.X
    lesson_script.check_against(state, X.shape[0], X.shape[1], dataset)
    folders = session.folders_key()
    if state.page == "model_selection":
        with st.spinner("Fitting every K ..."):
            answer = _sweep(dataset, folders, state.k)
        series = {"log-likelihood": answer.log_likelihoods, "BIC": answer.bics}
        _chart(curve_figures.model_selection_figure(answer.ks, series, answer.best_k, state.title), "script_fig")
        return
    with st.spinner("Putting the fit in place ..."):
        fit = _fit(state.page, dataset, folders, state.k, state.seed, state.iteration, state.after_estep)
    highlight = state.highlight
    if state.page in ("kmeans", "em2d"):
        previous = None
        if fit.iteration > 0 and fit.next_step == "E" and fit.history_range[0] < fit.iteration:
            previous = fit.mixture_at(fit.iteration - 1)
        title = lesson_figures.fit_title(fit, state.page == "kmeans")
        fig = lesson_figures.fit_figure(X, fit.post, fit.mixture, title, state.page == "em2d", previous=previous)
        if highlight is not None and highlight.kind in ("point", "user"):
            fig = lesson_figures.ring_point(fig, X[highlight.index[0]], highlight.text)
        if highlight is not None and highlight.kind == "component":
            fig = lesson_figures.ring_point(fig, fit.mixture.mu[highlight.index[0]], highlight.text)
        _chart(fig, "script_fig")
    elif state.page == "matrix":
        mark = f" · {highlight.text}" if highlight is not None else ""
        _chart(
            matrix_figures.means_heatmap(fit.mixture.mu, title=f"Means after iteration {fit.iteration}{mark}"),
            "script_fig",
        )
    else:
        completed = em.fill_matrix(X, fit.mixture)
        mark = (
            f" · {highlight.text}: {completed[highlight.index]:.2f}"
            if highlight is not None and highlight.kind == "cell"
            else ""
        )
        _chart(matrix_figures.matrix_image(completed, None, title=f"Completed matrix{mark}"), "script_fig")


def _notes(state: lesson_script.ScriptState, large: bool = False) -> None:
    if not state.notes:
        return
    text = "\n".join(f"- {line}" for line in state.notes)
    with st.container(border=True, key="script_notes"):
        st.markdown("**Speaker notes**" + (" (hidden on the projector)" if not large else ""))
        st.markdown(text)


def _upload() -> None:
    upload = st.file_uploader("Load your own script (.txt)", type=["txt"], key="script_upload")
    if upload is None:
        st.session_state.pop("script_upload_digest", None)
        return
    content = upload.getvalue()
    digest = hashlib.sha256(content).hexdigest()
    if st.session_state.get("script_upload_digest") != digest:
        st.session_state.script_upload_digest = digest
        lesson_state.load_upload(upload.name, content)


def show() -> None:
    presenting = presentation.enabled()
    if presenting:
        st.sidebar.markdown(KEYS_LEGEND)
    notes_view = lesson_state.notes_view()
    if not presenting:
        _upload()
        st.caption("Format: docs/lesson_scripts/README.md. A link with ?script=default&state=3 opens a state.")
    error = st.session_state.lesson_script_error
    if error:
        st.error(error, icon=":material/error:")
    script = lesson_state.script()
    index = st.session_state.lesson_script_index
    state = script.states[index]
    left, middle, right = st.columns([1, 4, 1])
    left.button(
        "Previous",
        key="script_prev",
        disabled=index == 0,
        on_click=lesson_state.step_script,
        args=(-1,),
        width="stretch",
        shortcut=PREVIOUS_KEY if presenting or notes_view else None,
    )
    middle.markdown(f"**State {index + 1} of {len(script.states)}: {state.title}**")
    right.button(
        "Next",
        key="script_next",
        disabled=index == len(script.states) - 1,
        on_click=lesson_state.step_script,
        args=(1,),
        width="stretch",
        type="primary",
        shortcut=NEXT_KEY if presenting or notes_view else None,
    )
    lesson_state.sync_script_url()
    if notes_view:
        _notes(state, large=True)
        return
    try:
        dataset = lesson_script.resolve_dataset(state, available_datasets())
        _draw(state, dataset)
    except DataError as err:
        st.error(f"{script.name}: {err}", icon=":material/error:")
        return
    if not presenting:
        _notes(state)
        it = "1000" if state.iteration is None else str(state.iteration)
        link = f"./{PAGE_PATHS[state.page]}?dataset={dataset}&k={state.k}&seed={state.seed}&it={it}"
        st.markdown(f":material/open_in_new: [Open this state on its page]({link}) (a new tab)")
