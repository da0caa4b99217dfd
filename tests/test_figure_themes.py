"""A figure's dark SVG is derived from its light one (``lossbook.plots.dark_from_light``): the
same bytes as the figure drawn dark, and a loud failure on anything it cannot map exactly."""

from __future__ import annotations

import pytest

plots = pytest.importorskip("lossbook.plots")


@pytest.mark.parametrize(
    ("name", "width"),
    [
        ("regularization-geometry", "wide"),  # fills with alpha, contours, markers, legends, math titles
        ("multiclass-adaptive-zipf", "narrow"),  # spans with alpha, a figure legend, log axis
        ("focal-modulating-factor", "wide"),  # five palette colours, text.color span and text, math labels
        ("linear-ce-memory", "narrow"),  # line markers (o, s), log-2 axes, text.color line
    ],
)
def test_the_derived_dark_svg_is_the_drawn_one(name: str, width: str) -> None:
    with plots.shared_mathtext():
        themes = plots.render_svgs(name, width)
        assert not plots._drawing["theme_read"], f"{name} asks for its theme: not a mapped figure"
        assert themes["light"] == plots.render_svg(name, "light", width)
        drawn = plots.render_svg(name, "dark", width)
    assert themes["dark"] != themes["light"]
    assert themes["dark"] == drawn


def test_a_figure_that_asks_for_its_theme_is_drawn_in_each() -> None:
    with plots.shared_mathtext():
        themes = plots.render_svgs("ctc-alignment-lattice", "wide")
        assert plots._drawing["theme_read"]
        assert themes["dark"] == plots.render_svg("ctc-alignment-lattice", "dark", "wide")
    with pytest.raises(plots.UnmappableSVG, match="not one of the light theme's colours"):
        plots.dark_from_light(themes["light"])  # its nodes' shades mix the palette with the page


def _svg(body: str) -> str:
    return f'<svg xmlns="http://www.w3.org/2000/svg">{body}</svg>'


@pytest.mark.parametrize(
    ("body", "message"),
    [
        ('<path style="fill: #123456"/>', "colour #123456 is not one of"),
        ('<path style="stroke: #1F77B4; fill: #abcdef"/>', "colour #abcdef is not one of"),
        ('<path style="fill: url(#h0123456789)"/>', "is not a #rrggbb colour"),
        ('<text style="fill: white">x</text>', "is not a #rrggbb colour"),
        ('<path fill="#fff"/>', "is not a #rrggbb colour"),
        ('<image xlink:href="data:image/png;base64,AAAA"/>', "raster image"),
        (
            '<defs><path id="m0123456789" d="M 0 0" style="stroke: #1f2328"/></defs>'
            '<use xlink:href="#m0123456789" x="1" y="2" style="fill: #1f2328; stroke: #1f2328"/>',
            "not matplotlib's hash",
        ),
    ],
)
def test_what_cannot_be_mapped_fails_loudly(body: str, message: str) -> None:
    with pytest.raises(plots.UnmappableSVG, match=message):
        plots.dark_from_light(_svg(body))


def test_the_two_styles_differ_only_in_the_mapped_colours() -> None:
    light, dark = plots._style("light"), plots._style("dark")
    assert light.keys() == dark.keys()
    for key in light:
        if key == "axes.prop_cycle":
            pairs = zip(light[key].by_key()["color"], dark[key].by_key()["color"], strict=True)
            assert all(plots._DARK_OF_LIGHT[a] == b for a, b in pairs), key
        elif light[key] != dark[key]:
            assert plots._DARK_OF_LIGHT.get(light[key]) == dark[key], f"{key}: {light[key]} -> {dark[key]} is not mapped"


def test_the_mapping_is_one_to_one_and_its_colours_are_the_palettes() -> None:
    mapping = plots._DARK_OF_LIGHT
    assert len(set(mapping.values())) == len(mapping), "two light colours would turn into one dark colour"
    assert set(mapping) == {*plots.PALETTE, plots._INK["light"], plots._GRID["light"]}
    assert set(mapping.values()) == {*plots._DARK_PALETTE, plots._INK["dark"], plots._GRID["dark"]}
    assert plots.dark_from_light(_svg('<path style="fill: #1F77B4; stroke: none"/>')) == _svg(
        '<path style="fill: #6cb4ee; stroke: none"/>'
    )
