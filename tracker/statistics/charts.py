"""Charts drawn on the server with pygal, as SVG to put inline in a page.

The pages' Content-Security-Policy allows styles and scripts from files only, so what pygal
writes inline is taken out: its ``<style>`` and ``<script>``, the tooltip that only its
script shows, the ids its script looks for (they would repeat when a page has two charts)
and its comment with the day it was drawn (so the same figures give the same bytes). The
charts are styled by the "Charts" section of ``static/css/site.css`` instead. Each SVG is
an image with its title as its name (``role="img"``, ``aria-labelledby``); the numbers are
in a table beside it, for screen readers and for reading exact values.
"""

from __future__ import annotations

from collections.abc import Sequence

import pygal
from lxml import etree
from markupsafe import Markup
from pygal.style import Style

# Sizes in the chart's own units: it is drawn 640 wide and scaled to fit its box.
STYLE = Style(
    font_family="inherit",
    title_font_size=22,
    label_font_size=17,
    major_label_font_size=17,
    legend_font_size=18,
    value_font_size=17,
    no_data_font_size=24,
    colors=("#0a4f8a", "#1e6b34", "#8a4b00"),
)
COMMON = {
    "style": STYLE,
    "width": 640,
    "height": 400,
    "js": [],
    "css": [],
    "no_prefix": True,
    "disable_xml_declaration": True,
    "legend_at_bottom": True,
    "legend_at_bottom_columns": 2,
    "truncate_legend": -1,
    "truncate_label": -1,
    "margin": 12,
}
UNWANTED = {"style", "script"}


def trend(
    chart_id: str,
    title: str,
    labels: Sequence[str],
    series: Sequence[tuple[str, Sequence[float | None]]],
    *,
    percent: bool = False,
    no_data: str = "",
) -> Markup:
    """A line chart over the weeks of a period (a share in percent with ``percent``)."""
    chart = pygal.Line(
        title=title,
        x_labels=list(labels),
        x_label_rotation=-45 if len(labels) > 8 else 0,
        show_minor_x_labels=len(labels) <= 13,
        x_labels_major_every=max(1, len(labels) // 6),
        range=(0, 100) if percent else None,
        min_scale=2,
        max_scale=6,
        no_data_text=no_data,
        **{**COMMON, "show_legend": len(series) > 1},
    )
    for name, values in series:
        chart.add(name, list(values))
    return _inline(chart, chart_id)


def shares(
    chart_id: str,
    title: str,
    bars: Sequence[tuple[str, float | None]],
    series: str,
    *,
    no_data: str = "",
) -> Markup:
    """A horizontal bar chart of percentages, one bar for each label (blank when None)."""
    chart = pygal.HorizontalBar(
        title=title,
        x_labels=[label for label, _value in reversed(bars)],  # pygal draws upwards
        range=(0, 100),
        show_legend=False,
        no_data_text=no_data,
        **{**COMMON, "height": max(240, 110 + 44 * len(bars))},
    )
    chart.add(series, [value for _label, value in reversed(bars)])
    return _inline(chart, chart_id)


def _inline(chart: pygal.graph.graph.Graph, chart_id: str) -> Markup:
    """The chart's SVG with what the CSP would block taken out, named by its title."""
    # Parsed again with lxml (which feedgen needs too) whichever etree pygal drew with.
    root = etree.fromstring(chart.render(is_unicode=True))
    for element in list(root.iter()):
        if not isinstance(element.tag, str):  # comments
            element.getparent().remove(element)
            continue
        tag = etree.QName(element).localname
        if tag in UNWANTED or "tooltip-overlay" in element.get("class", "").split():
            element.getparent().remove(element)
        elif element is not root:
            element.attrib.pop("id", None)
            element.attrib.pop("style", None)
    title = root.find("{http://www.w3.org/2000/svg}title")
    root.set("id", chart_id)
    root.set("role", "img")
    root.set("focusable", "false")
    if title is not None:
        title.set("id", f"{chart_id}-title")
        root.set("aria-labelledby", f"{chart_id}-title")
    return Markup(etree.tostring(root, encoding="unicode"))
