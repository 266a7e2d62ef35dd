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
