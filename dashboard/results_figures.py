"""Views of a held-out comparison on real data (:class:`em_core.real_data_comparison.Comparison`):
the table of RMSE per split and the bar chart of the mean, with the spread over the splits.

Pure builders: a result in, a DataFrame or a plotly Figure out; no streamlit, no EM maths.
"""

from __future__ import annotations

import numpy as np
import pandas as pd
import plotly.graph_objects as go

from dashboard.figure_style import ACCENT_COLOR, BAR_COLOR, empty_figure, style
from em_core.real_data_comparison import Comparison, MethodRow

#: The course's EM, drawn apart from the options and the baselines.
COURSE_COLOR = "#c0504d"
#: The user + item bias baseline's mean RMSE is drawn as a dashed line: the bar to beat.
REFERENCE = "user_item_bias"
#: Room right of the bars for the column of mean RMSEs, in px.
VALUE_COLUMN = 70


def row_label(row: MethodRow) -> str:
    """``"EM on residuals (K = 12)"`` for EM, the baseline's label otherwise."""
    return row.label if row.k is None else f"{row.label} (K = {row.k})"


def comparison_table(result: Comparison) -> pd.DataFrame:
    """One row per method: K, the held-out RMSE of each split, their mean, seconds, and why a method failed."""
    table = pd.DataFrame(
        {
            "method": [row.label for row in result.rows],
            "K": ["—" if row.k is None else str(row.k) for row in result.rows],  # a baseline has none
            **{
                # numbered from 1, as the page's explanation counts them ("split 1 of 3"), whatever their seeds
                f"RMSE split {i + 1}": [row.rmse[i] if row.error is None else np.nan for row in result.rows]
                for i in range(len(result.holdout_seeds))
            },
            "mean RMSE": [row.mean_rmse for row in result.rows],
            "seconds": [row.seconds for row in result.rows],
        }
    )
    if any(row.error for row in result.rows):
        table["note"] = [f"n/a: {row.error}" if row.error else "" for row in result.rows]
    return table


def _color(row: MethodRow) -> str:
    if row.name == "em:course":
        return COURSE_COLOR
    return ACCENT_COLOR if row.is_em else BAR_COLOR


def rmse_bars(result: Comparison, title: str = "Held-out RMSE (lower is better)") -> go.Figure:
    """Horizontal bars of each method's mean held-out RMSE, whiskers from the best to the worst split.

    The course's EM is red, the EM options dark blue, the baselines light blue; a dashed line marks
    the user + item bias baseline. Methods that failed are left out.
    """
    rows = [row for row in result.rows if row.error is None]
    if not rows:
        return empty_figure("No method could be scored", title)
    means = np.array([row.mean_rmse for row in rows])
    low = np.array([min(row.rmse) for row in rows])
    high = np.array([max(row.rmse) for row in rows])
    labels = [row_label(row) for row in rows]
    fig = go.Figure(
        go.Bar(
            x=means,
            y=labels,
            orientation="h",
            marker_color=[_color(row) for row in rows],
            error_x=dict(type="data", symmetric=False, array=high - means, arrayminus=means - low, thickness=1.2),
            cliponaxis=False,
            hovertemplate="%{y}<br>mean RMSE %{x:.4f}<extra></extra>",
            showlegend=False,
        )
    )
    reference = [row for row in rows if row.name == REFERENCE]
    if reference:
        fig.add_vline(
            x=reference[0].mean_rmse,
            line=dict(color="#333", dash="dash", width=1),
            annotation_text="user + item bias",
            annotation_position="top",
        )
    # the axis starts near the best score, not at 0: the differences that matter are a few hundredths
    start = max(0.0, np.floor(10.0 * float(low.min())) / 10.0 - 0.1)
    fig.update_xaxes(
        title_text=f"RMSE on the held-out ratings (axis from {start:g})", range=[start, float(high.max()) * 1.06]
    )
    fig.update_yaxes(autorange="reversed", automargin=True)
    # each mean in a column right of the plot: beside the bar's end it ran into its whisker and the dashed line
    for label, mean in zip(labels, means, strict=True):
        fig.add_annotation(
            x=1.0,
            xref="paper",
            xanchor="left",
            xshift=8,
            y=label,
            yref="y",
            text=f"{mean:.4f}",
            showarrow=False,
            font=dict(size=13, color="#333333"),
        )
    fig = style(fig, title, height=max(320, 28 * len(rows) + 120))
    fig.update_layout(margin=dict(r=max(fig.layout.margin.r or 0, VALUE_COLUMN)))
    return fig


def command_line(result: Comparison, variants, dataset_id: str) -> str:
    """The ``python -m em_core compare`` command that prints the same comparison (``variants``: EMOptions)."""
    strengths = {v.prior_strength for v in variants if v.prior_strength > 0}
    parts = [
        f"python -m em_core compare --data {dataset_id}",
        "--k " + " ".join(map(str, result.ks)),
        f"--seeds {' '.join(map(str, result.seeds))}",
        f"--holdout {result.fraction:g} --holdout-seeds {' '.join(map(str, result.holdout_seeds))}",
        "--variants " + " ".join(v.name for v in variants),
        *(f"--prior-strength {strength:g}" for strength in strengths),
        "--baselines " + " ".join(row.name for row in result.rows if not row.is_em),
    ]
    return " ".join(parts)
