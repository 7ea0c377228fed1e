"""What each chart plots, read from the report's figures: plain rows for the
jinja2 chart macros (a label, a value, an interval, a tooltip)."""

from __future__ import annotations

from typing import Any

from advokit.report.formats import format_value, month_label
from advokit.report.model import Count, Figure, RewardLine

__all__ = [
    "FUNNEL",
    "METHODS",
    "bars",
    "cohort_boxes",
    "funnel_steps",
    "histogram_bins",
    "nps_points",
    "reward_bars",
    "roi_bars",
    "type_counts",
]

#: how the report names the ROI's methods (``Score.label``)
METHODS = {"naive": "Naive", "holdout": "Holdout-based"}

#: the referral funnel's steps (``referral_funnel``'s counts), in order
FUNNEL = ("attributed", "converted", "rewarded")


def nps_points(figure: Figure) -> list[dict[str, Any]]:
    """One point per month with answers: NPS and its 95% interval."""
    assert figure.score is not None
    points = []
    for month in figure.score.periods:
        if month.value is None or month.period is None:
            continue
        low, high = (month.interval.low, month.interval.high) if month.interval else (None, None)
        margin = f" \u00b1{format_value(month.margin, 'points')}" if month.margin else ""
        points.append(
            {
                "label": month_label(month.period),
                "value": month.value,
                "low": month.value if low is None else low,
                "high": month.value if high is None else high,
                "tip": f"{month_label(month.period)}: NPS {format_value(month.value, 'points')}"
                f"{margin} (n={month.n})",
            }
        )
    return points


def bars(counts: tuple[Count, ...] | list[Count], unit: str = "count") -> list[dict[str, Any]]:
    """One bar per count, in the order given."""
    return [
        {
            "label": count.label.replace("_", " "),
            "value": count.value,
            "text": format_value(count.value, unit),
            "tip": f"{count.label.replace('_', ' ')}: {format_value(count.value, unit)}",
        }
        for count in counts
    ]


def type_counts(figure: Figure) -> list[Count]:
    """The advocate types' counts (without the typed/untyped totals)."""
    assert figure.score is not None
    return [
        Count(name, n)
        for name, n in figure.score.counts.items()
        if name not in ("typed", "untyped")
    ]


def funnel_steps(figure: Figure) -> list[dict[str, Any]]:
    """Attributed, converted, rewarded: each with the scorer's rate from the step
    before (``details.rates["converted->rewarded"]``...): ``rate`` is its path
    in the score, for :func:`~advokit.report.render.show`; None for the first step."""
    assert figure.score is not None
    counts, rates = figure.score.counts, figure.score.details.get("rates", {})
    steps = []
    for before, name in zip((None, *FUNNEL[:-1]), FUNNEL, strict=True):
        value, label = counts.get(name, 0), name.capitalize()
        key = f"{before}->{name}"
        rate = rates[key]["value"] if before is not None and key in rates else None
        tip = f"{label}: {format_value(value, 'count')}"
        if rate is not None:
            tip += f" ({format_value(rate, '%')} of the step before)"
        steps.append(
            {
                "label": label,
                "value": value,
                "text": format_value(value, "count"),
                "rate": None if rate is None else f"details.rates.{key}.value",
                "tip": tip,
            }
        )
    return steps


def histogram_bins(figure: Figure) -> list[dict[str, Any]]:
    """The CAS distribution: advocates per 10-point band."""
    assert figure.score is not None
    distribution = figure.score.details.get("distribution", {})
    return [
        {"label": band, "value": n, "tip": f"CAS {band}: {n} advocates"}
        for band, n in distribution.items()
    ]


def cohort_boxes(figure: Figure) -> list[dict[str, Any]]:
    """Per enrolment cohort with advocates: the quartiles and p90 of the days."""
    assert figure.score is not None
    rows = []
    for cohort in figure.score.periods:
        if cohort.value is None or cohort.period is None:
            continue
        d = cohort.details
        rows.append(
            {
                "label": month_label(cohort.period),
                "p25": d["p25"],
                "median": cohort.value,
                "p75": d["p75"],
                "p90": d["p90"],
                "tip": f"{month_label(cohort.period)} cohort: median "
                f"{format_value(cohort.value, 'days')}, p25 {format_value(d['p25'], 'days')}, "
                f"p75 {format_value(d['p75'], 'days')}, p90 {format_value(d['p90'], 'days')} "
                f"({cohort.n} of {cohort.counts['started']} advocated)",
            }
        )
    return rows


def roi_bars(figures: list[Figure]) -> list[dict[str, Any]]:
    """ROI per method, with the holdout-based one's interval; ``figure`` is the
    method's, for the table next to the chart."""
    rows = []
    for figure in figures:
        score = figure.score
        if score is None or score.value is None:
            continue
        interval = score.interval
        rows.append(
            {
                "figure": figure,
                "label": METHODS.get(score.label or "", figure.label),
                "value": score.value,
                "low": interval.low if interval else None,
                "high": interval.high if interval else None,
                "text": format_value(score.value, "ratio"),
                "tip": f"{figure.label}: {format_value(score.value, 'ratio')}"
                + (
                    f" (95% interval {format_value(interval.low, 'ratio')} to "
                    f"{format_value(interval.high, 'ratio')})"
                    if interval
                    else ""
                ),
            }
        )
    return rows


def reward_bars(lines: tuple[RewardLine, ...]) -> list[dict[str, Any]]:
    """Rewards issued per kind (all currencies together)."""
    issued: dict[str, int] = {}
    for line in lines:
        issued[line.kind] = issued.get(line.kind, 0) + line.issued
    return bars([Count(kind, n) for kind, n in issued.items()])
