"""Referrals: codes and share links that bring friends in, and the referrals they make.

::

    from advokit.plugins.referrals import Referrals

    program = Program(
        "bakery",
        plugins=[Referrals(link="https://bakery.example/r/{code}")],
    )
    code = program.referral_code("ann")     # made on first use, then the same one
    code.code, code.link                    # 'BK7H2M9Q', 'https://bakery.example/r/BK7H2M9Q'
    program.referral_code("ann", vanity="ANNA-BAKES")
    program.find_referral_code("bk7h-2m9q") # as a friend typed it: case and dashes ignored
    program.deactivate_referral_code("ANNABAKES")

* **Codes** are short, unguessable (:mod:`secrets`) and readable: 8
  characters (``code_length``) from 29 digits and capitals without the ones
  people confuse. One generated code is in use per advocate, enforced by the
  database whatever the number of processes asking at once.
* **Vanity codes** are chosen by a person (3 to 32 letters, digits or
  underscores); a code someone else uses is refused.
* **Expiry and deactivation**: ``code_lifetime`` (or ``expires_at=``) makes a
  code expire; :meth:`Referrals.deactivate_referral_code` retires it. An
  advocate whose generated code expired or was deactivated gets a new one on
  the next ``referral_code()``.
* **Sharing** is an action: record ``referral.shared`` (``channel``, and the
  ``code`` if you like) so that points rules, badges, challenges and
  leaderboards can reward it.

Referrals, once a friend is enrolled::

    Referrals(referrer_points=100, friend_points=50, minimum_cents=1000,
              refund_window=timedelta(days=14))

    program.record(Action(kind="referral.signed_up", advocate="zoe", key="signup-zoe",
                          data={"code": "bk7h-2m9q"}))  # or {"referrer": "ann"}
    program.record(Action(kind="purchase.completed", advocate="zoe", key="o-1",
                          data={"order_id": "o-1", "total_cents": 2500}))
    program.tick()                                          # after the hold: both rewarded
    program.referral("zoe")                                 # Referral(state=rewarded, ...)

* **Attribution** by code (as typed or carried by the link), by an
  invitation (``referral.invited`` with the friend's ``email``; matched on the
  inbox it reaches), or by a referrer the integrating app matched itself
  ("who referred you?" at the till). One referrer per friend, enforced by
  the database under concurrency; the first attribution stands, or with
  ``touch="last"`` a later one before the friend converts. A signup that
  cannot be attributed is recorded as rejected with a reason code:
  ``referral.unknown_code``, ``referral.expired_code``,
  ``referral.inactive_code``, ``referral.unknown_referrer``,
  ``referral.no_referrer``, ``referral.self``, ``referral.already_referred``,
  ``referral.existing_customer``.
* **Lifecycle**: ``signed_up`` -> ``pending`` (the friend's first
  qualifying purchase within ``window``, held for ``hold``, longer than the
  refund window) -> ``rewarded`` (by the tick: ``referral.approved``, both
  sides' points) or ``voided`` (the converting order refunded: once, however
  many times the refund arrives; after the reward, the points are reversed
  through the ledger per ``clawback``).
"""

from __future__ import annotations

from advokit.plugins.referrals.codes import ALPHABET
from advokit.plugins.referrals.emails import inbox
from advokit.plugins.referrals.model import (
    KINDS,
    REFERRAL_APPROVED,
    REFERRAL_DENIED,
    REFERRAL_INVITED,
    REFERRAL_SHARED,
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
from advokit.plugins.referrals.plugin import Referrals, earned_before
from advokit.plugins.referrals.tables import codes_t, invitations_t, referrals_t, referrers_t

__all__ = [
    "ALPHABET",
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
    "Referrals",
    "RewardReferral",
    "VoidReferral",
    "codes_t",
    "earned_before",
    "inbox",
    "invitations_t",
    "referrals_t",
    "referrers_t",
]
