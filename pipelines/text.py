"""Text normalisation and word shingles, shared by near-duplicate detection and boilerplate learning.

Two copies of one wire story differ in ways a reader does not notice: curly or straight quotes,
em dash or hyphen, non-breaking spaces, full-width characters, letter case. Normalising them away
first means the similarity measures the words, not the typography.
"""

from __future__ import annotations

import re
import unicodedata

import numpy as np
import xxhash

# NFKC folds compatibility forms (full-width letters, ligatures, NBSP) but keeps typographic
# quotes and dashes distinct, so those are mapped explicitly.
_TYPOGRAPHY = str.maketrans(
    {
        "\u2018": "'",  # left single quotation mark
        "\u2019": "'",  # right single quotation mark / apostrophe
        "\u201a": "'",  # single low-9 quotation mark
        "\u201b": "'",  # single high-reversed-9 quotation mark
        "\u2032": "'",  # prime
        "\u00b4": "'",  # acute accent used as apostrophe
        "`": "'",
        "\u201c": '"',  # left double quotation mark
        "\u201d": '"',  # right double quotation mark
        "\u201e": '"',  # double low-9 quotation mark
        "\u201f": '"',  # double high-reversed-9 quotation mark
        "\u2033": '"',  # double prime
        "\u00ab": '"',  # guillemets
        "\u00bb": '"',
        "\u2010": "-",  # hyphen
        "\u2011": "-",  # non-breaking hyphen
        "\u2012": "-",  # figure dash
        "\u2013": "-",  # en dash
        "\u2014": "-",  # em dash
        "\u2015": "-",  # horizontal bar
        "\u2212": "-",  # minus sign
        "\u2026": "...",  # ellipsis
        "\u00ad": None,  # soft hyphen
        "\u200b": None,  # zero-width space
        "\u200c": None,
        "\u200d": None,
        "\ufeff": None,
    }
)
_SPACES = re.compile(r"\s+")
_WORD = re.compile(r"\w+")
# Scripts written without spaces between words: Chinese and Japanese, and Thai, Lao, Khmer, Burmese.
_CJK = re.compile("[\u3040-\u30ff\u3400-\u4dbf\u4e00-\u9fff\uf900-\ufaff]")
_SOUTHEAST_ASIAN = re.compile("[\u0e00-\u0eff\u1000-\u109f\u1780-\u17ff]")


def normalize_text(text: str) -> str:
    """Return *text* in NFKC, lower case, straight quotes, ASCII hyphens and single spaces."""
    text = unicodedata.normalize("NFKC", text).translate(_TYPOGRAPHY).casefold()
    return _SPACES.sub(" ", text).strip()


def words(text: str) -> list[str]:
    """Return the normalised words of *text*.

    Quotes, dashes and spaces are not word characters, so NFKC and case folding are all the
    normalisation words need; skipping the rest halves the cost on a long story.
    """
    return _WORD.findall(unicodedata.normalize("NFKC", text).casefold())


def word_units(text: str) -> int:
    """About how many words *text* has, in any script: spaced words, plus one word per two
    Chinese or Japanese characters and per four Thai, Lao, Khmer or Burmese ones (their words'
    usual lengths), for page-shape measures (the judge); signatures use `words`."""
    cjk = len(_CJK.findall(text))
    southeast = len(_SOUTHEAST_ASIAN.findall(text))
    if not (cjk or southeast):
        return len(text.split())
    spaced = _SOUTHEAST_ASIAN.sub(" ", _CJK.sub(" ", text)).split()
    return len(spaced) + cjk // 2 + southeast // 4


def shingles(tokens: list[str], size: int) -> set[str]:
    """Return the set of *size*-word shingles of *tokens* (a shorter text is one shingle)."""
    if size < 1:
        raise ValueError("shingle size must be at least 1")
    if len(tokens) <= size:
        return {" ".join(tokens)} if tokens else set()
    return {" ".join(tokens[i : i + size]) for i in range(len(tokens) - size + 1)}


def paragraphs(text: str) -> list[str]:
    """Split stored article text into paragraphs (separated by blank lines or single newlines)."""
    return [p.strip() for p in text.split("\n") if p.strip()]


def join_paragraphs(parts: list[str]) -> str:
    """Join paragraphs the way `text` is stored: one blank line between them."""
    return "\n\n".join(parts)


def word_hashes(text: str) -> np.ndarray:
    """The 32-bit xxHash of each normalised word of *text*, in order, as uint64 for shingling.

    Word hashes of consecutive paragraphs concatenate to the word hashes of the joined text, so
    they can be computed where the text is extracted and shingled after boilerplate removal.
    """
    tokens = words(text)
    return np.fromiter(
        (xxhash.xxh32_intdigest(token.encode()) for token in tokens), dtype=np.uint64, count=len(tokens)
    )
