"""Rendering a report as one self-contained HTML file: jinja2 templates, inline
CSS and SVG, no script, nothing fetched.

Every number shown from a score is written by :func:`show`, which reads it
from the score's JSON (what ``advokit score --json`` prints) and keeps the
exact value next to the rounded text::

    <span class="fig" data-figure="nps.margin" data-value="13.51..." data-unit="points">±13.5</span>
"""

from __future__ import annotations

import math
from typing import Any

import jinja2
from markupsafe import Markup

from advokit.core.errors import InvalidValue
from advokit.report import series
from advokit.report.formats import format_value, grouped, month_label, when
from advokit.report.model import Figure, ReportData

__all__ = ["Linear", "render_html", "resolve", "show", "ticks"]


def resolve(data: Any, path: str) -> Any:
    """The value at the dotted ``path`` of a score's JSON; in a list of
    periods, a part is the period's first day (``periods.2026-01-01.value``)."""
    node = data
    for part in path.split("."):
        if isinstance(node, list):
            node = next(item for item in node if item.get("period") == part)
        else:
            node = node[part]
    return node


def show(
    figure: Figure,
    path: str,
    *,
    unit: str | None = None,
    currency: str | None = None,
    sign: str = "",
    tag: str = "span",
) -> Markup:
    """The value at ``path`` of ``figure``'s score, formatted, in a span that
    keeps the exact value (``data-value``) and where it comes from.

    ``sign``: ``"+"`` writes a plus before a positive value, ``"±"`` a
    plus-minus before any (a margin of error). ``tag``: ``"tspan"`` inside
    an SVG ``<text>``.
    """
    assert figure.score is not None
    if tag not in ("span", "tspan"):
        raise ValueError(f"tag={tag!r}: expected span or tspan")
    value = resolve(figure.score.to_json(), path)
    unit = figure.score.unit if unit is None else unit
    text = format_value(value, unit, currency=currency)
    if sign == "±" or (sign == "+" and value is not None and value > 0):
        text = sign + text
    return Markup(
        '<{tag} class="fig" data-figure="{key}.{path}" data-value="{exact}" '
        'data-unit="{unit}">{text}</{tag}>'
    ).format(
        tag=Markup(tag),
        key=figure.key,
        path=path,
        exact="" if value is None else repr(value),
        unit=unit,
        text=text,
    )


# --------------------------------------------------------------------------- chart geometry


def ticks(low: float, high: float, count: int = 5, *, whole: bool = False) -> list[float]:
    """Round tick values covering ``low..high``, about ``count`` steps of 1, 2,
    2.5 or 5 times a power of ten; ``whole`` (counts): steps of 1, 2 or 5
    times a power of ten, at least 1."""
    if not math.isfinite(low) or not math.isfinite(high):
        raise ValueError(f"ticks of {low}..{high}")
    if high <= low:
        high = low + 1
    raw = (high - low) / max(count, 1)
    if whole:
        raw = max(raw, 1)  # a power of ten from 1 up: 2.5 of them is not whole
    power = 10 ** math.floor(math.log10(raw))
    multiples = (1, 2, 5, 10) if whole else (1, 2, 2.5, 5, 10)
    step = next(m * power for m in multiples if m * power >= raw)
    first = math.floor(low / step + 1e-9) * step
    last = math.ceil(high / step - 1e-9) * step
    n = round((last - first) / step)
    return [round(first + i * step, 10) for i in range(n + 1)]


class Linear:
    """A linear scale from a domain to pixels: ``Linear(d0, d1, r0, r1)(value)``."""

    def __init__(self, d0: float, d1: float, r0: float, r1: float) -> None:
        self.d0, self.d1, self.r0, self.r1 = d0, d1, r0, r1

    def __call__(self, value: float) -> float:
        if self.d1 == self.d0:
            return (self.r0 + self.r1) / 2
        return round(self.r0 + (value - self.d0) * (self.r1 - self.r0) / (self.d1 - self.d0), 2)


def tick_label(value: float, step: float) -> str:
    """A tick's value with the decimals its axis's ``step`` needs, so that every
    tick of an axis reads differently and alike: ``0``, ``5``; ``0.0``, ``2.5``;
    ``0.000``, ``0.001``."""
    return grouped(value, _decimals(step))


def _decimals(step: float) -> int:
    # the fewest decimals that write the step (0.001, 0.0025, 2.5...): ticks are multiples of it
    for places in range(12):
        if abs(round(step, places) - step) <= 1e-9 * abs(step):
            return places
    return 12


# --------------------------------------------------------------------------- rendering


def _environment() -> jinja2.Environment:
    env = jinja2.Environment(
        loader=jinja2.PackageLoader("advokit.report", "templates"),
        autoescape=True,
        undefined=jinja2.StrictUndefined,
        trim_blocks=True,
        lstrip_blocks=True,
        extensions=["jinja2.ext.do"],
    )
    env.globals.update(
        show=show,
        fmt=format_value,
        ticks=ticks,
        Linear=Linear,
        tick_label=tick_label,
        month_label=month_label,
        when=when,
        series=series,
        max=max,
        min=min,
    )
    return env


def render_html(data: ReportData) -> str:
    """The report as one HTML document: inline CSS and SVG, no script, no link
    to anything outside it; it prints with a page per panel."""
    if not isinstance(data, ReportData):
        raise InvalidValue("data", data, "the ReportData build_report() returns")
    return _environment().get_template("report.html.j2").render(data=data).lstrip()
