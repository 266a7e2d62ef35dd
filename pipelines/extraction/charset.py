"""A page's bytes to text, by the page's own evidence.

Evidence, strongest first: a byte order mark; bytes that are valid UTF-8 (text in any legacy
charset that has non-ASCII characters almost never is, so a page declaring GB2312 or ISO-8859-1
that is written in UTF-8 is read as UTF-8); the charset of the HTTP header, then the one of the
page's <meta>; detection (charset-normalizer) when neither decodes the page. Declared names are
read as browsers read them (GB2312 as GB18030, ISO-8859-1 as Windows-1252, Shift_JIS as CP932...).

A few bad bytes are not a reason to read the whole page in another charset: a GBK page with one
stray byte stays GBK, with that byte replaced. A declared charset is abandoned only when more
than a few of its bytes fail. Each repair is named in the notes, which the stage counts.
"""

from __future__ import annotations

import codecs
import re
from dataclasses import dataclass

from charset_normalizer import from_bytes
from w3lib.encoding import html_body_declared_encoding, read_bom, resolve_encoding

# Bytes that may fail in a declared charset before it is taken for the wrong one: a stray byte or
# two in a long page, never a page in another charset (that fails on most of its non-ASCII bytes).
_BAD_BYTES_ALLOWED = 8
_BAD_SHARE_ALLOWED = 0.01  # of the page's non-ASCII bytes
_DETECT_BYTES = 64 * 1024  # detection reads this much of a page; it is slow on megabytes
_UTF8 = "utf-8"
# Detection's measure of garbled text, below which two readings of a page count as alike.
_SAME_CHAOS = 0.05
# The East Asian charsets, as browsers read their labels, and what makes a reading running text:
# runs of Han, kana or Hangul this long on average (Western text misread gives single characters).
_EAST_ASIAN = ("gb18030", "big5hkscs", "cp932", "euc_jp", "cp949")
_CJK_RUN = re.compile("[\u3040-\u30ff\u3400-\u4dbf\u4e00-\u9fff\uac00-\ud7af]+")
_CJK_RUN_LENGTH = 4


@dataclass(frozen=True)
class Decoded:
    text: str
    encoding: str
    notes: tuple[str, ...] = ()  # "charset_mismatch", "charset_detected", "bytes_replaced"


def decode_page(body: bytes, http_charset: str | None = None) -> Decoded:
    """Decode *body*, an HTML page, served with *http_charset* (from Content-Type) if any."""
    bom_encoding, bom = read_bom(body)
    if bom_encoding and bom:
        return _lenient(body[len(bom) :], bom_encoding, ())
    if body.isascii():
        return Decoded(body.decode("ascii"), "ascii")
    declared = [
        name
        for name in dict.fromkeys([_resolve(http_charset), _resolve(html_body_declared_encoding(body))])
        if name
    ]
    try:
        text = body.decode(_UTF8)
    except UnicodeDecodeError:
        pass
    else:
        mismatch = bool(declared) and declared[0] != _UTF8
        return Decoded(text, _UTF8, ("charset_mismatch",) if mismatch else ())
    non_ascii = sum(1 for byte in body if byte > 0x7F)
    for position, encoding in enumerate(declared):
        text, bad = _decode_counting(body, encoding)
        if bad <= max(_BAD_BYTES_ALLOWED, _BAD_SHARE_ALLOWED * non_ascii):
            notes = (("charset_mismatch",) if position else ()) + (("bytes_replaced",) if bad else ())
            return Decoded(text, encoding, notes)
    allowed = max(_BAD_BYTES_ALLOWED, _BAD_SHARE_ALLOWED * non_ascii)
    detected = _east_asian_reading(body, allowed) or _detect(body)
    notes = ("charset_mismatch",) if declared else ("charset_detected",)
    return _lenient(body, detected or "cp1252", notes)


def _resolve(name: str | None) -> str | None:
    if not name:
        return None
    resolved = resolve_encoding(name.strip().strip("\"'"))
    try:
        return codecs.lookup(resolved).name if resolved else None
    except LookupError:
        return None


def _decode_counting(body: bytes, encoding: str) -> tuple[str, int]:
    """The text with undecodable bytes replaced, and how many replacements were made."""
    try:
        return body.decode(encoding), 0
    except UnicodeDecodeError:
        text = body.decode(encoding, errors="replace")
        return text, text.count("\ufffd")


def _lenient(body: bytes, encoding: str, notes: tuple[str, ...]) -> Decoded:
    text, bad = _decode_counting(body, encoding)
    return Decoded(text, encoding, notes + (("bytes_replaced",) if bad else ()))


def _east_asian_reading(body: bytes, allowed: float) -> str | None:
    """The Chinese, Japanese or Korean charset that reads the page as running CJK text, if one does.

    Detection refuses a charset one stray byte breaks, and then reads an undeclared GBK page as
    Cyrillic. Western text read in these charsets turns into single Han characters between Latin
    letters; a page in one of them has runs of Han, kana or Hangul.
    """
    readings: dict[str, int] = {}
    for encoding in _EAST_ASIAN:
        text, bad = _decode_counting(body, encoding)
        runs = _CJK_RUN.findall(text)
        if bad <= allowed and runs and sum(map(len, runs)) / len(runs) >= _CJK_RUN_LENGTH:
            readings[encoding] = bad
    if not readings:
        return None
    fewest = min(readings.values())
    tied = [encoding for encoding, bad in readings.items() if bad == fewest]
    if len(tied) > 1:  # Shift_JIS bytes often read as GBK too: detection tells the languages apart
        best = from_bytes(body[:_DETECT_BYTES], cp_isolation=tied).best()
        if best is not None:
            return _resolve(best.encoding)
    return tied[0]


def _detect(body: bytes) -> str | None:
    """The charset detection finds likeliest; Windows-1252 when it reads the page about as well.

    Single-byte charsets of Latin scripts read Western text almost alike (French in Windows-1257
    differs by a letter or two), and Windows-1252 is what undeclared Western pages are written in,
    as browsers assume.
    """
    results = list(from_bytes(body[:_DETECT_BYTES]))
    if not results:
        return None
    best = results[0]
    for result in results:
        if result.encoding == "cp1252" and result.chaos <= best.chaos + _SAME_CHAOS:
            return "cp1252"
    return _resolve(best.encoding)


# A character UTF-8 encoded and then read back as Windows-1252 or Latin-1 ("’" as "â€™" or as
# "â\x80\x99"), as a site does that stores text already encoded: its lead byte's letter and its
# continuation bytes' characters (Windows-1252 has letters and marks of its own for 0x80-0x9f),
# as many as the lead byte says.
_CP1252_HIGH = "\u0152\u0153\u0160\u0161\u0178\u017d\u017e\u0192\u02c6\u02dc\u2013\u2014\u2018-\u201e\u2020-\u2022\u2026\u2030\u2039\u203a\u20ac\u2122"
_CONTINUATION = f"[\u0080-\u00bf{_CP1252_HIGH}]"
_DOUBLY_ENCODED = re.compile(
    f"[\u00c2-\u00df]{_CONTINUATION}|[\u00e0-\u00ef]{_CONTINUATION}{{2}}|[\u00f0-\u00f4]{_CONTINUATION}{{3}}"
)
# What only a misreading writes: C1 control characters, and "€" for the byte 0x80 that continues
# every punctuation mark from U+2000 ("â€™", "â€”"). A Latin letter misread ("Ã©") may be two
# letters, and stays.
_MISREAD_ONLY = re.compile("[\u0080-\u009f\u20ac]")


def without_mojibake(text: str) -> str:
    """*text* with its doubly encoded characters read once more, each where it reads as one
    character and shows a misreading (see _DOUBLY_ENCODED, _MISREAD_ONLY); the rest stays."""
    if not _MISREAD_ONLY.search(text):
        return text
    return _DOUBLY_ENCODED.sub(_read_again, text)


def _read_again(match: re.Match[str]) -> str:
    misread = match.group()
    if not _MISREAD_ONLY.search(misread):
        return misread
    # Latin-1 gave the character of each byte's value; Windows-1252, its own for 0x80-0x9f.
    encoded = bytes(ord(c) if ord(c) < 0x100 else c.encode("cp1252")[0] for c in misread)
    try:
        return encoded.decode(_UTF8)
    except UnicodeDecodeError:
        return misread
