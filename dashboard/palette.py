"""The component colours, chosen by a stated rule rather than by hand.

EM Lab colours each point by a *blend* of its components' colours (weighted by its
responsibilities), so a palette must do two things up to K = 12: keep any two component
colours apart, and keep the midpoint of any two of them away from every third colour (else
a point shared by j=1 and j=4 looks like a point of j=7). Both are measured as CIE76 colour
differences (Euclidean distance in CIELAB, D65 white, sRGB), where about 2.3 is "just
noticeable" and 20 or more reads as a different colour at a glance.

:func:`choose` picks colours greedily from a pool of well-known qualitative palettes
(Kelly's 22 colours of maximum contrast, D3/Tableau, Plotly, Dark24, Alphabet, Bold, Vivid,
Safe), keeping only colours dark enough to read on white: start from the two most different,
then add the colour that keeps the smallest of both differences largest. Because each prefix
is itself a greedy choice, the first K colours are the best spread for every K <= 12.
:data:`PALETTE` is that choice, written out (tests/test_palette.py checks that the rule
still yields it and what it guarantees).
"""

from __future__ import annotations

import itertools

import numpy as np
from plotly.colors import hex_to_rgb, qualitative

#: Kelly (1965), "Twenty-two colors of maximum contrast", without white and black.
KELLY = (
    "#F3C300", "#875692", "#F38400", "#A1CAF1", "#BE0032", "#C2B280", "#848482", "#008856", "#E68FAC", "#0067A5",
    "#F99379", "#604E97", "#F6A600", "#B3446C", "#DCD300", "#882D17", "#8DB600", "#654522", "#E25822", "#2B3D26",
)  # fmt: skip
#: CIELAB lightness range of a usable colour: markers and labels must read on a white background.
LIGHTNESS = (30.0, 75.0)

#: The twelve component colours: :func:`choose` over :func:`pool` (see the module's docstring).
PALETTE = (
    "#1CA71C",
    "#511CFB",
    "#FB0D0D",
    "#FF9DA6",
    "#FE00FA",
    "#00CC96",
    "#FF7F0E",
    "#1C8356",
    "#AF0038",
    "#636EFA",
    "#B68100",
    "#E377C2",
)


def pool() -> list[str]:
    """The candidate colours, upper-case ``#RRGGBB``, in a fixed order, without repeats."""
    sources = (
        qualitative.Dark24,
        qualitative.Alphabet,
        KELLY,
        qualitative.D3,
        qualitative.Plotly,
        qualitative.G10,
        qualitative.T10,
        qualitative.Bold,
        qualitative.Vivid,
        qualitative.Safe,
    )
    colours = [c.upper() for source in sources for c in source if c.startswith("#")]
    return list(dict.fromkeys(colours))


def lab(rgb: np.ndarray) -> np.ndarray:
    """CIELAB (D65) of sRGB colours, shape (..., 3) with channels in 0..255."""
    c = np.asarray(rgb, dtype=float) / 255.0
    linear = np.where(c <= 0.04045, c / 12.92, ((c + 0.055) / 1.055) ** 2.4)
    to_xyz = np.array([[0.4124, 0.3576, 0.1805], [0.2126, 0.7152, 0.0722], [0.0193, 0.1192, 0.9505]])
    xyz = linear @ to_xyz.T / np.array([0.95047, 1.0, 1.08883])
    f = np.where(xyz > (6 / 29) ** 3, np.cbrt(xyz), xyz / (3 * (6 / 29) ** 2) + 4 / 29)
    return np.stack([116 * f[..., 1] - 16, 500 * (f[..., 0] - f[..., 1]), 200 * (f[..., 1] - f[..., 2])], axis=-1)


def rgb_of(colours) -> np.ndarray:
    """``#RRGGBB`` strings as an array of shape (n, 3), channels 0..255."""
    return np.array([hex_to_rgb(c) for c in colours], dtype=float).reshape(-1, 3)


def contrast(colours) -> tuple[float, float]:
    """The smallest CIE76 difference between two of ``colours``, and between the midpoint of
    two of them (an RGB blend, as :func:`dashboard.figure_style.blend_colors` makes it) and a third."""
    rgb = rgb_of(colours)
    points = lab(rgb)
    k = len(points)
    pair = np.linalg.norm(points[:, None] - points[None], axis=-1)
    np.fill_diagonal(pair, np.inf)
    blend = np.inf
    for a, b in itertools.combinations(range(k), 2):
        others = [c for c in range(k) if c not in (a, b)]
        if others:
            mid = lab((rgb[a] + rgb[b]) / 2.0)
            blend = min(blend, float(np.linalg.norm(points[others] - mid, axis=-1).min()))
    return float(pair.min()), blend


def choose(candidates, k: int = 12, lightness: tuple[float, float] = LIGHTNESS) -> tuple[str, ...]:
    """``k`` colours from ``candidates`` by greedy maximin of :func:`contrast` (see the module's docstring)."""
    usable = [c for c in candidates if lightness[0] <= lab(rgb_of([c]))[0, 0] <= lightness[1]]
    points = lab(rgb_of(usable))
    pair = np.linalg.norm(points[:, None] - points[None], axis=-1)
    first, second = np.unravel_index(int(pair.argmax()), pair.shape)
    chosen = [usable[first], usable[second]]
    while len(chosen) < k:
        scores = [(min(contrast(chosen + [c])), c) for c in usable if c not in chosen]
        chosen.append(max(scores, key=lambda item: item[0])[1])
    return tuple(chosen[:k])
