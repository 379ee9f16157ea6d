"""The segment counter against an independent reference written here from the GSM 03.38 rules."""

from __future__ import annotations

from hypothesis import given
from hypothesis import strategies as st

from careline.messaging.segments import segment_info

# GSM 03.38 default alphabet, written out by code point table rows (0x00-0x7F), independent of segments.py.
REF_BASIC = (
    "@£$¥èéùìòÇ\nØø\rÅå"
    "Δ_ΦΓΛΩΠΨΣΘΞ\x1bÆæßÉ"
    " !\"#¤%&'()*+,-./"
    "0123456789:;<=>?"
    "¡ABCDEFGHIJKLMNO"
    "PQRSTUVWXYZÄÖÑÜ§"
    "¿abcdefghijklmno"
    "pqrstuvwxyzäöñüà"
)
REF_BASIC = REF_BASIC.replace("\x1b", "")  # the escape itself is not a character of a message
REF_EXTENSION = "\f^{}\\[~]|€"


def reference_segments(text: str) -> tuple[str, int]:
    """(encoding, segments) by the textbook rules: 160/153 septets, 70/67 UTF-16 units, no split characters."""
    if all(ch in REF_BASIC or ch in REF_EXTENSION for ch in text):
        sizes = [2 if ch in REF_EXTENSION else 1 for ch in text]
        single, part, encoding = 160, 153, "GSM-7"
    else:
        sizes = [2 if ord(ch) > 0xFFFF else 1 for ch in text]
        single, part, encoding = 70, 67, "UCS-2"
    total = sum(sizes)
    if total == 0:
        return encoding, 0
    if total <= single:
        return encoding, 1
    count, fill = 1, 0
    for size in sizes:
        if fill + size > part:
            count, fill = count + 1, 0
        fill += size
    return encoding, count


GSM_TEXT = st.text(alphabet=st.sampled_from(REF_BASIC + REF_EXTENSION), max_size=700)
ANY_TEXT = st.text(
    alphabet=st.one_of(st.sampled_from(REF_BASIC + REF_EXTENSION), st.characters(codec="utf-8")),
    max_size=400,
)
NON_GSM = st.characters(codec="utf-8").filter(lambda ch: ch not in REF_BASIC and ch not in REF_EXTENSION)


@given(ANY_TEXT)
def test_segments_match_the_reference(text: str) -> None:
    info = segment_info(text)
    assert (info.encoding, info.segments) == reference_segments(text)


@given(GSM_TEXT)
def test_gsm_text_matches_the_reference(text: str) -> None:
    info = segment_info(text)
    assert (info.encoding, info.segments) == reference_segments(text)
    assert info.units == sum(2 if ch in REF_EXTENSION else 1 for ch in text)


@given(ANY_TEXT, st.sampled_from(REF_BASIC + REF_EXTENSION + "é😀中"))
def test_appending_a_character_never_lowers_the_count_within_an_encoding(text: str, extra: str) -> None:
    before, after = segment_info(text), segment_info(text + extra)
    if before.encoding == after.encoding:
        assert after.segments >= before.segments


@given(ANY_TEXT, NON_GSM, st.integers(min_value=0, max_value=400))
def test_one_non_gsm_character_anywhere_means_ucs2(text: str, char: str, where: int) -> None:
    position = min(where, len(text))
    assert segment_info(text[:position] + char + text[position:]).encoding == "UCS-2"


def test_boundaries() -> None:
    assert segment_info("").segments == 0
    assert segment_info("a" * 160).segments == 1
    assert segment_info("a" * 161).segments == 2
    assert segment_info("a" * 306).segments == 2
    assert segment_info("a" * 307).segments == 3
    assert segment_info("€" * 80).segments == 1  # 160 septets: escapes count double
    assert segment_info("€" * 81).segments == 2
    assert segment_info("a" * 152 + "€" + "a" * 10).segments == 2  # the escape pair moves whole
    assert segment_info("é" * 160).encoding == "GSM-7"  # é is in the GSM alphabet
    assert segment_info("á").encoding == "UCS-2"  # á is not
    assert segment_info("😀" * 35).segments == 1  # 70 UTF-16 units
    assert segment_info("😀" * 36).segments == 2
