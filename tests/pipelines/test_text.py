from __future__ import annotations

import re
import unicodedata

import numpy as np

from pipelines.text import (
    join_paragraphs,
    normalize_text,
    paragraphs,
    without_direction_marks,
    word_hashes,
    word_units,
    words,
)


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


# --- scripts ---------------------------------------------------------------------------------

XINHUA = "新华社北京3月5日电 国务院总理今天在人民大会堂会见了来访的代表团，双方就经贸合作交换了意见。"


def test_chinese_is_read_in_two_character_windows_and_english_names_stay_words():
    assert words("国务院总理会见Biden") == ["国务", "务院", "院总", "总理", "理会", "会见", "biden"]
    assert word_units(XINHUA) == 4 + len(re.findall("[\u4e00-\u9fff]", XINHUA)) // 2


def test_a_traditional_or_full_width_copy_reads_as_the_same_words():
    traditional = (
        "新華社北京３月５日電 國務院總理今天在人民大會堂會見了來訪的代表團，雙方就經貿合作交換了意見。"
    )
    half_width = XINHUA.replace("，", ",").replace("。", ".")
    assert np.array_equal(word_hashes(traditional), word_hashes(XINHUA))
    assert np.array_equal(word_hashes(half_width), word_hashes(XINHUA))


def test_japanese_keeps_its_own_characters():
    # kana mark Japanese, whose kanji are not the traditional Chinese ones to be simplified
    assert words("東京で会見") == ["東京", "京で", "で会", "会見"]


def test_thai_is_read_in_four_character_windows():
    assert words("รัฐบาลไทย") == ["รัฐบ", "ัฐบา", "ฐบาล", "บาลไ", "าลไท", "ลไทย"]
    assert word_units("รัฐบาลไทย") == 2


def test_signatures_keep_one_window_in_a_word_chosen_by_content():
    story = XINHUA * 4
    hashes = word_hashes(story)
    assert 0.3 * len(words(story)) < len(hashes) < 0.7 * len(words(story))
    # the same text keeps the same windows wherever it stands
    assert set(word_hashes(XINHUA)) <= set(word_hashes("另据报道。" + XINHUA))


def test_word_hashes_of_paragraphs_concatenate_in_every_script():
    parts = [
        XINHUA,
        "国务院总理会见",
        "The minister met Biden.",
        "รัฐบาลไทยแถลงข่าว",
        "ทำเนียบรัฐบาล",
        "وزير الخارجية",
    ]
    joined = word_hashes("\n\n".join(parts))
    assert np.array_equal(joined, np.concatenate([word_hashes(part) for part in parts]))


def test_arabic_and_persian_letter_forms_marks_and_tatweel_are_folded():
    persian = "\u200fوزیر امور خارجه ایران گفت که مذاکرات ادامه دارد"
    arabic_forms = "وزير امور خارجه ايران گفت كه مذاكرات ادامـــه دارد"
    vowelled = "وَزیر امور خارجه ایران گفت که مذاکرات ادامه دارد\u200e"
    assert (
        word_hashes(persian).tolist() == word_hashes(arabic_forms).tolist() == word_hashes(vowelled).tolist()
    )
    assert words("٢٠٢٤ و ۱۴۰۳") == ["2024", "و", "1403"]


def test_russian_yo_reads_as_ye():
    assert words("Ещё всё решено") == words("Еще все решено")


def test_direction_marks_are_dropped_from_stored_text():
    assert without_direction_marks("\u200fقال الوزير\u200e (AP)\u202b نص\u202c") == "قال الوزير (AP) نص"


def test_spaces_between_thai_phrases_or_chinese_characters_do_not_matter():
    assert np.array_equal(word_hashes("รัฐบาล ไทย\u200bแถลง"), word_hashes("รัฐบาลไทยแถลง"))
    assert np.array_equal(word_hashes("国务院 总理"), word_hashes("国务院总理"))
    assert np.array_equal(word_hashes("国务院 \u3000 总理 Biden"), word_hashes("国务院总理Biden"))
    assert np.array_equal(word_hashes("东京、大阪"), word_hashes("东京,大阪"))  # punctuation still parts


def test_compatibility_forms_read_as_nfkc_reads_them():
    # full-width letters and digits, letter-like symbols, ideographic spaces; in the last text a
    # combining accent after a full-width letter composes with it, as NFKC of the whole text does
    for text in ("２０２４年３月　气温３０℃ 第Ⅱ期 ①号 ＮＡＳＡ", "ｃａｆｅ\u0301 和 cafe\u0301"):
        assert words(text) == words(unicodedata.normalize("NFKC", text))
    assert "café" in words("ｃａｆｅ\u0301 和")
