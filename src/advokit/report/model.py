"""What a report holds: attrs frozen values, the same for the HTML and for ``--json``."""

from __future__ import annotations

import json
from collections.abc import Mapping
from datetime import datetime
from typing import Any

import attrs

from advokit.plugins.scoring.model import Score, Window, frozen_mapping, json_value

__all__ = ["Count", "Figure", "Panel", "Ranked", "ReportData", "RewardLine"]


def _option_text(value: Any) -> str:
    """The text ``advokit score --option NAME=VALUE`` reads back as ``value``:
    JSON, or a bare word for a string that is not JSON."""
    if isinstance(value, str):
        try:
            json.loads(value)
        except ValueError:
            return value
    return json.dumps(value)


@attrs.frozen(kw_only=True)
class Figure:
    """One scorer's answer, as ``program.score(scorer, window=..., by=..., **options)``
    gave it, or why there is none.

    Attributes:
        key: the figure's name in the report (``nps_by_month``).
        label: what the report calls it (``Net Promoter Score``).
        scorer: the scorer asked (``nps``).
        by: the period asked for, or None.
        options: the scorer options passed.
        score: the :class:`~advokit.plugins.scoring.Score`; None when the
            scorer is not registered or could not compute.
        note: why there is no score, or why it has no value.
    """

    key: str
    label: str
    scorer: str
    by: str | None = None
    options: Mapping[str, Any] = attrs.field(factory=dict, converter=frozen_mapping)
    score: Score | None = None
    note: str | None = None

    @property
    def has_value(self) -> bool:
        """Whether there is a figure to show (a score with a value)."""
        return self.score is not None and self.score.value is not None

    def command(self, window: Window) -> list[str]:
        """The ``advokit score`` arguments that print the same score."""
        args = ["score", self.scorer]
        if self.by is not None:
            args += ["--by", self.by]
        if window.start is not None:
            args += ["--from", window.start.isoformat()]
        if window.end is not None:
            args += ["--to", window.end.isoformat()]
        for name, value in self.options.items():
            args += ["--option", f"{name}={_option_text(value)}"]
        return args

    def to_json(self, window: Window) -> dict[str, Any]:
        return {
            "label": self.label,
            "scorer": self.scorer,
            "by": self.by,
            "options": dict(self.options),
            "command": self.command(window),
            "score": self.score.to_json() if self.score is not None else None,
            "note": self.note,
        }


@attrs.frozen
class Count:
    """A labelled count: advocates in a tier, rewards of a kind."""

    label: str
    value: int

    def to_json(self) -> dict[str, Any]:
        return {"label": self.label, "value": self.value}


@attrs.frozen
class Ranked:
    """A place in a ranking: the advocate's external id and the value ranked by."""

    rank: int
    advocate: str
    value: float

    def to_json(self) -> dict[str, Any]:
        return attrs.asdict(self)


@attrs.frozen(kw_only=True)
class RewardLine:
    """The rewards of one kind and currency issued in the window.

    Attributes:
        kind: the reward kind (``gift_card``, ``coupon``...).
        currency: the currency of money rewards; None for the others, whose
            ``amount`` is a count rather than money.
        issued: how many were issued in the window, whatever became of them.
        owed: how many are still owed or paid (not canceled nor reversed).
        amount: the sum of the owed or paid rewards' amounts (cents for money).
        states: how many are in each state now.
    """

    kind: str
    currency: str | None
    issued: int
    owed: int
    amount: int
    states: Mapping[str, int] = attrs.field(factory=dict, converter=frozen_mapping)

    def to_json(self) -> dict[str, Any]:
        return {**attrs.asdict(self, recurse=False), "states": dict(self.states)}


@attrs.frozen(kw_only=True)
class Panel:
    """A section of the report.

    Attributes:
        key: its id (``nps_trend``).
        title: its heading.
        figures: the scorer figures it shows, by key.
        data: what it shows besides scores (tier counts, rewards, rankings).
        notes: why a part of it, or all of it, is left out.
        shown: False when there is nothing to show: the report prints the
            title and the notes only.
    """

    key: str
    title: str
    figures: Mapping[str, Figure] = attrs.field(factory=dict, converter=frozen_mapping)
    data: Mapping[str, Any] = attrs.field(factory=dict, converter=frozen_mapping)
    notes: tuple[str, ...] = attrs.field(default=(), converter=tuple)
    shown: bool = True

    def to_json(self, window: Window) -> dict[str, Any]:
        return {
            "key": self.key,
            "title": self.title,
            "shown": self.shown,
            "notes": list(self.notes),
            "figures": {key: figure.to_json(window) for key, figure in self.figures.items()},
            "data": json_value(self.data),
        }


@attrs.frozen(kw_only=True)
class ReportData:
    """Everything a report shows: :func:`~advokit.report.build_report` makes it,
    :func:`~advokit.report.render_html` renders it, ``advokit report --json`` prints it.

    Attributes:
        title: the report's title.
        program: the program's name.
        generated_at: the program clock's time when it was built.
        window: the window the figures are computed over.
        currency: the currency money is shown in (``Economics.currency``), if set.
        panels: the sections, in order.
    """

    title: str
    program: str
    generated_at: datetime
    window: Window
    currency: str | None
    panels: tuple[Panel, ...] = attrs.field(converter=tuple)

    def panel(self, key: str) -> Panel:
        """The panel called ``key``."""
        for panel in self.panels:
            if panel.key == key:
                return panel
        raise KeyError(key)

    def to_json(self) -> dict[str, Any]:
        """A JSON-encodable dict: what ``advokit report --json`` prints."""
        return {
            "title": self.title,
            "program": self.program,
            "generated_at": self.generated_at.isoformat(),
            "window": self.window.to_json(),
            "currency": self.currency,
            "panels": [panel.to_json(self.window) for panel in self.panels],
        }
