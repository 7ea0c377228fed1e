"""The referrals plugin: codes and links handed out, found again, deactivated."""

from __future__ import annotations

import re
import string
from collections.abc import Callable, Iterable, Mapping
from datetime import datetime, timedelta
from pathlib import Path
from typing import Any, TypeVar
from urllib.parse import urlsplit

import sqlalchemy as sa
from sqlalchemy.engine import Connection

from advokit import (
    Action,
    AwardPoints,
    Effect,
    EvaluationContext,
    IssueReward,
    ReversePoints,
    ReverseRewards,
    Reward,
    Transaction,
    Verdict,
    hookimpl,
)
from advokit.core import validation as v
from advokit.core.errors import AdvokitError, ConfigurationError, InvalidValue, UnknownAdvocate
from advokit.core.model import derived_key
from advokit.core.registry import Register
from advokit.core.store import database
from advokit.core.store import queries as q
from advokit.core.store.driver import dialect_insert, fetch
from advokit.core.store.types import utc
from advokit.plugins.referrals import codes
from advokit.plugins.referrals.digests import address, digest
from advokit.plugins.referrals.emails import inbox
from advokit.plugins.referrals.model import (
    KINDS,
    REFERRAL_APPROVED,
    REFERRAL_DENIED,
    REFERRAL_INVITED,
    REFERRAL_SIGNED_UP,
    Attribute,
    ConvertReferral,
    Invite,
    Referral,
    ReferralCode,
    ReferralState,
    ReferralStats,
    RewardReferral,
    VoidReferral,
)
from advokit.plugins.referrals.rows import MOVED, StoredReferral, load_referrals
from advokit.plugins.referrals.tables import codes_t, invitations_t, referrals_t, referrers_t

__all__ = ["Referrals"]

MIGRATIONS = Path(__file__).parent.parent / "migrations" / "referrals"

#: Draws of a new code before giving up (each collides with odds of codes in use / 29^length).
_DRAWS = 10

T = TypeVar("T")

PURCHASED = "purchase.completed"
REFUNDED = "purchase.refunded"
_REFERRAL = ("referrals", "referral")  # memo: the referral of a friend, with its row version
_CODE = ("referrals", "code")  # lookup: a code's owner and validity
_REFERRER = ("referrals", "referrer")  # memo: a referrer's row version and rewarded count
_PAID = ("referrals", "paid")  # memo: when a referrer was paid for referrals still rewarded
_PAID_TIMES = (
    f"SELECT referrer_id, rewarded_at FROM {referrals_t.name}"
    " WHERE state = 'rewarded' AND referrer_paid > 0 AND referrer_id IN (*)"
)
_READ_AHEAD = ("referrals", "read ahead")  # lookup: done once per transaction
_INVITED = ("referrals", "invited")  # lookup: who invited an inbox, oldest first
_INVITATIONS = (
    f"SELECT i.inbox, a.external_id, i.invited_at FROM {invitations_t.name} i"
    " JOIN advokit_advocates a ON a.id = i.referrer_id"
    " WHERE i.program = ? AND i.inbox IN (*) ORDER BY i.invited_at, i.id"
)
_SOURCE = re.compile(r"[a-z][a-z_]{0,19}")  # code, link, email, offline...
_CODE_OWNERS = (
    f"SELECT t.code, a.external_id, t.expires_at, t.deactivated_at FROM {codes_t.name} t"
    " JOIN advokit_advocates a ON a.id = t.advocate_id WHERE t.program = ? AND t.code IN (*)"
)
_CLAWBACKS = ("cap", "negative", None)
#: Period names: their SQLite strftime and PostgreSQL to_char formats.
_PERIODS = {
    "day": ("%Y-%m-%d", "YYYY-MM-DD"),
    "month": ("%Y-%m", "YYYY-MM"),
    "year": ("%Y", "YYYY"),
    None: ("", ""),
}

_REFERRERS = (
    f"SELECT referrer_id, version, rewarded FROM {referrers_t.name} WHERE referrer_id IN (*)"
)

Existing = Callable[[EvaluationContext, str], bool]
#: The effects that move a referral on.
Move = ConvertReferral | RewardReferral | VoidReferral


def earned_before(ctx: EvaluationContext, friend: str) -> bool:
    """The default definition of an existing customer: someone who already earned points."""
    return ctx.view.lifetime_earned(friend) > 0


class Referrals:
    """The referrals plugin.

    Args:
        link: the share link's URL template, with ``{code}`` where the code
            goes (``"https://bakery.example/r/{code}"``); None for codes
            handed out without a link (printed on a card, read aloud).
        code_length: characters in a generated code (6 to 16).
        code_lifetime: how long a generated code stays usable (None: until
            deactivated).
        referrer_points: points the referrer earns for a rewarded referral.
        friend_points: points the friend earns for it (two-sided rewards).
        referrer_reward, friend_reward: a :class:`~advokit.Reward` each side is
            owed too (a free coffee coupon), issued with ``IssueReward`` for
            the rewards plugin; a clawback takes them back (``ReverseRewards``).
        window: how long after the attribution a purchase still converts it.
        minimum_cents: the smallest qualifying purchase (``total_cents``).
        refund_window: how long the shop accepts refunds.
        hold: how long a converted referral waits before its rewards (at
            least ``refund_window``; default one day more).
        clawback: after the reward, a refund of the converting order takes
            the points back: ``"cap"`` (at most the balance), ``"negative"``
            (the balance may go below zero) or None (no clawback).
        existing: ``existing(ctx, friend)`` tells an existing customer, who
            cannot be referred (default: someone who already earned points;
            None: anyone can be).
        milestones: bonus points for the referrer at the Nth successful
            referral, such as ``{3: 200, 10: 1000}`` (a clawed-back referral
            stops counting, and its bonus is taken back with it).
        referrer_cap: ``(n, period)``: the referrer is paid for at most n
            referrals in the last ``period`` (the friend still is).
        touch: which referrer a friend who was referred twice belongs to:
            ``"first"`` (the default: the first attribution stands) or
            ``"last"`` (a later one, before the friend converts and within
            ``window`` of the one it replaces, takes over).
    """

    plugin_name = "referrals"
    advokit_evaluates = frozenset(
        {
            REFERRAL_INVITED,
            REFERRAL_SIGNED_UP,
            PURCHASED,
            REFUNDED,
            REFERRAL_APPROVED,
            REFERRAL_DENIED,
        }
    )
    advokit_screens = frozenset({REFERRAL_SIGNED_UP})
    advokit_applies = (Attribute, ConvertReferral, RewardReferral, VoidReferral, Invite)

    def __init__(
        self,
        *,
        link: str | None = None,
        code_length: int = 8,
        code_lifetime: timedelta | None = None,
        referrer_points: int = 0,
        friend_points: int = 0,
        window: timedelta = timedelta(days=60),
        minimum_cents: int = 0,
        refund_window: timedelta = timedelta(days=30),
        hold: timedelta | None = None,
        clawback: str | None = "cap",
        existing: Existing | None = earned_before,
        touch: str = "first",
        milestones: Mapping[int, int] | None = None,
        referrer_cap: tuple[int, timedelta] | None = None,
        referrer_reward: Reward | None = None,
        friend_reward: Reward | None = None,
    ) -> None:
        if link is not None:
            _check_link(link)
        if not v.is_int(code_length) or not 6 <= code_length <= 16:
            raise ConfigurationError("Referrals.code_length", code_length, "an integer, 6 to 16")
        for field, value in (
            ("referrer_points", referrer_points),
            ("friend_points", friend_points),
        ):
            if not v.is_int(value) or value < 0:
                raise ConfigurationError(f"Referrals.{field}", value, "an integer, 0 or more")
        if not v.is_int(minimum_cents) or minimum_cents < 0:
            raise ConfigurationError("Referrals.minimum_cents", minimum_cents, "0 or more cents")
        for field, value in (  # type: ignore[assignment]
            ("code_lifetime", code_lifetime),
            ("window", window),
            ("refund_window", refund_window),
            ("hold", hold),
        ):
            optional = field in ("code_lifetime", "hold")
            if (value is None and not optional) or (
                value is not None and (not isinstance(value, timedelta) or value <= timedelta(0))
            ):
                raise ConfigurationError(f"Referrals.{field}", value, "a positive timedelta")
        hold = refund_window + timedelta(days=1) if hold is None else hold
        if hold < refund_window:
            raise ConfigurationError(
                "Referrals.hold", hold, f"at least the refund window ({refund_window})"
            )
        if touch not in ("first", "last"):
            raise ConfigurationError("Referrals.touch", touch, "'first' or 'last'")
        if clawback not in _CLAWBACKS:
            raise ConfigurationError("Referrals.clawback", clawback, "'cap', 'negative' or None")
        if existing is not None and not callable(existing):
            raise ConfigurationError("Referrals.existing", existing, "a callable or None")
        milestones = dict(milestones or {})
        for nth, bonus in milestones.items():
            if not (v.is_int(nth) and nth >= 1 and v.is_int(bonus) and bonus >= 1):
                raise ConfigurationError(
                    "Referrals.milestones", {nth: bonus}, "{nth referral: bonus points}, both >= 1"
                )
        if referrer_cap is not None and not v.is_rate(referrer_cap):
            raise ConfigurationError(
                "Referrals.referrer_cap", referrer_cap, "(most rewards, period) or None"
            )
        for field, reward in (
            ("referrer_reward", referrer_reward),
            ("friend_reward", friend_reward),
        ):
            if reward is not None and not isinstance(reward, Reward):
                raise ConfigurationError(f"Referrals.{field}", reward, "an advokit.Reward or None")
        if referrer_cap is not None and referrer_reward is not None and not referrer_points:
            # the cap counts the referrals whose referrer was paid points
            raise ConfigurationError(
                "Referrals.referrer_cap",
                referrer_cap,
                "None when the referrer earns a reward but no points (the cap counts points paid)",
            )
        self.referrer_reward = referrer_reward
        self.friend_reward = friend_reward
        self.link = link
        self.code_length = code_length
        self.code_lifetime = code_lifetime
        self.referrer_points = referrer_points
        self.friend_points = friend_points
        self.window = window
        self.minimum_cents = minimum_cents
        self.refund_window = refund_window
        self.hold = hold
        self.clawback = clawback
        self.existing = existing
        self.milestones = milestones
        self.touch = touch
        self.referrer_cap = referrer_cap

    def __repr__(self) -> str:
        return f"Referrals(link={self.link!r})"

    # -- registration

    @hookimpl
    def advokit_register_action_kinds(self, register: Register) -> None:
        for kind in KINDS:
            register(kind)

    @hookimpl
    def advokit_register_migrations(self, register: Register) -> None:
        register(MIGRATIONS, name="referrals")

    @hookimpl
    def advokit_register_queries(self, register: Register) -> None:
        register(self.referral_code, name="referral_code")
        register(self.referral_codes, name="referral_codes")
        register(self.find_referral_code, name="find_referral_code")
        register(self.find_referrer, name="find_referrer")
        register(self.deactivate_referral_code, name="deactivate_referral_code")
        register(self.referral, name="referral")
        register(self.referrals, name="referrals")
        register(self.referral_stats, name="referral_stats")

    @hookimpl
    def advokit_register_commands(self, register: Register) -> None:
        from advokit.plugins.referrals.commands import review_group  # click: the CLI's alone

        register(review_group)

    # -- screening: whether a signup can be attributed at all

    @hookimpl
    def advokit_screen(self, ctx: EvaluationContext, action: Action) -> Verdict | None:
        if action.kind != REFERRAL_SIGNED_UP:
            return None
        found = self.attribution(ctx, action)
        return Verdict.reject(found) if isinstance(found, str) else None

    def attribution(
        self, ctx: EvaluationContext, action: Action, *, screening: bool = True
    ) -> Attribute | str:
        """Who referred a ``referral.signed_up``'s advocate, or the reason code why nobody can.

        For other plugins too (the fraud plugin scores the attribution it returns).
        ``screening=False`` when deciding after screening (or on a reviewer's
        approval of a held signup): whether the friend was an existing customer
        was settled at the signup, before any purchase made while it was held.
        """
        friend, data = action.advocate, action.data
        at = action.occurred_at or ctx.now
        self._read_ahead(ctx)
        code = None
        if data.get("code") is not None:
            code = codes.normalise(data["code"])
            program = ctx.program.name
            owner = ctx.view.lookup(
                _CODE, code, lambda conn, c: _code_owners(conn, program, [c]).get(c)
            )
            if owner is None:
                return "referral.unknown_code"
            referrer, expires_at, deactivated_at = owner
            if expires_at is not None and at >= expires_at:
                return "referral.expired_code"
            if deactivated_at is not None and deactivated_at <= at:
                return "referral.inactive_code"
            source = data.get("source") or "code"
        elif data.get("referrer") is not None:
            referrer = data["referrer"]
            try:
                ctx.view.advocate_id(referrer)
            except UnknownAdvocate:
                return "referral.unknown_referrer"
            source = data.get("source") or "offline"
        else:
            invited = self._invitation(ctx, friend, at)
            if invited is None:
                return "referral.no_referrer"
            referrer, source = invited, data.get("source") or "email"
        if not _SOURCE.fullmatch(source):
            return "referral.invalid_source"
        if referrer == friend:
            return "referral.self"
        stored = self._referral(ctx.view, friend)
        if stored is not None and not self._retouch(stored, referrer, at):
            return "referral.already_referred"
        if screening and self.existing is not None and self.existing(ctx, friend):
            return "referral.existing_customer"
        return Attribute(friend=friend, referrer=referrer, code=code, source=source)

    def _retouch(self, referral: StoredReferral, referrer: str, at: datetime) -> bool:
        """Whether a new attribution of an attributed friend takes over (last touch)."""
        return (
            self.touch == "last"
            and referral.state is ReferralState.SIGNED_UP
            and referral.referrer != referrer
            and referral.attributed_at < at <= referral.attributed_at + self.window
        )

    def _invitation(self, ctx: EvaluationContext, friend: str, at: datetime) -> str | None:
        """The referrer who invited the friend's email within ``window`` (first or last)."""
        email = ctx.view.advocate(friend).email
        if not email:
            return None
        program = ctx.program.name
        found = ctx.view.lookup(
            _INVITED, inbox(email), lambda conn, key: _invitations(conn, program, [key]).get(key)
        )
        valid = [
            referrer for referrer, invited_at in found or () if at - self.window <= invited_at <= at
        ]
        if not valid:
            return None
        return valid[0] if self.touch == "first" else valid[-1]

    def _read_ahead(self, ctx: EvaluationContext) -> None:
        """Once per transaction: every signup's code, and their referrers read with the batch.

        Referrers are seldom among the advocates a batch records; without
        this, each signup would read its referrer's profile, code and history
        one statement at a time.
        """
        view, program = ctx.view, ctx.program.name

        def read(conn: Connection, _: Any) -> bool:
            signups = [a for a in view.batch if a.kind == REFERRAL_SIGNED_UP]
            typed = {
                codes.normalise(a.data["code"])
                for a in signups
                if isinstance(a.data.get("code"), str)
            }
            view.lookup_many(_CODE, typed, lambda c, keys: _code_owners(c, program, keys))
            referrers = [a.data["referrer"] for a in signups if a.data.get("referrer")]
            uninvited = [
                a.advocate for a in signups if not (a.data.get("code") or a.data.get("referrer"))
            ]
            inboxes = {inbox(e) for e in (view.advocate(f).email for f in uninvited) if e}
            view.lookup_many(_INVITED, inboxes, lambda c, keys: _invitations(c, program, keys))
            for key in inboxes:
                referrers.extend(r for r, _ in view.lookup(_INVITED, key, lambda c, k: None) or ())
            for code in typed:
                owner = view.lookup(_CODE, code, lambda c, key: None)  # read just above
                if owner is not None:
                    referrers.append(owner[0])
            view.include(referrers)
            return True

        view.lookup(_READ_AHEAD, None, read)

    # -- deciding

    @hookimpl
    def advokit_evaluate(self, ctx: EvaluationContext, action: Action) -> list[Effect] | None:
        kind = action.kind
        if kind == REFERRAL_INVITED:
            return [Invite(referrer=action.advocate, inbox=inbox(action.data["email"]))]
        if kind == REFERRAL_SIGNED_UP:
            # decided again, as of the signup: also on a reviewer's approval of a held one
            found = self.attribution(ctx, action, screening=False)
            return [found] if isinstance(found, Attribute) else None
        referral = self._referral(ctx.view, action.advocate)
        if referral is None:
            return None  # not a referred friend
        at = action.occurred_at or ctx.now
        if kind == REFERRAL_DENIED:
            if referral.state is not ReferralState.PENDING:
                return None
            return [VoidReferral(friend=referral.friend, reason="denied")]
        if kind == PURCHASED:
            converted = self._conversion(referral, action, at)
            return None if converted is None else [converted]
        if kind == REFUNDED:
            return self._refund(referral, action)
        return self._approval(ctx.view, referral, at)  # REFERRAL_APPROVED

    def _conversion(
        self, referral: StoredReferral, action: Action, at: datetime
    ) -> ConvertReferral | None:
        amount = action.data.get("total_cents")
        if (
            referral.state is not ReferralState.SIGNED_UP
            or at - referral.attributed_at > self.window
            or (self.minimum_cents and (amount is None or amount < self.minimum_cents))
        ):
            return None
        ip = action.data.get("ip")
        return ConvertReferral(
            friend=referral.friend,
            order_id=action.data["order_id"],
            amount_cents=amount,
            hold_until=at + self.hold,
            # kept as a digest, for the fraud plugin's velocity per address
            converted_from=digest(address(ip)) if isinstance(ip, str) and ip.strip() else None,
        )

    def _refund(self, referral: StoredReferral, action: Action) -> list[Effect] | None:
        if action.data["order_id"] != referral.order_id:
            return None
        if referral.state is ReferralState.PENDING:
            return [VoidReferral(friend=referral.friend, reason="refunded")]
        if referral.state is not ReferralState.REWARDED:
            return None  # voided already: a refund arriving again changes nothing
        effects: list[Effect] = [
            VoidReferral(friend=referral.friend, reason="refunded_after_reward")
        ]
        if self.clawback is not None and referral.reward_key is not None:
            # everything the approval paid each side (a milestone bonus too, since the
            # referral no longer counts), as the program's policies paid it
            for advocate in (referral.referrer, referral.friend):
                effects.append(
                    ReversePoints(
                        advocate=advocate,
                        action_key=referral.reward_key,
                        reason="referral.clawback",
                        clawback=self.clawback,
                    )
                )
            if self.referrer_reward is not None or self.friend_reward is not None:
                effects.append(
                    ReverseRewards(cause=referral.reward_key, reason="referral.clawback")
                )
        return effects

    def _approval(self, view: Any, referral: StoredReferral, at: datetime) -> list[Effect] | None:
        if referral.state is not ReferralState.PENDING or (
            referral.hold_until is not None and at < referral.hold_until
        ):
            return None
        referrer = referral.referrer
        _, rewarded = self._referrer(view, referrer)  # the referrer's rewarded referrals, ever
        paid = self.referrer_points
        capped = False
        if paid and self.referrer_cap is not None:
            most, period = self.referrer_cap
            times = self._paid(view, referrer)
            capped = sum(1 for t in times if t > at - period) >= most
            if capped:
                paid = 0  # over the cap: the friend is still rewarded
        effects: list[Effect] = [
            RewardReferral(
                friend=referral.friend, referrer_paid=paid, friend_paid=self.friend_points
            )
        ]
        if paid:
            effects.append(AwardPoints(advocate=referrer, points=paid, reason="referral.rewarded"))
        bonus = self.milestones.get(rewarded + 1)
        if bonus:
            effects.append(
                AwardPoints(
                    advocate=referrer,
                    points=bonus,
                    reason="referral.milestone",
                    memo=f"referral number {rewarded + 1}",
                )
            )
        if self.friend_points:
            effects.append(
                AwardPoints(
                    advocate=referral.friend, points=self.friend_points, reason="referral.welcome"
                )
            )
        if self.referrer_reward is not None and not capped:
            effects.append(IssueReward(advocate=referrer, reward=self.referrer_reward))
        if self.friend_reward is not None:
            effects.append(IssueReward(advocate=referral.friend, reward=self.friend_reward))
        return effects

    def _referral(self, view: Any, friend: str) -> StoredReferral | None:
        return view.memo(  # type: ignore[no-any-return]
            _REFERRAL, friend, lambda conn, ids: load_referrals(conn, ids, view.external_id)
        )

    def _paid(self, view: Any, referrer: str) -> tuple[datetime, ...]:
        """When the referrer was paid for each referral (not clawed back)."""
        return view.memo(_PAID, referrer, _load_paid) or ()  # type: ignore[no-any-return]

    def _referrer(self, view: Any, referrer: str) -> tuple[int, int]:
        """The referrer's row version and count of rewarded referrals (clawed back ones too)."""
        return view.memo(_REFERRER, referrer, _load_referrers) or (0, 0)  # type: ignore[no-any-return]

    def referral_of(self, view: Any, friend: str) -> Referral | None:
        """``friend``'s referral as the recording transaction sees it (None: not referred)."""
        stored = self._referral(view, friend)
        return None if stored is None else stored.referral()

    # -- applying

    @hookimpl
    def advokit_apply_effect(
        self, tx: Transaction, effect: Attribute | Move | Invite
    ) -> bool | None:
        when = tx.action.occurred_at or tx.now
        if isinstance(effect, Invite):
            program = tx.program.name
            tx.insert(
                invitations_t,
                {
                    "program": program,
                    "inbox": effect.inbox,
                    "referrer_id": tx.view.advocate_id(effect.referrer),
                    "invited_at": when,
                },
            )
            # a signup later in this batch sees it: the row is written when the batch ends
            invited = tx.view.lookup(
                _INVITED, effect.inbox, lambda c, k: _invitations(c, program, [k]).get(k)
            )
            invited = sorted([*(invited or ()), (effect.referrer, when)], key=_second)
            tx.view.remember_lookup(_INVITED, effect.inbox, invited)
            return True
        stored = self._referral(tx.view, effect.friend)
        friend_id = tx.view.advocate_id(effect.friend)
        if isinstance(effect, Attribute):
            if stored is not None and not self._retouch(stored, effect.referrer, when):
                return True  # attributed earlier in this batch: that attribution stands
            referral = StoredReferral(
                0 if stored is None else stored.version,
                effect.friend,
                effect.referrer,
                effect.code,
                effect.source,
                ReferralState.SIGNED_UP,
                when,
            )
            # what never changes afterwards, written once (a last touch rewrites it)
            values: dict[str, Any] = {
                "program": tx.program.name,
                "state": ReferralState.SIGNED_UP.value,
                "referrer_id": tx.view.advocate_id(effect.referrer),
                "code": effect.code,
                "source": effect.source,
                "attributed_at": when,
            }
        else:
            if stored is None:
                raise InvalidValue(
                    f"{type(effect).__name__}.friend", effect.friend, "a friend with a referral"
                )
            referral = stored.moved(effect, when, tx.root_key)
            values = {"state": referral.state.value}
            for column in MOVED[referral.state]:  # only what this move wrote
                values[column] = getattr(referral, column)
        # a concurrent attribution or move makes the batch run again
        tx.save(referrals_t, {"friend_id": friend_id}, values, read=referral.version)
        tx.view.remember(_REFERRAL, effect.friend, referral)
        if stored is not None and not isinstance(effect, Attribute):
            if isinstance(effect, RewardReferral):
                self._count(tx, referral.referrer, +1)
                if referral.referrer_paid:
                    paid = self._paid(tx.view, referral.referrer)
                    tx.view.remember(_PAID, referral.referrer, (*paid, when))
            elif isinstance(effect, VoidReferral) and stored.state is ReferralState.REWARDED:
                self._count(tx, referral.referrer, -1)  # clawed back: no longer a success
                paid = list(self._paid(tx.view, referral.referrer))
                if referral.rewarded_at in paid:
                    paid.remove(referral.rewarded_at)
                tx.view.remember(_PAID, referral.referrer, tuple(paid))
        return True

    def _count(self, tx: Transaction, referrer: str, change: int) -> None:
        """Change the referrer's count of successful referrals (milestones count them)."""
        version, rewarded = self._referrer(tx.view, referrer)
        tx.save(
            referrers_t,
            {"referrer_id": tx.view.advocate_id(referrer)},
            {"program": tx.program.name, "rewarded": rewarded + change},
            read=version,  # another transaction rewarding this referrer: run again
        )
        tx.view.remember(_REFERRER, referrer, (version, rewarded + change))

    # -- time

    @hookimpl
    def advokit_tick(self, program: Any, now: datetime) -> Iterable[Action]:
        """``referral.approved`` for every pending referral whose hold has passed.

        Once: an approval held for a person is not asked again. One a person
        denied becomes ``referral.denied``, which voids the referral.
        """
        r, f = referrals_t, q.advocates_t
        query = (
            sa.select(f.c.external_id)
            .join(f, f.c.id == r.c.friend_id)
            .where(
                r.c.program == program.name,
                sa.text("referrals_referrals.state = 'pending'"),  # ix_referrals_due's condition
                r.c.hold_until <= now,
            )
            .order_by(r.c.friend_id)
        )
        with database.transaction(program.engine, write=False) as conn:
            due = {
                derived_key(REFERRAL_APPROVED, friend): friend  # one referral per friend, ever
                for friend in conn.execute(query).scalars()
            }
            asked = q.recorded_actions(conn, program.name, list(due))
        actions = []
        for key, friend in due.items():
            if key not in asked:
                actions.append(
                    Action(kind=REFERRAL_APPROVED, advocate=friend, key=key, occurred_at=now)
                )
            elif asked[key].status == "rejected":  # a person denied the rewards: void it
                actions.append(
                    Action(
                        kind=REFERRAL_DENIED,
                        advocate=friend,
                        key=derived_key(REFERRAL_DENIED, friend),
                        occurred_at=now,
                    )
                )
        return actions

    # -- queries

    def referral(self, program: Any, friend: str) -> Referral | None:
        """``program.referral(friend)``: who referred ``friend`` and where it stands (or None)."""
        with database.transaction(program.engine, write=False) as conn:
            row_id = q.advocate_row_id(conn, program.name, friend)
            found = load_referrals(conn, [row_id]).get(row_id)
        return None if found is None else found.referral()

    def referrals(self, program: Any, referrer: str) -> list[Referral]:
        """``program.referrals(referrer)``: the friends ``referrer`` brought, first first."""
        r = referrals_t
        with database.transaction(program.engine, write=False) as conn:
            row_id = q.advocate_row_id(conn, program.name, referrer)
            friends = (
                conn.execute(sa.select(r.c.friend_id).where(r.c.referrer_id == row_id))
                .scalars()
                .all()
            )
            found = load_referrals(conn, list(friends))
        return sorted((stored.referral() for stored in found.values()), key=_attributed)

    # -- codes

    def referral_code(
        self,
        program: Any,
        advocate: str,
        *,
        vanity: str | None = None,
        expires_at: datetime | None = None,
    ) -> ReferralCode:
        """``program.referral_code(advocate)``: the advocate's code, made on first use.

        Without ``vanity``, the advocate's generated code: the one in use, or a
        new one (also when the last one expired); one per advocate whatever
        the number of processes asking at once. With ``vanity``, that code
        for the advocate (asking again returns it); a code someone else uses
        is refused. ``expires_at`` sets the expiry of a code made now.
        """
        now = program.clock()
        if expires_at is not None:
            expires_at = v.instant("expires_at", expires_at)
            if expires_at <= now:
                raise InvalidValue("expires_at", expires_at, f"a time after now ({now})")
        chosen = None if vanity is None else codes.vanity(vanity)

        def attempt(conn: Connection) -> ReferralCode:
            row_id = q.advocate_row_id(conn, program.name, advocate)
            if chosen is not None:
                return self._vanity(conn, program, advocate, row_id, chosen, now, expires_at)
            return self._generated(conn, program, advocate, row_id, now, expires_at)

        return self._writing(program, attempt)

    def _generated(
        self,
        conn: Connection,
        program: Any,
        advocate: str,
        row_id: int,
        now: datetime,
        expires_at: datetime | None,
    ) -> ReferralCode:
        t = codes_t
        in_use = sa.select(t).where(
            t.c.advocate_id == row_id, sa.not_(t.c.vanity), t.c.deactivated_at.is_(None)
        )
        current = conn.execute(in_use).first()
        if current is not None:
            if current.expires_at is None or current.expires_at > now:
                return self._code(current, advocate)
            # expired: retire it, so that the advocate gets a new one
            conn.execute(t.update().where(t.c.id == current.id).values(deactivated_at=now))
        if expires_at is None and self.code_lifetime is not None:
            expires_at = now + self.code_lifetime
        insert = dialect_insert(conn, t).on_conflict_do_nothing()
        for _ in range(_DRAWS):
            row = {
                "program": program.name,
                "code": codes.generate(self.code_length),
                "advocate_id": row_id,
                "vanity": False,
                "created_at": now,
                "expires_at": expires_at,
                "deactivated_at": None,
            }
            if conn.execute(insert, row).rowcount == 1:
                return self._code(row, advocate)
            # taken: either the code (draw again) or, by another process, the advocate's code
            current = conn.execute(in_use).first()
            if current is not None:
                return self._code(current, advocate)
        raise AdvokitError(
            f"drew {_DRAWS} referral codes already in use: raise Referrals(code_length=...) "
            f"above {self.code_length}"
        )

    def _vanity(
        self,
        conn: Connection,
        program: Any,
        advocate: str,
        row_id: int,
        code: str,
        now: datetime,
        expires_at: datetime | None,
    ) -> ReferralCode:
        t = codes_t
        row = {
            "program": program.name,
            "code": code,
            "advocate_id": row_id,
            "vanity": True,
            "created_at": now,
            "expires_at": expires_at,
            "deactivated_at": None,
        }
        if conn.execute(dialect_insert(conn, t).on_conflict_do_nothing(), row).rowcount == 1:
            return self._code(row, advocate)
        found = conn.execute(
            sa.select(t).where(t.c.program == program.name, t.c.code == code)
        ).first()
        if found is None or found.advocate_id != row_id or found.deactivated_at is not None:
            raise InvalidValue("vanity", code, "a code nobody else uses or used")
        return self._code(found, advocate)

    def referral_codes(self, program: Any, advocate: str) -> list[ReferralCode]:
        """``program.referral_codes(advocate)``: every code the advocate was given, oldest first."""
        t = codes_t
        with database.transaction(program.engine, write=False) as conn:
            row_id = q.advocate_row_id(conn, program.name, advocate)
            rows = conn.execute(sa.select(t).where(t.c.advocate_id == row_id).order_by(t.c.id))
            return [self._code(row, advocate) for row in rows]

    def find_referrer(self, program: Any, answer: str) -> str:
        """``program.find_referrer("Ana Lima")``: who a friend says referred them, offline.

        ``answer`` is what the friend typed or said at the till: a referral
        code in use (one word, as typed), an email (matched on the inbox it
        reaches) or a full name (case and spaces ignored). Returns the
        advocate's external id, for ``referral.signed_up`` with ``referrer=``
        and ``source="offline"``. Nobody, or several people, matching raises
        :class:`InvalidValue`.
        """
        if not isinstance(answer, str) or not answer.strip():
            raise InvalidValue("answer", answer, "a referral code, an email or a name")
        text = answer.strip()
        now = program.clock()
        with database.transaction(program.engine, write=False) as conn:
            if "@" in text:
                found = _by_inbox(conn, program.name, inbox(text))
            else:
                found = _by_name(conn, program.name, text.split())
                if len(text.split()) == 1:  # one word: a code too
                    code = codes.normalise(text)
                    owner = _code_owners(conn, program.name, [code]).get(code)
                    if owner is not None and _usable(owner, now):
                        found = sorted({*found, owner[0]})
        if len(found) == 1:
            return found[0]
        if not found:
            raise InvalidValue("answer", answer, "the code, email or name of an advocate")
        matching = ", ".join(found[:5])
        raise InvalidValue("answer", answer, f"an answer only one advocate matches ({matching} do)")

    def find_referral_code(
        self, program: Any, code: str, *, at: datetime | None = None
    ) -> ReferralCode:
        """``program.find_referral_code(code)``: the code as typed, if a friend may use it.

        Case, spaces and dashes are ignored. An unknown, deactivated or
        expired code (at ``at``, default now) raises :class:`InvalidValue`.
        """
        when = program.clock() if at is None else v.instant("at", at)
        normal = codes.normalise(code)
        t, a = codes_t, q.advocates_t
        with database.transaction(program.engine, write=False) as conn:
            row = conn.execute(
                sa.select(t, a.c.external_id)
                .join(a, a.c.id == t.c.advocate_id)
                .where(t.c.program == program.name, t.c.code == normal)
            ).first()
        if row is None:
            raise InvalidValue("code", code, f"a referral code of program {program.name!r}")
        found = self._code(row, row.external_id)
        if found.expires_at is not None and when >= found.expires_at:
            raise InvalidValue("code", code, f"a code in use (expired {found.expires_at})")
        if found.deactivated_at is not None:
            raise InvalidValue("code", code, f"a code in use (deactivated {found.deactivated_at})")
        return found

    def deactivate_referral_code(self, program: Any, code: str) -> ReferralCode:
        """``program.deactivate_referral_code(code)``: nobody may use it any more.

        Deactivating twice keeps the first time. The advocate's next
        ``referral_code()`` makes a new generated code.
        """
        normal = codes.normalise(code)
        now = program.clock()
        t, a = codes_t, q.advocates_t

        def attempt(conn: Connection) -> ReferralCode:
            conn.execute(
                t.update()
                .where(
                    t.c.program == program.name, t.c.code == normal, t.c.deactivated_at.is_(None)
                )
                .values(deactivated_at=now)
            )
            row = conn.execute(
                sa.select(t, a.c.external_id)
                .join(a, a.c.id == t.c.advocate_id)
                .where(t.c.program == program.name, t.c.code == normal)
            ).first()
            if row is None:
                raise InvalidValue("code", code, f"a referral code of program {program.name!r}")
            return self._code(row, row.external_id)

        return self._writing(program, attempt)

    def referral_stats(
        self, program: Any, *, period: str | None = "month", by_referrer: bool = False
    ) -> list[ReferralStats]:
        """``program.referral_stats()``: the referral funnel per period (and referrer).

        ``period`` is ``"day"``, ``"month"``, ``"year"`` (in UTC, by attribution
        time) or None for all time; counted by the database.
        """
        if period not in _PERIODS:
            raise InvalidValue("period", period, "'day', 'month', 'year' or None")
        r, a = referrals_t, q.advocates_t
        columns: list[Any] = []
        if period is not None:
            sqlite_format, postgres_format = _PERIODS[period]
            if program.engine.dialect.name == "sqlite":
                columns.append(sa.func.strftime(sqlite_format, r.c.attributed_at))
            else:
                utc_time = sa.func.timezone("UTC", r.c.attributed_at)
                columns.append(sa.func.to_char(utc_time, postgres_format))
        if by_referrer:
            columns.append(a.c.external_id)
        query = (
            sa.select(
                *columns,
                sa.func.count(),
                sa.func.count(r.c.converted_at),
                sa.func.count(r.c.rewarded_at),
                sa.func.count(r.c.voided_at),
            )
            .select_from(r.join(a, a.c.id == r.c.referrer_id))
            .where(r.c.program == program.name)
            .group_by(*columns)
            .order_by(*columns)
        )
        with database.transaction(program.engine, write=False) as conn:
            rows = conn.execute(query).all()
        stats = []
        for row in rows:
            values = list(row)
            when = values.pop(0) if period is not None else None
            referrer = values.pop(0) if by_referrer else None
            attributed, converted, rewarded, voided = (int(n) for n in values)
            stats.append(
                ReferralStats(
                    period=when,
                    referrer=referrer,
                    attributed=attributed,
                    converted=converted,
                    rewarded=rewarded,
                    voided=voided,
                )
            )
        return stats

    # -- helpers

    def _code(self, row: Any, advocate: str) -> ReferralCode:
        values = row if isinstance(row, dict) else row._mapping
        code = values["code"]
        return ReferralCode(
            code=code,
            advocate=advocate,
            link=None if self.link is None else self.link.format(code=code),
            vanity=bool(values["vanity"]),
            created_at=values["created_at"],
            expires_at=values["expires_at"],
            deactivated_at=values["deactivated_at"],
        )

    @staticmethod
    def _writing(program: Any, attempt: Callable[[Connection], T]) -> T:
        def run() -> T:
            with database.transaction(program.engine) as conn:
                return attempt(conn)

        return database.retrying(run)


def _check_link(link: Any) -> None:
    accepted = "an http(s) URL template with {code} and no other field"
    if not isinstance(link, str):
        raise ConfigurationError("Referrals.link", link, accepted)
    try:
        fields = {name for _, name, _, _ in string.Formatter().parse(link) if name is not None}
    except ValueError:
        raise ConfigurationError("Referrals.link", link, accepted) from None
    if fields != {"code"} or urlsplit(link).scheme not in ("http", "https"):
        raise ConfigurationError("Referrals.link", link, accepted)


def _attributed(referral: Referral) -> tuple[datetime, str]:
    return (referral.attributed_at, referral.friend)


def _code_owners(
    conn: Connection, program: str, codes: list[str]
) -> dict[str, tuple[str, datetime | None, datetime | None]]:
    """Who owns each of ``codes`` in the program, and until when it is usable."""
    return {
        code: (owner, utc(expires_at), utc(deactivated_at))
        for code, owner, expires_at, deactivated_at in fetch(conn, _CODE_OWNERS, (program,), codes)
    }


def _load_referrers(conn: Connection, ids: list[int]) -> dict[int, tuple[int, int]]:
    return {
        referrer_id: (version, rewarded)
        for referrer_id, version, rewarded in fetch(conn, _REFERRERS, (), ids)
    }


def _invitations(
    conn: Connection, program: str, inboxes: list[str]
) -> dict[str, list[tuple[str, datetime]]]:
    found: dict[str, list[tuple[str, datetime]]] = {}
    for key, referrer, invited_at in fetch(conn, _INVITATIONS, (program,), inboxes):
        found.setdefault(key, []).append((referrer, utc(invited_at)))  # type: ignore[arg-type]
    return found


def _load_paid(conn: Connection, ids: list[int]) -> dict[int, tuple[datetime, ...]]:
    found: dict[int, tuple[datetime, ...]] = {}
    for referrer_id, rewarded_at in fetch(conn, _PAID_TIMES, (), ids):
        found[referrer_id] = (*found.get(referrer_id, ()), utc(rewarded_at))  # type: ignore[arg-type]
    return found


def _second(pair: tuple[str, datetime]) -> datetime:
    return pair[1]


def _usable(owner: tuple[str, datetime | None, datetime | None], at: datetime) -> bool:
    _, expires_at, deactivated_at = owner
    return (expires_at is None or at < expires_at) and (
        deactivated_at is None or at < deactivated_at
    )


def _like(text: str) -> str:
    """``text`` for a LIKE pattern, its wildcards escaped (with backslashes)."""
    return text.replace("\\", "\\\\").replace("%", "\\%").replace("_", "\\_")


def _by_inbox(conn: Connection, program: str, wanted: str) -> list[str]:
    """Advocates whose email reaches ``wanted`` (see :func:`inbox`)."""
    a = q.advocates_t
    local, _, domain = wanted.rpartition("@")
    domains = ("gmail.com", "googlemail.com") if domain == "gmail.com" else (domain,)
    # the stored address starts like the inbox (Gmail: its first letter, dots may follow)
    start = _like(local[:1] if domain == "gmail.com" else local)
    rows = conn.execute(
        sa.select(a.c.external_id, a.c.email).where(
            a.c.program == program,
            sa.or_(*(a.c.email.ilike(f"{start}%@{_like(d)}", escape="\\") for d in domains)),
        )
    )
    return sorted({ext for ext, email in rows if email and inbox(email) == wanted})


def _by_name(conn: Connection, program: str, words: list[str]) -> list[str]:
    """Advocates whose name is ``words`` (case and spaces ignored, accents kept)."""
    a = q.advocates_t
    wanted = [w.casefold() for w in words]
    last = words[-1]
    # SQLite folds the case of ASCII letters only: ask for the typed word capitalised too
    patterns = {f"%{_like(form)}%" for form in (last, last.lower(), last.capitalize())}
    rows = conn.execute(
        sa.select(a.c.external_id, a.c.name).where(
            a.c.program == program,
            sa.or_(*(a.c.name.ilike(p, escape="\\") for p in patterns)),
        )
    )
    return sorted(
        ext for ext, name in rows if name and [w.casefold() for w in name.split()] == wanted
    )
