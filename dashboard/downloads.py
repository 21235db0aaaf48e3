"""Download buttons for the current fit; files are built (by em_core.export) only when a button is clicked."""

from __future__ import annotations

from collections.abc import Callable
from functools import partial
from typing import NamedTuple

import numpy as np
import streamlit as st

from em_core import GaussianMixture, export


class DownloadFile(NamedTuple):
    label: str
    make: Callable[[], str]  # builds the file's text (called on click)
    file_name: str
    mime: str
    key: str


def fit_files(
    name: str,
    mixture: GaussianMixture,
    scores: list[float],
    score_name: str,
    meta: dict,
    X_pred: np.ndarray | None = None,
) -> list[DownloadFile]:
    """The files of a fit: completed matrix (text, CSV) when given, mixture (JSON), score history (CSV)."""
    files = []
    if X_pred is not None:
        files += [
            DownloadFile(
                "Completed matrix (.txt)",
                partial(export.matrix_text, X_pred),
                f"{name}_completed.txt",
                "text/plain",
                "completed_txt",
            ),
            DownloadFile(
                "Completed matrix (.csv)",
                partial(export.matrix_csv, X_pred),
                f"{name}_completed.csv",
                "text/csv",
                "completed_csv",
            ),
        ]
    return files + [
        DownloadFile(
            "Mixture (.json)",
            partial(export.mixture_json, mixture, **meta),
            f"{name}_mixture.json",
            "application/json",
            "mixture_json",
        ),
        DownloadFile(
            "History (.csv)",
            partial(export.history_csv, scores, score_name),
            f"{name}_history.csv",
            "text/csv",
            "history_csv",
        ),
    ]


def buttons(prefix: str, files: list[DownloadFile]) -> None:
    """A row of download buttons, keys ``{prefix}_{file.key}``.

    The files offered are also kept in ``st.session_state[f"{prefix}_files"]`` (the same
    callables the buttons call), so a test can read what a click would download.
    """
    st.session_state[f"{prefix}_files"] = files
    for column, file in zip(st.columns(len(files)), files, strict=True):
        column.download_button(
            file.label,
            file.make,
            file_name=file.file_name,
            mime=file.mime,
            key=f"{prefix}_{file.key}",
            on_click="ignore",
            icon=":material/download:",
            width="stretch",
        )
