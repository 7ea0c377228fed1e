"""SMS segment counting (advokit.plugins.channels.segments)."""

from __future__ import annotations

import pytest
from hypothesis import given
from hypothesis import strategies as st

from advokit.core.errors import InvalidValue
from advokit.plugins.channels.segments import (
    GSM7_BASIC,
    GSM7_EXTENSION,
    Segments,
    count_segments,
)

# Written out again here, from GSM 03.38, so that the tests do not trust the
# module's own table.
BASIC = (
    "@£$¥èéùìòÇ\nØø\rÅåΔ_ΦΓΛΩΠΨΣΘΞÆæßÉ"
    " !\"#¤%&'()*+,-./0123456789:;<=>?"
    "¡ABCDEFGHIJKLMNOPQRSTUVWXYZÄÖÑÜ§"
    "¿abcdefghijklmnopqrstuvwxyzäöñüà"
)
EXTENSION = "\x0c^{}\\[~]|€"
EMOJI = "\N{GRINNING FACE}"


def test_the_character_tables_are_gsm_03_38():
    assert len(BASIC) == 127
    assert frozenset(BASIC) == GSM7_BASIC
    assert frozenset(EXTENSION) == GSM7_EXTENSION
    assert not GSM7_BASIC & GSM7_EXTENSION
    assert "\x1b" not in GSM7_BASIC | GSM7_EXTENSION


@pytest.mark.parametrize(
    ("length", "segments", "per_segment"),
    [(0, 0, 160), (1, 1, 160), (160, 1, 160), (161, 2, 153), (306, 2, 153), (307, 3, 153)],
)
def test_gsm7_boundaries(length, segments, per_segment):
    assert count_segments("a" * length) == Segments("GSM-7", length, segments, per_segment)


@pytest.mark.parametrize(
    ("length", "segments", "per_segment"),
    [(70, 1, 70), (71, 2, 67), (134, 2, 67), (135, 3, 67)],
)
def test_ucs2_boundaries(length, segments, per_segment):
    text = "ç" + "a" * (length - 1)
    assert count_segments(text) == Segments("UCS-2", length, segments, per_segment)


@pytest.mark.parametrize("char", sorted(EXTENSION))
def test_an_extension_character_counts_two_septets(char):
    assert count_segments(char) == Segments("GSM-7", 2, 1, 160)
    assert count_segments("a" + char + "a").units == 4


def test_eighty_euro_signs_fill_one_segment():
    assert count_segments("€" * 80) == Segments("GSM-7", 160, 1, 160)
    assert count_segments("€" * 81) == Segments("GSM-7", 162, 2, 153)
    assert count_segments("€" * 80 + "a") == Segments("GSM-7", 161, 2, 153)


def test_an_escape_sequence_is_not_split_across_parts():
    # 152 + 2 = 154 septets: the euro does not fit in the first part's last septet.
    assert count_segments("a" * 152 + "€" + "a" * 10) == Segments("GSM-7", 164, 2, 153)
    assert count_segments("a" * 152 + "€" + "a" * 151) == Segments("GSM-7", 305, 2, 153)
    # Plain division would give 2 (306 septets), but part one ends after 152.
    assert count_segments("a" * 152 + "€" + "a" * 152) == Segments("GSM-7", 306, 3, 153)
    # Two euros each landing at a boundary: 152 | 2+150 | 2+...
    text = "a" * 152 + "€" + "a" * 150 + "€" + "a"
    assert count_segments(text) == Segments("GSM-7", 307, 3, 153)
    # Aligned, the same septets fit exactly in two parts.
    assert count_segments("a" * 151 + "€" + "a" * 153).segments == 2


def test_portuguese_is_ucs2():
    text = "Olá! Obrigação pela indicação, João."
    assert count_segments(text) == Segments("UCS-2", len(text), 1, 70)
    assert count_segments("ç").encoding == "UCS-2"
    assert count_segments("ã").encoding == "UCS-2"
    assert count_segments("Ç").encoding == "GSM-7"


@pytest.mark.parametrize("char", ["ç", "á", "í", "ó", "ú", "ã", "õ", "ê", "`", "\u2018", "\u201c"])
def test_characters_outside_gsm7_force_ucs2(char):
    assert count_segments("Hello " + char).encoding == "UCS-2"


def test_one_ucs2_character_makes_the_whole_message_ucs2():
    assert count_segments("a" * 160).segments == 1
    assert count_segments("a" * 159 + "ç") == Segments("UCS-2", 160, 3, 67)


def test_an_emoji_counts_two_units():
    assert count_segments(EMOJI) == Segments("UCS-2", 2, 1, 70)
    assert count_segments(EMOJI * 35) == Segments("UCS-2", 70, 1, 70)
    assert count_segments(EMOJI * 36) == Segments("UCS-2", 72, 2, 67)


def test_a_surrogate_pair_is_not_split_across_parts():
    # 66 + 2 = 68 units: the emoji does not fit in the first part's last unit,
    # so 134 units take 3 parts (66 | 2+65 | 1) where plain division gives 2.
    assert count_segments("ç" * 66 + EMOJI + "ç" * 65) == Segments("UCS-2", 133, 2, 67)
    assert count_segments("ç" * 66 + EMOJI + "ç" * 66) == Segments("UCS-2", 134, 3, 67)
    assert count_segments("ç" * 65 + EMOJI + "ç" * 67) == Segments("UCS-2", 134, 2, 67)


def test_str():
    assert str(count_segments("a" * 161)) == "2 segments (GSM-7, 161 characters)"
    assert str(count_segments("a")) == "1 segment (GSM-7, 1 character)"
    assert str(count_segments("")) == "0 segments (GSM-7, 0 characters)"
    assert str(count_segments("ç" * 70)) == "1 segment (UCS-2, 70 characters)"


@pytest.mark.parametrize("value", [None, 160, b"hello", ["a"]])
def test_bad_input_is_refused(value):
    with pytest.raises(InvalidValue) as caught:
        count_segments(value)
    assert caught.value.field == "text"
    assert caught.value.value is value
    assert str(caught.value).startswith("text=")


def reference(text: str) -> tuple[str, int]:
    """The encoding and segments of a text without extension characters or surrogates."""
    if all(char in BASIC for char in text):
        single, part, encoding = 160, 153, "GSM-7"
    else:
        single, part, encoding = 70, 67, "UCS-2"
    if not text:
        return encoding, 0
    if len(text) <= single:
        return encoding, 1
    return encoding, (len(text) + part - 1) // part


_plain = st.one_of(
    st.sampled_from(BASIC),
    st.characters(max_codepoint=0xFFFF, exclude_characters=EXTENSION),
)


@given(st.text(_plain, max_size=400) | st.text(st.sampled_from(BASIC), max_size=500))
def test_agrees_with_the_reference(text):
    counted = count_segments(text)
    assert (counted.encoding, counted.segments) == reference(text)
    assert counted.units == len(text)


@given(
    st.text(st.sampled_from(BASIC + EXTENSION) | st.characters(), max_size=400),
    st.sampled_from(BASIC + EXTENSION) | st.characters(),
)
def test_appending_a_character_never_lowers_the_count(text, char):
    before, after = count_segments(text), count_segments(text + char)
    assert after.segments >= before.segments
    assert after.units > before.units or after.encoding != before.encoding
