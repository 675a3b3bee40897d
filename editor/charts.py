"""Charts as SVG, drawn on the server: no script, no external service, the same markup in the page
and in its PDF.

Every chart is an accessible image (`role="img"`, `<title>` and `<desc>` named by
`aria-labelledby`), and every value it draws carries `data-series`, `data-x` and `data-value`
attributes: the page puts a data table beside each chart, and tests compare the two. Series differ
by marker shape and dash pattern as well as by colour (colour is never the only cue).
"""

from __future__ import annotations

import math
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field

from lxml import etree
from markupsafe import Markup

SVG_NS = "http://www.w3.org/2000/svg"

#: Colours with at least 4.5:1 contrast on white; with MARKERS and DASHES, series stay apart in print too.
PALETTE = ("#1d4ed8", "#b91c1c", "#047857", "#7c3aed", "#b45309", "#0f766e", "#be185d", "#374151")
MARKERS = ("circle", "square", "triangle", "diamond", "cross", "circle", "square", "triangle")
DASHES = ("", "6 3", "2 3", "8 3 2 3", "", "6 3", "2 3", "8 3 2 3")

WIDTH = 480
HEIGHT = 260
MARGIN_LEFT = 58
MARGIN_RIGHT = 14
#: Room on the right of line charts for the labels of reference lines.
REFERENCE_ROOM = 56
MARGIN_TOP = 14
MARGIN_BOTTOM = 34
FONT = 14


@dataclass
class Series:
    name: str
    values: list[float | None]  # one per x label; None: nothing to draw there
    #: indexes of values to flag (e.g. a spike), drawn with a ring around the point
    flagged: set[int] = field(default_factory=set)


def _el(parent, tag: str, **attrs) -> etree._Element:
    element = etree.SubElement(parent, f"{{{SVG_NS}}}{tag}")
    for key, value in attrs.items():
        if value is None:
            continue
        element.set(key.rstrip("_").replace("_", "-"), str(value))
    return element


def _num(value: float) -> str:
    """Coordinates with two decimals at most (small, stable markup)."""
    text = f"{value:.2f}".rstrip("0").rstrip(".")
    return "0" if text == "-0" else text


def nice_ceiling(value: float) -> float:
    """The smallest 1, 2, 2.5 or 5 × 10^k at or above `value` (an axis maximum); 1 for nothing."""
    if value <= 0:
        return 1.0
    exponent = math.floor(math.log10(value))
    for step in (1, 2, 2.5, 5, 10):
        candidate = step * 10 ** exponent
        if candidate >= value * (1 - 1e-9):
            return float(candidate)
    return float(10 ** (exponent + 1))


def _divisions(top: float) -> int:
    """Grid lines at round values: 2 → 0.5 steps (4), 1, 2.5 and 5 → 0.2, 0.5, 1 steps (5)."""
    leading = top / 10 ** math.floor(math.log10(top)) if top > 0 else 1
    return 4 if abs(leading - 2) < 1e-9 else 5


def _svg(chart_id: str, title: str, desc: str, height: int) -> etree._Element:
    root = etree.Element(f"{{{SVG_NS}}}svg", nsmap={None: SVG_NS})
    root.set("viewBox", f"0 0 {WIDTH} {height}")
    root.set("role", "img")
    root.set("class", "chart")
    root.set("id", chart_id)
    root.set("aria-labelledby", f"{chart_id}-title {chart_id}-desc")
    root.set("font-size", str(FONT))
    root.set("font-family", "DejaVu Sans, Verdana, sans-serif")
    _el(root, "title", id=f"{chart_id}-title").text = title
    _el(root, "desc", id=f"{chart_id}-desc").text = desc
    return root


def _markup(root: etree._Element) -> Markup:
    return Markup(etree.tostring(root, encoding="unicode"))


def marker(parent, shape: str, x: float, y: float, colour: str, size: float = 4.5, **attrs) -> etree._Element:
    """A point of a series: its shape tells the series apart without colour."""
    s = size
    if shape == "square":
        d = f"M{_num(x - s)} {_num(y - s)}h{_num(2 * s)}v{_num(2 * s)}h{_num(-2 * s)}z"
    elif shape == "triangle":
        d = f"M{_num(x)} {_num(y - s * 1.2)}L{_num(x + s * 1.1)} {_num(y + s * 0.9)}L{_num(x - s * 1.1)} {_num(y + s * 0.9)}z"
    elif shape == "diamond":
        d = f"M{_num(x)} {_num(y - s * 1.3)}L{_num(x + s * 1.3)} {_num(y)}L{_num(x)} {_num(y + s * 1.3)}L{_num(x - s * 1.3)} {_num(y)}z"
    elif shape == "cross":
        d = (f"M{_num(x - s)} {_num(y - s)}L{_num(x + s)} {_num(y + s)}"
             f"M{_num(x - s)} {_num(y + s)}L{_num(x + s)} {_num(y - s)}")
        return _el(parent, "path", d=d, stroke=colour, stroke_width=2.5, fill="none", **attrs)
    else:
        return _el(parent, "circle", cx=_num(x), cy=_num(y), r=_num(s), fill=colour, **attrs)
    return _el(parent, "path", d=d, fill=colour, **attrs)


def legend_swatch(index: int) -> Markup:
    """A small SVG of a series' line and marker, for a legend written in HTML (decorative)."""
    root = etree.Element(f"{{{SVG_NS}}}svg", nsmap={None: SVG_NS})
    root.set("viewBox", "0 0 28 12")
    root.set("width", "28")
    root.set("height", "12")
    root.set("aria-hidden", "true")
    root.set("focusable", "false")
    root.set("class", "swatch")
    colour = PALETTE[index % len(PALETTE)]
    _el(root, "line", x1=1, y1=6, x2=27, y2=6, stroke=colour, stroke_width=2,
        stroke_dasharray=DASHES[index % len(DASHES)] or None)
    marker(root, MARKERS[index % len(MARKERS)], 14, 6, colour, size=3.5)
    return _markup(root)


def line_chart(
    chart_id: str,
    title: str,
    desc: str,
    x_labels: Sequence[str],
    series: Sequence[Series],
    fmt: Callable[[float], str],
    references: Sequence[tuple[float, str]] = (),
    point_titles: Callable[[int, int, float], str] | None = None,
    y_max: float | None = None,
) -> Markup:
    """Lines over x positions (weeks), one per series; `references` are dashed horizontal lines
    (e.g. signature thresholds) drawn when inside the axis range. Flagged points get a ring."""
    height = HEIGHT
    root = _svg(chart_id, title, desc, height)
    right = MARGIN_RIGHT + (REFERENCE_ROOM if references else 0)
    plot_w = WIDTH - MARGIN_LEFT - right
    plot_h = height - MARGIN_TOP - MARGIN_BOTTOM
    values = [v for s in series for v in s.values if v is not None]
    top = y_max if y_max is not None else nice_ceiling(max(values, default=0))
    n = max(len(x_labels), 1)

    def x_at(i: int) -> float:
        return MARGIN_LEFT + (plot_w * (i + 0.5) / n)

    def y_at(v: float) -> float:
        return MARGIN_TOP + plot_h * (1 - (v / top if top else 0))

    axes = _el(root, "g", class_="chart-axes", aria_hidden="true")
    divisions = _divisions(top)
    for k in range(divisions + 1):
        v = top * k / divisions
        y = y_at(v)
        _el(axes, "line", x1=MARGIN_LEFT, x2=WIDTH - right, y1=_num(y), y2=_num(y),
            stroke="#d1d5db" if k else "#4b5563", stroke_width=1)
        _el(axes, "text", x=MARGIN_LEFT - 6, y=_num(y + 4), text_anchor="end", fill="#374151").text = fmt(v)
    step = max(1, math.ceil(n / 4))  # at most four or five labels: legible on a phone
    for i, label in enumerate(x_labels):
        if (n - 1 - i) % step == 0:  # counted from the last week, which is always labelled
            _el(axes, "text", x=_num(x_at(i)), y=height - MARGIN_BOTTOM + 18, text_anchor="middle",
                fill="#374151").text = label
    refs = _el(root, "g", class_="chart-references", aria_hidden="true")
    for value, label in references:
        if 0 < value <= top:
            y = y_at(value)
            _el(refs, "line", x1=MARGIN_LEFT, x2=WIDTH - right, y1=_num(y), y2=_num(y), stroke="#92400e",
                stroke_width=1, stroke_dasharray="4 4", class_="chart-reference", data_value=_num(value))
            _el(refs, "text", x=WIDTH - right + 4, y=_num(y + 4), fill="#92400e",
                font_size=FONT - 1).text = label
    for s_index, s in enumerate(series):
        colour = PALETTE[s_index % len(PALETTE)]
        group = _el(root, "g", class_="chart-series", data_series=s_index, data_name=s.name)
        run: list[str] = []
        runs: list[list[str]] = []
        for i, v in enumerate(s.values):
            if v is None:
                if run:
                    runs.append(run)
                run = []
                continue
            run.append(f"{_num(x_at(i))} {_num(y_at(v))}")
        if run:
            runs.append(run)
        for points in runs:
            if len(points) > 1:
                _el(group, "path", d="M" + "L".join(points), fill="none", stroke=colour, stroke_width=2,
                    stroke_dasharray=DASHES[s_index % len(DASHES)] or None, stroke_linejoin="round")
        for i, v in enumerate(s.values):
            if v is None:
                continue
            point = marker(group, MARKERS[s_index % len(MARKERS)], x_at(i), y_at(v), colour,
                           class_="chart-point", data_series=s_index, data_x=i, data_value=_num(v))
            if point_titles is not None:
                _el(point, "title").text = point_titles(s_index, i, v)
            if i in s.flagged:
                _el(group, "circle", cx=_num(x_at(i)), cy=_num(y_at(v)), r=9, fill="none", stroke="#111827",
                    stroke_width=1.5, class_="chart-flag", data_series=s_index, data_x=i)
    return _markup(root)


def bar_chart(
    chart_id: str,
    title: str,
    desc: str,
    bars: Sequence[tuple[str, float]],
    fmt: Callable[[float], str],
) -> Markup:
    """Horizontal bars, one per (label, value), labelled with their value."""
    row = 30
    longest = max((len(label) for label, _v in bars), default=0)
    label_w = min(220, max(90, int(longest * FONT * 0.58) + 12))
    height = MARGIN_TOP + row * max(len(bars), 1) + 10
    root = _svg(chart_id, title, desc, height)
    top = nice_ceiling(max((v for _l, v in bars), default=0))
    plot_w = WIDTH - label_w - 60
    group = _el(root, "g", class_="chart-series", data_series=0)
    for i, (label, value) in enumerate(bars):
        y = MARGIN_TOP + i * row
        _el(root, "text", x=label_w - 8, y=_num(y + row / 2 + 4), text_anchor="end", fill="#1f2937",
            aria_hidden="true").text = label
        width = plot_w * (value / top if top else 0)
        bar = _el(group, "rect", x=label_w, y=_num(y + 5), width=_num(max(width, 0)), height=row - 10,
                  fill=PALETTE[0], class_="chart-bar", data_series=0, data_x=i, data_value=_num(value))
        _el(bar, "title").text = f"{label}: {fmt(value)}"
        _el(root, "text", x=_num(label_w + width + 6), y=_num(y + row / 2 + 4), fill="#1f2937",
            aria_hidden="true").text = fmt(value)
    _el(root, "line", x1=label_w, x2=label_w, y1=MARGIN_TOP, y2=_num(height - 10), stroke="#4b5563",
        aria_hidden="true")
    return _markup(root)
