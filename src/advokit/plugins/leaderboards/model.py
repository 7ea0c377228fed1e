"""Boards, the score effect and the positions the plugin's queries return."""

from __future__ import annotations

from collections.abc import Callable
from datetime import datetime

import attrs

from advokit import Action, Effect, Standing
from advokit.core import validation as v
from advokit.core.errors import ConfigurationError
from advokit.core.model import RANKINGS

__all__ = [
    "DEFAULT_KEEP_DAYS",
    "MAX_RANGE_DAYS",
    "RANKINGS",
    "WINDOWS",
    "Board",
    "BoardPosition",
    "Score",
]

POINTS_CHANGED = "points.changed"
WINDOWS = ("all", "today", "week", "month")
_NAME = r"[a-z][a-z0-9_]{0,62}"
#: The largest custom range, in days: longer ones should use "all" or a month.
MAX_RANGE_DAYS = 366
#: Days of daily rows kept by default: a year of custom ranges, and some.
DEFAULT_KEEP_DAYS = 400


@attrs.frozen
class Board:
    """One leaderboard: points earned in ``points`` (an account), or a ``count`` of a kind."""

    name: str = attrs.field(validator=v.matches(_NAME, "a lower-case board name"))
    points: str | None = attrs.field(default=None, kw_only=True)
    count: str | None = attrs.field(default=None, kw_only=True)
    where: Callable[[Action], bool] | None = attrs.field(default=None, kw_only=True)
    title: str = attrs.field(
        default=attrs.Factory(
            lambda self: self.name.replace("_", " ").capitalize(), takes_self=True
        ),
        kw_only=True,
    )

    def __attrs_post_init__(self) -> None:
        if self.points is None and self.count is None:
            object.__setattr__(self, "points", "points")
        if self.points is not None and self.count is not None:
            raise ConfigurationError(
                f"Board({self.name!r}).count", self.count, "None when points= is given"
            )
        if self.points is not None and (not isinstance(self.points, str) or not self.points):
            raise ConfigurationError(f"Board({self.name!r}).points", self.points, "an account")
        if self.count is not None and not isinstance(self.count, str):
            raise ConfigurationError(f"Board({self.name!r}).count", self.count, "an action kind")
        if self.where is not None and (self.count is None or not callable(self.where)):
            raise ConfigurationError(
                f"Board({self.name!r}).where", self.where, "a function of the action, with count="
            )

    @property
    def kind(self) -> str:
        """The action kind the board listens to."""
        return self.count if self.count is not None else POINTS_CHANGED


@attrs.frozen(kw_only=True)
class Score(Effect):
    """Add ``amount`` (may be negative) to an advocate's score on a board, at ``at``."""

    advocate: str = attrs.field(validator=v.text())
    board: str = attrs.field(validator=v.text())
    amount: int = attrs.field(validator=v.integer())
    at: datetime = attrs.field(converter=v.to_utc, validator=v.aware_datetime())


@attrs.frozen(kw_only=True)
class BoardPosition:
    """Where an advocate stands: their standing (None when unranked) and their neighbours."""

    standing: Standing | None
    above: tuple[Standing, ...] = ()
    below: tuple[Standing, ...] = ()
