"""Urgent words: the one matcher for "this patient may need help now", shared by texts and the portal.

The list itself is the portal's (`portal.UrgentPhrase`, which administrators edit); the portal sits above
messaging, so it lends the list through `urgent_phrases_source_register` in its AppConfig.ready(). The
matcher folds case, accents and apostrophes and matches whole words ("Can't  BREATHE!" has "can't breathe";
"my painting of a chest" has no "chest pain").

After hours, an inbound text with urgent words is announced as `UrgentTextAfterHours`
(careline/messaging/events.py), and the patient's automatic answer depends on whether some feature answers
for such texts: `urgent_responder_register` (the on-call line registers itself), so messaging never imports it.
"""

from __future__ import annotations

import unicodedata
from collections.abc import Callable, Iterable, Sequence
from dataclasses import dataclass

PhraseSource = Callable[[], Iterable[str]]

_sources: list[PhraseSource] = []


def text_fold(text: str) -> str:
    """TEXT for matching: lower case, accents and apostrophes dropped, anything else not a letter or digit a
    single space ("Can’t  BREATHE!" -> "cant breathe", "Dolor de PECHO" -> "dolor de pecho")."""
    decomposed = unicodedata.normalize("NFKD", text or "")
    plain = "".join(ch for ch in decomposed if not unicodedata.combining(ch))
    plain = plain.lower().replace("'", "").replace("\u2019", "").replace("\u2018", "")
    return " ".join("".join(ch if ch.isalnum() else " " for ch in plain).split())


def urgent_phrases_source_register(source: PhraseSource) -> None:
    """Read the urgent phrases from SOURCE (called on each match; registering twice is ignored)."""
    if source not in _sources:
        _sources.append(source)


def urgent_phrases() -> list[str]:
    """Every urgent phrase of every registered source (any language), in the sources' order."""
    return [phrase for source in _sources for phrase in source()]


def urgent_phrase_in(text: str, phrases: Sequence[str] | None = None) -> str:
    """The first urgent phrase (PHRASES, else the registered list) TEXT contains as whole words, or ""."""
    folded = f" {text_fold(text)} "
    if phrases is None:
        phrases = urgent_phrases()
    for phrase in phrases:
        wanted = text_fold(phrase)
        if wanted and f" {wanted} " in folded:
            return phrase
    return ""


@dataclass(frozen=True)
class UrgentResponder:
    """A feature that answers for urgent texts after hours (the on-call line).

    `covers(location_id)` says whether someone is told about an urgent text at that location now (the
    patient's answer says so only then).
    """

    code: str
    covers: Callable[[int], bool]


_responders: dict[str, UrgentResponder] = {}


def urgent_responder_register(*, code: str, covers: Callable[[int], bool]) -> None:
    """Register the feature CODE as answering for urgent after-hours texts (re-registering replaces it)."""
    _responders[code] = UrgentResponder(code=code, covers=covers)


def urgent_responder_unregister(code: str) -> None:
    """Forget the responder CODE (tests)."""
    _responders.pop(code, None)


def urgent_responder_for(location_id: int) -> UrgentResponder | None:
    """The first registered responder that tells someone about an urgent text at LOCATION_ID now; None."""
    return next((r for r in _responders.values() if r.covers(location_id)), None)
