"""The dashboard's limits and constants, in one place: the sidebar, the link in the URL, the
uploads and the fit pages all read them from here.

The seed bound is em_core's own (what :func:`em_core.validation.check_seed` accepts), and the
history a fit keeps is em_core's budget (:data:`em_core.stepping.HISTORY_BYTES`), so neither
is repeated here.
"""

from __future__ import annotations

from em_core.validation import MAX_SEED

__all__ = [
    "MAX_K",
    "MAX_LINK_ITERATION",
    "MAX_MIN_VARIANCE",
    "MAX_SEED",
    "MAX_VALUES",
    "PLAY_INTERVAL",
    "SUGGESTED_K",
    "UPLOAD",
]

#: The largest K the sidebar and a link accept.
MAX_K = 200
#: The largest variance floor the sidebar and a link accept.
MAX_MIN_VARIANCE = 100.0
#: The largest matrix (rows x columns) the dashboard holds: four times the Netflix matrix.
MAX_VALUES = 6_000_000
#: The longest run a link may ask to replay.
MAX_LINK_ITERATION = 2000
#: Suggested K per named data set (the course's choices for its own files).
SUGGESTED_K = {"demo-2d": 4, "demo-small": 3, "demo-large": 12, "toy": 3, "test": 4, "netflix": 12}
#: Seconds between two automatic steps while a fit plays.
PLAY_INTERVAL = 0.6
#: The data set id of the session's upload (never a named set, never in a link).
UPLOAD = "upload"
