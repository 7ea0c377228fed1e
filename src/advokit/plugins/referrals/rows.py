"""A referral as the recording transaction keeps it: its stored row, read and moved.

Every conversion, refund and approval reads the friend's referral and moves
it on. :class:`StoredReferral` is that row as a named tuple, with the version
the transaction read; the public :class:`~advokit.plugins.referrals.Referral`
is built from it only when someone asks (``referral_of``, the queries), which
keeps two attrs instances out of every conversion.
"""

from __future__ import annotations

from collections.abc import Callable
from datetime import datetime
from typing import NamedTuple

from sqlalchemy.engine import Connection

from advokit.core.errors import InvalidValue
from advokit.core.store.driver import fetch
from advokit.core.store.types import utc
from advokit.plugins.referrals.model import (
    ConvertReferral,
    Referral,
    ReferralState,
    RewardReferral,
    VoidReferral,
)
from advokit.plugins.referrals.tables import referrals_t

__all__ = ["MOVED", "StoredReferral", "load_referrals"]

#: The columns a move to each state writes (besides the state; none moves to signed_up).
MOVED = {
    ReferralState.PENDING: (
        "order_id",
        "amount_cents",
        "converted_at",
        "converted_from",
        "hold_until",
    ),
    ReferralState.REWARDED: ("rewarded_at", "reward_key", "referrer_paid", "friend_paid"),
    ReferralState.VOIDED: ("voided_at", "void_reason"),
}
#: The moves a referral may make: its life only goes forward.
_MOVES = {
    ReferralState.SIGNED_UP: frozenset({ReferralState.PENDING, ReferralState.VOIDED}),
    ReferralState.PENDING: frozenset({ReferralState.REWARDED, ReferralState.VOIDED}),
    ReferralState.REWARDED: frozenset({ReferralState.VOIDED}),
    ReferralState.VOIDED: frozenset(),
}
_STATES = {state.value: state for state in ReferralState}
_STATE_AFTER = {
    ConvertReferral: ReferralState.PENDING,
    RewardReferral: ReferralState.REWARDED,
    VoidReferral: ReferralState.VOIDED,
}

#: A referral's columns, with its referrer's external id (``a``).
_COLUMNS = (
    "r.friend_id, r.version, a.external_id, r.code, r.source, r.state, r.attributed_at,"
    " r.order_id, r.amount_cents, r.converted_at, r.converted_from, r.hold_until,"
    " r.rewarded_at, r.reward_key, r.referrer_paid, r.friend_paid, r.voided_at, r.void_reason"
)
#: Referrals of friends whose external ids the caller knows (a batch's).
_REFERRALS_OF = (
    f"SELECT {_COLUMNS} FROM {referrals_t.name} r"
    " JOIN advokit_advocates a ON a.id = r.referrer_id WHERE r.friend_id IN (*)"
)
#: Referrals with their friends' external ids too.
_REFERRALS = (
    f"SELECT {_COLUMNS}, f.external_id FROM {referrals_t.name} r"
    " JOIN advokit_advocates a ON a.id = r.referrer_id"
    " JOIN advokit_advocates f ON f.id = r.friend_id WHERE r.friend_id IN (*)"
)


class StoredReferral(NamedTuple):
    """A referral's row as read (``version``) and as moved since in the transaction.

    Its other fields are :class:`~advokit.plugins.referrals.Referral`'s.
    """

    version: int  # the row's version when read: what saving it checks (0: no row yet)
    friend: str
    referrer: str
    code: str | None
    source: str
    state: ReferralState
    attributed_at: datetime
    order_id: str | None = None
    amount_cents: int | None = None
    converted_at: datetime | None = None
    converted_from: str | None = None
    hold_until: datetime | None = None
    rewarded_at: datetime | None = None
    reward_key: str | None = None
    referrer_paid: int | None = None
    friend_paid: int | None = None
    voided_at: datetime | None = None
    void_reason: str | None = None

    def referral(self) -> Referral:
        """The public value."""
        return Referral(
            friend=self.friend,
            referrer=self.referrer,
            code=self.code,
            source=self.source,
            state=self.state,
            attributed_at=self.attributed_at,
            order_id=self.order_id,
            amount_cents=self.amount_cents,
            converted_at=self.converted_at,
            converted_from=self.converted_from,
            hold_until=self.hold_until,
            rewarded_at=self.rewarded_at,
            reward_key=self.reward_key,
            referrer_paid=self.referrer_paid,
            friend_paid=self.friend_paid,
            voided_at=self.voided_at,
            void_reason=self.void_reason,
        )

    def moved(
        self, effect: ConvertReferral | RewardReferral | VoidReferral, when: datetime, key: str
    ) -> StoredReferral:
        """The referral after ``effect``, at ``when``, by the action keyed ``key``."""
        state = _STATE_AFTER[type(effect)]
        if state not in _MOVES[self.state]:
            allowed = " or ".join(sorted(_MOVES[self.state])) or "nothing: it stays voided"
            raise InvalidValue(
                f"{type(effect).__name__}.friend",
                self.friend,
                f"a friend whose referral can become {state.value} "
                f"(this one is {self.state.value}: it can become {allowed})",
            )
        if isinstance(effect, ConvertReferral):
            # from signed_up, which has nothing after attributed_at yet; built positionally,
            # as _replace costs twice as much on every conversion
            return StoredReferral(
                self.version,
                self.friend,
                self.referrer,
                self.code,
                self.source,
                state,
                self.attributed_at,
                effect.order_id,
                effect.amount_cents,
                when,  # converted_at
                effect.converted_from,
                effect.hold_until,
            )
        if isinstance(effect, RewardReferral):
            return self._replace(
                state=state,
                rewarded_at=when,
                reward_key=key,
                referrer_paid=effect.referrer_paid,
                friend_paid=effect.friend_paid,
            )
        # voided: what it was, and why it ended
        return self._replace(state=state, voided_at=when, void_reason=effect.reason)


def load_referrals(
    conn: Connection, ids: list[int], friend_of: Callable[[int], str] | None = None
) -> dict[int, StoredReferral]:
    """``{friend row id: referral}``; ``friend_of`` names friends known already.

    Every conversion reads its referral, so the batch's read skips the join
    that names the friends: the recording transaction knows them.
    """
    found = {}
    for row in fetch(conn, _REFERRALS if friend_of is None else _REFERRALS_OF, (), ids):
        friend_id = row[0]
        found[friend_id] = StoredReferral(
            row[1],  # version
            row[18] if friend_of is None else friend_of(friend_id),
            row[2],  # referrer
            row[3],  # code
            row[4],  # source
            _STATES[row[5]],
            utc(row[6]),  # type: ignore[arg-type]  # attributed_at, never null
            row[7],  # order_id
            row[8],  # amount_cents
            utc(row[9]),  # converted_at
            row[10],  # converted_from
            utc(row[11]),  # hold_until
            utc(row[12]),  # rewarded_at
            row[13],  # reward_key
            row[14],  # referrer_paid
            row[15],  # friend_paid
            utc(row[16]),  # voided_at
            row[17],  # void_reason
        )
    return found
