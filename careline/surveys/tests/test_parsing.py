from careline.surveys.parsing import answer_parse


def test_digits_words_and_comments_in_english_and_spanish():
    assert answer_parse("4", low=1, high=5).score == 4
    assert answer_parse(" 5 stars!", low=1, high=5).score == 5
    parsed = answer_parse("Five, great visit", low=1, high=5)
    assert parsed is not None and (parsed.score, parsed.comment) == (5, "great visit")
    parsed = answer_parse("cuatro: muy bien atendida", low=1, high=5)
    assert parsed is not None and (parsed.score, parsed.comment) == (4, "muy bien atendida")
    assert answer_parse("diez", low=0, high=10).score == 10
    assert answer_parse("cero", low=0, high=10).score == 0
    assert answer_parse("8/10", low=0, high=10).score == 8
    assert answer_parse("8 de 10 la recomiendo", low=0, high=10).comment == "la recomiendo"


def test_no_score_out_of_range_or_not_first_is_no_answer():
    assert answer_parse("6", low=1, high=5) is None
    assert answer_parse("0", low=1, high=5) is None
    assert answer_parse("Can I come at 4?", low=1, high=5) is None
    assert answer_parse("", low=1, high=5) is None
    assert answer_parse("twelve", low=0, high=10) is None
