"""Fraud screening for referrals: weighted signals, a score, a verdict that says why.

::

    from advokit.plugins.fraud import Fraud
    from advokit.plugins.referrals import Referrals

    Program(name="bakery", plugins=[Referrals(...), Fraud(review_at=50, reject_at=100)])

Every ``referral.signed_up`` the referrals plugin can attribute is scored:
each signal found adds its weight (:data:`SIGNALS`, overridable with
``weights=``); a score reaching ``review_at`` holds the signup for a person
(``program.held()``, ``program.review(...)``), one reaching ``reject_at``
rejects it. The verdict's reason lists every signal and its weight, so a
person sees why: ``fraud score 160 >= 100: self_referral.email (+100),
same.ip_user_agent (+60)``.

Signals: the friend's and referrer's emails reach one inbox (case, Gmail's
dots, ``+tags`` and googlemail.com ignored); the friend signed up on a device
(``device_id``) or with the address and browser (``ip`` and ``user_agent``)
the referrer used (an address alone is no signal: households and offices
share one); similar emails or names (edit distance); a disposable email
domain (a shipped list, extended with ``disposable_domains=``); more
referrals than ``velocity`` allows in its window; a cycle (the friend
referred the referrer, directly or further up). Plugins add their own
with ``signals=[check]``, ``check(ctx, action, referrer) -> Signal | None``.

Fingerprints are kept as digests (pseudonyms: no address or device id is
stored in clear), from
the ``device_id``, ``ip`` and ``user_agent`` data of ``referral.shared``,
``referral.signed_up`` and ``purchase.completed`` actions.

Approvals: the tick's ``referral.approved`` is held for a person when the
friend converted from an address (the ``ip`` of the qualifying purchase)
that more than ``ip_velocity`` friends converted from in its window
(``velocity.ip``), or when an advocate of the referral is tagged
``untrusted``.
"""

from __future__ import annotations

from advokit.plugins.fraud.emails import disposable_domains, inbox
from advokit.plugins.fraud.plugin import SIGNALS, Fraud, Seen, Signal
from advokit.plugins.fraud.tables import fingerprints_t

__all__ = [
    "SIGNALS",
    "Fraud",
    "Seen",
    "Signal",
    "disposable_domains",
    "fingerprints_t",
    "inbox",
]
