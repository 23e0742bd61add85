"""Charts drawn on the server with pygal, as SVG to put inline in a page.

The pages' Content-Security-Policy allows styles and scripts from files only, so what pygal
writes inline is taken out: its ``<style>`` and ``<script>``, the tooltip that only its
script shows, the ids its script looks for (they would repeat when a page has two charts)
and its comment with the day it was drawn (so the same figures give the same bytes). The
charts are styled by the "Charts" section of ``static/css/site.css`` instead. Each SVG is
an image with its title as its name (``role="img"``, ``aria-labelledby``); the numbers are
in a table beside it, for screen readers and for reading exact values.

Every chart is drawn twice: wide (640 units) for screens from 40rem, and narrow (320 units,
its bars as a list of labelled rows) for phones, so that its labels are 12 CSS pixels or more
as the page scales it; ``static/css/site.css`` shows the one that fits. Each text carries its
size, the one the layout was worked out with.
"""

from __future__ import annotations

from collections.abc import Sequence
from xml.sax.saxutils import escape

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
NARROW_STYLE = Style(
    font_family="inherit",
    title_font_size=17,
    label_font_size=15,
    major_label_font_size=15,
    legend_font_size=15,
    value_font_size=15,
    no_data_font_size=17,
    colors=STYLE.colors,
)
NARROW = {**COMMON, "style": NARROW_STYLE, "width": 320, "height": 300, "margin": 6}
UNWANTED = {"style", "script"}
SVG = "{http://www.w3.org/2000/svg}"


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
    common = {
        "title": title,
        "x_labels": list(labels),
        "range": (0, 100) if percent else None,
        "min_scale": 2,
        "no_data_text": no_data,
        "show_legend": len(series) > 1,
    }
    wide = pygal.Line(
        x_label_rotation=-45 if len(labels) > 8 else 0,
        show_minor_x_labels=len(labels) <= 13,
        x_labels_major_every=max(1, len(labels) // 6),
        max_scale=6,
        **common,
        **COMMON,
    )
    narrow = pygal.Line(
        show_minor_x_labels=False,
        x_labels_major_every=max(1, (len(labels) + 2) // 3),
        max_scale=4,
        **common,
        **NARROW,
    )
    for chart in (wide, narrow):
        for name, values in series:
            chart.add(name, list(values))
    return _both(_inline(wide, chart_id), _inline(narrow, f"{chart_id}-narrow"))


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
    return _both(_inline(chart, chart_id), _bar_list(f"{chart_id}-narrow", title, bars, no_data))


def _both(wide: Markup, narrow: Markup) -> Markup:
    return Markup('<div class="chart-wide">{}</div><div class="chart-narrow">{}</div>').format(
        wide, narrow
    )


def _bar_list(chart_id: str, title: str, bars: Sequence[tuple[str, float | None]], no_data: str):
    """A bar chart of percentages for a phone: each label on its own line, its bar below with
    the value at its end, so that a long office name leaves the bars their width."""
    width, size, bar, room = 320, 15, 16, 256  # the bar of 100 % is ``room`` wide
    lines = _wrap(title, width, 17)
    y = 6.0
    parts = []
    for line in lines:
        y += 20
        parts.append(
            f'<text x="{width / 2}" y="{y}" class="title" font-size="17">{escape(line)}</text>'
        )
    y += 8
    if not bars:
        y += 30
        parts.append(
            f'<text x="{width / 2}" y="{y}" class="no_data" font-size="17">{escape(no_data)}</text>'
        )
    for label, value in bars:
        y += 19
        parts.append(f'<text x="0" y="{y}" font-size="{size}">{escape(label)}</text>')
        y += 5
        length = 0 if value is None else room * max(0.0, min(value, 100.0)) / 100
        shown = "–" if value is None else f"{value:g} %"
        parts.append(
            f'<g class="series color-0"><rect x="0" y="{y}" width="{length:.1f}" '
            f'height="{bar}" class="rect"/></g>'
            f'<text x="{length + 5:.1f}" y="{y + bar - 3}" font-size="{size}" '
            f'class="value">{escape(shown)}</text>'
        )
        y += bar + 6
    height = y + 6
    return Markup(
        f'<svg xmlns="http://www.w3.org/2000/svg" id="{chart_id}" class="bar-list" '
        f'viewBox="0 0 {width} {height:.0f}" role="img" focusable="false" '
        f'aria-labelledby="{chart_id}-title"><title id="{chart_id}-title">{escape(title)}</title>'
        f'<rect x="0" y="0" width="{width}" height="{height:.0f}" class="background"/>'
        + "".join(parts)
        + "</svg>"
    )


def _wrap(text: str, width: int, size: int) -> list[str]:
    """``text`` in lines that fit ``width`` units at ``size`` (about 0.6 of it a letter)."""
    most = max(8, int(width / (size * 0.6)))
    lines: list[str] = []
    for word in text.split():
        if lines and len(lines[-1]) + 1 + len(word) <= most:
            lines[-1] += " " + word
        else:
            lines.append(word)
    return lines or [""]


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
    _sizes(root, chart.config.style)
    title = root.find(f"{SVG}title")
    root.set("id", chart_id)
    root.set("role", "img")
    root.set("focusable", "false")
    if title is not None:
        title.set("id", f"{chart_id}-title")
        root.set("aria-labelledby", f"{chart_id}-title")
    return Markup(etree.tostring(root, encoding="unicode"))


def _sizes(root: etree._Element, style: Style) -> None:
    """Each text's size, as the chart's style says and its layout assumed (the page's own
    size would be inherited otherwise)."""
    for text in root.iter(f"{SVG}text"):
        classes = set(text.get("class", "").split())
        ancestors = {c for a in text.iterancestors() for c in a.get("class", "").split()}
        if "title" in classes:
            size = style.title_font_size
        elif "no_data" in classes:
            size = style.no_data_font_size
        elif "legends" in ancestors:
            size = style.legend_font_size
        elif "value" in classes:
            size = style.value_font_size
        elif "major" in classes:
            size = style.major_label_font_size
        else:
            size = style.label_font_size
        text.set("font-size", str(size))
