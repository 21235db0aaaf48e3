"""Where a text label goes beside each mean of a 2-D mixture chart, so that labels stay inside the axes and
never print over each other (:func:`label_positions`, plotly's ``textposition`` per mean)."""

from __future__ import annotations

from collections.abc import Sequence

import numpy as np

#: The plot area's longer side, in CSS px, that mean labels are placed for (the narrowest chart that shows them:
#: the PCA user map beside the LL curve, or a 2-D page's chart at 420 px width).
LABEL_PLOT_PIXELS = 300.0


def _overlap(a: tuple[float, float, float, float], b: tuple[float, float, float, float]) -> float:
    """Area shared by two boxes ``(x0, x1, y0, y1)``."""
    return max(0.0, min(a[1], b[1]) - max(a[0], b[0])) * max(0.0, min(a[3], b[3]) - max(a[2], b[2]))


def label_positions(
    means: np.ndarray,
    labels: Sequence[str],
    x_range: list[float] | None,
    y_range: list[float] | None,
    plot_pixels: float = LABEL_PLOT_PIXELS,
) -> list[str | None]:
    """A ``textposition`` per mean, so labels stay inside the axes and never print over each other.

    Greedy, in component order: each label takes the first of its four corners (towards the middle
    of the plot first), then its sides, whose box, estimated in data units for a plot area of about
    ``plot_pixels`` on its longer side, leaves the axes least and covers the labels placed so far and
    the other means least. A label that would still cover one placed before it gets None: it is left
    out (the legend and the mean's hover still name the component).
    """
    K = means.shape[0]
    if x_range is None or y_range is None:
        return ["top right"] * K
    x_mid, y_mid = sum(x_range) / 2, sum(y_range) / 2
    unit = max(x_range[1] - x_range[0], y_range[1] - y_range[0]) / plot_pixels  # data units per pixel
    axes_box = (x_range[0], x_range[1], y_range[0], y_range[1])
    gap, height, marker = 6 * unit, 16 * unit, 8 * unit
    finite = np.isfinite(means).all(axis=1)
    marks = [(x - marker, x + marker, y - marker, y + marker) for x, y in means[finite]]
    placed: list[tuple[float, float, float, float]] = []
    positions: list[str | None] = []
    for j, ((x, y), label) in enumerate(zip(means, labels, strict=True)):
        if not finite[j]:
            positions.append("top right")
            continue
        width = (7 * len(label.replace("<b>", "").replace("</b>", "")) + 4) * unit
        sides = ["left", "right"] if x > x_mid else ["right", "left"]
        levels = ["bottom", "top"] if y > y_mid + 0.35 * (y_range[1] - y_range[0]) else ["top", "bottom"]
        candidates = [(v, h) for v in levels for h in sides] + [("middle", h) for h in sides]
        candidates += [(v, "center") for v in levels]
        best, best_cost, best_box = None, np.inf, None
        for vertical, horizontal in candidates:
            x0 = {"right": x + gap, "left": x - gap - width, "center": x - width / 2}[horizontal]
            y0 = {"top": y + gap, "bottom": y - gap - height, "middle": y - height / 2}[vertical]
            box = (x0, x0 + width, y0, y0 + height)
            outside = width * height - _overlap(box, axes_box)
            on_labels = sum(_overlap(box, other) for other in placed)
            covered = on_labels + sum(_overlap(box, other) for other in marks)
            cost = 2 * outside + covered + (np.inf if on_labels > 0 else 0.0)
            if cost < best_cost - 1e-12 * unit * unit:
                best, best_cost, best_box = f"{vertical} {horizontal}", cost, box
        if best_box is not None:
            placed.append(best_box)
        positions.append(best)
    return positions
