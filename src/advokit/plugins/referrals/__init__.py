"""Referrals: codes and share links that bring friends in.

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
"""

from __future__ import annotations

from advokit.plugins.referrals.codes import ALPHABET
from advokit.plugins.referrals.model import KINDS, REFERRAL_SHARED, ReferralCode
from advokit.plugins.referrals.plugin import Referrals
from advokit.plugins.referrals.tables import codes_t

__all__ = ["ALPHABET", "KINDS", "REFERRAL_SHARED", "ReferralCode", "Referrals", "codes_t"]
