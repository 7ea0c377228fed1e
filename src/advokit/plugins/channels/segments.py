"""SMS segment counting, as carriers and Twilio count segments.

A text is sent in GSM-7 (GSM 03.38, 3GPP TS 23.038) when every character is
in the basic character set or its extension table; otherwise the whole
message is sent in UCS-2, so a single ``ç`` or emoji doubles the cost of the
text around it. A GSM-7 character takes one septet, an extension-table
character two (an escape, then the character); a UCS-2 character takes one
UTF-16 code unit, one outside the Basic Multilingual Plane two (a surrogate
pair).

One segment holds 160 septets or 70 code units. A longer message is
concatenated: each part gives room to a User Data Header and holds 153
septets or 67 code units. An escape sequence or a surrogate pair is never
split across two parts, so parts are filled greedily, character by
character, and a character that does not fit starts the next part.
"""

from __future__ import annotations

from collections.abc import Iterable

import attrs

from advokit.core.errors import InvalidValue

__all__ = ["GSM7_BASIC", "GSM7_EXTENSION", "Segments", "count_segments"]

# The basic table in code order, 0x00 to 0x7F, 16 a line. 0x1B is the escape
# to the extension table, not a character a text can contain, so it is left out.
# The Greek capitals are spelled by name: several look like Latin letters.
_GSM7_BASIC_TABLE = (
    "@£$¥èéùìòÇ\nØø\rÅå"
    "\N{GREEK CAPITAL LETTER DELTA}_\N{GREEK CAPITAL LETTER PHI}"
    "\N{GREEK CAPITAL LETTER GAMMA}\N{GREEK CAPITAL LETTER LAMDA}"
    "\N{GREEK CAPITAL LETTER OMEGA}\N{GREEK CAPITAL LETTER PI}"
    "\N{GREEK CAPITAL LETTER PSI}\N{GREEK CAPITAL LETTER SIGMA}"
    "\N{GREEK CAPITAL LETTER THETA}\N{GREEK CAPITAL LETTER XI}ÆæßÉ"
    " !\"#¤%&'()*+,-./"
    "0123456789:;<=>?"
    "¡ABCDEFGHIJKLMNO"
    "PQRSTUVWXYZÄÖÑÜ§"
    "¿abcdefghijklmno"
    "pqrstuvwxyzäöñüà"
)

GSM7_BASIC: frozenset[str] = frozenset(_GSM7_BASIC_TABLE)
"""The GSM 03.38 basic character set (127 characters): one septet each."""

GSM7_EXTENSION: frozenset[str] = frozenset("\x0c^{}\\[~]|€")
"""The GSM 03.38 extension table: two septets each (the escape, then the character)."""

_GSM7: frozenset[str] = GSM7_BASIC | GSM7_EXTENSION
_GSM7_EXTENSION_HAS = GSM7_EXTENSION.__contains__
# A character above the last BMP code point takes a surrogate pair in UTF-16.
_BMP_LAST = "\uffff"

_GSM7_SINGLE, _GSM7_PART = 160, 153
_UCS2_SINGLE, _UCS2_PART = 70, 67


@attrs.frozen
class Segments:
    """How an SMS text is encoded and how many segments it takes.

    Attributes:
        encoding: ``"GSM-7"`` or ``"UCS-2"``.
        units: septets for GSM-7 (an extension-table character counts 2),
            UTF-16 code units for UCS-2 (a character outside the BMP counts 2).
        segments: the number of segments billed; 0 for the empty text.
        per_segment: the room in each segment: 160 or 70 when the text fits
            in one, else 153 or 67.
    """

    encoding: str
    units: int
    segments: int
    per_segment: int

    def __str__(self) -> str:
        segments = "segment" if self.segments == 1 else "segments"
        characters = "character" if self.units == 1 else "characters"
        return f"{self.segments} {segments} ({self.encoding}, {self.units} {characters})"


def count_segments(text: str) -> Segments:
    """Count the SMS segments ``text`` takes.

    Raises:
        InvalidValue: ``text`` is not a str.
    """
    if not isinstance(text, str):
        raise InvalidValue("text", text, "a str")
    if _GSM7.issuperset(text):
        # Counting each of the few extension characters runs in C: much
        # faster than a Python loop over the text.
        units = len(text) + sum(text.count(char) for char in GSM7_EXTENSION)
        return _segments(
            "GSM-7", text, units, _GSM7_SINGLE, _GSM7_PART, map(_GSM7_EXTENSION_HAS, text)
        )
    # "surrogatepass" so that a lone surrogate counts one unit instead of raising.
    units = len(text.encode("utf-16-le", "surrogatepass")) // 2
    return _segments("UCS-2", text, units, _UCS2_SINGLE, _UCS2_PART, map(_BMP_LAST.__lt__, text))


def _segments(
    encoding: str, text: str, units: int, single: int, part: int, doubles: Iterable[bool]
) -> Segments:
    """``doubles`` tells, character by character, whether it takes two units."""
    if units <= single:
        return Segments(encoding, units, 1 if units else 0, single)
    if units == len(text):
        # No two-unit character, so no pair to keep together: plain division.
        return Segments(encoding, units, -(-units // part), part)
    parts, used = 1, 0
    for double in doubles:
        cost = 2 if double else 1
        if used + cost > part:
            parts, used = parts + 1, cost
        else:
            used += cost
    return Segments(encoding, units, parts, part)
