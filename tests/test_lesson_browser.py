"""The Lesson page in chromium: the whole lesson played with right answers (full score, the mean placed by a
click on the chart) and with wrong ones (every explanation shown), and the instructor's script stepped with
the arrow keys in presentation mode, its speaker notes hidden there.

The right answers come from em_core here (:func:`em_core.lesson_plan.ask`, the call the page makes), on the
data sets the server sees (the same EM_DATA_DIR). Screenshots of a question before and after its answer go to
test-artifacts/screenshots/ and, with EM_UPDATE_SCREENSHOTS=1, to docs/screenshots/lesson_question.png and
lesson_answer.png.
"""

from __future__ import annotations

import math
import os
import re
import shutil
import time

import numpy as np
import pytest
from playwright.sync_api import Page, expect

from em_core import lesson_plan
from em_core.data import available_datasets, load_dataset
from em_core.lesson_answers import COMPLETIONS, FROZEN_REASONS
from tests.browser_page import AppPage
from tests.helpers import CHROMIUM, CHROMIUM_MISSING, REPO
from tests.streamlit_server import StreamlitServer

pytestmark = pytest.mark.browser

#: This test's server port (the lesson's share of 8720-8729), so it never meets another test's server.
PORT = 8721
SCREENSHOTS = REPO / "test-artifacts" / "screenshots"
README_SCREENSHOTS = REPO / "docs" / "screenshots"
README_SHOTS = {"lesson_question.png", "lesson_answer.png"}  # copied when EM_UPDATE_SCREENSHOTS=1
#: Milliseconds a rerun may take here: the lesson's stages fit small data, but the machine may be shared.
TIMEOUT_MS = 90_000
SIZES = (0.001, 0.01, 0.1, 1.0, 10.0, 100.0, 1000.0, 10000.0)  # the slider's stops (dashboard.lesson_questions)


@pytest.fixture(scope="module")
def lesson_server():
    if CHROMIUM is None:
        pytest.skip(CHROMIUM_MISSING)
    server = StreamlitServer(log_path=REPO / "test-artifacts" / "streamlit-lesson.log")
    server.port = PORT
    with server:
        yield server


@pytest.fixture
def app(lesson_server: StreamlitServer, page: Page) -> AppPage:
    page.set_viewport_size({"width": 1400, "height": 900})
    page.set_default_timeout(TIMEOUT_MS)  # clicks too: on a shared 2-core machine a rerun can take a while
    return AppPage(page, lesson_server.url, timeout_ms=TIMEOUT_MS)


def _open(app: AppPage, path: str) -> None:
    app.goto(path)
    app.wait_opened("Lesson: predict, then step", status=False)


def _asked(stage: lesson_plan.Stage) -> lesson_plan.Asked:
    choice = lesson_plan.choose_data(stage, available_datasets())
    data = load_dataset(choice.dataset)
    return lesson_plan.ask(stage, choice, data.X, data.gold)


def _key(asked: lesson_plan.Asked, what: str) -> str:
    return f"lesson_{asked.stage.key}_{asked.seed}_{what}"


def _widget(app: AppPage, key: str):
    return app.page.locator(f".st-key-{key}")


def _choose(app: AppPage, key: str, label: str) -> None:
    _widget(app, key).get_by_text(label, exact=True).click()
    app.wait_idle()


def _type(app: AppPage, key: str, value: float) -> None:
    box = _widget(app, key).locator("input")
    box.fill(f"{value:.2f}")
    box.press("Enter")
    expect(box).to_have_value(f"{value:.2f}", timeout=app.timeout_ms)
    app.wait_idle()


def _click_position(app: AppPage, asked: lesson_plan.Asked, position) -> tuple[float, float]:
    """Click the chart at ``position`` (data coordinates); returns the position the page's inputs then hold."""
    chart = _widget(app, _key(asked, "fig")).locator(".js-plotly-plot")
    expect(chart.locator(".main-svg").first).to_be_visible(timeout=app.timeout_ms)
    chart.scroll_into_view_if_needed()
    pixel = chart.evaluate(
        """(gd, xy) => {
            const l = gd._fullLayout, box = gd.getBoundingClientRect();
            return [box.left + l.xaxis._offset + l.xaxis.d2p(xy[0]), box.top + l.yaxis._offset + l.yaxis.d2p(xy[1])];
        }""",
        [float(position[0]), float(position[1])],
    )
    boxes = [_widget(app, _key(asked, what)).locator("input") for what in ("x", "y")]
    before = [box.input_value() for box in boxes]
    app.page.mouse.move(pixel[0], pixel[1])
    app.click_for_a_rerun(lambda: app.page.mouse.click(pixel[0], pixel[1]))  # a chart just mounted may miss it
    deadline = time.monotonic() + app.timeout_ms / 1000
    while [box.input_value() for box in boxes] == before and time.monotonic() < deadline:
        app.page.wait_for_timeout(100)
    app.wait_idle()
    placed = tuple(float(box.input_value()) for box in boxes)
    assert list(placed) != [float(v) for v in before], "the click did not place the mean"
    return placed


def _slide_to(app: AppPage, key: str, size: float) -> None:
    thumb = _widget(app, key).get_by_role("slider")
    steps = SIZES.index(size) - SIZES.index(1.0)
    thumb.focus()
    for _ in range(abs(steps)):
        thumb.press("ArrowRight" if steps > 0 else "ArrowLeft")
    expect(thumb).to_have_attribute("aria-valuetext", f"{size:g}", timeout=app.timeout_ms)
    app.wait_idle()


def _name(asked: lesson_plan.Asked, j: int) -> str:
    return f"centre {j + 1}" if asked.stage.algorithm == "kmeans" else f"j={j + 1}"


def _answer(app: AppPage, asked: lesson_plan.Asked, right: bool, shots: bool = False):
    """Enter a right or a wrong answer through the page's own inputs; returns the guess as the page reads it."""
    answer, kind = asked.answer, asked.stage.question
    if kind == "strongest":
        j = answer.component if right else (answer.component + 1) % answer.responsibilities.size
        _choose(app, _key(asked, "guess"), _name(asked, j))
        return j
    if kind == "score_change":
        direction = answer.direction if right else "fall"
        _choose(app, _key(asked, "direction"), direction)
        if direction == "stay":
            return (direction, None)
        size = 10.0 ** round(math.log10(abs(answer.change))) if right else 0.001
        _slide_to(app, _key(asked, "size"), size)
        return (direction, size)
    if kind == "mean_move":
        placed = _click_position(app, asked, answer.new if right else answer.old + 3 * answer.tolerance)
        if shots:  # the question with the guess placed, before it is checked
            _shot(app, "lesson_question.png")
        assert np.linalg.norm(np.subtract(placed, answer.new)) <= answer.tolerance if right else True
        return placed
    if kind == "frozen":
        if right:
            for item in answer.items:
                option = app.page.get_by_role("option", name=f"item {item + 1}", exact=True)
                for _ in range(3):  # the list may still be open from the last pick (a click would close it)
                    if not option.is_visible():
                        _widget(app, _key(asked, "items")).click()
                    try:
                        expect(option).to_be_visible(timeout=10_000)
                        break
                    except AssertionError:
                        continue
                option.click()
                app.wait_idle()
            app.page.keyboard.press("Escape")
        reason = 0 if right else 2
        _choose(app, _key(asked, "reason"), FROZEN_REASONS[reason])
        return (answer.items if right else (), reason)
    if kind == "completion":
        value = round(answer.value if right else answer.value + 1.0, 2)
        _type(app, _key(asked, "guess"), value)
        return value
    if kind == "best_k":
        k = answer.best_k if right else next(k for k in answer.ks if k != answer.best_k)
        _choose(app, _key(asked, "guess"), str(k))
        return k
    winner = answer.winner
    guess = winner if right else next(c for c in COMPLETIONS if c != winner)
    _choose(app, _key(asked, "guess"), guess)
    return guess


def _shot(app: AppPage, name: str) -> None:
    page = app.page
    app.wait_idle()
    app.wait_charts()
    page.mouse.move(0, 0)
    size = page.viewport_size
    height = page.evaluate("() => document.querySelector('[data-testid=\"stMain\"]').scrollHeight")
    page.set_viewport_size({"width": size["width"], "height": max(size["height"], height)})
    try:
        app.wait_charts()
        SCREENSHOTS.mkdir(parents=True, exist_ok=True)
        page.screenshot(path=SCREENSHOTS / name, full_page=True)
    finally:
        page.set_viewport_size(size)
    if name in README_SHOTS and os.environ.get("EM_UPDATE_SCREENSHOTS") == "1":
        README_SCREENSHOTS.mkdir(parents=True, exist_ok=True)
        shutil.copyfile(SCREENSHOTS / name, README_SCREENSHOTS / name)


def _verdict_box(app: AppPage):
    return app.main.get_by_test_id("stAlert").filter(has_text=" / ")


def _play(app: AppPage, right: bool) -> None:
    _open(app, "/lesson")
    total = 0
    for index, stage in enumerate(lesson_plan.LESSON):
        expect(app.main.get_by_text(f"Stage {index + 1} of {len(lesson_plan.LESSON)}")).to_be_visible(
            timeout=app.timeout_ms
        )
        asked = _asked(stage)
        expect(app.main.get_by_text(lesson_plan.prompt(asked), exact=True)).to_be_visible(timeout=app.timeout_ms)
        guess = _answer(app, asked, right, shots=right)
        verdict = lesson_plan.verdict(asked, guess)
        app.button(key="lesson_submit").click()
        box = _verdict_box(app)
        expect(box).to_be_visible(timeout=app.timeout_ms)
        app.wait_idle()
        text = box.get_by_test_id("stMarkdownContainer").inner_text()
        assert text.startswith(f"{verdict.points} / {verdict.out_of}"), text
        assert verdict.correct == right, text
        # the explanation: em_core's sentence for this guess, with its numbers (markdown may fold spaces)
        assert " ".join(verdict.sentence.split()) in " ".join(text.split()), (verdict.sentence, text)
        total += verdict.out_of
        if right and stage.question == "mean_move":
            _shot(app, "lesson_answer.png")
        if index < len(lesson_plan.LESSON) - 1:
            app.button(key="lesson_next").click()
            expect(app.main.get_by_text(f"Stage {index + 2} of")).to_be_visible(timeout=app.timeout_ms)
            app.wait_idle()
    score = app.main.get_by_text("score ", exact=False).first.inner_text()
    assert (f"score {total} / {total}" in score) == right, score
    app.expect_no_exception()
    app.expect_clean()


def test_the_lesson_played_right_scores_full_marks(app: AppPage):
    _play(app, right=True)


def test_the_lesson_played_wrong_explains_every_answer(app: AppPage):
    _play(app, right=False)


def test_the_script_steps_by_key_in_presentation_mode_without_notes(app: AppPage):
    _open(app, "/lesson?script=default&state=1&present=1")
    title = app.main.get_by_text("State 1 of 10", exact=False)
    expect(title).to_be_visible(timeout=app.timeout_ms)
    assert app.main.get_by_text("Speaker notes").count() == 0
    next_key = app.button(key="script_next").locator("kbd")
    expect(next_key).to_have_text("→", timeout=app.timeout_ms)  # the key is bound, and shown
    title.click()  # focus the page (plain text, no widget), as a presenter clicks into the window
    app.page.keyboard.press("ArrowRight")
    expect(app.main.get_by_text("State 2 of 10: K-means, one assignment")).to_be_visible(timeout=app.timeout_ms)
    app.wait_idle()
    expect(app.page).to_have_url(re.compile(r"script=default&state=2&present=1"), timeout=app.timeout_ms)
    assert app.main.get_by_text("Point 9 sits between two").count() == 0  # the notes stay off the projector
    app.page.keyboard.press("ArrowRight")
    expect(app.main.get_by_text("State 3 of 10")).to_be_visible(timeout=app.timeout_ms)
    app.wait_idle()
    app.page.keyboard.press("ArrowLeft")
    expect(app.main.get_by_text("State 2 of 10")).to_be_visible(timeout=app.timeout_ms)
    app.wait_idle()
    app.wait_charts()
    _shot(app, "lesson_script_present.png")
    app.expect_no_exception()
    app.expect_clean()
