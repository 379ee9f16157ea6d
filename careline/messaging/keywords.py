"""Compliance keywords (STOP, START, HELP and their Spanish equivalents) and free-text opt-out phrases."""

from __future__ import annotations

import re
import unicodedata
from enum import Enum


class Keyword(Enum):
    OPT_OUT = "opt_out"
    OPT_IN = "opt_in"
    HELP = "help"


OPT_OUT_WORDS = frozenset(
    {
        "STOP",
        "STOPALL",
        "UNSUBSCRIBE",
        "CANCEL",
        "END",
        "QUIT",
        "REVOKE",
        "OPTOUT",
        "ALTO",
        "PARAR",
        "PARE",
        "DETENER",
        "BAJA",
        "CANCELAR",
    }
)
OPT_IN_WORDS = frozenset({"START", "UNSTOP", "YES", "SUBSCRIBE", "OPTIN", "SI", "COMENZAR", "INICIAR"})
HELP_WORDS = frozenset({"HELP", "INFO", "AYUDA"})

# The Spanish keywords: a number that matches no patient is answered in the language of the word it sent.
SPANISH_WORDS = frozenset(
    {"ALTO", "PARAR", "PARE", "DETENER", "BAJA", "CANCELAR", "SI", "COMENZAR", "INICIAR", "AYUDA"}
)

# Opt-in words that only mean "opt back in" right after an opt-out (YES is also an everyday answer).
CONDITIONAL_OPT_IN_WORDS = frozenset({"YES", "SI"})

_FREE_TEXT_OPT_OUT = re.compile(
    r"\b(stop|quit|don'?t|do not|no more)\b.{0,25}\b(text|texting|message|messages|messaging|sms|contact|contacting)\b"
    r"|\bunsubscribe\b|\bremove me\b|\bopt( me)? out\b|\btake me off\b"
    r"|\bno m[aá]s (mensajes|textos)\b|\bdej(e|en) de (enviar|mandar|escribir)\b|\bya no (me )?(env[ií]en|manden|escriban)\b",
    re.IGNORECASE,
)


def normalize_keyword(text: str) -> str:
    """TEXT as a keyword candidate: letters only, upper case, accents dropped ('  Stop! ' -> 'STOP')."""
    decomposed = unicodedata.normalize("NFKD", text or "")
    letters = "".join(ch for ch in decomposed if ch.isalpha() and not unicodedata.combining(ch))
    return letters.upper()


def _is_single_word(text: str) -> bool:
    return len((text or "").split()) <= 1 or normalize_keyword(text) in {"OPTOUT", "OPTIN", "STOPALL"}


def match_keyword(text: str) -> Keyword | None:
    """The keyword a one-word message is, ignoring case, spaces and punctuation; None for anything else."""
    if not _is_single_word(text):
        return None
    word = normalize_keyword(text)
    if word in OPT_OUT_WORDS:
        return Keyword.OPT_OUT
    if word in OPT_IN_WORDS:
        return Keyword.OPT_IN
    if word in HELP_WORDS:
        return Keyword.HELP
    return None


def keyword_language(text: str) -> str:
    """'es' when TEXT is a Spanish keyword (ALTO, AYUDA, COMENZAR…), else 'en'."""
    return "es" if normalize_keyword(text) in SPANISH_WORDS else "en"


def is_conditional_opt_in(text: str) -> bool:
    """Whether TEXT is an opt-in word that only counts when the number is opted out (YES, SÍ)."""
    return normalize_keyword(text) in CONDITIONAL_OPT_IN_WORDS


def looks_like_opt_out(text: str) -> bool:
    """Whether free text reads like a request to stop texting ('please stop texting me')."""
    return bool(_FREE_TEXT_OPT_OUT.search(text or ""))


_REPLY_WITH = re.compile(
    r"\b(?:reply|text|respond|send|responda|env[ií]e|conteste)\s+[\"'“]?(\w+)", re.IGNORECASE
)
_OPT_OUT_PURPOSE = re.compile(
    r"opt(?:[- ])?out|unsubscribe|stop (?:receiving|getting)|no more (?:texts|messages)|dejar de recibir|darse de baja",
    re.IGNORECASE,
)


def template_keyword_problem(text: str) -> str | None:
    """Why a template may not be used: it asks patients to reply an opt-out word for another purpose."""
    for match in _REPLY_WITH.finditer(text or ""):
        word = normalize_keyword(match.group(1))
        if word in OPT_OUT_WORDS:
            following = (text or "")[match.end() : match.end() + 50]
            if not _OPT_OUT_PURPOSE.search(following):
                return (
                    f"Patients may only be asked to reply {word} to stop texts: by law {word} opts the number "
                    "out. Use another word (for example X to cancel a visit)."
                )
    return None
