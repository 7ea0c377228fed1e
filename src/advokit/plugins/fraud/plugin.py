"""The fraud plugin: referral signups scored on weighted signals, held or refused with reasons."""

from __future__ import annotations

from collections.abc import Callable, Iterable, Mapping
from datetime import datetime, timedelta
from pathlib import Path
from typing import Any, ClassVar

import attrs
import sqlalchemy as sa
from sqlalchemy.engine import Connection

from advokit import Action, Effect, EvaluationContext, Transaction, Verdict, hookimpl
from advokit.core import validation as v
from advokit.core.errors import ConfigurationError, one_of
from advokit.core.registry import Register
from advokit.core.store import queries as q
from advokit.core.store.driver import fetch
from advokit.plugins.fraud import emails
from advokit.plugins.fraud.tables import fingerprints_t
from advokit.plugins.referrals import (
    REFERRAL_APPROVED,
    REFERRAL_SIGNED_UP,
    Attribute,
    Referral,
    Referrals,
)
from advokit.plugins.referrals.digests import address, digest
from advokit.plugins.referrals.tables import referrals_t

__all__ = ["SIGNALS", "Fraud", "Signal"]

MIGRATIONS = Path(__file__).parent.parent / "migrations" / "fraud"

#: The built-in signals and their default weights (a score is the sum of the signals found).
SIGNALS: Mapping[str, int] = {
    "self_referral.email": 100,  # the friend's and referrer's addresses reach one inbox
    "same.device": 100,  # the friend signed up on a device the referrer used
    "cycle": 100,  # the friend referred the referrer, directly or further up
    "same.ip_user_agent": 60,  # same address and browser as the referrer
    "velocity.referrer": 60,  # the referrer brought more friends than allowed in the window
    "velocity.ip": 60,  # (approvals) more friends converted from the address than allowed
    "disposable_email": 40,
    "similar.email": 30,
    "similar.name": 30,
}

_FINGERPRINTS = ("fraud", "fingerprints")
_ATTRIBUTIONS = ("fraud", "attributions")
_FROM_ADDRESS = ("fraud", "from address")
_LOAD_FINGERPRINTS = (
    f"SELECT advocate_id, kind, value FROM {fingerprints_t.name} WHERE advocate_id IN (*)"
)
_CYCLE_DEPTH = 10


@attrs.frozen
class Signal:
    """One reason to doubt an action, with its weight in the score."""

    reason: str
    weight: int


#: An extra signal: ``signal(ctx, action, referrer)`` returns a Signal or None.
SignalCheck = Callable[[EvaluationContext, Action, str], "Signal | None"]


@attrs.frozen(kw_only=True)
class Seen(Effect):
    """What the fraud plugin remembers of an action: its fingerprints, an attribution."""

    recorded: ClassVar[bool] = False  # the plugin's own bookkeeping

    advocate: str
    fingerprints: tuple[tuple[str, str], ...] = ()  # (kind, digest)
    referred_by: str | None = None


class Fraud:
    """The fraud plugin: screens referral signups and reward approvals.

    Args:
        review_at: a signup whose score reaches it is held for review.
        reject_at: a signup whose score reaches it is rejected.
        weights: weights replacing the defaults of :data:`SIGNALS` (0 turns a signal off).
        velocity: at most ``(n, window)`` referrals per referrer; the next one is a signal.
        ip_velocity: at most ``(n, window)`` friends converting from one address (the
            ``ip`` of their qualifying ``purchase.completed``); the reward of the next
            one is a signal when it is approved.
        similar_within: the edit distance under which two emails or names look alike.
        disposable_domains: more disposable email domains, besides the shipped list.
        signals: extra checks, ``check(ctx, action, referrer) -> Signal | None``.
        untrusted_tag: the tag of advocates whose rewards are never approved
            without a person (``Tag(advocate, "untrusted")``).
    """

    plugin_name = "fraud"
    advokit_evaluates = frozenset({REFERRAL_SIGNED_UP, "referral.shared", "purchase.completed"})
    advokit_screens = frozenset({REFERRAL_SIGNED_UP, REFERRAL_APPROVED})
    advokit_applies = (Seen,)

    def __init__(
        self,
        *,
        review_at: int = 50,
        reject_at: int = 100,
        weights: Mapping[str, int] | None = None,
        velocity: tuple[int, timedelta] = (5, timedelta(days=1)),
        ip_velocity: tuple[int, timedelta] = (3, timedelta(days=1)),
        similar_within: int = 2,
        disposable_domains: Iterable[str] = (),
        signals: Iterable[SignalCheck] = (),
        untrusted_tag: str = "untrusted",
    ) -> None:
        if not (v.is_int(review_at) and v.is_int(reject_at) and 0 < review_at <= reject_at):
            raise ConfigurationError(
                "Fraud.review_at", (review_at, reject_at), "0 < review_at <= reject_at, integers"
            )
        weights = dict(weights or {})
        for reason, weight in weights.items():
            if reason not in SIGNALS:
                raise ConfigurationError("Fraud.weights", reason, one_of(SIGNALS))
            if not v.is_int(weight) or weight < 0:
                raise ConfigurationError(f"Fraud.weights[{reason!r}]", weight, "0 or more")
        for field, limit in (("velocity", velocity), ("ip_velocity", ip_velocity)):
            if not v.is_rate(limit):
                raise ConfigurationError(
                    f"Fraud.{field}", limit, "(most, window), such as (5, timedelta(days=1))"
                )
        if not v.is_int(similar_within) or similar_within < 0:
            raise ConfigurationError("Fraud.similar_within", similar_within, "0 or more")
        checks = tuple(signals)
        for check in checks:
            if not callable(check):
                raise ConfigurationError("Fraud.signals", check, "callables")
        self.review_at = review_at
        self.reject_at = reject_at
        self.weights = {**SIGNALS, **weights}
        self.most, self.window = velocity
        self.ip_most, self.ip_window = ip_velocity
        self.similar_within = similar_within
        self.disposable = emails.disposable_domains() | {
            d.strip().lower() for d in disposable_domains
        }
        self.checks = checks
        self.untrusted_tag = untrusted_tag
        self._referrals: Referrals | None = None

    def __repr__(self) -> str:
        return f"Fraud(review_at={self.review_at}, reject_at={self.reject_at})"

    # -- registration

    @hookimpl
    def advokit_register_migrations(self, register: Register) -> None:
        register(MIGRATIONS, name="fraud")

    @hookimpl
    def advokit_configure(self, program: Any) -> None:
        referrals = program.pm.get_plugin("referrals")
        if not isinstance(referrals, Referrals):
            raise ConfigurationError(
                "plugins", "Fraud() without Referrals()", "Referrals() too: Fraud screens referrals"
            )
        self._referrals = referrals

    # -- screening

    @hookimpl
    def advokit_screen(self, ctx: EvaluationContext, action: Action) -> Verdict | None:
        if action.kind == REFERRAL_SIGNED_UP:
            return self._signup(ctx, action)
        if action.kind == REFERRAL_APPROVED:
            return self._approval(ctx, action)
        return None

    def _signup(self, ctx: EvaluationContext, action: Action) -> Verdict | None:
        assert self._referrals is not None  # set when the program was built
        found = self._referrals.attribution(ctx, action)
        if not isinstance(found, Attribute):
            return None  # not attributable: the referrals plugin rejects it
        signals = [s for s in self.signals(ctx, action, found.referrer) if s.weight]
        score = sum(s.weight for s in signals)
        if score < self.review_at:
            return None
        listed = ", ".join(f"{s.reason} (+{s.weight})" for s in signals)
        if score >= self.reject_at:
            return Verdict.reject(f"fraud score {score} >= {self.reject_at}: {listed}")
        return Verdict.hold(f"fraud score {score} >= {self.review_at}: {listed}")

    def signals(self, ctx: EvaluationContext, action: Action, referrer: str) -> list[Signal]:
        """Every signal found on ``action``, a signup attributed to ``referrer``."""
        view, friend, weight = ctx.view, action.advocate, self.weights
        found: list[Signal] = []
        mine, theirs = view.advocate(friend), view.advocate(referrer)
        if mine.email and theirs.email:
            a, b = emails.inbox(mine.email), emails.inbox(theirs.email)
            if a == b:
                found.append(Signal("self_referral.email", weight["self_referral.email"]))
            elif a.rpartition("@")[2] == b.rpartition("@")[2] and self._alike(
                a.rpartition("@")[0], b.rpartition("@")[0]
            ):
                found.append(Signal("similar.email", weight["similar.email"]))
        if mine.email and emails.is_disposable(mine.email, self.disposable):
            found.append(Signal("disposable_email", weight["disposable_email"]))
        if mine.name and theirs.name and self._alike(mine.name.lower(), theirs.name.lower()):
            found.append(Signal("similar.name", weight["similar.name"]))
        seen = view.memo(_FINGERPRINTS, referrer, _load_fingerprints) or frozenset()
        for kind, hashed in _fingerprints(action.data):
            if (kind, hashed) in seen:
                reason = "same.device" if kind == "device" else "same.ip_user_agent"
                found.append(Signal(reason, weight[reason]))
        at = action.occurred_at or ctx.now
        times = view.memo(_ATTRIBUTIONS, referrer, self._attributions(ctx.now)) or ()
        if sum(1 for t in times if t > at - self.window) >= self.most:
            found.append(Signal("velocity.referrer", weight["velocity.referrer"]))
        if self._in_cycle(ctx, friend, referrer):
            found.append(Signal("cycle", weight["cycle"]))
        for check in self.checks:
            signal = check(ctx, action, referrer)
            if signal is not None:
                found.append(signal)
        return found

    def _alike(self, a: str, b: str) -> bool:
        return min(len(a), len(b)) > self.similar_within and (
            emails.edit_distance(a, b, self.similar_within) <= self.similar_within
        )

    def _in_cycle(self, ctx: EvaluationContext, friend: str, referrer: str) -> bool:
        """Whether ``friend`` is up the referral chain of ``referrer`` (A refers B refers A)."""
        assert self._referrals is not None
        current = referrer
        for _ in range(_CYCLE_DEPTH):
            above = self._referrals.referral_of(ctx.view, current)
            if above is None:
                return False
            if above.referrer == friend:
                return True
            current = above.referrer
        return False

    def _attributions(self, now: datetime) -> Callable[[Connection, list[int]], dict[int, Any]]:
        since = now - self.window * 2  # actions of a batch may be dated a little earlier

        def load(conn: Connection, ids: list[int]) -> dict[int, tuple[datetime, ...]]:
            r = referrals_t
            found: dict[int, tuple[datetime, ...]] = {}
            for part in q.chunks(ids):
                rows = conn.execute(
                    sa.select(r.c.referrer_id, r.c.attributed_at).where(
                        r.c.referrer_id.in_(part), r.c.attributed_at >= since
                    )
                )
                for referrer_id, at in rows:
                    found[referrer_id] = (*found.get(referrer_id, ()), at)
            return found

        return load

    def _approval(self, ctx: EvaluationContext, action: Action) -> Verdict | None:
        """Rewards of an untrusted advocate, or scoring ``review_at``, wait for a person.

        An approval is held, never rejected: refusing a reward is a person's call.
        """
        assert self._referrals is not None
        referral = self._referrals.referral_of(ctx.view, action.advocate)
        if referral is None:
            return None
        for advocate in (referral.referrer, referral.friend):
            if self.untrusted_tag in ctx.view.tags(advocate):
                # only a person approves it, whatever Program(review_default=...) says
                return Verdict.hold(f"fraud: {advocate!r} is {self.untrusted_tag}", default="deny")
        signals = [s for s in self.approval_signals(ctx, referral) if s.weight]
        score = sum(s.weight for s in signals)
        if score < self.review_at:
            return None
        listed = ", ".join(f"{s.reason} (+{s.weight})" for s in signals)
        return Verdict.hold(f"fraud score {score} >= {self.review_at}: {listed}")

    def approval_signals(self, ctx: EvaluationContext, referral: Referral) -> list[Signal]:
        """Every signal found on the approval of ``referral``'s rewards."""
        found: list[Signal] = []
        address, at = referral.converted_from, referral.converted_at
        if address is not None and at is not None and self.weights["velocity.ip"]:
            friend_id = ctx.view.advocate_id(referral.friend)
            since = at - self.ip_window
            program = ctx.program.name
            count = ctx.view.lookup(
                _FROM_ADDRESS,
                (address, since, at, friend_id),
                lambda conn, key: _count_conversions(conn, program, *key),
            )
            if count > self.ip_most:  # this one is the (n+1)th from the address, or later
                found.append(Signal("velocity.ip", self.weights["velocity.ip"]))
        return found

    # -- remembering what later signups are compared with

    @hookimpl
    def advokit_evaluate(self, ctx: EvaluationContext, action: Action) -> list[Effect] | None:
        data = action.data
        if (
            action.kind != REFERRAL_SIGNED_UP
            and "device_id" not in data
            and "user_agent" not in data
        ):
            return None  # most purchases: no fingerprint (an address alone is none)
        prints = tuple(_fingerprints(data))
        referred_by = None
        if action.kind == REFERRAL_SIGNED_UP:
            assert self._referrals is not None
            found = self._referrals.attribution(ctx, action, screening=False)
            referred_by = found.referrer if isinstance(found, Attribute) else None
        if not prints and referred_by is None:
            return None
        return [Seen(advocate=action.advocate, fingerprints=prints, referred_by=referred_by)]

    @hookimpl
    def advokit_apply_effect(self, tx: Transaction, effect: Seen) -> bool:
        view, when = tx.view, tx.action.occurred_at or tx.now
        if effect.fingerprints:
            advocate_id = view.advocate_id(effect.advocate)
            for kind, hashed in effect.fingerprints:
                tx.add(
                    fingerprints_t,
                    {"advocate_id": advocate_id, "kind": kind, "value": hashed},
                    {"seen": 1},
                    {"program": tx.program.name, "last_seen_at": when},
                )
            seen = view.memo(_FINGERPRINTS, effect.advocate, _load_fingerprints) or frozenset()
            view.remember(_FINGERPRINTS, effect.advocate, seen | set(effect.fingerprints))
        if effect.referred_by is not None:  # counted for the referrer's velocity
            referrer = effect.referred_by
            times = view.memo(_ATTRIBUTIONS, referrer, self._attributions(tx.now)) or ()
            view.remember(_ATTRIBUTIONS, referrer, (*times, when))
        return True


def _fingerprints(data: Mapping[str, Any]) -> Iterable[tuple[str, str]]:
    """The digests an action's data carries: its device, and its address with its browser."""
    device = data.get("device_id")
    if isinstance(device, str) and device:
        yield "device", digest(device)
    ip, agent = data.get("ip"), data.get("user_agent")
    if isinstance(ip, str) and ip and isinstance(agent, str) and agent:
        yield "ip_user_agent", digest(f"{address(ip)}\n{agent}")


def _count_conversions(
    conn: Connection, program: str, address: str, since: datetime, at: datetime, friend_id: int
) -> int:
    """Friends who converted from ``address`` after ``since`` and up to the friend at ``at``.

    Conversions at the same instant (a batch's share one time) count in the
    order the friends enrolled: the first ``n`` pass, whatever the batch.
    """
    c = referrals_t.c
    return int(
        conn.execute(
            sa.select(sa.func.count()).where(
                c.program == program,
                c.converted_from == address,  # implies ix_referrals_converted_from's condition
                c.converted_at > since,
                c.converted_at <= at,
                sa.or_(c.converted_at < at, c.friend_id <= friend_id),
            )
        ).scalar_one()
    )


def _load_fingerprints(conn: Connection, ids: list[int]) -> dict[int, frozenset[tuple[str, str]]]:
    found: dict[int, set[tuple[str, str]]] = {}
    for advocate_id, kind, value in fetch(conn, _LOAD_FINGERPRINTS, (), ids):
        found.setdefault(advocate_id, set()).add((kind, value))
    return {advocate_id: frozenset(prints) for advocate_id, prints in found.items()}
