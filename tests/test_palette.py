"""The component colours (dashboard/palette.py): chosen by the stated rule, and distinct when blended."""

import pytest

from dashboard import figure_style, palette

#: CIE76 differences: about 2.3 is just noticeable; these read as different colours at a glance.
MIN_PAIR = 29.0
MIN_BLEND = 19.0


def test_the_palette_is_what_the_rule_chooses():
    assert palette.choose(palette.pool()) == palette.PALETTE
    assert tuple(figure_style.component_colors(12)) == palette.PALETTE


@pytest.mark.parametrize("k", range(3, 13))
def test_every_prefix_keeps_components_and_their_blends_apart(k):
    # the first k colours are what a fit with K = k uses
    pair, blend = palette.contrast(palette.PALETTE[:k])
    assert pair >= MIN_PAIR and blend >= MIN_BLEND, (k, pair, blend)


def test_the_old_hand_picked_palette_failed_the_blend_rule():
    # plotly's default ten plus brown and navy: j=1 blue and j=4 purple blended into a lavender
    # that sat within a few units of other components' colours
    old = ("#636EFA", "#EF553B", "#00CC96", "#AB63FA", "#FFA15A", "#19D3F3", "#FF6692", "#B6E880", "#FF97FF",
           "#FECB52", "#8C564B", "#2F4B7C")  # fmt: skip
    pair, blend = palette.contrast(old)
    assert blend < MIN_BLEND / 2 and pair < MIN_PAIR


def test_every_colour_reads_on_white():
    lightness = palette.lab(palette.rgb_of(palette.PALETTE))[:, 0]
    assert (lightness >= palette.LIGHTNESS[0]).all() and (lightness <= palette.LIGHTNESS[1]).all()


def test_lab_of_known_colours():
    # sRGB white, black and pure red in CIELAB (D65), as published
    lab = palette.lab([[255, 255, 255], [0, 0, 0], [255, 0, 0]])
    assert lab[0] == pytest.approx([100.0, 0.0, 0.0], abs=0.05)
    assert lab[1] == pytest.approx([0.0, 0.0, 0.0], abs=1e-9)
    assert lab[2] == pytest.approx([53.24, 80.09, 67.20], abs=0.05)
