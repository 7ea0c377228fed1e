"""Gathering a report's figures: the scorers of ``advokit score``, and a few counts.

Every figure comes from ``program.score(name, window=..., by=..., **options)``,
the call ``advokit score`` makes, so the report and the command agree. A
figure whose scorer is not registered, refuses the question or has no data
leaves its part of the report out, with a note saying why: a report is never
refused for one missing figure.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from advokit.core import validation as v
from advokit.core.errors import AdvokitError, InvalidValue, UnknownName
from advokit.core.program import Program
from advokit.plugins.scoring.economics import economics_in
from advokit.plugins.scoring.model import Window
from advokit.plugins.scoring.scope import Scorer
from advokit.report.model import Count, Figure, Panel, Ranked, ReportData
from advokit.report.tallies import reward_lines, tier_counts

__all__ = ["HEADLINE", "build_report"]

#: How long promoters have to advocate, in days: asked of the scorer and said in its label.
WITHIN_DAYS = 30

#: The headline figures: key, label, scorer and options.
HEADLINE: tuple[tuple[str, str, str, dict[str, Any]], ...] = (
    ("nps", "Net Promoter Score", "nps", {}),
    ("csat", "Customer satisfaction", "csat", {}),
    ("k_factor", "K-factor", "k_factor", {}),
    ("ltv", "Lifetime value lift, referred vs others", "ltv", {"compare": "referred"}),
    ("bai", "Brand Advocacy Index", "bai", {}),
    ("repeat_purchase_rate", "Repeat purchase rate", "repeat_purchase_rate", {}),
    ("referral_cac", "Cost per referred customer", "referral_cac", {}),
    (
        "advocacy_conversion",
        f"Promoters advocating within {WITHIN_DAYS} days",
        "advocacy_conversion",
        {"within_days": WITHIN_DAYS},
    ),
)


class _Gatherer:
    """Asks the program for each figure, turning what goes wrong into notes."""

    def __init__(self, program: Program, window: Window) -> None:
        self.program = program
        self.window = window

    def absent(self, count: int = 1) -> str:
        """Why ``count`` scorers or queries are missing: the built-in plugin
        that has them is disabled, or a plugin meant to add them is not there."""
        if self.program.pm.get_plugin("scoring") is None:
            return "the scoring plugin is not part of the program"
        return "no plugin of the program provides " + ("it" if count == 1 else "them")

    def registered(self, scorer: str) -> bool:
        return scorer in self.program.registries.scorers

    def figure(
        self, key: str, label: str, scorer: str, *, by: str | None = None, **options: Any
    ) -> Figure:
        made = {"key": key, "label": label, "scorer": scorer, "by": by, "options": options}
        if not self.registered(scorer):
            return Figure(**made, note=f"the scorer {scorer!r} is not registered ({self.absent()})")
        try:
            score = self.program.score(scorer, window=self.window, by=by, **options)
        except AdvokitError as error:
            return Figure(**made, note=str(error))
        except Exception as error:  # a plugin's scorer failing leaves its figure out
            return Figure(**made, note=f"the scorer {scorer!r} failed: {_error(error)}")
        note = None
        if score.value is None:
            note = "; ".join(score.missing) or "no data in the window"
        return Figure(**made, score=score, note=note)

    def query(self, name: str, what: str, call: Callable[[Any], Any]) -> tuple[Any, str | None]:
        """``call(program.<name>)`` for a plugin's query, or None and why not."""
        if name not in self.program.registries.queries:
            return None, f"{what}: the query program.{name}() is not registered ({self.absent()})"
        try:
            return call(getattr(self.program, name)), None
        except AdvokitError as error:
            return None, f"{what}: {error}"
        except Exception as error:
            return None, f"{what}: program.{name}() failed: {_error(error)}"

    def notes(self, *figures: Figure, label: bool = True) -> list[str]:
        """Why each figure without a value is not shown; the scorers that are
        not registered are named in one note rather than one each."""
        missing = list(dict.fromkeys(f.scorer for f in figures if not self.registered(f.scorer)))
        notes = [
            f"{figure.label}: {figure.note}" if label else figure.note
            for figure in figures
            if figure.note is not None and not figure.has_value and self.registered(figure.scorer)
        ]
        if missing:
            names = ", ".join(repr(name) for name in missing)
            verb = "is" if len(missing) == 1 else "are"
            plural = "s" if len(missing) > 1 else ""
            why = self.absent(len(missing))
            notes.insert(0, f"the scorer{plural} {names} {verb} not registered ({why})")
        return notes


def _error(error: Exception) -> str:
    return f"{type(error).__name__}: {' '.join(str(error).split())}"


#: the longest title accepted
TITLE_LENGTH = 200


def _check_title(title: Any) -> None:
    if title is not None and not v.is_text(title, TITLE_LENGTH):
        raise InvalidValue(
            "title",
            title,
            f"non-empty single-line text of at most {TITLE_LENGTH} characters, "
            "without surrounding whitespace, or None",
        )


def _check_top(top: Any) -> None:
    if not v.is_int(top) or not 1 <= top <= 100:
        raise InvalidValue("top", top, "an integer from 1 to 100")


def build_report(
    program: Program,
    window: Any = None,
    *,
    title: str | None = None,
    holdout: str | None = None,
    top: int = 10,
) -> ReportData:
    """Gather the figures of ``program``'s report.

    Args:
        program: the program, its database migrated.
        window: what ``program.score(window=...)`` accepts: ``(start, end)``,
            a :class:`~advokit.plugins.scoring.Window`, a ``timedelta`` up to
            now, or None for all time.
        title: the report's title (default: the program's name and "advocacy report").
        holdout: the holdout experiment of the holdout-based ROI (default:
            the first of ``Economics.holdouts``).
        top: how many advocates the rankings list, 1 to 100.

    Returns:
        The :class:`ReportData`; a panel whose figures are missing has
        ``shown=False`` and notes saying why.
    """
    if not isinstance(program, Program):
        raise InvalidValue("program", program, "an advokit.Program")
    _check_title(title)
    _check_top(top)
    if holdout is not None and not isinstance(holdout, str):
        raise InvalidValue("holdout", holdout, "the name of a holdout experiment, or None")
    now = v.instant("program.clock()", program.clock())
    window = Window.coerce(window, now)
    # the holdouts and the currency, as the ROI scorer has them (when it is advokit's)
    roi = program.registries.scorers.get("roi")
    economics = economics_in(roi.settings) if isinstance(roi, Scorer) else None
    names = None if roi is None else [h.name for h in (economics.holdouts if economics else ())]
    if holdout is not None and names is not None and holdout not in names:
        raise UnknownName("holdout", holdout, names)
    if holdout is None and names:
        holdout = names[0]
    ask = _Gatherer(program, window)
    panels = (
        _headline(ask),
        _nps_trend(ask),
        _advocates(ask),
        _single(ask, "referral_funnel", "Referral funnel"),
        _top_advocates(ask, top),
        _single(ask, "time_to_advocacy", "Time to advocacy", by="month"),
        _rewards(ask),
        _roi(ask, holdout),
    )
    return ReportData(
        title=title or f"{program.name}: advocacy report",
        program=program.name,
        generated_at=now,
        window=window,
        currency=None if economics is None else economics.currency,
        panels=panels,
    )


# --------------------------------------------------------------------------- panels


def _headline(ask: _Gatherer) -> Panel:
    figures = {
        key: ask.figure(key, label, scorer, **options) for key, label, scorer, options in HEADLINE
    }
    shown = any(figure.has_value for figure in figures.values())
    return Panel(
        key="headline",
        title="Headline figures",
        figures=figures,
        notes=ask.notes(*figures.values()),
        shown=shown,
    )


def _nps_trend(ask: _Gatherer) -> Panel:
    nps = ask.figure("nps_by_month", "NPS by month", "nps", by="month")
    shown = nps.score is not None and any(p.value is not None for p in nps.score.periods)
    return Panel(
        key="nps_trend",
        title="NPS by month",
        figures={"nps_by_month": nps},
        notes=[] if shown else ask.notes(nps, label=False),
        shown=shown,
    )


def _advocates(ask: _Gatherer) -> Panel:
    types = ask.figure("advocate_types", "Advocates by type", "advocate_types")
    notes = ask.notes(types)
    tiers = tier_counts(ask.program)
    if tiers is None:
        notes.append("Advocates by tier: the tiers plugin is not part of the program")
    elif not any(count.value for count in tiers):
        tiers = None
        notes.append("Advocates by tier: no advocate is enrolled")
    return Panel(
        key="advocates",
        title="Advocates by tier and type",
        figures={"advocate_types": types},
        data={"tiers": tiers} if tiers is not None else {},
        notes=notes,
        shown=tiers is not None or types.has_value,
    )


def _single(ask: _Gatherer, scorer: str, title: str, *, by: str | None = None) -> Panel:
    """A panel of one scorer's figure, keyed by the scorer's name."""
    figure = ask.figure(scorer, title, scorer, by=by)
    return Panel(
        key=scorer,
        title=title,
        figures={scorer: figure},
        notes=ask.notes(figure, label=False),
        shown=figure.has_value,
    )


def _top_advocates(ask: _Gatherer, top: int) -> Panel:
    cas = ask.figure("cas", "Customer Advocacy Score", "cas")
    notes = ask.notes(cas)
    data: dict[str, Any] = {}
    scores, why = ask.query(
        "advocacy_scores",
        "Top advocates by CAS",
        lambda query: query(window=ask.window, limit=top),
    )
    if why is not None:
        notes.append(why)
    elif scores:
        data["by_cas"] = tuple(
            Ranked(rank, advocate, value) for rank, (advocate, value) in enumerate(scores, 1)
        )
    else:
        notes.append("Top advocates by CAS: no advocate in the window")
    standings = ask.program.leaderboard(limit=top)
    if standings:
        data["by_points"] = tuple(Ranked(s.rank, s.advocate, s.value) for s in standings)
    else:
        notes.append("Top advocates by points: no advocate has a points balance")
    return Panel(
        key="top_advocates",
        title="Top advocates",
        figures={"cas": cas},
        data=data,
        notes=notes,
        shown=bool(data) or cas.has_value,
    )


def _rewards(ask: _Gatherer) -> Panel:
    lines = reward_lines(ask.program, ask.window)
    if lines is None:
        notes = ["the rewards plugin is not part of the program"]
    elif not lines:
        notes = ["no reward was issued in the window"]
    else:
        notes = []
    totals: dict[str, int] = {}
    for line in lines or ():
        if line.currency is not None:
            totals[line.currency] = totals.get(line.currency, 0) + line.amount
    return Panel(
        key="rewards",
        title="Rewards issued and their cost",
        data={
            "lines": lines or (),
            "money": tuple(Count(currency, amount) for currency, amount in sorted(totals.items())),
        },
        notes=notes,
        shown=bool(lines),
    )


def _roi(ask: _Gatherer, holdout: str | None) -> Panel:
    naive = ask.figure("roi_naive", "ROI, naive", "roi", method="naive")
    if holdout is None and "roi" in ask.program.registries.scorers:
        figures = {"roi_naive": naive}
        missing = "no holdout experiment is configured (Scoring(economics=Economics(holdouts=...)))"
        notes = [*ask.notes(naive), f"ROI, holdout-based: {missing}"]
    else:
        based = ask.figure(
            "roi_holdout", "ROI, holdout-based", "roi", method="holdout", holdout=holdout
        )
        lift = ask.figure("lift", "Revenue lift per advocate", "lift", holdout=holdout)
        figures = {"roi_naive": naive, "roi_holdout": based, "lift": lift}
        notes = ask.notes(naive, based, lift)
    return Panel(
        key="roi",
        title="Return on investment",
        figures=figures,
        notes=notes,
        shown=any(figure.has_value for figure in figures.values()),
    )
