"""The dashboard's limits and constants, in one place: the sidebar, the link in the URL, the
uploads and the fit pages all read them from here.

The seed bound is em_core's own (what :func:`em_core.validation.check_seed` accepts), and the
history a fit keeps is em_core's budget (:data:`em_core.stepping.HISTORY_BYTES`), so neither
is repeated here.
"""

from __future__ import annotations

import re

from em_core.scenarios import SCENARIOS
from em_core.validation import MAX_SEED

__all__ = [
    "MAX_K",
    "MAX_LINK_ITERATION",
    "MAX_MIN_VARIANCE",
    "MAX_SEED",
    "MAX_VALUES",
    "MAX_MESSAGE_CHARS",
    "MAX_SHOWN_CHARS",
    "PLAY_INTERVAL",
    "SUGGESTED_K",
    "MAX_COLUMNS",
    "MAX_POINTS_2D",
    "MAX_ROWS",
    "MAX_UPLOAD_LINES",
    "FREE_HOLDOUT_COST",
    "FREE_REPORT_COST",
    "FREE_SWEEP_COST",
    "UPLOAD",
    "UPLOAD_CACHE_BYTES",
    "CACHE_BYTES",
    "WORK_SECONDS",
    "MAX_ITER_SETTING",
    "MAX_DRAWN_POINTS",
    "clip",
    "literal",
    "plain",
]

#: The largest K the sidebar and a link accept.
MAX_K = 200
#: The largest variance floor the sidebar and a link accept.
MAX_MIN_VARIANCE = 100.0
#: The largest matrix (rows x columns) the dashboard holds: four times the Netflix matrix.
MAX_VALUES = 6_000_000
#: The most rows (users, or points of more than 2 dimensions) an upload may have: the pages draw a
#: matrix as an n x d image and every step computes all n rows' posteriors.
MAX_ROWS = 20_000
#: The most columns (items, dimensions) an upload may have: the image's width, the means' heatmap.
MAX_COLUMNS = 10_000
#: The most 2-D points an upload may have: every step computes all points' posteriors, a file of
#: 250,000 lines takes seconds to read, and the figures draw a sample (MAX_DRAWN_POINTS) of them.
MAX_POINTS_2D = 250_000
#: The most lines an upload may have (a matrix row, a point or one rating per line), counted before
#: parsing, so a file far beyond the limits above is refused in a fraction of a second.
MAX_UPLOAD_LINES = 500_000
#: The bytes of parsed uploads the server keeps for all sessions together (least recently used
#: first out; an evicted upload is parsed again from its session's file when next needed).
UPLOAD_CACHE_BYTES = 400 * 2**20
#: The bytes each of the dashboard's result caches keeps for all sessions together (least recently
#: used first out; :mod:`dashboard.byte_cache`). A netflix-sized matrix (1,200 x 1,200 floats) is
#: 11.5 MB; the largest upload (MAX_VALUES floats) 48 MB, so every cache holds at least one of each.
CACHE_BYTES = {
    "completion": 96 * 2**20,  # completed matrices (n x d each)
    "user_map": 16 * 2**20,  # users on two principal axes (n x 2 each)
    "error_figures": 64 * 2**20,  # |error| images and histograms
    "matrix_figure": 96 * 2**20,  # matrix images
    "fitted": 32 * 2**20,  # model selection's runs (a mixture each: K x d)
    "baselines": 8 * 2**20,  # baseline scores against the gold
    "holdout": 64 * 2**20,  # held-out comparisons (each keeps its n x d split)
    "report": 8 * 2**20,  # "Check your numbers" printouts
    "algorithms": 256 * 2**20,  # the fit pages' shared algorithms, each with its prepared matrix (~3 x X)
    "collapse": 8 * 2**20,  # the matrix page's collapse findings (a K x d mask each)
    "step_figures": 48 * 2**20,  # the matrix page's charts, kept while their inputs stay (a Step's E half)
    "drawn_completion": 48 * 2**20,  # the completion of the cells drawn (at most 1,200 x 1,200 each)
    "user_rows": 4 * 2**20,  # one user's completed row, top-N unseen items
    "completion_check": 16 * 2**20,  # the completion page's checks against gold
    "start_comparison": 8 * 2**20,  # the 2-D page's "Compare starts" runs
    "covariance_fits": 32 * 2**20,  # model selection's fits of each covariance type (a mixture each)
    "lesson": 32 * 2**20,  # the lesson's stages and the instructor's script's fits
}
#: The seconds of work one click may start (a sweep, a held-out comparison, a run to convergence, a
#: printout); past it the work stops and the page shows what finished, saying so. A closed tab or a
#: new click stops it sooner (Streamlit's stop request, seen at the work's next progress update).
WORK_SECONDS = 60.0
#: The largest iteration cap the sidebar's "Max iterations" accepts (its default is em_core's
#: stepping.MAX_ITER); Run, Play and model selection's fits stop at the cap chosen.
MAX_ITER_SETTING = 10_000
#: The most points a scatter figure carries (the 2-D pages, the PCA user map); beyond it a seeded
#: sample, stratified by component, is drawn and the figure says "showing N of M points".
MAX_DRAWN_POINTS = 20_000
#: Model selection fits K = 1 .. K_max over several seeds at once; a sweep whose cost (values x
#: the sum of K x seeds x methods, each unit one value's share of one component in one iteration)
#: is above this waits for a click. 300 2-D points, K up to 4, 5 seeds, two methods: 60,000;
#: 100,000 x 2 points the same way: 20,000,000 (minutes).
FREE_SWEEP_COST = 2_000_000
#: The held-out comparison fits EM and five baselines; above this cost (values x K) it is off until
#: switched on, with or without a gold matrix (demo-small: 300; netflix at K = 12: 17,280,000).
FREE_HOLDOUT_COST = 1_000_000
#: "Check your numbers" runs EM to convergence; above this cost (values x K) it waits for a click
#: (netflix at K = 12, 17,280,000, runs as it always has; a 6,000,000-value upload at K = 50 waits).
FREE_REPORT_COST = 20_000_000
#: The longest run a link may ask to replay.
MAX_LINK_ITERATION = 2000
#: Suggested K per named data set (the course's choices for its own files).
SUGGESTED_K = {"demo-2d": 4, "demo-small": 3, "demo-large": 12, "toy": 3, "test": 4, "netflix": 12}
SUGGESTED_K.update({scenario.name: scenario.k for scenario in SCENARIOS.values()})  # em_core's scenarios
#: Seconds between two automatic steps while a fit plays.
PLAY_INTERVAL = 0.6
#: The data set id of the session's upload (never a named set, never in a link).
UPLOAD = "upload"

#: The most characters of one user-supplied string (a link's value, a file name) a page shows.
MAX_SHOWN_CHARS = 80
#: The most characters of one message about a user's file (em_core's, which quotes the file) a page shows.
MAX_MESSAGE_CHARS = 400

_CONTROL = re.compile(r"[\x00-\x1f\x7f]+")
# what Markdown (and Streamlit's extensions: :icons:, :red[colour], $maths$) could act on: links,
# images, HTML, emphasis, code, tables, shortcodes, maths, e-mail and http:// autolinks, and the
# dot of a www. autolink; plain punctuation of file names (. - , ' /) is left as it is
_MARKDOWN = re.compile(r"([\\`*_{}\[\]()<>#+!|~$:@&^=])|(?<=[wW]{3})(\.)")


def clip(text: object, limit: int = MAX_SHOWN_CHARS) -> str:
    """``text`` on one line (control characters become spaces), cut to ``limit`` characters with an ellipsis."""
    text = str(text)
    if len(text) > limit:
        text = text[: limit - 1] + "…"
    return _CONTROL.sub(" ", text)


def plain(text: object, limit: int = MAX_SHOWN_CHARS) -> str:
    """``text`` as Markdown that renders as the same plain text, cut to ``limit`` characters with an ellipsis.

    Every character Markdown could act on is backslash-escaped, so no link, image, HTML tag,
    emoji shortcode, colour directive or formula can come out of it; line breaks become spaces.
    Use it for every user-supplied string that goes into ``st.markdown``, ``st.caption``,
    ``st.info``/``st.warning``/``st.error`` or a widget label.
    """
    return _MARKDOWN.sub(lambda match: "\\" + match.group(0), clip(text, limit))


def literal(text: object, limit: int = MAX_MESSAGE_CHARS) -> str:
    """``text`` as a Markdown code span (shown verbatim, never rendered), cut to ``limit`` characters.

    For a message that quotes a user's file (em_core's upload errors), where escaping would
    change the text a user reads; a fence longer than any run of backticks inside keeps it closed.
    """
    text = clip(text, limit)
    fence = "`" * (max((len(run) for run in re.findall(r"`+", text)), default=0) + 1)
    return f"{fence} {text} {fence}"
