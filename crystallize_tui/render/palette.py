"""One colour per condition (baseline first, then treatments in declaration order), used by
every chart and table so a condition looks the same everywhere.

Each colour keeps at least 3:1 contrast (WCAG's figure for graphics) on white and on the dark
theme's background (#1e1e1e), so both themes read; tests/test_charts_data.py measures it."""

from __future__ import annotations

from collections.abc import Sequence

COLOURS = ("#3b7ddd", "#d9730d", "#2e9e5b", "#c0508f", "#8a6fdf", "#1a9aa0", "#9a8a1a",
           "#e0604a", "#808080")
AXIS_COLOUR = ""  # the terminal's own foreground: axes and text follow the theme
REFERENCE_COLOUR = "#808080"
DARK_BACKGROUND, LIGHT_BACKGROUND = "#1e1e1e", "#ffffff"


def condition_colour(index: int) -> str:
    """The colour of the condition at ``index`` (0 = baseline); repeats past the palette."""
    return COLOURS[index % len(COLOURS)] if index >= 0 else REFERENCE_COLOUR


def condition_colours(conditions: Sequence[str]) -> dict[str, str]:
    """Condition name -> colour, in the order given (baseline first)."""
    return {name: condition_colour(i) for i, name in enumerate(conditions)}


def blend(colour: str, background: str, share: float) -> str:
    """``share`` of ``colour`` over ``background`` (for band fills behind the dots)."""
    a = [int(colour[i:i + 2], 16) for i in (1, 3, 5)]
    b = [int(background[i:i + 2], 16) for i in (1, 3, 5)]
    return "#" + "".join(f"{round(x * share + y * (1 - share)):02x}" for x, y in zip(a, b, strict=True))


def band_colour(index: int, dark: bool = True) -> str:
    """The faint fill of a condition's band on the dark or the light theme."""
    return blend(condition_colour(index), DARK_BACKGROUND if dark else LIGHT_BACKGROUND, 0.22)


def relative_luminance(colour: str) -> float:
    channels = [int(colour[i:i + 2], 16) / 255 for i in (1, 3, 5)]
    lin = [c / 12.92 if c <= 0.03928 else ((c + 0.055) / 1.055) ** 2.4 for c in channels]
    return 0.2126 * lin[0] + 0.7152 * lin[1] + 0.0722 * lin[2]


def contrast(a: str, b: str) -> float:
    """WCAG contrast ratio of two #rrggbb colours."""
    lo, hi = sorted((relative_luminance(a), relative_luminance(b)))
    return (hi + 0.05) / (lo + 0.05)
