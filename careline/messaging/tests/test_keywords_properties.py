"""Property tests of the keyword matcher: any casing, spacing or punctuation of a keyword matches; sentences don't."""

from __future__ import annotations

from hypothesis import given
from hypothesis import strategies as st

from careline.messaging.keywords import HELP_WORDS, OPT_IN_WORDS, OPT_OUT_WORDS, Keyword, match_keyword

EXPECTED = {
    **dict.fromkeys(OPT_OUT_WORDS, Keyword.OPT_OUT),
    **dict.fromkeys(OPT_IN_WORDS, Keyword.OPT_IN),
    **dict.fromkeys(HELP_WORDS, Keyword.HELP),
}
PUNCTUATION = st.text(alphabet=".,!?¡¿'\"-*()…:;", max_size=3)
SPACE = st.text(alphabet=" \t\n\u00a0", max_size=3)
# Words that, run together, could spell a keyword are excluded below; everything else is an ordinary word.
WORD = st.text(alphabet=st.characters(whitelist_categories=("Ll", "Lu")), min_size=1, max_size=10)


@st.composite
def disguised_keyword(draw: st.DrawFn) -> tuple[str, Keyword]:
    word = draw(st.sampled_from(sorted(EXPECTED)))
    cased = "".join(ch.upper() if draw(st.booleans()) else ch.lower() for ch in word)
    # Punctuation may sit between letters ("S.T.O.P"), spaces only around the word.
    letters = [ch + draw(st.sampled_from(["", "", "", ".", "-", "'"])) for ch in cased]
    text = draw(SPACE) + draw(PUNCTUATION) + "".join(letters) + draw(PUNCTUATION) + draw(SPACE)
    return text, EXPECTED[word]


@given(disguised_keyword())
def test_any_casing_spacing_and_punctuation_of_a_keyword_matches(case: tuple[str, Keyword]) -> None:
    text, keyword = case
    assert match_keyword(text) is keyword


@given(st.lists(st.one_of(WORD, st.sampled_from(sorted(EXPECTED))), min_size=2, max_size=8))
def test_a_sentence_of_several_words_is_never_a_keyword(words: list[str]) -> None:
    joined = "".join(words).upper()
    if joined in {"OPTOUT", "OPTIN", "STOPALL"}:  # "opt out", "stop all": spelled-apart keywords, by design
        return
    assert match_keyword(" ".join(words)) is None


@given(st.text(alphabet="abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ", min_size=1, max_size=12))
def test_a_single_plain_word_is_a_keyword_exactly_when_it_is_on_a_list(word: str) -> None:
    assert match_keyword(word) is EXPECTED.get(word.upper())


def test_accents_are_ignored() -> None:
    assert match_keyword("Sí") is Keyword.OPT_IN
    assert match_keyword("¡AYÚDA!") is Keyword.HELP
