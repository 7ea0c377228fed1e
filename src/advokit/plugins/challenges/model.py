"""Challenges and their steps and periods, the plugin's effects, kinds and values."""

from __future__ import annotations

import zoneinfo
from collections.abc import Callable
from datetime import date, datetime, time, timedelta
from typing import Any, ClassVar

import attrs

from advokit import (
    Action,
    ActionKind,
    AwardPoints,
    Effect,
    GrantBadge,
    IssueReward,
    Reward,
)
from advokit.core import validation as v
from advokit.core.errors import ConfigurationError

__all__ = [
    "CHALLENGE_COMPLETED",
    "CHALLENGE_JOINED",
    "CHALLENGE_MISSED",
    "KINDS",
    "Challenge",
    "ChallengeProgress",
    "CloseChallenge",
    "JoinChallenge",
    "Period",
    "SetChallengeProgress",
    "Step",
    "StepProgress",
    "join",
]

CHALLENGE_JOINED = "challenge.joined"
CHALLENGE_COMPLETED = "challenge.completed"
CHALLENGE_MISSED = "challenge.missed"

_NAME = r"[a-z][a-z0-9_]{0,62}"


_KIND = v.matches(r"[a-z][a-z0-9_]*(\.[a-z][a-z0-9_]*)+", "an action kind name")


@attrs.frozen
class Step:
    """``count`` actions of ``kind`` (those ``where`` accepts, if given)."""

    kind: str = attrs.field(validator=_KIND)
    count: int = attrs.field(default=1, validator=v.integer(minimum=1))
    where: Callable[[Action], bool] | None = attrs.field(default=None, kw_only=True)
    title: str = attrs.field(
        default=attrs.Factory(lambda self: f"{self.count} x {self.kind}", takes_self=True),
        kw_only=True,
    )

    def __attrs_post_init__(self) -> None:
        if self.where is not None and not callable(self.where):
            raise ConfigurationError("Step.where", self.where, "a function of the action, or None")

    def counts(self, action: Action) -> bool:
        return action.kind == self.kind and (self.where is None or bool(self.where(action)))


@attrs.frozen
class Period:
    """One run of a challenge, ``[starts, ends)``: ``id`` ``once``, ``2026-W23`` or ``2026-06``."""

    id: str
    starts: datetime
    ends: datetime


def _aware(field: str) -> Callable[[Any, Any, Any], None]:
    def check(instance: Any, attribute: Any, value: Any) -> None:
        if value is not None and (not isinstance(value, datetime) or value.utcoffset() is None):
            raise ConfigurationError(
                f"Challenge({instance.name!r}).{field}", value, "a timezone-aware datetime or None"
            )

    return check


@attrs.frozen
class Challenge:
    """A goal of several :class:`Step` values inside a time box.

    Args:
        name: the challenge's id (lower case).
        steps: what must be done, each step counted separately.
        starts, ends: the time box (aware datetimes, ``ends`` exclusive);
            required unless ``every`` is given, where they bound the runs.
        every: ``"week"`` or ``"month"``: run again each week or month.
        timezone: where weeks and months begin (IANA name, default UTC).
        enrolment: only advocates who joined take part.
        points, account: points awarded on completion.
        badge: a badge granted on completion (needs the badges plugin).
        reward: a reward owed on completion (needs a rewards plugin).
        title, description: what people read.
    """

    name: str = attrs.field(validator=v.matches(_NAME, "a lower-case challenge name"))
    steps: tuple[Step, ...] = attrs.field(converter=tuple)
    starts: datetime | None = attrs.field(default=None, kw_only=True, validator=_aware("starts"))
    ends: datetime | None = attrs.field(default=None, kw_only=True, validator=_aware("ends"))
    every: str | None = attrs.field(default=None, kw_only=True)
    timezone: str = attrs.field(default="UTC", kw_only=True)
    enrolment: bool = attrs.field(default=False, kw_only=True)
    points: int = attrs.field(default=0, kw_only=True)
    account: str = attrs.field(default="points", kw_only=True)
    badge: str | None = attrs.field(default=None, kw_only=True)
    reward: Reward | None = attrs.field(default=None, kw_only=True)
    title: str = attrs.field(
        default=attrs.Factory(
            lambda self: self.name.replace("_", " ").capitalize(), takes_self=True
        ),
        kw_only=True,
    )
    description: str = attrs.field(default="", kw_only=True)
    # the period of each local date met so far: every action asks for its own
    _periods: dict[date, Period] = attrs.field(
        factory=dict, init=False, eq=False, hash=False, repr=False
    )

    def __attrs_post_init__(self) -> None:
        where = f"Challenge({self.name!r})"
        if not self.steps or not all(isinstance(s, Step) for s in self.steps):
            raise ConfigurationError(f"{where}.steps", self.steps, "one or more Step values")
        if self.every not in (None, "week", "month"):
            raise ConfigurationError(f"{where}.every", self.every, "None, 'week' or 'month'")
        if self.every is None and (self.starts is None or self.ends is None):
            missing = "starts" if self.starts is None else "ends"
            raise ConfigurationError(
                f"{where}.{missing}", None, "a timezone-aware datetime (or every='week'|'month')"
            )
        if self.starts is not None and self.ends is not None and self.ends <= self.starts:
            raise ConfigurationError(
                f"{where}.ends", self.ends, f"a time after starts ({self.starts.isoformat()})"
            )
        if not isinstance(self.timezone, str) or not v.is_zone(self.timezone):
            raise ConfigurationError(
                f"{where}.timezone", self.timezone, "an IANA time zone name such as 'Europe/Paris'"
            )
        if not isinstance(self.enrolment, bool):
            raise ConfigurationError(f"{where}.enrolment", self.enrolment, "True or False")
        if not v.is_int(self.points) or self.points < 0:
            raise ConfigurationError(f"{where}.points", self.points, "an integer of 0 or more")
        if not isinstance(self.account, str) or not self.account:
            raise ConfigurationError(f"{where}.account", self.account, "an account name")
        if self.badge is not None and not isinstance(self.badge, str):
            raise ConfigurationError(f"{where}.badge", self.badge, "a badge name or None")
        if self.reward is not None and not isinstance(self.reward, Reward):
            raise ConfigurationError(f"{where}.reward", self.reward, "a Reward or None")

    @property
    def kinds(self) -> frozenset[str]:
        return frozenset(step.kind for step in self.steps)

    def period_at(self, at: datetime) -> Period | None:
        """The run of the challenge that ``at`` falls in, or None outside every run."""
        if self.starts is not None and at < self.starts:
            return None
        if self.ends is not None and at >= self.ends:
            return None
        if self.every is None:  # starts and ends are both set (checked when built)
            return Period("once", self.starts, self.ends)  # type: ignore[arg-type]
        zone = zoneinfo.ZoneInfo(self.timezone)
        local = at.astimezone(zone).date()
        known = self._periods.get(local)
        if known is None:
            known = self._periods[local] = self._period_of(local, zone)
        return known

    def _period_of(self, local: date, zone: zoneinfo.ZoneInfo) -> Period:
        if self.every == "week":
            first = local - timedelta(days=local.weekday())
            after = first + timedelta(days=7)
            year, week, _ = first.isocalendar()
            name = f"{year}-W{week:02d}"
        else:
            first = local.replace(day=1)
            after = (first + timedelta(days=32)).replace(day=1)
            name = f"{first.year}-{first.month:02d}"
        starts, ends = _local_midnight(first, zone), _local_midnight(after, zone)
        if self.starts is not None:
            starts = max(starts, self.starts)
        if self.ends is not None:
            ends = min(ends, self.ends)
        return Period(name, starts, ends)

    def prize(self, advocate: str) -> list[Effect]:
        """The effects of completing the challenge."""
        prize: list[Effect] = []
        if self.points:
            prize.append(
                AwardPoints(
                    advocate=advocate,
                    points=self.points,
                    account=self.account,
                    reason=CHALLENGE_COMPLETED,
                    memo=f"challenge {self.name}",
                )
            )
        if self.badge is not None:
            prize.append(GrantBadge(advocate=advocate, badge=self.badge))
        if self.reward is not None:
            prize.append(IssueReward(advocate=advocate, reward=self.reward))
        return prize


def _local_midnight(day: date, zone: zoneinfo.ZoneInfo) -> datetime:
    return datetime.combine(day, time(), zone).astimezone(zoneinfo.ZoneInfo("UTC"))


@attrs.frozen(kw_only=True)
class SetChallengeProgress(Effect):
    """Store an advocate's step counts for one period (``read``: the version decided from)."""

    recorded: ClassVar[bool] = False  # the plugin's own bookkeeping

    # built by the plugin from a checked action and its own challenges: not checked again
    advocate: str
    challenge: str
    period: str
    ends_at: datetime
    counts: tuple[int, ...] = attrs.field(converter=tuple)
    completed: bool = False
    read: int = 0


@attrs.frozen(kw_only=True)
class JoinChallenge(Effect):
    """Enrol an advocate in a challenge (once; joining again changes nothing)."""

    advocate: str = attrs.field(validator=v.text())
    challenge: str = attrs.field(validator=v.text())


@attrs.frozen(kw_only=True)
class CloseChallenge(Effect):
    """Close an advocate's unfinished period: later actions no longer count."""

    advocate: str = attrs.field(validator=v.text())
    challenge: str = attrs.field(validator=v.text())
    period: str = attrs.field(validator=v.text())


@attrs.frozen(kw_only=True)
class StepProgress:
    step: Step
    done: int

    @property
    def complete(self) -> bool:
        return self.done >= self.step.count


@attrs.frozen(kw_only=True)
class ChallengeProgress:
    """A running challenge as ``program.progress(advocate)`` shows it."""

    challenge: Challenge
    period: Period
    enrolled: bool
    steps: tuple[StepProgress, ...]
    completed_at: datetime | None

    @property
    def completed(self) -> bool:
        return self.completed_at is not None


def join(advocate: str, challenge: str, *, key: str) -> Action:
    """The action that enrols ``advocate`` in ``challenge`` (record it)."""
    return Action(kind=CHALLENGE_JOINED, advocate=advocate, key=key, data={"challenge": challenge})


KINDS = (
    ActionKind(
        name=CHALLENGE_JOINED,
        required={"challenge": str},
        description="An advocate joined a challenge that needs enrolment.",
    ),
    ActionKind(
        name=CHALLENGE_COMPLETED,
        required={"challenge": str, "period": str},
        description="Derived: an advocate finished every step of a challenge's period.",
        derived=True,
    ),
    ActionKind(
        name=CHALLENGE_MISSED,
        required={"challenge": str, "period": str, "steps_done": int, "steps": int},
        description="Derived, by the tick: a challenge's period ended before the advocate "
        "finished it.",
        derived=True,
    ),
)
