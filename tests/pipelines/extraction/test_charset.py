"""Pages in legacy charsets, declared right, wrong or not at all, decode to their text."""

import pytest

from pipelines.extraction.charset import decode_page, without_mojibake

ZH = "新华社北京三月五日电，国务院总理在政府工作报告中说，今年经济增长预期目标为百分之五左右。朱镕基曾经说过，改革要坚定不移。"
JA = "東京証券取引所では、日経平均株価が前日比で三百円あまり値上がりし、取引を終えました。市場関係者は円安の影響を指摘しています。"
KO = "서울 중앙지방법원은 오늘 오후 피고인에게 징역 3년을 선고했다고 밝혔다. 재판부는 사안이 중대하다고 판단했다."
AR = "قالت وزارة الخارجية في بيان اليوم إن المحادثات ستستأنف الأسبوع المقبل في العاصمة، بحضور وفود من عدة دول عربية."
FR = "Le président de la République a annoncé mercredi une réforme des retraites, déjà critiquée par les syndicats français."
ZH_TW = "中央社台北五日電，行政院長今天在立法院表示，政府將持續推動經濟發展與區域和平。"


def page(text: str, meta: str = "") -> str:
    return f"<html><head>{meta}<title>t</title></head><body><article><p>{text}</p></article></body></html>"


@pytest.mark.parametrize(
    ("text", "charset"),
    [
        (ZH, "gb2312"),
        (ZH, "gbk"),
        (ZH_TW, "big5"),
        (JA, "shift_jis"),
        (JA, "euc-jp"),
        (KO, "euc-kr"),
        (AR, "windows-1256"),
        (FR, "iso-8859-1"),
    ],
)
def test_a_declared_legacy_charset_is_read_as_browsers_read_it(text, charset):
    # GB2312 is read as GB18030: 镕 is outside GB2312 and inside what pages labelled GB2312 use.
    codec = {"gb2312": "gb18030", "iso-8859-1": "cp1252"}.get(charset, charset)
    body = page(text, f'<meta charset="{charset}">').encode(codec)
    by_meta = decode_page(body)
    by_header = decode_page(page(text).encode(codec), charset)
    for decoded in (by_meta, by_header):
        assert text in decoded.text
        assert decoded.notes == ()


def test_a_few_bad_bytes_are_replaced_not_a_reason_to_change_the_charset():
    good = page(ZH * 3, '<meta http-equiv="Content-Type" content="text/html; charset=gbk">').encode("gb18030")
    middle = good.index("。".encode("gb18030"))
    body = good[:middle] + b"\xff" + good[middle:]  # one byte no GBK sequence starts with
    decoded = decode_page(body, "gbk")
    assert decoded.encoding == "gb18030"
    assert decoded.notes == ("bytes_replaced",)
    assert decoded.text.count("\ufffd") == 1
    assert decoded.text.count(ZH[:20]) == 3


def test_a_page_in_utf8_that_declares_a_legacy_charset_is_read_as_utf8():
    body = page(ZH, '<meta charset="gb2312">').encode("utf-8")
    decoded = decode_page(body)
    assert ZH in decoded.text
    assert decoded.notes == ("charset_mismatch",)
    lying_header = decode_page(page(FR).encode("utf-8"), "iso-8859-1")
    assert FR in lying_header.text
    assert lying_header.notes == ("charset_mismatch",)


def test_a_header_the_bytes_contradict_gives_way_to_the_meta():
    body = page(AR * 2, '<meta charset="windows-1256">').encode("cp1256")
    decoded = decode_page(body, "utf-8")
    assert AR in decoded.text
    assert decoded.notes == ("charset_mismatch",)


@pytest.mark.parametrize(
    ("text", "codec"), [(ZH * 4, "gb18030"), (JA * 4, "cp932"), (AR * 4, "cp1256"), (FR * 4, "cp1252")]
)
def test_an_undeclared_charset_is_detected(text, codec):
    decoded = decode_page(page(text).encode(codec))
    assert text in decoded.text
    assert decoded.notes == ("charset_detected",)


def test_a_byte_order_mark_wins():
    body = "\ufeff".encode("utf-16-le") + page(KO, '<meta charset="iso-8859-1">').encode("utf-16-le")
    decoded = decode_page(body, "iso-8859-1")
    assert KO in decoded.text


def test_binary_bytes_still_decode_to_something():
    decoded = decode_page(bytes(range(256)) * 20, "utf-8")
    assert isinstance(decoded.text, str)
    assert decoded.notes


def test_an_undeclared_gbk_page_with_a_stray_byte_is_still_read_as_gbk():
    # Detection alone refuses a charset one byte breaks, and read such a real page as Cyrillic.
    good = page(ZH * 6).encode("gb18030")
    middle = good.index("。".encode("gb18030"))
    decoded = decode_page(good[:middle] + b"\xff" + good[middle:])
    assert decoded.encoding == "gb18030"
    assert decoded.notes == ("charset_detected", "bytes_replaced")
    assert decoded.text.count(ZH[:20]) == 6


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        # UTF-8 read back as Windows-1252, and as Latin-1 (C1 control characters)
        ("It doesn\u00e2\u20ac\u2122t close \u00e2\u20ac\u201d yet", "It doesn\u2019t close \u2014 yet"),
        ("A Sailor\u00e2\u0080\u0099s Guide", "A Sailor\u2019s Guide"),
        ("Emoji \u00f0\u0178\u02dc\u20ac here", "Emoji \U0001f600 here"),
        # mixed with characters read right, which stay
        ("caf\u00e9\u2019s \u00e2\u20ac\u201c open", "caf\u00e9\u2019s \u2013 open"),
        # letters that may be two letters, and text without a misreading, stay
        ("S\u00c3O Paulo, \u00c3\u00a9t\u00e9", "S\u00c3O Paulo, \u00c3\u00a9t\u00e9"),
        ("Price \u20ac5, caf\u00e9 \u2019quoted\u2019", "Price \u20ac5, caf\u00e9 \u2019quoted\u2019"),
    ],
)
def test_characters_encoded_twice_are_read_once(text, expected):
    assert without_mojibake(text) == expected
