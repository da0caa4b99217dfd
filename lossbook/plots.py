"""Every figure of the book, drawn with matplotlib at build time.

A figure is a function that returns a ``matplotlib.figure.Figure``, registered under a name with
``@figure("name")``. The site build (``hooks/figures.py``) calls [render_svgs][lossbook.plots.render_svgs] for
each registered name, which gives it in a light and a dark theme, and serves the results as
``figures/<name>.light.svg`` and ``figures/<name>.dark.svg``; a page shows both with Material's
``#only-light`` / ``#only-dark`` image suffixes. This module is the one place that renders figures.
The two themes differ only in colours (``_style``), so ``render_svgs`` draws a figure light and
derives its dark SVG by swapping the colours (``dark_from_light``: the same bytes as
[render_svg][lossbook.plots.render_svg] draws dark), unless the figure asks for its theme.

Every figure is also drawn narrow, for phones: ``render_svg(name, theme, width="narrow")``, served
as ``figures/<name>.narrow.light.svg`` and ``.narrow.dark.svg``, which the page shows below
``NARROW_BELOW`` (``hooks/figures.py`` wraps each figure in a ``<picture>``). The same function
draws both: in the narrow variant the default figure size is ``NARROW_WIDTH`` inches wide,
panels side by side in one row are stacked in one column (``_stack_for_narrow()``), and the
figure is ``NARROW_WIDTH`` wide, so that its text, drawn in points, is not shrunk on a
phone. A figure function may ask ``narrow()`` to adapt further (a legend in one column).

Needs the ``plot`` extra (matplotlib).
"""

from __future__ import annotations

import contextlib
import hashlib
import html
import io
import re
from collections.abc import Callable, Iterator
from typing import Literal

import matplotlib

matplotlib.use("Agg")  # no display here or in CI; must precede the pyplot import

import matplotlib.pyplot as plt  # noqa: E402
import torch  # noqa: E402
from matplotlib.figure import Figure  # noqa: E402
from matplotlib.layout_engine import PlaceHolderLayoutEngine  # noqa: E402
from matplotlib.mathtext import MathTextParser  # noqa: E402
from torch.utils.data import TensorDataset  # noqa: E402  (loaded by `import torch` already)

Theme = Literal["light", "dark"]
Width = Literal["wide", "narrow"]
FIGURES: dict[str, Callable[[], Figure]] = {}

# The narrow variant. A phone 390 px wide shows the text column 358 px wide (Material's margins);
# a figure 4 in (288 pt) wide is drawn there at about 358 / 300 = 1.2 px per point (labels
# sticking out widen the saved figure a little), so its 9 pt legends come out at about 11 px
# and its 11 pt ticks at about 13 px (tests/test_browser.py measures them: at least 10 px). The
# wide variant (6.4 to 8.8 in) drew the same text at 5 px (9 pt, 8.8 in) to 10 px (11 pt,
# 6.4 in). Below NARROW_BELOW the page shows the narrow variant: Material's "tablet portrait"
# breakpoint, under which the text column is under 690 px wide.
NARROW_WIDTH = 4.0
NARROW_BELOW = "44.9375em"  # a CSS length for (max-width: ...); 719 px
# What render_svg() is drawing: the width, and whether the figure asked for the theme (_theme()).
_drawing: dict[str, object] = {"width": "wide", "theme_read": False}

# Colours that keep a contrast ratio of at least 3:1 against both page backgrounds.
PALETTE = ["#1f77b4", "#d62728", "#2ca02c", "#9467bd", "#ff7f0e", "#8c564b"]
_INK = {"light": "#1f2328", "dark": "#e6e6e6"}
_GRID = {"light": "#d0d7de", "dark": "#4a4f5a"}
_DARK_PALETTE = ["#6cb4ee", "#ff7b72", "#7ee787", "#d2a8ff", "#ffa657", "#e0a080"]
# The dark theme differs from the light one only in these colours (see _style), so a figure that
# does not ask for its theme (_theme()) is drawn light and its dark SVG derived by dark_from_light.
_DARK_OF_LIGHT = dict(zip([*PALETTE, _INK["light"], _GRID["light"]], [*_DARK_PALETTE, _INK["dark"], _GRID["dark"]]))


def figure(name: str) -> Callable[[Callable[[], Figure]], Callable[[], Figure]]:
    """Register a figure function under ``name`` (used in the SVG's file name)."""

    def register(draw: Callable[[], Figure]) -> Callable[[], Figure]:
        if name in FIGURES:
            raise ValueError(f"figure name {name!r} is already registered")
        FIGURES[name] = draw
        return draw

    return register


def narrow() -> bool:
    """True while ``render_svg()`` draws a figure's narrow variant (for phones)."""
    return _drawing["width"] == "narrow"


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


def _stack_for_narrow(fig: Figure) -> None:
    """Lay ``fig`` out ``NARROW_WIDTH`` wide: panels side by side in one row go into one column.

    Each panel keeps its shape (width over height), but is not made flatter than 4:3 nor taller
    than it was; a panel that shared its y axis with its neighbour gets its tick labels (and, if
    it had none, the neighbour's axis label) back, since the neighbour is no longer beside it.
    Other layouts (a grid of several rows) are only narrowed.
    """
    width, height = fig.get_size_inches()
    panels = [ax for ax in fig.axes if ax.get_subplotspec() is not None]
    grids = {id(ax.get_subplotspec().get_gridspec()) for ax in panels}
    stacked = 1
    if panels and len(grids) == 1:
        rows, columns = panels[0].get_subplotspec().get_gridspec().get_geometry()
        spans = [ax.get_subplotspec().colspan for ax in panels]
        if rows == 1 and columns > 1 and all(len(span) == 1 for span in spans):
            stacked = columns
            column = fig.add_gridspec(columns, 1)
            for ax, span in zip(panels, spans):
                ax.set_subplotspec(column[span.start, 0])
            for ax in panels:
                shared = ax.get_shared_y_axes().get_siblings(ax)
                if len(shared) > 1:
                    ax.yaxis.set_tick_params(which="both", labelleft=True)
                    if not ax.get_ylabel():
                        ax.set_ylabel(next((other.get_ylabel() for other in shared if other.get_ylabel()), ""))
    panel_width, panel_height = width / stacked, height
    narrow_height = min(max(NARROW_WIDTH * panel_height / panel_width, 0.75 * NARROW_WIDTH), panel_height)
    fig.set_size_inches(NARROW_WIDTH, narrow_height * stacked)
    if fig.get_layout_engine() is None or isinstance(fig.get_layout_engine(), PlaceHolderLayoutEngine):
        fig.tight_layout()  # no layout engine, or a tight_layout() the figure function ran once


@contextlib.contextmanager
def shared_mathtext() -> Iterator[None]:
    """Within this block, matplotlib parses each piece of math text once, for every figure drawn.

    matplotlib keeps a parse per renderer (each ``savefig`` makes two renderers: one to measure
    for ``bbox_inches="tight"``, one to draw) in a cache of 50 entries, so every variant of every
    figure parsed its labels afresh: about a third of the time to draw all the book's figures.
    Here the parse is kept by what it depends on (output type, text, dpi, font, antialiasing, glyph
    flags), for the block's duration only; a parse is a pure function of those, so the SVG bytes
    do not change. A matplotlib without the cached parse method draws as before.
    """
    parse = getattr(MathTextParser._parse_cached, "__wrapped__", None)
    if parse is None:
        yield
        return
    parses: dict[tuple, object] = {}

    def parse_shared(self, s, dpi, prop, antialiased, load_glyph_flags):
        key = (self._output_type, s, dpi, prop, antialiased, load_glyph_flags)  # prop: parse()'s copy
        if key not in parses:
            parses[key] = parse(self, s, dpi, prop, antialiased, load_glyph_flags)
        return parses[key]

    cached = MathTextParser.__dict__["_parse_cached"]
    MathTextParser._parse_cached = parse_shared
    try:
        yield
    finally:
        MathTextParser._parse_cached = cached


class UnmappableSVG(ValueError):
    """An SVG that ``dark_from_light`` cannot turn into its dark twin exactly."""


# A colour as matplotlib's SVG backend writes it (rgb2hex: "#" and six lower-case hex digits); ids
# ("#m1d6bb8e9dd", "url(#p0a...)") start with a letter that is not a hex digit or run on longer.
_HEX_COLOUR = re.compile(r"#[0-9a-fA-F]{6}(?![\w-])")
# Every paint property, in a style attribute ("fill: #1f77b4") or as an attribute (fill="...").
_PAINT = re.compile(r'(?<![\w-])(?:fill|stroke|color|stop-color|flood-color|lighting-color)(?:\s*:\s*|=")([^;"]*)')
# A marker (tick marks, line markers): defined once, its id a hash of its path and full style,
# and drawn by <use> elements that carry that full style.
_MARKER_DEF = re.compile(r'<path id="(m[0-9a-f]{10})" d="([^"]*)"')


def _svg_id(kind: str, content: object, salt: str) -> str:
    """An id as matplotlib's SVG backend makes it (``RendererSVG._make_id``), checked on every use."""
    digest = hashlib.sha256(salt.encode("utf8"))
    digest.update(str(content).encode("utf8"))
    return f"{kind}{digest.hexdigest()[:10]}"


def _dark_colour(match: re.Match[str]) -> str:
    colour = match[0].lower()
    if colour not in _DARK_OF_LIGHT:
        raise UnmappableSVG(
            f"colour {match[0]} is not one of the light theme's colours ({', '.join(_DARK_OF_LIGHT)}): "
            "use the palette, or ask plots._theme() so that the figure is drawn in each theme"
        )
    return _DARK_OF_LIGHT[colour]


def dark_from_light(svg: str) -> str:
    """The dark SVG of a figure drawn light, made by swapping the light theme's colours for the dark's.

    ``render_svg(name, "dark")`` writes the same bytes, for a figure whose drawing does not ask for
    its theme (``tests/test_figure_themes.py`` compares them): the two styles differ only by the
    colours in ``_DARK_OF_LIGHT``, matplotlib writes every colour as ``#rrggbb`` text, and the one
    id computed from a colour, a marker's, is recomputed here as matplotlib computes it (checked
    against the light SVG's own id). Raises ``UnmappableSVG`` on what cannot be mapped exactly: a
    colour not in the light palette, a paint that is not a colour (a hatch pattern, a named
    colour), a raster image, a marker whose id is not what matplotlib's scheme gives.
    """
    if "<image" in svg:
        raise UnmappableSVG("the SVG holds a raster image, whose pixels cannot be recoloured exactly")
    for paint in _PAINT.finditer(svg):
        value = paint[1].strip()
        if value != "none" and not _HEX_COLOUR.fullmatch(value):
            raise UnmappableSVG(f"paint {paint[0]!r} is not a #rrggbb colour")
    salt = _style("light")["svg.hashsalt"]  # the same in both themes (tests/test_figure_themes.py)
    marker_ids = {}
    for oid, path_data in _MARKER_DEF.findall(svg):
        styles = set(re.findall(rf'<use xlink:href="#{oid}"[^>]*?\sstyle="([^"]*)"', svg))
        if len(styles) != 1:
            raise UnmappableSVG(f"marker {oid} is drawn with {len(styles)} styles, not one")
        key = (html.unescape(path_data), html.unescape(styles.pop()))
        if _svg_id("m", key, salt) != oid:
            raise UnmappableSVG(f"marker {oid}: its id is not matplotlib's hash of its path and style")
        marker_ids[oid] = _svg_id("m", (key[0], _HEX_COLOUR.sub(_dark_colour, key[1])), salt)
    dark = _HEX_COLOUR.sub(_dark_colour, svg)
    if marker_ids:
        dark = re.sub(r'(?<=id=")m[0-9a-f]{10}(?=")|(?<=href="#)m[0-9a-f]{10}(?=")', lambda m: marker_ids[m[0]], dark)
    return dark


def render_svgs(name: str, width: Width = "wide") -> dict[Theme, str]:
    """The figure ``name`` in both themes: ``{"light": svg, "dark": svg}``, as ``render_svg`` draws each.

    The light SVG is drawn; the dark one is derived from it by ``dark_from_light`` (half the work),
    unless the figure asked for its theme while drawing (``_theme()``: it may draw differently, not
    only in other colours), in which case it is drawn too.
    """
    light = render_svg(name, "light", width)
    if _drawing["theme_read"]:
        return {"light": light, "dark": render_svg(name, "dark", width)}
    return {"light": light, "dark": dark_from_light(light)}


def render_svg(name: str, theme: Theme, width: Width = "wide") -> str:
    """Draw the registered figure ``name`` in ``theme`` and return it as SVG text.

    ``width="narrow"`` draws the variant for phones (see the module's documentation).
    """
    if name not in FIGURES:
        raise ValueError(f"unknown figure {name!r}; registered: {', '.join(sorted(FIGURES))}")
    if theme not in _INK:
        raise ValueError(f"theme must be 'light' or 'dark', got {theme!r}")
    if width not in ("wide", "narrow"):
        raise ValueError(f"width must be 'wide' or 'narrow', got {width!r}")
    style = _style(theme)
    if width == "narrow":
        style["figure.figsize"] = (NARROW_WIDTH, 0.75 * NARROW_WIDTH)
    _drawing["width"] = width
    _drawing["theme_read"] = False
    try:
        with plt.rc_context(style):
            fig = FIGURES[name]()
            if width == "narrow":
                _stack_for_narrow(fig)
            buffer = io.StringIO()
            fig.savefig(buffer, format="svg", bbox_inches="tight", transparent=True, metadata={"Date": None})
            plt.close(fig)
    finally:
        _drawing["width"] = "wide"
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


# Regression and binary chapters (docs/losses/regression.md, docs/losses/binary.md).
# Every curve is computed by the torch.nn loss itself and every gradient by autograd.

_REGRESSION_STYLES = ["-", "--", "-.", ":"]

# One curve of a loss-and-gradient figure: legend label, line style, and the element-wise loss as
# a function of the x-axis values (which autograd then differentiates).
Curve = tuple[str, str, Callable[[torch.Tensor], torch.Tensor]]


def _loss_and_gradient_panels(x: torch.Tensor, curves: list[Curve], xlabel: str, loss_label: str, gradient_label: str):
    """Two panels: each curve's loss against ``x`` (left) and its autograd gradient w.r.t. ``x`` (right).

    Returns ``(figure, left axes, right axes)`` so the caller can set limits and the legend.
    """
    fig, (left, right) = plt.subplots(1, 2, figsize=(8.8, 3.6), layout="constrained")
    for label, style, loss_of in curves:
        point = x.clone().requires_grad_(True)
        values = loss_of(point)
        (gradient,) = torch.autograd.grad(values.sum(), point)
        left.plot(x, values.detach(), linestyle=style, label=label)
        right.plot(x, gradient, linestyle=style, label=label)
    left.set_ylabel(loss_label)
    right.set_ylabel(gradient_label)
    for ax in (left, right):
        ax.set_xlabel(xlabel)
    return fig, left, right


def _regression_panels(curves: dict[str, torch.nn.Module], span: float, loss_top: float) -> Figure:
    """Two panels, loss and gradient against the residual (input against a zero target), one line per loss."""
    fig, left, _ = _loss_and_gradient_panels(
        torch.linspace(-span, span, 801),
        [
            (label, style, lambda r, loss=loss: loss(r, torch.zeros_like(r)))
            for (label, loss), style in zip(curves.items(), _REGRESSION_STYLES * 2)
        ],
        xlabel="residual, input $-$ target",
        loss_label="loss of one element",
        gradient_label="gradient w.r.t. the input",
    )
    left.set_ylim(0, loss_top)
    left.legend(loc="upper center")
    return fig


@figure("regression-losses")
def regression_losses() -> Figure:
    """MSE, L1, Smooth L1 (beta = 2) and Huber (delta = 2): loss and gradient against the residual."""
    return _regression_panels(
        {
            "MSELoss": torch.nn.MSELoss(reduction="none"),
            "L1Loss": torch.nn.L1Loss(reduction="none"),
            r"SmoothL1Loss, $\beta = 2$": torch.nn.SmoothL1Loss(reduction="none", beta=2.0),
            r"HuberLoss, $\delta = 2$": torch.nn.HuberLoss(reduction="none", delta=2.0),
        },
        span=4.0,
        loss_top=8.0,
    )


@figure("regression-mse")
def regression_mse() -> Figure:
    """MSELoss: the loss is a parabola, the gradient 2 r grows without bound."""
    return _regression_panels({"MSELoss": torch.nn.MSELoss(reduction="none")}, span=3.0, loss_top=9.0)


@figure("regression-l1")
def regression_l1() -> Figure:
    """L1Loss: the loss is |r|, the gradient sign(r) is 1 in size wherever r is not 0."""
    return _regression_panels({"L1Loss": torch.nn.L1Loss(reduction="none")}, span=3.0, loss_top=3.0)


@figure("regression-smooth-l1")
def regression_smooth_l1() -> Figure:
    """SmoothL1Loss for three betas: quadratic inside |r| < beta, linear with slope 1 outside."""
    return _regression_panels(
        {rf"SmoothL1Loss, $\beta = {b:g}$": torch.nn.SmoothL1Loss(reduction="none", beta=b) for b in (0.5, 1.0, 2.0)},
        span=3.0,
        loss_top=3.0,
    )


@figure("regression-huber")
def regression_huber() -> Figure:
    """HuberLoss for three deltas: quadratic inside |r| < delta, linear with slope delta outside."""
    return _regression_panels(
        {rf"HuberLoss, $\delta = {d:g}$": torch.nn.HuberLoss(reduction="none", delta=d) for d in (0.5, 1.0, 2.0)},
        span=3.0,
        loss_top=3.0,
    )


def _binary_label_styles() -> list[tuple[float, str, str]]:
    return [(1.0, "-", "$y = 1$"), (0.0, "--", "$y = 0$")]


@figure("binary-bceloss")
def binary_bceloss() -> Figure:
    """BCELoss against the probability p, and its gradient (p - y) / (p (1 - p)), for y = 1 and 0."""
    bce = torch.nn.BCELoss(reduction="none")
    fig, left, right = _loss_and_gradient_panels(
        torch.linspace(0.01, 0.99, 393),
        [(text, style, lambda p, y=label: bce(p, torch.full_like(p, y))) for label, style, text in _binary_label_styles()],
        xlabel="input: predicted probability $p$",
        loss_label="loss",
        gradient_label="gradient w.r.t. $p$",
    )
    left.set_ylim(0, 5)
    right.set_ylim(-25, 25)
    left.legend(loc="upper center")
    return fig


@figure("binary-bce-with-logits")
def binary_bce_with_logits() -> Figure:
    """BCEWithLogitsLoss against the logit x, and its gradient sigmoid(x) - y, for y = 1 and 0."""
    bce = torch.nn.BCEWithLogitsLoss(reduction="none")
    fig, left, _ = _loss_and_gradient_panels(
        torch.linspace(-8, 8, 401),
        [(text, style, lambda x, y=label: bce(x, torch.full_like(x, y))) for label, style, text in _binary_label_styles()],
        xlabel="input: logit $x$",
        loss_label="loss",
        gradient_label=r"gradient w.r.t. $x$: $\sigma(x) - y$",
    )
    left.legend(loc="upper center")
    return fig


@figure("binary-bce-saturation")
def binary_bce_saturation() -> Figure:
    """BCELoss(sigmoid(x)) stops at 100 (log clamped at -100); BCEWithLogitsLoss keeps growing."""
    logits = torch.linspace(-250, 250, 2001)
    fig, axes = plt.subplots(1, 2, figsize=(8.8, 3.6), layout="constrained", sharey=True)
    for ax, (label, _, text) in zip(axes, _binary_label_styles()):
        target = torch.full_like(logits, label)
        ax.plot(logits, torch.nn.BCEWithLogitsLoss(reduction="none")(logits, target), label="BCEWithLogitsLoss(x)")
        ax.plot(
            logits, torch.nn.BCELoss(reduction="none")(torch.sigmoid(logits), target),
            linestyle="--", label="BCELoss(sigmoid(x))",
        )
        ax.set_title(f"label {text}")
        ax.set_xlabel("logit $x$")
    axes[0].set_ylabel("loss (float32)")
    axes[0].legend(loc="upper right")
    return fig


@figure("binary-bce-vanishing-gradient")
def binary_bce_vanishing_gradient() -> Figure:
    """Size of the gradient w.r.t. the logit for y = 1: BCELoss(sigmoid(x)) collapses below x = -28."""
    logits = torch.linspace(-100, 5, 1051)
    target = torch.ones_like(logits)
    fig, ax = plt.subplots(layout="constrained")
    x = logits.clone().requires_grad_(True)
    (exact,) = torch.autograd.grad(torch.nn.BCEWithLogitsLoss(reduction="sum")(x, target), x)
    x = logits.clone().requires_grad_(True)
    (clamped,) = torch.autograd.grad(torch.nn.BCELoss(reduction="sum")(torch.sigmoid(x), target), x)
    ax.semilogy(logits, exact.abs(), label="BCEWithLogitsLoss(x)")
    ax.semilogy(logits, clamped.abs(), linestyle="--", label="BCELoss(sigmoid(x))")
    ax.set_xlabel("logit $x$ (label $y = 1$)")
    ax.set_ylabel("|gradient w.r.t. $x$|")
    ax.set_ylim(1e-30, 10)
    ax.legend(loc="lower right")
    return fig


# --- Regularization chapter and worked example (issue 5) -------------------------------------


def _quadratic_bowl(centre: torch.Tensor, hessian: torch.Tensor, w1: torch.Tensor, w2: torch.Tensor) -> torch.Tensor:
    """\\(\\tfrac12 (w - c)^\\top H (w - c)\\) on a grid."""
    d1, d2 = w1 - centre[0], w2 - centre[1]
    return 0.5 * (hessian[0, 0] * d1**2 + 2 * hessian[0, 1] * d1 * d2 + hessian[1, 1] * d2**2)


def _lowest_on_boundary(boundary: torch.Tensor, centre: torch.Tensor, hessian: torch.Tensor) -> torch.Tensor:
    values = _quadratic_bowl(centre, hessian, boundary[:, 0], boundary[:, 1])
    return boundary[values.argmin()]


@figure("regularization-geometry")
def regularization_geometry() -> Figure:
    """Level sets of a quadratic loss against the L1 diamond and the L2 disc, with their tangent points."""
    centre = torch.tensor([2.0, 1.3])  # the unpenalised minimum
    hessian = torch.tensor([[1.5, 0.6], [0.6, 1.0]])
    angle = torch.linspace(0, 2 * torch.pi, 20001)
    circle = torch.stack([torch.cos(angle), torch.sin(angle)], dim=1)  # radius 1
    diamond = circle / circle.abs().sum(dim=1, keepdim=True)  # |w1| + |w2| = 1
    grid = torch.linspace(-1.6, 3.2, 120)
    w1, w2 = torch.meshgrid(grid, grid, indexing="xy")
    loss = _quadratic_bowl(centre, hessian, w1, w2)

    fig, axes = plt.subplots(1, 2, figsize=(8.4, 4.2), sharey=True)
    for ax, boundary, title in ((axes[0], diamond, "L1: $|w_1| + |w_2| \\leq t$"), (axes[1], circle, "L2: $w_1^2 + w_2^2 \\leq t^2$")):
        touch = _lowest_on_boundary(boundary, centre, hessian)
        level = float(_quadratic_bowl(centre, hessian, touch[0], touch[1]))
        ax.contour(w1, w2, loss, levels=[level / 16, level / 4, level * 2.0, level * 3.5], colors="C0", linewidths=0.8, alpha=0.6)
        ax.contour(w1, w2, loss, levels=[level], colors="C0", linewidths=2.0)
        outline = boundary[::100]  # enough points to draw, the dense set finds the tangent point
        ax.fill(outline[:, 0], outline[:, 1], color="C1", alpha=0.2, linewidth=0)
        ax.plot(outline[:, 0], outline[:, 1], color="C1", linewidth=2.0)
        ax.plot(*centre, marker="x", color="C0", markersize=9, markeredgewidth=2, linestyle="none", label="minimum of the loss")
        ax.plot(*touch, marker="o", color="C2", markersize=8, linestyle="none", label=f"tangent point ({touch[0]:.2f}, {touch[1]:.2f})")
        ax.axhline(0, linewidth=0.8, color=plt.rcParams["grid.color"])
        ax.axvline(0, linewidth=0.8, color=plt.rcParams["grid.color"])
        ax.set_aspect("equal")
        ax.set_xlim(-1.6, 3.2)
        ax.set_ylim(-1.6, 3.2)
        ax.set_xlabel("$w_1$")
        ax.set_title(title)
        ax.legend(loc="lower right", fontsize=9)
    axes[0].set_ylabel("$w_2$")
    fig.tight_layout()
    return fig


def _notebook_figure(theme: Theme, **subplots: object) -> tuple[Figure, object]:
    """A figure for a notebook: the book's style, drawn on an opaque background."""
    with plt.rc_context(_style(theme)):
        fig, axes = plt.subplots(dpi=80, **subplots)
    fig.patch.set_facecolor("white" if theme == "light" else "#1e2129")
    plt.close(fig)  # the notebook shows the returned figure once, not again at the end of the cell
    return fig, axes


def _scatter_classes(ax, X: torch.Tensor, labels: torch.Tensor) -> None:
    labels = labels.reshape(-1)
    cycle = plt.rcParams["axes.prop_cycle"].by_key()["color"]  # resolved now, not when drawn
    for value, name, colour in ((0, "negative", cycle[0]), (1, "positive", cycle[1])):
        points = X[labels == value]
        ax.scatter(points[:, 0], points[:, 1], s=2, color=colour, label=f"{name} ({len(points)})", rasterized=True)
    ax.set_aspect("equal")
    ax.set_xlabel("$x_1$")
    ax.set_ylabel("$x_2$")
    ax.legend(loc="upper right", markerscale=4, fontsize=10)


def rings_scatter(X: torch.Tensor, y: torch.Tensor, theme: Theme = "light") -> Figure:
    """Scatter plot of two-dimensional points coloured by their 0/1 label (see ``lossbook.make_rings``)."""
    with plt.rc_context(_style(theme)):
        fig, ax = _notebook_figure(theme, figsize=(4.8, 4.8))
        _scatter_classes(ax, X, y)
        ax.set_title("the data")
    return fig


def predictions_side_by_side(X: torch.Tensor, y_true: torch.Tensor, y_pred: torch.Tensor, theme: Theme = "light") -> Figure:
    """Two scatter plots of the same points: coloured by true label (left) and by predicted label (right)."""
    with plt.rc_context(_style(theme)):
        fig, axes = _notebook_figure(theme, ncols=2, figsize=(9.6, 4.8), sharey=True)
        for ax, labels, title in ((axes[0], y_true, "true labels"), (axes[1], y_pred, "predicted labels")):
            _scatter_classes(ax, X, labels)
            ax.set_title(title)
        axes[1].set_ylabel("")
        fig.tight_layout()
    return fig


def history_curves(history: list[dict], monitor: str = "val_auc", best_epoch: int | None = None, theme: Theme = "light") -> Figure:
    """Loss curves (left) and the monitored metric (right) per epoch, with the best epoch marked.

    ``history`` is what ``lossbook.fit`` returns; ``best_epoch`` defaults to its ``best_epoch``.
    """
    if best_epoch is None:
        best_epoch = getattr(history, "best_epoch", None)
    epochs = [row["epoch"] for row in history]
    metric = monitor.split("_", 1)[1] if "_" in monitor else monitor
    name = "AUC" if metric == "auc" else metric
    with plt.rc_context(_style(theme)):
        fig, (left, right) = _notebook_figure(theme, ncols=2, figsize=(9.6, 3.6))
        for key, label in (("train_loss", "train loss"), ("val_loss", "validation loss"), ("val_objective", "validation loss + penalties")):
            if key in history[0]:
                left.plot(epochs, [row[key] for row in history], marker=".", label=label)
        left.set_ylabel("loss")
        for key in (f"train_{metric}", f"val_{metric}"):
            if key in history[0]:
                right.plot(epochs, [row[key] for row in history], marker=".", label=key.replace("_", " ").replace(metric, name))
        right.set_ylabel(name)
        for ax in (left, right):
            if best_epoch is not None:
                ax.axvline(best_epoch, linestyle="--", color=plt.rcParams["text.color"], alpha=0.6, label=f"best epoch ({best_epoch})")
            ax.set_xlabel("epoch")
            ax.xaxis.set_major_locator(matplotlib.ticker.MaxNLocator(integer=True))
            ax.legend(fontsize=10)
        fig.tight_layout()
    return fig


# Multi-class, KL divergence, similarity and adaptive-softmax chapters (docs/losses/multiclass.md,
# kl-divergence.md, similarity.md, adaptive-softmax.md). Curves come from the torch.nn losses,
# gradients from autograd.


@figure("multiclass-margin")
def multiclass_margin() -> Figure:
    """CrossEntropyLoss of one item with logits (m, 0, 0) and true class 0, with and without label smoothing."""

    def loss_of_margin(smoothing: float) -> Callable[[torch.Tensor], torch.Tensor]:
        loss_fn = torch.nn.CrossEntropyLoss(reduction="none", label_smoothing=smoothing)

        def loss(m: torch.Tensor) -> torch.Tensor:
            logits = torch.stack([m, torch.zeros_like(m), torch.zeros_like(m)], dim=1)
            return loss_fn(logits, torch.zeros(len(m), dtype=torch.long))

        return loss

    fig, left, right = _loss_and_gradient_panels(
        torch.linspace(-4.0, 8.0, 601),
        [
            ("no smoothing", "-", loss_of_margin(0.0)),
            (r"label_smoothing $= 0.1$", "--", loss_of_margin(0.1)),
        ],
        xlabel="margin $m$ of the true-class logit, logits $(m, 0, 0)$",
        loss_label="loss of one item",
        gradient_label="gradient w.r.t. the true-class logit",
    )
    right.axhline(0.0, linewidth=0.8, color=plt.rcParams["axes.edgecolor"])
    left.legend()
    return fig


@figure("kl-two-class")
def kl_two_class() -> Figure:
    """KLDivLoss for two classes with target (0.7, 0.3): both directions of KL, and the gradient w.r.t. the logit."""
    p = torch.tensor([0.7, 0.3])
    q1 = torch.linspace(0.005, 0.995, 500)
    q = torch.stack([q1, 1 - q1], dim=1)
    target = p.expand_as(q)
    kl_div = torch.nn.KLDivLoss(reduction="none")
    forward = kl_div(q.log(), target).sum(dim=1)
    reverse = kl_div(target.log(), q).sum(dim=1)
    z = torch.logit(q1).requires_grad_(True)  # logit of the first class, the second class's logit is 0
    log_q = torch.log_softmax(torch.stack([z, torch.zeros_like(z)], dim=1), dim=1)
    (gradient,) = torch.autograd.grad(kl_div(log_q, target).sum(), z)
    fig, (left, right) = plt.subplots(1, 2, figsize=(8.8, 3.6), layout="constrained")
    left.plot(q1, forward, label=r"KLDivLoss: KL$(p \,\|\, q)$")
    left.plot(q1, reverse, linestyle="--", label=r"reversed: KL$(q \,\|\, p)$")
    left.set_ylim(0, 2.0)
    left.set_ylabel("loss of one item")
    left.legend(loc="upper center")
    right.plot(q1, gradient, label=r"$q_1 - p_1$")
    right.axhline(0.0, linewidth=0.8, color=plt.rcParams["axes.edgecolor"])
    right.set_ylabel("gradient of KL$(p \\,\\|\\, q)$ w.r.t. the logit")
    right.legend()
    for ax in (left, right):
        ax.axvline(0.7, linewidth=0.8, linestyle=":", color=plt.rcParams["axes.edgecolor"])
        ax.set_xlabel(r"model's probability of class 1, $q_1$ (target $p_1 = 0.7$)")
    return fig


@figure("similarity-cosine-embedding")
def similarity_cosine_embedding() -> Figure:
    """CosineEmbeddingLoss and its slope against the cosine of the pair, for y = 1 and y = -1 with two margins."""

    def loss_of_cosine(y: float, margin: float) -> Callable[[torch.Tensor], torch.Tensor]:
        loss_fn = torch.nn.CosineEmbeddingLoss(margin=margin, reduction="none")

        def loss(c: torch.Tensor) -> torch.Tensor:
            # x1 = (1, 0) and the unit vector x2 = (c, sqrt(1 - c^2)): their cosine is exactly c
            x1 = torch.stack([torch.ones_like(c), torch.zeros_like(c)], dim=1)
            x2 = torch.stack([c, torch.sqrt(1 - c**2)], dim=1)
            return loss_fn(x1, x2, torch.full_like(c, y))

        return loss

    fig, left, _ = _loss_and_gradient_panels(
        torch.linspace(-0.999, 0.999, 801),
        [
            ("$y = 1$", "-", loss_of_cosine(1.0, 0.0)),
            ("$y = -1$, margin 0", "--", loss_of_cosine(-1.0, 0.0)),
            ("$y = -1$, margin 0.5", ":", loss_of_cosine(-1.0, 0.5)),
        ],
        xlabel=r"cosine of the pair, $\cos(x_1, x_2)$",
        loss_label="loss of one pair",
        gradient_label="gradient w.r.t. the cosine",
    )
    left.legend(loc="upper center")
    return fig


@figure("multiclass-adaptive-zipf")
def multiclass_adaptive_zipf() -> Figure:
    """Share of Zipf-distributed tokens covered by the ids below each rank, with adaptive-softmax cutoffs."""
    vocabulary, cutoffs = 100_000, (2_000, 10_000, 50_000)
    rank = torch.arange(1, vocabulary + 1, dtype=torch.float64)
    covered = torch.cumsum(1 / rank, dim=0) / (1 / rank).sum()
    fig, ax = plt.subplots(figsize=(7.2, 4.4), layout="constrained")
    ax.plot(rank, covered, color=plt.rcParams["text.color"], label="_covered")
    edges = (0, *cutoffs, vocabulary)
    names = ("head", "tail cluster 0", "tail cluster 1", "tail cluster 2")
    colours = plt.rcParams["axes.prop_cycle"].by_key()["color"]
    for low, high, name, colour in zip(edges[:-1], edges[1:], names, colours):
        share = (covered[high - 1] - (covered[low - 1] if low else 0)).item()
        label = f"{name}: ids {low:,} to {high - 1:,}, {share:.0%} of tokens"
        ax.axvspan(max(low, 1), high, color=colour, alpha=0.2, linewidth=0, label=label)
    ax.set_xscale("log")
    ax.set_xlim(1, vocabulary)
    ax.set_ylim(0, 1)
    ax.set_xlabel("id (= frequency rank) of the token, log scale")
    ax.set_ylabel("share of tokens with a smaller id")
    fig.legend(loc="outside lower center", ncols=1 if narrow() else 2, fontsize=9)
    return fig


@figure("focal-modulating-factor")
def focal_modulating_factor() -> Figure:
    """Focal loss's modulating factor (1 - p_t)^gamma against p_t for several gamma."""
    p_t = torch.linspace(0, 1, 401)
    fig, ax = plt.subplots()
    for gamma in (0.0, 0.5, 1.0, 2.0, 5.0):
        ax.plot(p_t, (1 - p_t) ** gamma, label=rf"$\gamma = {gamma:g}$")
    ax.axvspan(0.6, 1.0, alpha=0.08, color=plt.rcParams["text.color"], linewidth=0)
    ax.text(0.8, 1.06, "well classified", ha="center", fontsize=9)
    ax.set_xlim(0, 1)
    ax.set_ylim(0, 1.12)
    ax.set_xlabel(r"probability of the true label, $p_t$")
    ax.set_ylabel(r"weight $(1 - p_t)^{\gamma}$ of the item's loss")
    ax.legend(loc="lower left")
    return fig


# The worked example (docs/worked-example.ipynb). Its figures are drawn here, like every other
# figure of the book, from the same seeded run the notebook executes: the same data, split,
# model, loss, penalties and optimizer, in the same order. tests/test_worked_example.py checks
# that this run prints exactly the epoch table and the numbers the notebook shows.

import functools  # noqa: E402  (kept with the only code that uses it)


class _BatchedTensors(TensorDataset):
    """The notebook's ``TensorDataset``, whose batch is fetched by indexing each tensor once.

    ``DataLoader`` fetches a batch with ``__getitems__`` when the dataset has it (``Subset`` passes
    it on): the same rows, in the same order, as its default of one ``__getitem__`` per row
    stacked by ``default_collate``, so the same numbers, without 100 Python calls per batch (most
    of the training's time in the figures' process). The sampler, and so every draw from the
    seeded generator, is the notebook's.
    """

    def __getitems__(self, indices: list[int]) -> tuple[torch.Tensor, ...]:
        rows = torch.tensor(indices)
        return tuple(tensor[rows] for tensor in self.tensors)


def _as_fetched(batch: tuple[torch.Tensor, ...]) -> tuple[torch.Tensor, ...]:
    """``collate_fn`` for ``_BatchedTensors``: the batch is already whole."""
    return batch


@functools.lru_cache(maxsize=1)  # three figures in two themes share one run; the run is a pure
def worked_example_run() -> dict:  # function of the seeds and of lossbook's code
    """The worked example's data, training history and predictions, as the notebook computes them."""
    from torch import nn
    from torch.utils.data import DataLoader, random_split

    from lossbook import fit, focal_loss, l1_penalty, l2_penalty, make_rings

    threads = torch.get_num_threads()
    torch.set_num_threads(1)  # same arithmetic, same order, as in the notebook
    try:
        torch.manual_seed(3)
        X, y = make_rings(n_pos=1000, n_neg=6000, seed=0)
        generator = torch.Generator().manual_seed(3)
        train_set, val_set = random_split(_BatchedTensors(X, y), [0.7, 0.3], generator=generator)
        train_loader = DataLoader(train_set, batch_size=100, shuffle=True, generator=generator, collate_fn=_as_fetched)
        val_loader = DataLoader(val_set, batch_size=100, collate_fn=_as_fetched)

        class Net(nn.Module):
            def __init__(self):
                super().__init__()
                self.fc1 = nn.Linear(2, 4)
                self.fc2 = nn.Linear(4, 8)
                self.fc3 = nn.Linear(8, 1)

            def forward(self, x):
                x = torch.relu(self.fc1(x))
                x = torch.relu(self.fc2(x))
                return self.fc3(x)

        net = Net()
        history = fit(
            net, lambda logits, labels: focal_loss(logits, labels, alpha=0.75, gamma=2.0),
            torch.optim.Adam(net.parameters(), lr=0.002), train_loader, val_loader,
            epochs=20, monitor="val_auc", mode="max", patience=3,
            penalty=lambda model: l1_penalty(model, weight=0.001) + l2_penalty(model, weight=0.001),
            progress=False,
        )
        net.eval()
        with torch.no_grad():
            predicted = (torch.sigmoid(net(X)) >= 0.5).float()
    finally:
        torch.set_num_threads(threads)
    return {"X": X, "y": y, "history": history, "predicted": predicted}


def _theme() -> Theme:
    """The theme ``render_svg()`` is drawing in (its style is in effect).

    A figure that asks is drawn in each theme by ``render_svgs``, not recoloured.
    """
    _drawing["theme_read"] = True
    return "dark" if plt.rcParams["text.color"] == _INK["dark"] else "light"


@figure("worked-example-data")
def worked_example_data() -> Figure:
    """The two rings of the worked example, coloured by label."""
    run = worked_example_run()
    return rings_scatter(run["X"], run["y"], theme=_theme())


@figure("worked-example-history")
def worked_example_history() -> Figure:
    """The worked example's losses and AUC per epoch, the best epoch marked."""
    return history_curves(worked_example_run()["history"], theme=_theme())


@figure("worked-example-predictions")
def worked_example_predictions() -> Figure:
    """The worked example's points coloured by true label and by the trained model's label."""
    run = worked_example_run()
    return predictions_side_by_side(run["X"], run["y"], run["predicted"], theme=_theme())
# Probabilistic regression, ranking and margin chapters (docs/losses/probabilistic-regression.md,
# ranking.md, margin.md). Curves come from the torch.nn losses, gradients from autograd.


@figure("gaussian-nll-variance")
def gaussian_nll_variance() -> Figure:
    """GaussianNLLLoss against the predicted variance for three residuals: lowest at var = r^2."""

    def loss_of_variance(residual: float) -> Callable[[torch.Tensor], torch.Tensor]:
        loss_fn = torch.nn.GaussianNLLLoss(reduction="none")
        return lambda var: loss_fn(torch.full_like(var, residual), torch.zeros_like(var), var)

    fig, left, right = _loss_and_gradient_panels(
        torch.linspace(0.05, 5.0, 500),
        [(f"residual $r = {r:g}$", style, loss_of_variance(r)) for r, style in ((0.5, "-"), (1.0, "--"), (2.0, "-."))],
        xlabel="predicted variance, var",
        loss_label="loss of one element",
        gradient_label="gradient w.r.t. var",
    )
    for r in (0.5, 1.0, 2.0):
        left.axvline(r**2, linewidth=0.8, linestyle=":", color=plt.rcParams["axes.edgecolor"])
    right.axhline(0.0, linewidth=0.8, color=plt.rcParams["axes.edgecolor"])
    left.set_ylim(-1.5, 4.0)
    right.set_ylim(-2.0, 2.0)
    left.legend(loc="upper right")
    return fig


@figure("poisson-nll")
def poisson_nll() -> Figure:
    """PoissonNLLLoss (log_input=True) against the log-rate for counts 0, 1 and 4: lowest at log y."""

    def loss_of_log_rate(count: float) -> Callable[[torch.Tensor], torch.Tensor]:
        loss_fn = torch.nn.PoissonNLLLoss(reduction="none")
        return lambda log_rate: loss_fn(log_rate, torch.full_like(log_rate, count))

    fig, left, right = _loss_and_gradient_panels(
        torch.linspace(-3.0, 2.5, 551),
        [(f"count $y = {y:g}$", style, loss_of_log_rate(y)) for y, style in ((0.0, "-"), (1.0, "--"), (4.0, "-."))],
        xlabel=r"input: log-rate $x$, rate $e^x$",
        loss_label="loss of one element",
        gradient_label="gradient w.r.t. the input",
    )
    right.axhline(0.0, linewidth=0.8, color=plt.rcParams["axes.edgecolor"])
    left.set_ylim(-2.0, 10.0)
    right.set_ylim(-5.0, 8.0)
    left.legend(loc="upper center")
    return fig


@figure("ranking-margin-ranking")
def ranking_margin_ranking() -> Figure:
    """MarginRankingLoss against the score difference x1 - x2, for y = 1 and y = -1, margins 0 and 0.5."""

    def loss_of_difference(y: float, margin: float) -> Callable[[torch.Tensor], torch.Tensor]:
        loss_fn = torch.nn.MarginRankingLoss(margin=margin, reduction="none")
        return lambda d: loss_fn(d, torch.zeros_like(d), torch.full_like(d, y))

    fig, left, _ = _loss_and_gradient_panels(
        torch.linspace(-2.0, 2.0, 801),
        [
            ("$y = 1$, margin 0", "-", loss_of_difference(1.0, 0.0)),
            ("$y = 1$, margin 0.5", "--", loss_of_difference(1.0, 0.5)),
            ("$y = -1$, margin 0.5", "-.", loss_of_difference(-1.0, 0.5)),
        ],
        xlabel="score difference $x_1 - x_2$",
        loss_label="loss of one pair",
        gradient_label="gradient w.r.t. $x_1$",
    )
    left.legend(loc="upper center")
    return fig


@figure("ranking-hinge-embedding")
def ranking_hinge_embedding() -> Figure:
    """HingeEmbeddingLoss against the input (a distance), for y = 1 and y = -1 with margins 1 and 2."""

    def loss_of_distance(y: float, margin: float) -> Callable[[torch.Tensor], torch.Tensor]:
        loss_fn = torch.nn.HingeEmbeddingLoss(margin=margin, reduction="none")
        return lambda d: loss_fn(d, torch.full_like(d, y))

    fig, left, _ = _loss_and_gradient_panels(
        torch.linspace(0.0, 3.0, 601),
        [
            ("$y = 1$", "-", loss_of_distance(1.0, 1.0)),
            ("$y = -1$, margin 1", "--", loss_of_distance(-1.0, 1.0)),
            ("$y = -1$, margin 2", "-.", loss_of_distance(-1.0, 2.0)),
        ],
        xlabel="input: distance of the pair",
        loss_label="loss of one pair",
        gradient_label="gradient w.r.t. the input",
    )
    left.legend(loc="upper center")
    return fig


@figure("ranking-triplet-swap")
def ranking_triplet_swap() -> Figure:
    """TripletMarginLoss with anchor (0, 0), positive (1, 0) and the negative at (t, 0), with and without swap."""

    def loss_at(swap: bool) -> Callable[[torch.Tensor], torch.Tensor]:
        loss_fn = torch.nn.TripletMarginLoss(margin=1.0, swap=swap, reduction="none")

        def loss(t: torch.Tensor) -> torch.Tensor:
            anchor = torch.zeros(len(t), 2)
            positive = torch.tensor([1.0, 0.0]).expand(len(t), 2)
            return loss_fn(anchor, positive, torch.stack([t, torch.zeros_like(t)], dim=1))

        return loss

    fig, left, right = _loss_and_gradient_panels(
        torch.linspace(-3.0, 4.0, 701),
        [("swap=False", "-", loss_at(False)), ("swap=True", "--", loss_at(True))],
        xlabel="negative at $(t, 0)$; anchor at 0, positive at 1",
        loss_label="loss of one triplet",
        gradient_label="gradient w.r.t. $t$",
    )
    for ax in (left, right):
        for where in (0.0, 1.0):
            ax.axvline(where, linewidth=0.8, linestyle=":", color=plt.rcParams["axes.edgecolor"])
    left.legend(loc="upper left")
    return fig


@figure("ranking-triplet-cosine")
def ranking_triplet_cosine() -> Figure:
    """TripletMarginWithDistanceLoss on unit vectors: cosine distance against Euclidean distance."""
    positive_angle = torch.tensor(torch.pi / 6)

    def loss_with(distance: Callable, margin: float) -> Callable[[torch.Tensor], torch.Tensor]:
        loss_fn = torch.nn.TripletMarginWithDistanceLoss(distance_function=distance, margin=margin, reduction="none")

        def loss(degrees: torch.Tensor) -> torch.Tensor:
            angle = torch.deg2rad(degrees)
            anchor = torch.tensor([1.0, 0.0]).expand(len(angle), 2)
            positive = torch.stack([torch.cos(positive_angle), torch.sin(positive_angle)]).expand(len(angle), 2)
            negative = torch.stack([torch.cos(angle), torch.sin(angle)], dim=1)
            return loss_fn(anchor, positive, negative)

        return loss

    def cosine_distance(u: torch.Tensor, v: torch.Tensor) -> torch.Tensor:
        return 1 - torch.nn.functional.cosine_similarity(u, v)

    fig, left, _ = _loss_and_gradient_panels(
        torch.linspace(2.0, 180.0, 713),
        [
            ("cosine distance", "-", loss_with(cosine_distance, 0.5)),
            ("Euclidean distance", "--", loss_with(torch.nn.functional.pairwise_distance, 0.5)),
        ],
        xlabel="angle between anchor and negative (degrees)",
        loss_label="loss of one triplet",
        gradient_label="gradient w.r.t. the angle",
    )
    for ax in fig.axes:
        ax.axvline(30.0, linewidth=0.8, linestyle=":", color=plt.rcParams["axes.edgecolor"])
    left.legend(loc="upper right")
    return fig


@figure("margin-multi-margin")
def margin_multi_margin() -> Figure:
    """MultiMarginLoss (p = 1, 2) and CrossEntropyLoss of one item with logits (m, 0, 0) and true class 0."""

    def loss_of_margin(loss_fn: torch.nn.Module) -> Callable[[torch.Tensor], torch.Tensor]:
        def loss(m: torch.Tensor) -> torch.Tensor:
            logits = torch.stack([m, torch.zeros_like(m), torch.zeros_like(m)], dim=1)
            return loss_fn(logits, torch.zeros(len(m), dtype=torch.long))

        return loss

    fig, left, _ = _loss_and_gradient_panels(
        torch.linspace(-2.0, 3.0, 501),
        [
            ("MultiMarginLoss, p=1", "-", loss_of_margin(torch.nn.MultiMarginLoss(reduction="none"))),
            ("MultiMarginLoss, p=2", "--", loss_of_margin(torch.nn.MultiMarginLoss(p=2, reduction="none"))),
            ("CrossEntropyLoss", "-.", loss_of_margin(torch.nn.CrossEntropyLoss(reduction="none"))),
        ],
        xlabel="true-class logit $m$, logits $(m, 0, 0)$",
        loss_label="loss of one item",
        gradient_label="gradient w.r.t. $m$",
    )
    left.legend(loc="upper right")
    return fig


@figure("margin-multilabel-margin")
def margin_multilabel_margin() -> Figure:
    """MultiLabelMarginLoss of one item, 4 classes, targets {0, 1}: against the score of class 0."""
    loss_fn = torch.nn.MultiLabelMarginLoss(reduction="none")

    def loss_with(other_scores: tuple[float, float, float]) -> Callable[[torch.Tensor], torch.Tensor]:
        def loss(score: torch.Tensor) -> torch.Tensor:
            rest = torch.tensor(other_scores).expand(len(score), 3)
            target = torch.tensor([0, 1, -1, -1]).expand(len(score), 4)
            return loss_fn(torch.cat([score[:, None], rest], dim=1), target)

        return loss

    fig, left, _ = _loss_and_gradient_panels(
        torch.linspace(-2.0, 3.0, 501),
        [
            ("scores of classes 1, 2, 3: (1, 0, 0)", "-", loss_with((1.0, 0.0, 0.0))),
            ("scores of classes 1, 2, 3: (1, 0.5, 0)", "--", loss_with((1.0, 0.5, 0.0))),
        ],
        xlabel="score of target class 0",
        loss_label="loss of one item",
        gradient_label="gradient w.r.t. the score",
    )
    left.legend(loc="upper right")
    return fig


@figure("margin-soft-margin")
def margin_soft_margin() -> Figure:
    """SoftMarginLoss against y * x, next to the hinge max(0, 1 - y x) of MultiMarginLoss on two classes."""
    soft = torch.nn.SoftMarginLoss(reduction="none")
    multi = torch.nn.MultiMarginLoss(reduction="none")

    def hinge(z: torch.Tensor) -> torch.Tensor:
        # two classes with logits (z/2, -z/2) and true class 0: max(0, 1 - z) / 2, doubled
        logits = torch.stack([z / 2, -z / 2], dim=1)
        return 2 * multi(logits, torch.zeros(len(z), dtype=torch.long))

    fig, left, right = _loss_and_gradient_panels(
        torch.linspace(-3.0, 4.0, 701),
        [
            (r"SoftMarginLoss: $\log(1 + e^{-yx})$", "-", lambda z: soft(z, torch.ones_like(z))),
            (r"hinge: $\max(0, 1 - yx)$", "--", hinge),
        ],
        xlabel="margin $y \\cdot x$",
        loss_label="loss of one element",
        gradient_label="gradient w.r.t. $y \\cdot x$",
    )
    left.legend(loc="upper right")
    return fig


@figure("margin-multilabel-soft-margin")
def margin_multilabel_soft_margin() -> Figure:
    """MultiLabelSoftMarginLoss of one item against one logit, next to BCEWithLogitsLoss (mean over classes)."""
    labels = torch.tensor([1.0, 0.0, 1.0])
    others = torch.tensor([0.5, -1.0])

    def logits_of(x: torch.Tensor) -> torch.Tensor:
        return torch.cat([x[:, None], others.expand(len(x), 2)], dim=1)

    mlsm = torch.nn.MultiLabelSoftMarginLoss(reduction="none")
    bce = torch.nn.BCEWithLogitsLoss(reduction="none")
    fig, left, _ = _loss_and_gradient_panels(
        torch.linspace(-4.0, 4.0, 801),
        [
            ("MultiLabelSoftMarginLoss", "-", lambda x: mlsm(logits_of(x), labels.expand(len(x), 3))),
            ("BCEWithLogitsLoss, mean over classes", "--", lambda x: bce(logits_of(x), labels.expand(len(x), 3)).mean(dim=1)),
        ],
        xlabel="logit of class 0 (label 1; other logits 0.5, $-1$)",
        loss_label="loss of one item",
        gradient_label="gradient w.r.t. the logit",
    )
    left.legend(loc="upper right")
    return fig


# Sequence-alignment chapter (docs/losses/ctc.md). Posteriors come from enumerating every path.


@figure("ctc-alignment-lattice")
def ctc_alignment_lattice() -> Figure:
    """The CTC lattice of the target "ab" over five frames: states, allowed moves, posteriors."""
    import itertools

    from matplotlib.colors import to_rgb

    frames, classes, labels = 5, 3, (1, 2)  # class 0 is the blank; the target is "ab"
    probs = torch.softmax(torch.randn(frames, classes, generator=torch.Generator().manual_seed(18)), dim=1)
    states = len(labels) * 2 + 1  # blank, a, blank, b, blank
    occupancy = torch.zeros(frames, states, dtype=torch.float64)
    moves: set[tuple[int, int, int]] = set()
    for path in itertools.product(range(classes), repeat=frames):
        seen, previous, walk = 0, None, []
        for symbol in path:
            if symbol != 0 and symbol != previous:
                seen += 1
            walk.append(2 * seen - 1 if symbol != 0 else 2 * seen)
            previous = symbol
        emitted = [s for i, s in enumerate(path) if s != 0 and (i == 0 or s != path[i - 1])]
        if tuple(emitted) != labels:
            continue
        weight = torch.prod(probs[torch.arange(frames), torch.tensor(path)]).item()
        for t, state in enumerate(walk):
            occupancy[t, state] += weight
        moves.update((t, walk[t], walk[t + 1]) for t in range(frames - 1))
    occupancy /= occupancy[0].sum()  # each frame's occupancies add up to 1
    ink = plt.rcParams["text.color"]
    dark = _theme() == "dark"  # the nodes' shades mix with the page's colour: drawn in each theme
    colour = plt.rcParams["axes.prop_cycle"].by_key()["color"][0]
    background = "#1e2129" if dark else "#ffffff"  # Material's slate and default page colours
    arrow = {"arrowstyle": "->", "color": _GRID["light"] if dark else _GRID["dark"],
             "shrinkA": 15, "shrinkB": 15, "linewidth": 1.2}
    fig, ax = plt.subplots(figsize=(6.4, 3.8), layout="constrained")
    for t, s, s_next in sorted(moves):
        ax.annotate("", xy=(t + 1, s_next), xytext=(t, s), arrowprops=arrow)
    for t in range(frames):
        for s in range(states):
            share = occupancy[t, s].item()
            if share == 0:
                ax.plot(t, s, "o", markersize=6, markerfacecolor="none", markeredgecolor=ink, alpha=0.5)
                continue
            mix = 0.1 + 0.9 * share  # the node's shade: page background to full colour
            fill = [(1 - mix) * b + mix * c for b, c in zip(to_rgb(background), to_rgb(colour))]
            ax.plot(t, s, "o", markersize=26, markerfacecolor=fill, markeredgecolor=ink)
            ax.text(t, s, f"{share:.2f}", ha="center", va="center", fontsize=9,
                    color=ink if share < 0.75 else "#000000" if dark else "#ffffff")
    ax.set_xticks(range(frames), [str(t + 1) for t in range(frames)])
    ax.set_yticks(range(states), ["–", "a", "–", "b", "–"])
    ax.set_xlim(-0.5, frames - 0.5)
    ax.set_ylim(states - 0.5, -0.5)
    ax.grid(False)
    ax.set_xlabel("frame $t$")
    ax.set_ylabel("state: the target ab with blanks")
    return fig


# Large-vocabularies chapter, LinearCrossEntropyLoss (docs/losses/adaptive-softmax.md).


@figure("linear-ce-memory")
def linear_ce_memory() -> Figure:
    """Bytes of logits held at once by Linear + CrossEntropyLoss and by the chunked path."""
    d, vocab, float32, mib = 1024, 32768, 4, 2**20
    tokens = [2**k for k in range(8, 17)]

    def chunk_rows(n: int) -> int:  # chunking_method "aspect_ratio:2" (the CPU float32 default)
        target = -(-n // -(-vocab // d))
        return min((1 << (target - 1).bit_length()) // 2, n)

    full = [n * vocab * float32 / mib for n in tokens]
    chunk = [chunk_rows(n) * vocab * float32 / mib for n in tokens]
    weight = vocab * d * float32 / mib
    fig, ax = plt.subplots(figsize=(6.4, 3.8), layout="constrained")
    ax.plot(tokens, full, marker="o", label="full logits ($N \\times V$), Linear + CrossEntropyLoss")
    ax.plot(tokens, chunk, marker="s", linestyle="--", label="one chunk's logits, chunked path")
    ax.axhline(weight, color=plt.rcParams["text.color"], linestyle=":", linewidth=1,
               label=f"the weight, or its gradient ({weight:.0f} MiB)")
    ax.set_xscale("log", base=2)
    ax.set_yscale("log", base=2)
    levels = [2.0**k for k in range(-1, 14, 2)]
    ax.set_yticks(levels, [f"{v:g}" for v in levels])
    ax.set_xticks(tokens, [f"{n // 1024}k" if n >= 1024 else str(n) for n in tokens])
    ax.set_xlabel("tokens per batch, $N$ ($d = 1024$, $V = 32\\,768$, float32)")
    ax.set_ylabel("MiB")
    ax.legend(fontsize=9, loc="upper left")
    return fig
