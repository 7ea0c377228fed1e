"""Referral codes and referrals as the program hands them out, their actions and effects."""

from __future__ import annotations

import enum
from datetime import datetime

import attrs

from advokit import ActionKind, Effect

__all__ = [
    "KINDS",
    "REFERRAL_APPROVED",
    "REFERRAL_DENIED",
    "REFERRAL_INVITED",
    "REFERRAL_SHARED",
    "REFERRAL_SIGNED_UP",
    "Attribute",
    "ConvertReferral",
    "Invite",
    "Referral",
    "ReferralCode",
    "ReferralState",
    "ReferralStats",
    "RewardReferral",
    "VoidReferral",
]

REFERRAL_SHARED = "referral.shared"
REFERRAL_INVITED = "referral.invited"
REFERRAL_SIGNED_UP = "referral.signed_up"
REFERRAL_APPROVED = "referral.approved"
REFERRAL_DENIED = "referral.denied"


@attrs.frozen(kw_only=True)
class ReferralCode:
    """An advocate's referral code and the link that carries it.

    ``vanity`` codes were chosen by a person; the others were generated.
    A code is usable while ``active`` (not deactivated) and not expired.
    """

    code: str
    advocate: str
    link: str | None
    vanity: bool
    created_at: datetime
    expires_at: datetime | None
    deactivated_at: datetime | None

    @property
    def active(self) -> bool:
        return self.deactivated_at is None

    def usable_at(self, when: datetime) -> bool:
        """Whether a friend may still use the code at ``when``."""
        return self.active and (self.expires_at is None or when < self.expires_at)


class ReferralState(enum.StrEnum):
    """Where a referral is in its life.

    ``signed_up`` (attributed to a referrer) -> ``pending`` (converted by a
    qualifying purchase, held until ``hold_until``) -> ``rewarded`` (approved
    by the tick once the hold passed; both sides' rewards posted). A refund of
    the converting order voids it: during the hold nothing was paid; after
    the reward, the rewards are reversed through the ledger (clawback).
    """

    SIGNED_UP = "signed_up"
    PENDING = "pending"
    REWARDED = "rewarded"
    VOIDED = "voided"


@attrs.frozen(kw_only=True)
class Referral:
    """One referred friend and who referred them: ``program.referral(friend)``."""

    friend: str
    referrer: str
    code: str | None
    source: str
    state: ReferralState
    attributed_at: datetime
    order_id: str | None = None
    amount_cents: int | None = None
    converted_at: datetime | None = None
    converted_from: str | None = None  # a digest of the converting purchase's ip, if it had one
    hold_until: datetime | None = None
    rewarded_at: datetime | None = None
    reward_key: str | None = None
    referrer_paid: int | None = None  # the points each side was rewarded
    friend_paid: int | None = None
    voided_at: datetime | None = None
    void_reason: str | None = None


@attrs.frozen(kw_only=True)
class ReferralStats:
    """Referrals counted by the period they were attributed in (and by referrer, if asked).

    ``converted``, ``rewarded`` and ``voided`` count those of the ``attributed``
    that reached that step since (a referral rewarded then clawed back counts
    as rewarded and voided): the funnel of one cohort.
    """

    period: str | None
    referrer: str | None
    attributed: int
    converted: int
    rewarded: int
    voided: int


@attrs.frozen(kw_only=True)
class Attribute(Effect):
    """Attribute ``friend`` to ``referrer`` (once per friend, whatever the concurrency)."""

    friend: str
    referrer: str
    code: str | None
    source: str


@attrs.frozen(kw_only=True)
class Invite(Effect):
    """Keep that ``referrer`` invited the address reaching ``inbox``, for matching a signup."""

    referrer: str
    inbox: str


@attrs.frozen(kw_only=True)
class ConvertReferral(Effect):
    """``friend``'s qualifying purchase: their referral is held (pending) until ``hold_until``.

    ``converted_from`` is the digest of the purchase's ``ip``, if it had one.
    """

    friend: str
    order_id: str
    amount_cents: int | None
    hold_until: datetime
    converted_from: str | None = None


@attrs.frozen(kw_only=True)
class RewardReferral(Effect):
    """``friend``'s referral is rewarded: each side was paid these points (0: none).

    The action's key is kept as the reward's, for a clawback.
    """

    friend: str
    referrer_paid: int
    friend_paid: int


@attrs.frozen(kw_only=True)
class VoidReferral(Effect):
    """``friend``'s referral ends without (or, after a clawback, no longer with) a reward."""

    friend: str
    reason: str


KINDS = (
    ActionKind(
        name=REFERRAL_SHARED,
        required={"channel": str},
        optional={"code": str},
        description=(
            "An advocate shared their referral code or link (channel: email, sms, "
            "whatsapp, facebook, x, copy_link...)."
        ),
    ),
    ActionKind(
        name=REFERRAL_INVITED,
        required={"email": str},
        optional={"channel": str},
        description=(
            "An advocate invited a friend by email: a friend signing up from that inbox "
            "(without a code) is attributed to them."
        ),
    ),
    ActionKind(
        name=REFERRAL_SIGNED_UP,
        optional={"code": str, "referrer": str, "source": str},
        description=(
            "A friend (the action's advocate, enrolled first) signed up, with the referral "
            "code they used or clicked (source 'code' or 'link'), or the referrer the "
            "integrating app matched itself (source 'offline'); with neither, an invitation "
            "to the friend's email (source 'email')."
        ),
    ),
    ActionKind(
        name=REFERRAL_APPROVED,
        description="Derived, by the tick: a referral's hold passed; its rewards are posted.",
        derived=True,
    ),
    ActionKind(
        name=REFERRAL_DENIED,
        description=(
            "Derived, by the tick: a person denied a referral's held approval; it is voided."
        ),
        derived=True,
    ),
)
