"""Download buttons for the current fit; files are built only when a button is clicked."""

from __future__ import annotations

from functools import partial

import numpy as np
import streamlit as st

from em_core import GaussianMixture, export


def downloads(
    prefix: str,
    name: str,
    mixture: GaussianMixture,
    scores: list[float],
    score_name: str,
    meta: dict,
    X_pred: np.ndarray | None = None,
) -> None:
    """A row of download buttons: completed matrix (text, CSV), mixture (JSON), score history (CSV)."""
    buttons = []
    if X_pred is not None:
        buttons += [
            (
                "Completed matrix (.txt)",
                partial(export.matrix_text, X_pred),
                f"{name}_completed.txt",
                "text/plain",
                "completed_txt",
            ),
            (
                "Completed matrix (.csv)",
                partial(export.matrix_csv, X_pred),
                f"{name}_completed.csv",
                "text/csv",
                "completed_csv",
            ),
        ]
    buttons += [
        (
            "Mixture (.json)",
            partial(export.mixture_json, mixture, **meta),
            f"{name}_mixture.json",
            "application/json",
            "mixture_json",
        ),
        (
            "History (.csv)",
            partial(export.history_csv, scores, score_name),
            f"{name}_history.csv",
            "text/csv",
            "history_csv",
        ),
    ]
    for column, (label, data, file_name, mime, key) in zip(st.columns(len(buttons)), buttons, strict=True):
        column.download_button(
            label,
            data,
            file_name=file_name,
            mime=mime,
            key=f"{prefix}_{key}",
            on_click="ignore",
            icon=":material/download:",
            width="stretch",
        )
