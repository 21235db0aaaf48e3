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

from dashboard import controls, curve_figures, fits, mixture_figures, session
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

    @property
    def scores(self) -> list[float]:
        return list(self.slot.state.scores)


def run(
    s: session.Settings,
    method: fits.Method,
    slot_name: str,
    prefix: str,
    body: Callable[[Shown], None],
    kind: str,
    two_d: bool = False,
) -> None:
    """Guard the page, get its fit, and run ``body`` in a fragment after the stepping block.

    Widget keys start with ``prefix`` (see :func:`dashboard.controls.stepper`); the fit lives
    in ``st.session_state.fits[slot_name]``. The page writes its title and caption first.
    """
    session.require(s, kind=kind, two_d=two_d)
    slot = fits.get_fit(slot_name, s, method)
    controls.reset_notice(slot)

    @st.fragment(run_every=PLAY_INTERVAL if slot.playing else None)
    def panel() -> None:
        shown = controls.stepper(slot, s, prefix)
        view = stepping.view(slot.algorithm, s.dataset.X, slot.state, shown)
        body(Shown(s, slot, shown, view.mixture, view.post, view.producing_post))

    panel()


def points_and_curve(shown: Shown, prefix: str, captions: tuple[str, str], curve_key: str):
    """The 2-D pages' row: the points and the fit on the left, the score curve on the right.

    Chart keys: ``{prefix}_points`` and ``curve_key``; each chart has its caption below it.
    Returns the right-hand column, for the page to add to.
    """
    method = shown.slot.method
    left, right = st.columns([3, 2])
    with left:
        figure = mixture_figures.points_figure(
            shown.s.dataset.X,
            shown.post,
            shown.mixture,
            title=f"Iteration {shown.iteration}",
            circles=method.has_spread,
            show_weights=method.has_spread,
        )
        st.plotly_chart(figure, key=f"{prefix}_points")
        st.caption(captions[0])
    with right:
        curve = curve_figures.score_curve(shown.scores, shown.slot.score_name, current=shown.iteration)
        st.plotly_chart(curve, key=curve_key)
        st.caption(captions[1])
    return right
