"""The frame every fit page shares, and the points-and-curve row of the two 2-D pages.

A fit page is a title and a caption, a guard for its kind of data, its fit (reset visibly when
the settings change) and a fragment that runs the stepping block and then the page's own
body. Only the fragment reruns on a Step click or a Play tick.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import NamedTuple

import numpy as np
import streamlit as st

from dashboard import caches, controls, curve_figures, fits, live_chart, mixture_figures, presentation, session
from dashboard.limits import PLAY_INTERVAL
from em_core import stepping
from em_core.mixture import GaussianMixture


class Shown(NamedTuple):
    """What the fragment shows on this run: the iteration the slider picked and the fit at it."""

    s: session.Settings
    slot: fits.FitSlot
    iteration: int
    mixture: GaussianMixture
    post: np.ndarray  # (n, K) responsibilities that go with ``mixture``
    producing_post: np.ndarray | None  # (n, K) the posterior the M-step that made ``mixture`` used, if known
    row: presentation.Beside | None = None  # presentation mode on a 2-D page: the chart's column and the one beside
    scrubbed: bool = False  # an earlier state than the fit's current one, by the scrub slider

    @property
    def scores(self) -> list[float]:
        return list(self.slot.state.scores)

    @property
    def latest(self) -> bool:
        """The fit's current state is what is shown (not an earlier iteration scrubbed back to)."""
        return not self.scrubbed

    @property
    def after_estep(self) -> bool:
        """What is shown is the fit between an E-step and its M-step."""
        return self.latest and self.slot.state.next_step == "M"

    @property
    def title(self) -> str:
        """``"Iteration 3 — after the E-step"`` (the E-step of iteration 3 is done, not its M-step),
        ``"Iteration 3 — after the M-step"``, or ``"Iteration 0 — initial"``."""
        phrases = self.slot.method.half_phrases
        if self.after_estep:
            return f"Iteration {self.iteration + 1} — after {phrases[0]}"
        if self.iteration == 0:
            return "Iteration 0 — initial"
        return f"Iteration {self.iteration} — after {phrases[1]}"

    @property
    def current(self) -> int:
        """The iteration the score curve marks: the E-step's iteration once its score exists."""
        if self.after_estep and len(self.slot.state.scores) > self.iteration:
            return self.iteration + 1
        return self.iteration

    @property
    def changed(self) -> np.ndarray | None:
        """The points whose strongest component changed in the E-step just done (None: not shown)."""
        entries = self._just_done()
        estep = [e for e in entries if e.half == "E"]
        return estep[-1].change.changed if estep else None

    @property
    def previous(self) -> GaussianMixture | None:
        """The mixture before the M-step just done, for its ghosts (None: not shown)."""
        entries = self._just_done()
        if self.after_estep or not entries or entries[-1].half != "M":
            return None
        return entries[-1].change.before

    @property
    def not_updated(self) -> np.ndarray | None:
        """EM on a rating matrix: the mean coordinates the M-step that made the shown mixture kept
        (support < 1), as its narration computed them (None when the step log no longer holds it)."""
        for entry in reversed(self.slot.log):
            if entry.half == "M" and entry.iteration == self.iteration:
                return entry.change.not_updated
            if entry.iteration < self.iteration:
                break
        return None

    def _just_done(self) -> tuple:
        """The latest control's log entries when they lead to what is shown (one E- or M-step, or a
        Step); a Run, a scrubbed-back view or a reset shows none."""
        entries = self.slot.last
        return entries if self.latest and 0 < len(entries) <= 2 else ()


def run(
    s: session.Settings,
    method: fits.Method,
    slot_name: str,
    prefix: str,
    body: Callable[[Shown], None],
    kind: str,
    two_d: bool = False,
    start: fits.Start = fits.COURSE_START,
) -> None:
    """Guard the page, get its fit, and run ``body`` in a fragment after the stepping block.

    Widget keys start with ``prefix`` (see :func:`dashboard.controls.stepper`); the fit lives
    in ``st.session_state.fits[slot_name]``, started as ``start`` says. The page writes its title and caption first.
    """
    session.require(s, kind=kind, two_d=two_d)
    slot = fits.get_fit(slot_name, s, method, start)
    presentation.enabled(presentation.keys_legend(method.half_labels))

    @st.fragment(run_every=PLAY_INTERVAL if slot.playing else None)
    def panel() -> None:
        # two containers, so the body's elements keep their place in the page whatever the stepping block
        # shows (the step log and the slider come with the first step): an element that moves is mounted
        # anew, and a live chart (dashboard.live_chart) would load and draw from scratch
        with st.container():
            controls.step_buttons(slot, s, prefix)
            # a projector: the points chart as tall as the screen allows, the status and the slider beside it
            row = presentation.beside(s.dataset.X, prefix) if two_d and presentation.is_on() else None
            position = controls.step_status(slot, prefix, side=None if row is None else row.side)
        # the slider's position past the fit's iteration is the E-step made since (its iteration's number)
        scrubbed = position < controls.latest_position(slot.state)
        shown = min(position, slot.state.iteration)
        if scrubbed:  # the link reopens the iteration shown
            session.sync_url(s, shown)
        view = stepping.view(slot.algorithm, s.dataset.X, slot.state, shown, after_mstep=scrubbed)
        with st.container():
            body(Shown(s, slot, shown, view.mixture, view.post, view.producing_post, row, scrubbed))
        controls.mark_drawn(slot, prefix)  # Play's next tick may step on (controls.play_tick)

    panel()


def empty_curve_message(shown: Shown) -> str:
    """What an empty score curve says: press Step, or (K-means after Assign) when its cost comes."""
    state = shown.slot.state
    if state.iteration == 0 and state.next_step == "M":
        labels = shown.slot.method.half_labels
        return f"The {shown.slot.score_name.replace('_', '-')} of iteration 1 comes with its {labels[1]}"
    return "Press Step to start"


def points_and_curve(shown: Shown, prefix: str, captions: tuple[str, str], curve_key: str):
    """The 2-D pages' row: the points and the fit on the left, the score curve on the right.

    Chart keys: ``{prefix}_points`` and ``curve_key``; each chart has its caption below it. In
    presentation mode the row is :attr:`Shown.row`: the chart's title heads the column beside it,
    the keys end it.
    Returns the right-hand column, for the page to add to.
    """
    method = shown.slot.method
    row = shown.row
    if row is None:
        left, right = st.columns([3, 2])
    else:
        left, right = row.main, row.side
        row.heading.markdown(f"#### {shown.title}")
    # each chart is built once per input and shared by every session (a class on one link steps through
    # the same fits): the key names every input of its builder
    title, changed, previous = shown.title, shown.changed, shown.previous
    before = "" if previous is None else caches.mixture_digest(previous)
    points_key = "|".join(
        (
            session.content_key(shown.s),
            caches.mixture_digest(shown.mixture),
            caches.array_digest(shown.post, changed),
            "no rings" if changed is None else "rings",  # None (not shown) and none changed digest alike
            before,
            title,
            str(method.has_spread),
        )
    )
    figure = caches.figure_once(
        "points",
        points_key,
        lambda: mixture_figures.points_figure(
            shown.s.dataset.X,
            shown.post,
            shown.mixture,
            title=title,
            circles=method.has_spread,
            show_weights=method.has_spread,
            changed=changed,
            previous=previous,
        ),
    )
    with left:  # live charts (dashboard.live_chart): a Step redraws them in place, not mounted anew
        live_chart.show(presentation.size(figure, "main"), f"{prefix}_points")
    left.caption(captions[0])
    scores, score_name, current, empty = shown.scores, shown.slot.score_name, shown.current, empty_curve_message(shown)
    curve = caches.figure_once(
        "score",
        f"{score_name}|{scores}|{current}|{empty}",
        lambda: curve_figures.score_curve(scores, score_name, current=current, empty_message=empty),
    )
    with right:
        live_chart.show(presentation.size(curve, "side"), curve_key)
    right.caption(captions[1])
    if row is not None:  # the sidebar, which lists the keys too, is closed on a projector
        right.markdown(presentation.keys_legend(shown.slot.method.half_labels))
    return right
