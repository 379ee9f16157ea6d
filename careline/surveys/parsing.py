"""Reading a patient's survey reply (pure): a score from digits or number words in English or Spanish,
and whatever follows it as a comment ("4 great staff", "cinco, muy amables", "8/10")."""

from __future__ import annotations

import re
import unicodedata
from dataclasses import dataclass

NUMBER_WORDS: dict[str, int] = {
    # English
    "zero": 0, "one": 1, "two": 2, "three": 3, "four": 4, "five": 5, "six": 6, "seven": 7, "eight": 8,
    "nine": 9, "ten": 10,
    # Spanish (accents folded)
    "cero": 0, "uno": 1, "una": 1, "dos": 2, "tres": 3, "cuatro": 4, "cinco": 5, "seis": 6, "siete": 7,
    "ocho": 8, "nueve": 9, "diez": 10,
}  # fmt: skip

_LEADING = re.compile(
    r"^\s*(?P<score>\d{1,2}|[a-z]+)(?:\s*(?:/|out of|de|sobre)\s*(?:\d{1,2}))?(?P<rest>.*)$", re.S
)


@dataclass(frozen=True)
class ParsedAnswer:
    score: int
    comment: str


def _fold(text: str) -> str:
    decomposed = unicodedata.normalize("NFKD", text.lower())
    return "".join(c for c in decomposed if not unicodedata.combining(c))


def answer_parse(text: str, *, low: int, high: int) -> ParsedAnswer | None:
    """The score (LOW..HIGH) the text starts with and the rest as a comment; None when it starts with none."""
    original = (text or "").strip()
    match = _LEADING.match(_fold(original))
    if match is None:
        return None
    word = match.group("score")
    score = int(word) if word.isdigit() else NUMBER_WORDS.get(word)
    if score is None or not low <= score <= high:
        return None
    rest_start = len(original) - len(match.group("rest"))
    comment = original[rest_start:].strip(" \t\r\n,.;:-!")
    return ParsedAnswer(score=score, comment=comment[:1000])
