"""The languages Careline writes patient texts in, and how a catalogue text is said in one of them.

The supported languages are settings.LANGUAGES; their texts live in gettext catalogues
(careline/locale/<code>/LC_MESSAGES/django.po, compiled to .mo by `make messages`). The English source
strings are the msgids, each with a context naming its feature, so a third language is a new .po file.
"""

from __future__ import annotations

import re
from collections.abc import Mapping

from django.conf import settings
from django.utils import translation
from django.utils.functional import Promise

# The language of a text when the patient's language is not one Careline writes in.
DEFAULT_TEXT_LANGUAGE = "en"

_PLACEHOLDER = re.compile(r"\{([a-z_][a-z0-9_]*)\}")


def supported_languages() -> list[str]:
    """The codes of the languages patient texts are written in (settings.LANGUAGES, in order)."""
    return [code for code, _ in settings.LANGUAGES]


def language_choices() -> list[tuple[str, str]]:
    """(code, name) of each supported language: model fields take this callable as their choices, so adding
    a language to settings.LANGUAGES needs no migration."""
    return list(settings.LANGUAGES)


def language_name(code: str) -> str:
    """The English name of the supported language CODE (the code itself for one that is not supported)."""
    return dict(settings.LANGUAGES).get(code, code)


def translation_languages() -> list[str]:
    """The supported languages other than the default one: those a text may be translated into."""
    return [code for code in supported_languages() if code != DEFAULT_TEXT_LANGUAGE]


def translations_kept(translations: Mapping[str, str]) -> dict[str, str]:
    """TRANSLATIONS limited to supported non-default languages with a text, stripped, in settings order."""
    kept = {code: (translations.get(code) or "").strip() for code in translation_languages()}
    return {code: text for code, text in kept.items() if text}


def text_language(language: str | None) -> str:
    """LANGUAGE when Careline writes texts in it, else English."""
    return language if language in supported_languages() else DEFAULT_TEXT_LANGUAGE


def say(text: Promise | str, language: str | None, **values: object) -> str:
    """TEXT (a catalogue entry) in LANGUAGE, its `{name}` placeholders filled from VALUES.

    Values are inserted as they are (never parsed again), so a name with braces stays a name.
    """
    with translation.override(text_language(language)):
        said = str(text)
    return fill(said, values) if values else said


def fill(text: str, values: Mapping[str, object]) -> str:
    """TEXT with each `{name}` replaced by VALUES[name] (KeyError for a name the caller did not give)."""
    return _PLACEHOLDER.sub(lambda match: str(values[match.group(1)]), text)
