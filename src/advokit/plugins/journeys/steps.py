"""What a journey is made of: its trigger, its steps, and the rules it is checked against.

A journey is declared in Python::

    Journey(
        "post_purchase_nps",
        trigger="purchase.completed",
        steps=[
            Wait(days=3),
            Send("nps_survey"),
            WaitFor("survey.answered", within=timedelta(days=14)),
            Branch(
                nps_category,
                promoter=[Send("referral_invite")],
                passive=[Send("thank_you")],
                detractor=[Send("detractor_alert", channel="team", category="transactional")],
            ),
        ],
    )

Steps run in order. ``Wait`` and ``WaitFor`` stop the journey until
``program.tick()`` finds the wait over, or the awaited action is recorded;
everything between two waits is applied in one transaction with the action
that got there, so each step runs exactly once.

Review requests are checked when the journey is composed: asking only the
satisfied for a review ("review gating") and rewarding by a review's
sentiment are refused with :class:`ReviewGating`.
"""

from __future__ import annotations

import re
from collections.abc import Callable, Iterable, Iterator, Mapping, Sequence
from datetime import datetime, timedelta
from typing import Any, TypeAlias

import attrs

from advokit import Action, Advocate, AwardPoints, Effect, SendMessage, Tag
from advokit.core import validation as v
from advokit.core.engine import POINTS_CHANGED
from advokit.core.errors import ConfigurationError
from advokit.core.model import ACCOUNT_PATTERN, KIND_PATTERN

__all__ = [
    "SENTIMENT_KINDS",
    "AddTag",
    "Award",
    "Branch",
    "Do",
    "Journey",
    "ReviewGating",
    "Run",
    "Send",
    "Step",
    "Wait",
    "WaitFor",
    "nps_category",
]

#: Actions that say how satisfied an advocate is: a path that depends on one must
#: not decide who is asked for a review, nor who is rewarded.
SENTIMENT_KINDS = frozenset({"survey.answered", "review.posted"})
_NAME = re.compile(ACCOUNT_PATTERN)  # journeys, arms, templates: "post_purchase"
_REVIEW = re.compile(r"review|testimonial")


class ReviewGating(ConfigurationError):
    """A journey would ask only satisfied advocates for a review, or reward a review
    by its sentiment. Both are unlawful or against the review sites' rules: the
    FTC's rule on consumer reviews (16 CFR Part 465: no incentive conditioned on a
    review's sentiment, § 465.4; no suppressing negative reviews, § 465.7) and
    Google's and Trustpilot's policies against review gating."""


@attrs.frozen(kw_only=True)
class Run:
    """What a journey's conditions and branches see.

    Attributes:
        journey: the journey's name.
        advocate: the advocate, as they are now.
        trigger: the action that started the run (``kind``, ``key``, ``data``).
        answers: the data of each awaited action recorded so far, by kind
            (``run.answers["survey.answered"]["score"]``).
        now: the time of the transaction.
        number: 1 for the advocate's first run of this journey, 2 for the next...
    """

    journey: str
    advocate: Advocate
    trigger: Mapping[str, Any]
    answers: Mapping[str, Mapping[str, Any]]
    now: datetime
    number: int

    def answer(self, kind: str) -> Mapping[str, Any]:
        """The data of the awaited ``kind`` (empty if it has not been recorded)."""
        return self.answers.get(kind, {})


Context: TypeAlias = Mapping[str, Any] | Callable[[Run], Mapping[str, Any]]


def _context(value: Any) -> Any:
    if value is None:
        return {}
    if callable(value):
        return value
    if not isinstance(value, Mapping):
        raise ConfigurationError("Send.context", value, "a mapping, or a function of the run")
    return v.frozen_json_mapping(value)


@attrs.frozen
class Send:
    """Queue a message to the advocate (the messages plugin sends it after commit).

    Args:
        template: the message kind (``"review_request"``).
        channel: the channel's name.
        category: ``"marketing"`` (needs consent) or ``"transactional"``.
        context: the templates' data: a mapping, or a function of the :class:`Run`.
        review_request: whether it asks for a review or testimonial; by default,
            whether the template's name says ``review`` or ``testimonial``.
    """

    template: str = attrs.field(
        validator=v.matches(ACCOUNT_PATTERN, "a template name such as 'review_request'")
    )
    channel: str = attrs.field(default="email", kw_only=True, validator=v.text())
    category: str = attrs.field(
        default="marketing",
        kw_only=True,
        validator=v.matches("marketing|transactional", "'marketing' or 'transactional'"),
    )
    context: Context = attrs.field(factory=dict, kw_only=True, converter=_context)
    review_request: bool | None = attrs.field(default=None, kw_only=True)

    @property
    def asks_for_review(self) -> bool:
        if self.review_request is not None:
            return self.review_request
        return bool(_REVIEW.search(self.template))

    def effects(self, run: Run) -> list[Effect]:
        context = self.context(run) if callable(self.context) else self.context
        return [
            SendMessage(
                advocate=run.advocate.external_id,
                channel=self.channel,
                template=self.template,
                category=self.category,
                context=context,
            )
        ]


@attrs.frozen
class Award:
    """Award points (an incentive: never by a review's sentiment)."""

    points: int = attrs.field(validator=v.integer(minimum=1))
    account: str = attrs.field(
        default="points",
        kw_only=True,
        validator=v.matches(ACCOUNT_PATTERN, "an account name such as 'points'"),
    )
    reason: str = attrs.field(
        default="journey.award",
        kw_only=True,
        validator=v.matches(KIND_PATTERN, "a dotted lower-case name such as 'journey.award'"),
    )

    def effects(self, run: Run) -> list[Effect]:
        return [
            AwardPoints(
                advocate=run.advocate.external_id,
                points=self.points,
                account=self.account,
                reason=self.reason,
            )
        ]


@attrs.frozen
class AddTag:
    """Add a segment label to the advocate (``remove=True`` takes it away)."""

    tag: str = attrs.field(validator=v.text())
    remove: bool = attrs.field(default=False, kw_only=True)

    def effects(self, run: Run) -> list[Effect]:
        return [Tag(advocate=run.advocate.external_id, tag=self.tag, remove=self.remove)]


@attrs.frozen
class Do:
    """Any effects, from a function of the run (an escape hatch: issue a reward...)."""

    make: Callable[[Run], Iterable[Effect]] = attrs.field(validator=attrs.validators.is_callable())

    def effects(self, run: Run) -> list[Effect]:
        made = list(self.make(run))
        for effect in made:
            if not isinstance(effect, Effect):
                raise TypeError(f"Do({self.make!r}) made {effect!r}, not an Effect")
        return made


def _duration(value: Any) -> timedelta:
    if not isinstance(value, timedelta) or value <= timedelta(0):
        raise ConfigurationError("Wait", value, "a positive duration")
    return value


@attrs.frozen(init=False)
class Wait:
    """Wait, then go on: ``Wait(days=3)``, ``Wait(timedelta(hours=6))``."""

    delay: timedelta

    def __init__(self, delay: timedelta | None = None, **parts: float) -> None:
        if (delay is None) == (not parts):
            raise ConfigurationError("Wait", delay or parts, "a timedelta or days=/hours=/...")
        try:
            value = delay if delay is not None else timedelta(**parts)
        except TypeError as error:
            raise ConfigurationError("Wait", parts, f"days=, hours=, minutes= ({error})") from None
        self.__attrs_init__(_duration(value))  # type: ignore[attr-defined]


@attrs.frozen(kw_only=True)
class WaitFor:
    """Wait for the advocate's next ``kind`` action, for at most ``within``.

    When it comes (and ``where(action)`` holds, if given) its data is kept in
    ``run.answers[kind]`` and the journey goes on. When ``within`` runs out
    first, the ``timeout`` steps run and the journey ends.
    """

    kind: str = attrs.field(
        validator=v.matches(KIND_PATTERN, "an action kind such as 'survey.answered'")
    )
    within: timedelta = attrs.field(converter=_duration)
    where: Callable[[Action], bool] | None = attrs.field(default=None)
    timeout: tuple[Step, ...] = attrs.field(default=(), converter=tuple)

    def __init__(
        self,
        kind: str,
        *,
        within: timedelta,
        where: Callable[[Action], bool] | None = None,
        timeout: Sequence[Step] = (),
    ) -> None:
        self.__attrs_init__(kind=kind, within=within, where=where, timeout=timeout)  # type: ignore[attr-defined]


@attrs.frozen(init=False)
class Branch:
    """Go down one arm, by what ``decide(run)`` returns; then on after the branch.

    ``Branch(nps_category, promoter=[...], passive=[...], detractor=[...])``.
    A name with no arm goes to ``otherwise`` (nothing, by default).
    """

    decide: Callable[[Run], str | None]
    arms: Mapping[str, tuple[Step, ...]]
    otherwise: tuple[Step, ...]
    #: every arm, ``otherwise`` included under that name
    paths: Mapping[str, tuple[Step, ...]]

    def __init__(
        self,
        decide: Callable[[Run], str | None],
        *,
        otherwise: Sequence[Step] = (),
        **arms: Sequence[Step],
    ) -> None:
        if not callable(decide):
            raise ConfigurationError("Branch.decide", decide, "a function of the run")
        if not arms:
            raise ConfigurationError("Branch", arms, "at least one arm: Branch(f, name=[steps])")
        for name in arms:
            if not _NAME.fullmatch(name) or name == "timeout":
                raise ConfigurationError("Branch arm", name, "a lower-case name, not 'timeout'")
        named = {name: tuple(steps) for name, steps in arms.items()}
        self.__attrs_init__(  # type: ignore[attr-defined]
            decide, named, tuple(otherwise), {**named, "otherwise": tuple(otherwise)}
        )


Step: TypeAlias = Send | Award | AddTag | Do | Wait | WaitFor | Branch
_STEPS = (Send, Award, AddTag, Do, Wait, WaitFor, Branch)


def nps_category(run: Run) -> str | None:
    """``promoter`` (9-10), ``passive`` (7-8) or ``detractor`` (0-6), from the
    ``survey.answered`` the run waited for (None without one)."""
    score = run.answer("survey.answered").get("score")
    if not isinstance(score, int):
        return None
    return "promoter" if score >= 9 else "passive" if score >= 7 else "detractor"


def walk(steps: Sequence[Step]) -> Iterator[Step]:
    """Every step, those of branches' arms and of timeouts included."""
    for step in steps:
        yield step
        if isinstance(step, Branch):
            for arm in step.paths.values():
                yield from walk(arm)
        elif isinstance(step, WaitFor):
            yield from walk(step.timeout)


def _asks(steps: Sequence[Step]) -> bool:
    return any(isinstance(s, Send) and s.asks_for_review for s in walk(steps))


def _rewards(steps: Sequence[Step]) -> bool:
    return any(isinstance(s, Award | Do) for s in walk(steps))


@attrs.frozen(init=False)
class Journey:
    """An automated workflow: when ``trigger`` is recorded (and ``when`` holds), the
    advocate goes through ``steps``.

    Args:
        name: the journey's name, kept with each advocate's state: rename it
            (``post_purchase_v2``) rather than reorder the steps of a journey
            advocates are part-way through.
        trigger: the action kind that starts it; derived kinds count
            (``tier.changed``, ``points.expiring``, ``advocate.birthday``).
        steps: what happens, in order.
        when: ``when(advocate, action)``: whether this trigger starts a run.
        reentry: whether an advocate whose run has ended starts another on the
            next trigger. A trigger during a run never starts a second one.
        sentiment_kinds: the kinds whose data says how satisfied the advocate is.
    """

    name: str
    trigger: str
    steps: tuple[Step, ...]
    when: Callable[[Advocate, Action], bool] | None
    reentry: bool
    sentiment_kinds: frozenset[str]

    def __init__(
        self,
        name: str,
        *,
        trigger: str,
        steps: Sequence[Step],
        when: Callable[[Advocate, Action], bool] | None = None,
        reentry: bool = True,
        sentiment_kinds: Iterable[str] = SENTIMENT_KINDS,
    ) -> None:
        if not isinstance(name, str) or not _NAME.fullmatch(name):
            raise ConfigurationError("Journey.name", name, "a lower-case name such as 'welcome'")
        if not isinstance(trigger, str) or not trigger:
            raise ConfigurationError("Journey.trigger", trigger, "an action kind")
        steps = tuple(steps)
        if not steps:
            raise ConfigurationError("Journey.steps", steps, "at least one step")
        for step in walk(steps):
            if not isinstance(step, _STEPS):
                raise ConfigurationError(
                    f"Journey {name!r} step", step, "Send, Wait, WaitFor, Branch, Award, AddTag, Do"
                )
        if when is not None and not callable(when):
            raise ConfigurationError("Journey.when", when, "a function (advocate, action) -> bool")
        awards = any(isinstance(step, Award | Do) for step in walk(steps))
        if trigger == POINTS_CHANGED and awards and reentry:
            raise ConfigurationError(
                f"Journey {name!r}.trigger",
                trigger,
                "another trigger: an Award (or a Do) changes points again and restarts it "
                "endlessly (or reentry=False)",
            )
        self.__attrs_init__(  # type: ignore[attr-defined]
            name, trigger, steps, when, bool(reentry), frozenset(sentiment_kinds)
        )
        _check_reviews(self)

    # -- addressing steps: a position is a path of indexes and arm names, "3/promoter/0"

    def step_at(self, path: tuple[int | str, ...]) -> Step:
        """The step at ``path``; KeyError if the journey has none there (it changed)."""
        steps: Sequence[Step] = self.steps
        step: Step | None = None
        for depth in range(0, len(path), 2):
            index = path[depth]
            if not isinstance(index, int) or not 0 <= index < len(steps):
                raise KeyError(path)
            step = steps[index]
            if depth + 1 < len(path):
                arm = path[depth + 1]
                if isinstance(step, Branch) and isinstance(arm, str) and arm in step.paths:
                    steps = step.paths[arm]
                elif isinstance(step, WaitFor) and arm == "timeout":
                    steps = step.timeout
                else:
                    raise KeyError(path)
        if step is None:
            raise KeyError(path)
        return step

    def after(self, path: tuple[int | str, ...]) -> tuple[int | str, ...] | None:
        """The position after the step at ``path``; None when the journey ends there."""
        while True:
            container = self.steps if len(path) == 1 else self._arm(path[:-1])
            index = path[-1]
            assert isinstance(index, int)
            if index + 1 < len(container):
                return (*path[:-1], index + 1)
            if len(path) == 1:
                return None
            if isinstance(self.step_at(path[:-2]), WaitFor):  # the timeout steps end it
                return None
            path = path[:-2]  # the end of an arm: on after the branch

    def _arm(self, at: tuple[int | str, ...]) -> tuple[Step, ...]:
        step, arm = self.step_at(at[:-1]), at[-1]
        if isinstance(step, WaitFor):
            return step.timeout
        assert isinstance(step, Branch)
        assert isinstance(arm, str)
        return step.paths[arm]


def encode(path: tuple[int | str, ...]) -> str:
    return "/".join(str(part) for part in path)


def decode(text: str) -> tuple[int | str, ...]:
    return tuple(int(part) if part.isdigit() else part for part in text.split("/"))


def _about_reviews(kind: str) -> bool:
    return bool(_REVIEW.search(kind))


def _check_reviews(journey: Journey) -> None:
    """Refuse review gating and sentiment-conditioned incentives, where the journey's
    shape shows them; explain the rule.

    A path depends on satisfaction once it has passed a ``WaitFor`` of a sentiment
    kind, or from the start when the trigger is one. On such a path: a branch
    must ask every arm for a review or none (else it gates); a condition on the
    sentiment action (``when``, ``where``) must not come before a review request;
    and after a review's own sentiment, incentives must not differ by arm.
    """
    rule = (
        "ask every eligible customer for a review whatever their satisfaction, and "
        "never make an incentive depend on a review's sentiment (FTC 16 CFR Part 465; "
        "Google's policy against review gating)"
    )
    trigger = journey.trigger
    sentiment = trigger if trigger in journey.sentiment_kinds else None
    rewards = _about_reviews(trigger) and _rewards(journey.steps)
    if sentiment and journey.when is not None and (_asks(journey.steps) or rewards):
        raise ReviewGating(
            f"Journey {journey.name!r}.when",
            trigger,
            f"no condition on a {trigger} trigger in a journey that asks for reviews "
            f"(or rewards them): the condition can pick the satisfied ones. {rule}",
        )
    _check_steps(journey, journey.steps, sentiment, rule)


def _check_steps(
    journey: Journey,
    steps: Sequence[Step],
    sentiment: str | None,
    rule: str,
    following: Sequence[Step] = (),
) -> str | None:
    """Check ``steps`` (then ``following``, what runs after them); return whether the
    path depends on satisfaction once they are done (the sentiment kind, or None)."""
    for index, step in enumerate(steps):
        after = (*steps[index + 1 :], *following)
        if isinstance(step, WaitFor):
            _check_steps(journey, step.timeout, sentiment, rule)  # the journey ends after
            if step.kind in journey.sentiment_kinds:
                # a condition on the answer decides who goes on and who times out
                reachable = (*after, *step.timeout)
                rewards = _about_reviews(step.kind) and _rewards(reachable)
                if step.where is not None and (_asks(reachable) or rewards):
                    raise ReviewGating(
                        f"Journey {journey.name!r} WaitFor({step.kind!r}).where",
                        step.where,
                        "no condition on a satisfaction answer before a review request "
                        f"(or an incentive for a review): {rule}",
                    )
                sentiment = step.kind
        elif isinstance(step, Branch):
            arms = step.paths
            found = [_check_steps(journey, arm, sentiment, rule, after) for arm in arms.values()]
            if sentiment is not None:
                _check_branch(journey, step, arms, sentiment, rule)
            sentiment = sentiment or next((kind for kind in found if kind), None)
    return sentiment


def _check_branch(
    journey: Journey,
    step: Branch,
    arms: Mapping[str, Sequence[Step]],
    sentiment: str,
    rule: str,
) -> None:
    asking = sorted(name for name, arm in arms.items() if _asks(arm))
    if asking and len(asking) < len(arms):
        raise ReviewGating(
            f"Journey {journey.name!r} Branch",
            asking,
            "a review request in every arm of a branch on satisfaction, or before it "
            f"(only {', '.join(asking)} would be asked: review gating). {rule}",
        )
    rewarding = sorted(name for name, arm in arms.items() if _rewards(arm))
    incentive_on_review = _about_reviews(sentiment) or bool(asking)
    if rewarding and len(rewarding) < len(arms) and incentive_on_review:
        raise ReviewGating(
            f"Journey {journey.name!r} Branch",
            rewarding,
            "the same incentive in every arm of a branch on a review's sentiment, "
            f"or none (only {', '.join(rewarding)} would be rewarded). {rule}",
        )
