from __future__ import annotations

from pipelines.text import join_paragraphs, normalize_text, paragraphs, words


def test_typography_case_and_spacing_are_normalised():
    curly = "\u201cWe\u2019re ready\u201d \u2014 said\u00a0the   MINISTER\u2026"
    straight = '"we\'re ready" - said the minister...'
    assert normalize_text(curly) == normalize_text(straight) == straight


def test_full_width_characters_fold_to_ascii():
    assert normalize_text("\uff21\uff22\uff23 123") == "abc 123"


def test_words_ignore_punctuation_and_case():
    assert words("Taliban\u2019s \u201cvictory\u201d \u2014 Panjshir") == words(
        'taliban\'s "victory" - PANJSHIR'
    )
    assert words("Taliban\u2019s victory") == ["taliban", "s", "victory"]


def test_paragraphs_round_trip():
    text = join_paragraphs(["First.", "Second one."])
    assert text == "First.\n\nSecond one."
    assert paragraphs(text) == ["First.", "Second one."]
    assert paragraphs("a\n\n\n b \n") == ["a", "b"]
