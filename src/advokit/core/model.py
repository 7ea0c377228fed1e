"""The value objects that cross plugin boundaries.

Everything here is an attrs frozen class with validators: advocates, actions,
rewards, the effects plugins return, screening verdicts and recorded outcomes.
Database rows never leave :mod:`advokit.core.store`; they are converted to these.
"""

from __future__ import annotations

import enum
import hashlib
import re
from collections.abc import Callable, Iterable, Mapping
from datetime import datetime
from types import MappingProxyType
from typing import Any, ClassVar

import attrs

from advokit.core import jsontext
from advokit.core import validation as v
from advokit.core.errors import InvalidValue, MissingData, one_of

__all__ = [
    "Action",
    "ActionKind",
    "Advocate",
    "AdvocateKind",
    "AwardPoints",
    "ChangeTier",
    "Consent",
    "Decision",
    "DeductPoints",
    "Effect",
    "GrantBadge",
    "HoldForReview",
    "IssueReward",
    "LedgerEntry",
    "Outcome",
    "ReversePoints",
    "ReverseRewards",
    "Reward",
    "SendMessage",
    "Standing",
    "Status",
    "Tag",
    "Verdict",
    "rank_standings",
]

#: Dotted lower-case names: ``purchase.completed``, ``points.changed``.
KIND_PATTERN = r"[a-z][a-z0-9_]*(\.[a-z][a-z0-9_]*)+"
#: Idempotency keys: printable ASCII without spaces, like Stripe's.
KEY_PATTERN = r"[\x21-\x7e]{1,255}"
#: Phone numbers, as advocates' and inbound SMS's: E.164.
E164_PATTERN = r"\+[1-9]\d{6,14}"
E164_ACCEPTED = "an E.164 phone number such as '+442071838750'"
#: Ledger accounts: ``points``, ``store_credit_cents``.
ACCOUNT_PATTERN = r"[a-z][a-z0-9_]{0,62}"
#: The account effects use unless they name another.
DEFAULT_ACCOUNT = "points"
_ACCOUNT = v.matches(ACCOUNT_PATTERN, "a lower-case account name such as 'points'")
_KIND = v.matches(KIND_PATTERN, "a dotted lower-case name such as 'purchase.completed'")


def _external_id(value: Any) -> Any:
    """Converter: an :class:`Advocate` stands for its external id."""
    return value.external_id if isinstance(value, Advocate) else value


_ADVOCATE_ID = v.text()


# --------------------------------------------------------------------------- advocates


class AdvocateKind(enum.StrEnum):
    """Who an advocate is to the business."""

    CUSTOMER = "customer"
    EMPLOYEE = "employee"
    PARTNER = "partner"


def _advocate_kind(value: Any) -> Any:
    try:
        return AdvocateKind(value)
    except ValueError:
        raise InvalidValue(
            "Advocate.kind", value, "one of " + ", ".join(k.value for k in AdvocateKind)
        ) from None


@attrs.frozen(kw_only=True)
class Consent:
    """Consent to be contacted on one channel.

    Consent is data, checked at send time: ``granted`` with the legal ``basis``
    (``consent``, ``legitimate_interest``...), where it was collected (``source``)
    and when (``at``).
    """

    granted: bool = attrs.field(validator=attrs.validators.instance_of(bool))
    basis: str | None = attrs.field(default=None, validator=v.text(optional=True))
    source: str | None = attrs.field(default=None, validator=v.text(optional=True))
    at: datetime | None = attrs.field(
        default=None, converter=v.to_utc, validator=v.aware_datetime(optional=True)
    )

    def to_json(self) -> dict[str, Any]:
        return {
            "granted": self.granted,
            "basis": self.basis,
            "source": self.source,
            "at": self.at.isoformat() if self.at else None,
        }

    @classmethod
    def from_json(cls, data: Mapping[str, Any]) -> Consent:
        at = data.get("at")
        return cls(
            granted=data["granted"],
            basis=data.get("basis"),
            source=data.get("source"),
            at=datetime.fromisoformat(at) if at else None,
        )


def _consents(value: Any) -> Any:
    if not isinstance(value, Mapping):
        return value
    return MappingProxyType(
        {channel: Consent(granted=c) if isinstance(c, bool) else c for channel, c in value.items()}
    )


def _check_consents(instance: Any, attribute: Any, value: Any) -> None:
    if not isinstance(value, Mapping) or not all(
        isinstance(k, str) and isinstance(c, Consent) for k, c in value.items()
    ):
        raise InvalidValue(
            "Advocate.consent", value, "a mapping of channel name to Consent or bool"
        )


@attrs.frozen(kw_only=True)
class Advocate:
    """A person who can advocate: a customer, an employee or a partner.

    ``external_id`` is the id the business already uses for this person (a
    customer number, a Shopify id); it is unique within a program.
    """

    external_id: str = attrs.field(validator=_ADVOCATE_ID)
    kind: AdvocateKind = attrs.field(default=AdvocateKind.CUSTOMER, converter=_advocate_kind)
    name: str | None = attrs.field(default=None, validator=v.text(optional=True))
    email: str | None = attrs.field(
        default=None,
        validator=v.matches(r"[^@\s]+@[^@\s]+\.[^@\s]+", "an email address", optional=True),
    )
    phone: str | None = attrs.field(
        default=None,
        validator=v.matches(E164_PATTERN, E164_ACCEPTED, optional=True),
    )
    slack_id: str | None = attrs.field(
        default=None,
        validator=v.matches(
            r"[A-Z0-9]{3,32}", "a Slack member id such as 'U024BE7LH'", optional=True
        ),
    )
    locale: str = attrs.field(
        default="en",
        validator=v.matches(r"[a-zA-Z]{2,3}([-_][a-zA-Z0-9]{2,8})*", "a locale such as 'en-GB'"),
    )
    timezone: str = attrs.field(default="UTC", validator=v.timezone_name)
    attributes: Mapping[str, Any] = attrs.field(
        factory=dict, converter=v.frozen_json_mapping, validator=v.json_mapping, hash=False
    )
    consent: Mapping[str, Consent] = attrs.field(
        factory=dict, converter=_consents, validator=_check_consents, hash=False
    )

    def consents_to(self, channel: str) -> bool:
        """Whether this advocate has granted consent on ``channel``."""
        consent = self.consent.get(channel)
        return consent is not None and consent.granted


# --------------------------------------------------------------------------- actions


@attrs.frozen(kw_only=True)
class ActionKind:
    """A kind of action a plugin understands, and the data it requires.

    ``required`` and ``optional`` map data field names to the accepted Python
    type (or a tuple of types). ``derived`` kinds are produced by the engine or
    by plugins while applying effects (``points.changed``); they cannot be
    recorded from outside. ``by_worker`` kinds are recorded by a background
    job after it did something outside the program's database (the store
    credit of a fulfilled reward): a simulation, which runs no worker, does not
    replay them.
    """

    name: str = attrs.field(validator=_KIND)
    required: Mapping[str, type | tuple[type, ...]] = attrs.field(
        factory=dict, converter=MappingProxyType, hash=False
    )
    optional: Mapping[str, type | tuple[type, ...]] = attrs.field(
        factory=dict, converter=MappingProxyType, hash=False
    )
    description: str = ""
    derived: bool = False
    by_worker: bool = False
    validate: Callable[[Mapping[str, Any]], None] | None = attrs.field(
        default=None, hash=False, eq=False
    )

    def check(self, data: Mapping[str, Any]) -> None:
        """Raise :class:`~advokit.core.errors.InvalidValue` if ``data`` does not fit."""
        for field, expected in self.required.items():
            if field not in data or data[field] is None:
                raise MissingData(self.name, field, self.required)
            _check_type(self.name, field, data[field], expected)
        for field, expected in self.optional.items():
            if data.get(field) is not None:
                _check_type(self.name, field, data[field], expected)
        if self.validate is not None:
            self.validate(data)


def _check_type(kind: str, field: str, value: Any, expected: type | tuple[type, ...]) -> None:
    types = expected if isinstance(expected, tuple) else (expected,)
    ok = isinstance(value, types) and not (isinstance(value, bool) and bool not in types)
    if not ok:
        names = " or ".join(t.__name__ for t in types)
        raise InvalidValue(f"action.data[{field!r}]", value, f"{names} for kind {kind!r}")


@attrs.frozen(kw_only=True)
class Action:
    """Something an advocate did, or that happened to them.

    ``key`` makes recording idempotent: an action recorded twice with the same
    key applies once, and the second call returns the first outcome. Use a
    natural key (``order-1042:paid``) or a UUID made once by the caller.
    ``occurred_at`` defaults to the program clock's now when recorded.
    """

    kind: str = attrs.field(validator=_KIND)
    advocate: str = attrs.field(converter=_external_id, validator=_ADVOCATE_ID)
    key: str = attrs.field(
        validator=v.matches(KEY_PATTERN, "1 to 255 printable ASCII characters without spaces")
    )
    occurred_at: datetime | None = attrs.field(
        default=None, converter=v.to_utc, validator=v.aware_datetime(optional=True)
    )
    data: Mapping[str, Any] = attrs.field(
        factory=dict, converter=v.frozen_json_mapping, validator=v.json_mapping, hash=False
    )

    @classmethod
    def _unchecked(
        cls,
        kind: str,
        advocate: str,
        key: str,
        occurred_at: datetime | None,
        data: dict[str, Any],
    ) -> Action:
        """An action the engine built from values it knows are valid; no checks run.

        Every recorded action may derive a ``points.changed``; validating
        what the engine itself made again was a measurable share of
        ``record_many`` (``Action()`` alone, a tenth of its profiled time).
        """
        action = object.__new__(cls)
        for name, value in (
            ("kind", kind),
            ("advocate", advocate),
            ("key", key),
            ("occurred_at", occurred_at),
            ("data", MappingProxyType(data)),
        ):
            object.__setattr__(action, name, value)
        return action

    def fingerprint(self) -> str:
        """A digest of what the action says, to tell a retry from a conflicting reuse.

        ``occurred_at`` is left out: retries commonly stamp a new time.
        """
        return self._fingerprint_and_data()[0]

    def _fingerprint_and_data(self) -> tuple[str, str]:
        """The fingerprint, and the data as the canonical JSON text it was taken of."""
        data = jsontext.canonical(self.data)
        # the same text as json.dumps([kind, advocate, data], sort_keys=True, separators=...)
        body = f"[{jsontext.string(self.kind)},{jsontext.string(self.advocate)},{data}]"
        return hashlib.blake2b(body.encode(), digest_size=16).hexdigest(), data


def derived_key(root: str, suffix: str) -> str:
    """The key of an action derived from the action keyed ``root``.

    ``root>suffix`` while that is a valid key (at most 255 printable ASCII
    characters, no space), else a digest of it (an advocate's id with a space
    or an accent in the suffix): the same root and suffix always give the same
    key, so a derived action replays with the action that caused it.
    """
    key = f"{root}>{suffix}"
    if _VALID_KEY.fullmatch(key):
        return key
    return "derived:" + hashlib.blake2b(key.encode(), digest_size=24).hexdigest()


_VALID_KEY = re.compile(KEY_PATTERN)


# --------------------------------------------------------------------------- rewards


@attrs.frozen(kw_only=True)
class Reward:
    """Something of value owed to an advocate.

    ``kind`` is ``coupon``, ``store_credit``, ``gift_card``, ``cash``, ``swag``,
    ``recognition`` or a plugin's own; ``amount`` is in minor units of
    ``currency`` (cents) for money, or a count otherwise.
    """

    MONEY: ClassVar[frozenset[str]] = frozenset({"store_credit", "gift_card", "cash"})

    kind: str = attrs.field(
        validator=v.matches(r"[a-z][a-z0-9_]{0,62}", "a reward kind such as 'gift_card'")
    )
    amount: int = attrs.field(default=1, validator=v.integer(minimum=0))
    currency: str | None = attrs.field(
        default=None,
        validator=v.matches(r"[A-Z]{3}", "an ISO 4217 currency code such as 'EUR'", optional=True),
    )
    description: str | None = attrs.field(default=None, validator=v.text(optional=True))
    data: Mapping[str, Any] = attrs.field(
        factory=dict, converter=v.frozen_json_mapping, validator=v.json_mapping, hash=False
    )

    def __attrs_post_init__(self) -> None:
        if self.kind in self.MONEY and self.currency is None:
            raise InvalidValue("Reward.currency", None, f"a currency code for a {self.kind}")


# --------------------------------------------------------------------------- effects


class Effect:
    """Base class of what plugins decide should follow from an action.

    Plugins never write to decide; they return effects from
    ``advokit_evaluate`` and the engine applies them, all of one action in one
    transaction. Plugins may define their own effect classes (attrs frozen,
    subclassing ``Effect``) and apply them in ``advokit_apply_effect``.

    An effect class that sets ``recorded: ClassVar[bool] = False`` is applied
    like any other but left out of the action's outcome and of the record a
    retry replays: state a plugin keeps for itself (progress toward a badge),
    which says nothing the recorded effects and the plugin's tables do not.
    """

    __slots__ = ()

    #: Whether the effect is part of the outcome (and of the stored record).
    recorded: ClassVar[bool] = True


_POINTS = v.integer(minimum=1)


@attrs.frozen(kw_only=True)
class AwardPoints(Effect):
    """Credit ``points`` to an advocate's ``account`` as a new lot.

    ``reason`` is the code the ledger keeps (rules use the action kind);
    ``expires_at`` makes the lot expire; ``memo`` is free text for people.
    """

    advocate: str = attrs.field(converter=_external_id, validator=_ADVOCATE_ID)
    points: int = attrs.field(validator=_POINTS)
    account: str = attrs.field(default=DEFAULT_ACCOUNT, validator=_ACCOUNT)
    reason: str = attrs.field(validator=_KIND)
    expires_at: datetime | None = attrs.field(
        default=None, converter=v.to_utc, validator=v.aware_datetime(optional=True)
    )
    memo: str | None = attrs.field(default=None, validator=v.text(max_length=500, optional=True))


@attrs.frozen(kw_only=True)
class DeductPoints(Effect):
    """Debit ``points``, consuming lots oldest-expiry-first.

    Fails the action (status ``rejected``, nothing applied) when the balance
    would go below zero, unless ``allow_negative``.
    """

    advocate: str = attrs.field(converter=_external_id, validator=_ADVOCATE_ID)
    points: int = attrs.field(validator=_POINTS)
    account: str = attrs.field(default=DEFAULT_ACCOUNT, validator=_ACCOUNT)
    reason: str = attrs.field(validator=_KIND)
    memo: str | None = attrs.field(default=None, validator=v.text(max_length=500, optional=True))
    allow_negative: bool = False


@attrs.frozen(kw_only=True)
class ReversePoints(Effect):
    """Reverse the points an earlier action awarded, as new entries (never edits).

    ``points`` limits a partial reversal; ``None`` reverses whatever of the
    original award is not reversed yet, so reversing twice reverses once.
    ``clawback`` says what happens when the points were already spent:
    ``"cap"`` takes back at most the current balance, ``"negative"`` lets the
    balance go below zero.
    """

    advocate: str = attrs.field(converter=_external_id, validator=_ADVOCATE_ID)
    action_key: str = attrs.field(validator=v.matches(KEY_PATTERN, "an action key"))
    account: str = attrs.field(default=DEFAULT_ACCOUNT, validator=_ACCOUNT)
    points: int | None = attrs.field(default=None, validator=v.integer(minimum=1, optional=True))
    reason: str = attrs.field(default="points.reversed", validator=_KIND)
    clawback: str = attrs.field(
        default="cap", validator=v.matches("cap|negative", "'cap' or 'negative'")
    )
    memo: str | None = attrs.field(default=None, validator=v.text(max_length=500, optional=True))


@attrs.frozen(kw_only=True)
class GrantBadge(Effect):
    """Grant a badge (level) to an advocate. Applied by the badges plugin."""

    advocate: str = attrs.field(converter=_external_id, validator=_ADVOCATE_ID)
    badge: str = attrs.field(validator=v.text())
    level: int = attrs.field(default=1, validator=v.integer(minimum=1))


@attrs.frozen(kw_only=True)
class ChangeTier(Effect):
    """Move an advocate to a tier. Applied by the tiers plugin."""

    advocate: str = attrs.field(converter=_external_id, validator=_ADVOCATE_ID)
    tier: str = attrs.field(validator=v.text())
    reason: str = attrs.field(default="tier.qualified", validator=v.text())


@attrs.frozen(kw_only=True)
class IssueReward(Effect):
    """Owe a reward to an advocate. Applied by the rewards plugin.

    ``item``: the catalogue item, when the reward was redeemed with points.
    """

    advocate: str = attrs.field(converter=_external_id, validator=_ADVOCATE_ID)
    reward: Reward = attrs.field(validator=attrs.validators.instance_of(Reward))
    item: str | None = attrs.field(default=None, validator=v.text(max_length=63, optional=True))


@attrs.frozen(kw_only=True)
class ReverseRewards(Effect):
    """Take back the rewards the action keyed ``cause`` issued. Applied by the rewards plugin.

    Rewards not fulfilled yet are canceled; fulfilled ones are reversed.
    """

    cause: str = attrs.field(validator=v.text())
    reason: str = attrs.field(validator=v.text(max_length=500))


@attrs.frozen(kw_only=True)
class SendMessage(Effect):
    """Queue a message to an advocate on a channel. Applied by the messages plugin.

    ``template`` names the message (``"review_request"``): its templates are
    rendered for the advocate at send time, with ``context``. ``category`` is
    ``"marketing"`` (the default: it needs the advocate's consent on the
    channel, checked when it is sent) or ``"transactional"`` (a reward
    delivered, an account change: part of what the advocate asked for, sent
    whatever their marketing consent).
    """

    advocate: str = attrs.field(converter=_external_id, validator=_ADVOCATE_ID)
    channel: str = attrs.field(
        validator=v.matches(r"[a-z][a-z0-9_-]{0,62}", "a channel name such as 'email'")
    )
    template: str = attrs.field(
        validator=v.matches(r"[a-z][a-z0-9_]{0,62}", "a template name such as 'review_request'")
    )
    context: Mapping[str, Any] = attrs.field(
        factory=dict, converter=v.frozen_json_mapping, validator=v.json_mapping, hash=False
    )
    category: str = attrs.field(
        default="marketing",
        validator=v.matches("marketing|transactional", "'marketing' or 'transactional'"),
    )


@attrs.frozen(kw_only=True)
class Alert:
    """Something the team should know about: a coupon pool running low, a detractor.

    Plugins raise alerts through ``program.hooks.alert(program, alert)``; observers
    (``advokit_on_alert``) log them, post them to Slack, open a ticket.
    ``topic`` is a dotted name to route by (``"rewards.coupons_low"``).
    """

    topic: str = attrs.field(
        validator=v.matches(r"[a-z][a-z0-9_]*(\.[a-z0-9_]+)*", "a dotted name such as 'a.b'")
    )
    message: str = attrs.field(validator=v.text(max_length=1000))
    data: Mapping[str, Any] = attrs.field(
        factory=dict, converter=v.frozen_json_mapping, validator=v.json_mapping, hash=False
    )


REVIEW_DEFAULTS = ("approve", "deny")
#: The reviewer a tick's decisions by deadline are kept under in the audit trail:
#: no person may decide under it, so that they are told apart from a person's.
AUTOMATIC_REVIEWER = "advokit"


def _review_default(instance: Any, attribute: Any, value: Any) -> None:
    if value is not None and value not in REVIEW_DEFAULTS:
        raise InvalidValue(
            f"{type(instance).__name__}.{attribute.name}", value, "'approve', 'deny' or None"
        )


def strictest_default(defaults: Iterable[str | None]) -> str | None:
    """The default of several holds on one action: deny, then approve, then None."""
    found = set(defaults)
    return "deny" if "deny" in found else "approve" if "approve" in found else None


@attrs.frozen(kw_only=True)
class HoldForReview(Effect):
    """Hold the whole action for a person to review: none of its effects apply yet.

    ``default``: as :class:`Verdict`'s, what an overdue review decides.
    """

    reason: str = attrs.field(validator=v.text(max_length=500))
    default: str | None = attrs.field(default=None, validator=_review_default)


@attrs.frozen(kw_only=True)
class Tag(Effect):
    """Add (or with ``remove``, take away) a segment label on an advocate."""

    advocate: str = attrs.field(converter=_external_id, validator=_ADVOCATE_ID)
    tag: str = attrs.field(
        validator=v.matches(r"[a-z0-9][a-z0-9_.:-]{0,62}", "a lower-case tag such as 'vip'")
    )
    remove: bool = False


# --------------------------------------------------------------------------- screening


class Decision(enum.IntEnum):
    """A screening decision; a larger value is worse, and the worst wins."""

    ACCEPT = 0
    HOLD = 1
    REJECT = 2


@attrs.frozen(kw_only=True)
class Verdict:
    """What ``advokit_screen`` says about an action, with the reason recorded.

    A hold's ``default`` is what the tick decides once the program's review
    deadline has passed with nobody deciding: ``"deny"`` for a hold only a
    person may approve (an untrusted advocate's reward), ``"approve"``, or
    None for the program's ``review_default``. Several holds on one action:
    ``"deny"`` wins over ``"approve"``, which wins over None.
    """

    decision: Decision
    reason: str = attrs.field(default="", validator=attrs.validators.instance_of(str))
    default: str | None = attrs.field(default=None, validator=_review_default)

    @classmethod
    def accept(cls) -> Verdict:
        return cls(decision=Decision.ACCEPT)

    @classmethod
    def hold(cls, reason: str, *, default: str | None = None) -> Verdict:
        return cls(decision=Decision.HOLD, reason=reason, default=default)

    @classmethod
    def reject(cls, reason: str) -> Verdict:
        return cls(decision=Decision.REJECT, reason=reason)


# --------------------------------------------------------------------------- outcomes


class Status(enum.StrEnum):
    """What became of a recorded action."""

    APPLIED = "applied"
    HELD = "held"
    REJECTED = "rejected"


@attrs.frozen(kw_only=True)
class Outcome:
    """The result of recording one action.

    ``replayed`` is true when the key had been recorded before: nothing new was
    applied and the rest of the outcome is the first one's.
    """

    key: str
    kind: str
    advocate: str
    status: Status
    effects: tuple[Effect, ...] = ()
    reasons: tuple[str, ...] = ()
    replayed: bool = False
    #: a held action's decision when its review is overdue (None: the program's default)
    review_default: str | None = None

    @property
    def points(self) -> int:
        """Net points this action's own effects moved on the ``points`` account."""
        total = 0
        for effect in self.effects:
            if isinstance(effect, AwardPoints) and effect.account == DEFAULT_ACCOUNT:
                total += effect.points
            elif isinstance(effect, DeductPoints) and effect.account == DEFAULT_ACCOUNT:
                total -= effect.points
        return total


@attrs.frozen(kw_only=True)
class LedgerEntry:
    """One append-only ledger entry, explaining itself.

    ``reason`` is a code (the action kind for rule awards, ``points.expired``,
    ``points.reversed``...), ``action_key`` the action that caused it (``None``
    for expiry), ``related_action_key`` the action a reversal undoes.
    """

    id: int
    advocate: str
    account: str
    delta: int
    reason: str
    action_key: str | None
    related_action_key: str | None
    lot_id: str | None
    expires_at: datetime | None
    effective_at: datetime
    created_at: datetime
    memo: str | None


@attrs.frozen(kw_only=True)
class TickReport:
    """What one ``program.tick(now)`` did.

    ``expired_points`` were posted as expiry entries; ``applied`` time-driven
    actions (birthdays, tier reviews...) were recorded now, ``replayed`` ones
    had been recorded by an earlier tick.
    """

    now: datetime
    expired_points: int
    applied: int
    replayed: int
    outcomes: tuple[Outcome, ...] = ()
    #: held actions whose review deadline passed, decided by the program's default
    decided_by_default: tuple[Outcome, ...] = ()


@attrs.frozen(kw_only=True)
class HeldAction:
    """An action waiting for a person: ``program.review_queue()``.

    ``deadline`` (None without ``Program(review_deadline=...)``) is when the
    tick decides it by ``default`` ("approve" or "deny") if nobody has: the
    hold's own (see :class:`Verdict`) or the program's ``review_default``.
    """

    action: Action
    reasons: tuple[str, ...]
    held_at: datetime
    deadline: datetime | None
    default: str


@attrs.frozen(kw_only=True)
class Standing:
    """A row of a leaderboard."""

    rank: int
    advocate: str
    name: str | None
    value: int


#: How tied values rank: ``competition`` 1, 2, 2, 4; ``dense`` 1, 2, 2, 3;
#: ``ordinal`` 1, 2, 3, 4 (in the order given).
RANKINGS = ("competition", "dense", "ordinal")


def rank_standings(
    rows: Iterable[tuple[str, str | None, int]], ranking: str = "competition"
) -> list[Standing]:
    """Standings of ``(advocate, name, value)`` rows, best first, ties ranked by ``ranking``."""
    if ranking not in RANKINGS:
        raise InvalidValue("ranking", ranking, one_of(RANKINGS))
    standings: list[Standing] = []
    for position, (advocate, name, value) in enumerate(rows, start=1):
        rank = position
        if standings and ranking != "ordinal":
            previous = standings[-1]
            if previous.value == value:
                rank = previous.rank
            elif ranking == "dense":
                rank = previous.rank + 1
        standings.append(Standing(rank=rank, advocate=advocate, name=name, value=int(value)))
    return standings
