"""Every figure of the book, drawn with matplotlib at build time.

A figure is a function that returns a ``matplotlib.figure.Figure``, registered under a name with
``@figure("name")``. The site build (``hooks/figures.py``) calls :func:`render_svg` for each
registered name in a light and a dark theme and serves the results as
``figures/<name>.light.svg`` and ``figures/<name>.dark.svg``; a page shows both with Material's
``#only-light`` / ``#only-dark`` image suffixes. This module is the one place that renders figures.

Needs the ``plot`` extra (matplotlib).
"""

from __future__ import annotations

import io
from collections.abc import Callable
from typing import Literal

import matplotlib

matplotlib.use("Agg")  # no display here or in CI; must precede the pyplot import

import matplotlib.pyplot as plt  # noqa: E402
import torch  # noqa: E402
from matplotlib.figure import Figure  # noqa: E402

Theme = Literal["light", "dark"]
FIGURES: dict[str, Callable[[], Figure]] = {}

# Colours that keep a contrast ratio of at least 3:1 against both page backgrounds.
PALETTE = ["#1f77b4", "#d62728", "#2ca02c", "#9467bd", "#ff7f0e", "#8c564b"]
_INK = {"light": "#1f2328", "dark": "#e6e6e6"}
_GRID = {"light": "#d0d7de", "dark": "#4a4f5a"}
_DARK_PALETTE = ["#6cb4ee", "#ff7b72", "#7ee787", "#d2a8ff", "#ffa657", "#e0a080"]


def figure(name: str) -> Callable[[Callable[[], Figure]], Callable[[], Figure]]:
    """Register a figure function under ``name`` (used in the SVG's file name)."""

    def register(draw: Callable[[], Figure]) -> Callable[[], Figure]:
        if name in FIGURES:
            raise ValueError(f"figure name {name!r} is already registered")
        FIGURES[name] = draw
        return draw

    return register


def _style(theme: Theme) -> dict[str, object]:
    ink = _INK[theme]
    colours = PALETTE if theme == "light" else _DARK_PALETTE
    return {
        "text.color": ink,
        "axes.labelcolor": ink,
        "axes.edgecolor": ink,
        "xtick.color": ink,
        "ytick.color": ink,
        "grid.color": _GRID[theme],
        "axes.grid": True,
        "axes.prop_cycle": matplotlib.cycler(color=colours),
        "legend.frameon": False,
        "font.size": 11,
        "figure.figsize": (6.4, 3.6),
        "svg.fonttype": "none",  # text stays text: smaller files, selectable, read by screen readers
        "svg.hashsalt": "lossbook",  # stable ids, so two builds write the same bytes
    }


def render_svg(name: str, theme: Theme) -> str:
    """Draw the registered figure ``name`` in ``theme`` and return it as SVG text."""
    if name not in FIGURES:
        raise ValueError(f"unknown figure {name!r}; registered: {', '.join(sorted(FIGURES))}")
    if theme not in _INK:
        raise ValueError(f"theme must be 'light' or 'dark', got {theme!r}")
    with plt.rc_context(_style(theme)):
        fig = FIGURES[name]()
        buffer = io.StringIO()
        fig.savefig(buffer, format="svg", bbox_inches="tight", transparent=True, metadata={"Date": None})
        plt.close(fig)
    return buffer.getvalue()


@figure("bce-per-label")
def bce_per_label() -> Figure:
    """Binary cross entropy of one item against the predicted probability, for y = 1 and y = 0."""
    p = torch.linspace(0.001, 0.999, 400)
    fig, ax = plt.subplots()
    ax.plot(p, -torch.log(p), label=r"$y = 1$: $-\log p$")
    ax.plot(p, -torch.log1p(-p), label=r"$y = 0$: $-\log(1 - p)$")
    ax.set_xlabel("predicted probability of the positive class, $p$")
    ax.set_ylabel("loss")
    ax.set_ylim(0, 5)
    ax.legend()
    return fig
