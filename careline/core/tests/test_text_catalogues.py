"""The gettext catalogues of patient texts: complete for every supported language, compiled as committed.

The msgids come from the code itself (xgettext with Django's keywords, as `make messages` runs it), so a new
patient text without a translation, a stale .po or a .mo not rebuilt by `make messages` fails here.
"""

from __future__ import annotations

import gettext
import os
import re
import shutil
import subprocess
from pathlib import Path

import pytest
from django.conf import settings
from django.utils.translation.template import templatize

from careline.core.languages import DEFAULT_TEXT_LANGUAGE, say, supported_languages, text_language
from careline.patients.models import Language, Patient

ROOT = Path(settings.BASE_DIR)
LOCALE = ROOT / "careline" / "locale"
# The catalogued source: the project package without the demo's fake content (see the Makefile).
KEYWORDS = ["gettext_lazy", "pgettext:1c,2", "pgettext_lazy:1c,2", "gettext_noop", "gettext"]
_ESCAPES = {"n": "\n", "t": "\t", '"': '"', "\\": "\\"}
OTHER_LANGUAGES = [code for code in supported_languages() if code != DEFAULT_TEXT_LANGUAGE]


@pytest.fixture
def needs_gettext() -> None:
    """Skip without GNU gettext's tools (`make run` needs none); with CI=true their absence fails."""
    if shutil.which("xgettext") and shutil.which("msgfmt"):
        return
    if os.environ.get("CI", "").lower() == "true":
        pytest.fail("CI=true and GNU gettext (xgettext, msgfmt) is not installed")
    pytest.skip("GNU gettext tools are not installed")


def read_po(path: Path) -> dict[tuple[str | None, str], tuple[str, set[str]]]:
    """(context, msgid) -> (msgstr, flags) of a .po file (singular entries; obsolete ones skipped)."""
    entries: dict[tuple[str | None, str], tuple[str, set[str]]] = {}
    for block in path.read_text(encoding="utf-8").split("\n\n"):
        flags: set[str] = set()
        parts: dict[str, str] = {}
        field = ""
        for line in block.strip().splitlines():
            if line.startswith("#,"):
                flags |= {flag.strip() for flag in line[2:].split(",")}
            elif line.startswith("#"):
                continue
            elif line.startswith('"'):
                parts[field] += _unquote(line)
            else:
                field, _, rest = line.partition(" ")
                parts[field] = _unquote(rest)
        if parts.get("msgid"):
            # A plural entry is translated when its first form is (msgfmt --check-format checks the rest).
            msgstr = parts.get("msgstr", parts.get("msgstr[0]", ""))
            entries[parts.get("msgctxt"), parts["msgid"]] = (msgstr, flags)
    return entries


def _unquote(quoted: str) -> str:
    return re.sub(r"\\(.)", lambda m: _ESCAPES.get(m.group(1), m.group(0)), quoted.strip()[1:-1])


def _template_sources(tmp_path: Path) -> list[str]:
    """Templates that mark texts ({% translate %}, {% blocktranslate %}), turned into what xgettext reads
    the way `makemessages` does it (Django's templatize), as files under TMP_PATH."""

    sources = []
    for path in sorted((ROOT / "careline").rglob("*.html")):
        parts = path.relative_to(ROOT).parts
        text = path.read_text(encoding="utf-8")
        if "demo" in parts or "tests" in parts or "translate" not in text:
            continue
        target = tmp_path / "templates" / f"{'__'.join(parts)}.py"
        target.parent.mkdir(parents=True, exist_ok=True)
        target.write_text(templatize(text, origin=str(path)), encoding="utf-8")
        sources.append(str(target))
    return sources


def code_msgids(tmp_path: Path) -> set[tuple[str | None, str]]:
    """Every (context, msgid) the code and the templates mark for translation."""
    sources = sorted(
        str(path.relative_to(ROOT))
        for path in (ROOT / "careline").rglob("*.py")
        if "demo" not in path.relative_to(ROOT).parts and "tests" not in path.relative_to(ROOT).parts
    ) + _template_sources(tmp_path)
    pot = tmp_path / "code.pot"
    subprocess.run(
        [
            "xgettext",
            "--language=Python",
            "--from-code=UTF-8",
            *(f"--keyword={keyword}" for keyword in KEYWORDS),
            "--output",
            str(pot),
            *sources,
        ],
        cwd=ROOT,
        check=True,
    )
    return set(read_po(pot))


def test_the_languages_texts_are_written_in_are_the_setting_and_the_patients_choices():
    assert supported_languages() == [code for code, _ in settings.LANGUAGES]
    assert DEFAULT_TEXT_LANGUAGE in supported_languages()
    field = Patient._meta.get_field("language")
    assert list(field.choices or []) == list(settings.LANGUAGES)
    assert Language.choices == list(settings.LANGUAGES)  # the names code uses for the shipped languages
    assert text_language("es") == "es"
    assert text_language("fr") == text_language(None) == text_language("") == DEFAULT_TEXT_LANGUAGE


@pytest.mark.parametrize("language", OTHER_LANGUAGES)
def test_every_patient_text_in_the_code_has_a_translation(tmp_path, language, needs_gettext):
    po = read_po(LOCALE / language / "LC_MESSAGES" / "django.po")
    used = code_msgids(tmp_path)
    assert used, "xgettext found no patient texts"
    missing = sorted(str(key) for key in used if key not in po)
    assert not missing, f"run `make messages` and translate: {missing}"
    untranslated = sorted(str(key) for key in used if not po[key][0] or "fuzzy" in po[key][1])
    assert not untranslated, f"empty or fuzzy in {language}: {untranslated}"
    stale = sorted(str(key) for key in po if key not in used)
    assert not stale, f"no longer in the code (run `make messages`): {stale}"


@pytest.mark.parametrize("language", OTHER_LANGUAGES)
def test_the_committed_mo_is_the_compiled_po(tmp_path, language, needs_gettext):
    folder = LOCALE / language / "LC_MESSAGES"
    fresh = tmp_path / "django.mo"
    # As compilemessages runs it: placeholders must match between the English and the translation.
    subprocess.run(["msgfmt", "--check-format", "-o", str(fresh), str(folder / "django.po")], check=True)
    with (folder / "django.mo").open("rb") as committed, fresh.open("rb") as compiled:
        assert gettext.GNUTranslations(committed)._catalog == gettext.GNUTranslations(compiled)._catalog, (
            f"careline/locale/{language} .mo is older than its .po: run `make messages`"
        )


@pytest.mark.parametrize("language", OTHER_LANGUAGES)
def test_texts_are_said_in_the_language_asked_and_then_the_language_goes_back(language):
    from django.utils import translation
    from django.utils.translation import pgettext_lazy

    text = pgettext_lazy("clinic without a name", "Your clinic")
    with translation.override("en"):
        assert say(text, language) != "Your clinic"
        assert translation.get_language() == "en"
    assert say(text, "fr") == "Your clinic"
