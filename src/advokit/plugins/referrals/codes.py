"""Referral codes: short, unguessable, easy to read aloud and to type back.

A generated code is ``length`` characters drawn with :mod:`secrets` from 29
digits and capitals, without the ones people confuse (0/O, 1/I/L, U/V): 8
characters give 29^8, about 5 x 10^11, codes. What people type is normalised
before it is looked up: case, spaces and dashes do not matter, so
``"bk7h-2m9q"`` finds ``BK7H2M9Q``.
"""

from __future__ import annotations

import re
import secrets

from advokit.core.errors import InvalidValue

__all__ = ["ALPHABET", "generate", "normalise", "vanity"]

#: Digits and capitals without 0, O, 1, I, L, U and V.
ALPHABET = "23456789ABCDEFGHJKMNPQRSTWXYZ"

#: A vanity code: 3 to 32 letters, digits, dashes or underscores (stored in capitals).
_VANITY = re.compile(r"[A-Z0-9][A-Z0-9_]{2,31}")
_IGNORED = re.compile(r"[\s-]+")


def generate(length: int) -> str:
    """A new random code of ``length`` characters from :data:`ALPHABET`."""
    return "".join(secrets.choice(ALPHABET) for _ in range(length))


def normalise(text: str) -> str:
    """A code as people type it, in the form codes are stored: capitals, no spaces or dashes."""
    if not isinstance(text, str):
        raise InvalidValue("code", text, "a referral code (text)")
    return _IGNORED.sub("", text).upper()


def vanity(text: str) -> str:
    """A vanity code chosen by a person (``"ANNA-BAKES"``), checked and normalised."""
    code = normalise(text)
    if not _VANITY.fullmatch(code):
        raise InvalidValue(
            "vanity", text, "3 to 32 letters, digits or underscores (dashes and spaces ignored)"
        )
    return code
