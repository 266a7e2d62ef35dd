"""Text normalisation and word shingles, shared by near-duplicate detection and boilerplate learning.

Two copies of one wire story differ in ways a reader does not notice: curly or straight quotes,
em dash or hyphen, non-breaking spaces, full-width characters, letter case. Normalising them away
first means the similarity measures the words, not the typography.
"""

from __future__ import annotations

import re
import unicodedata

import numpy as np
import opencc
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
# Scripts written without spaces between words, and how many characters a word of each has:
# Chinese characters and Japanese kana about two, Thai, Lao, Burmese and Khmer about four. No rule
# finds their word boundaries, so a "word" there is the window of that many characters that
# starts at each character (see `words`).
_CJK_RANGES = ((0x3040, 0x30FF), (0x3400, 0x4DBF), (0x4E00, 0x9FFF), (0xF900, 0xFAFF))
_SOUTHEAST_ASIAN_RANGES = ((0x0E00, 0x0EFF), (0x1000, 0x109F), (0x1780, 0x17FF))
_CJK_CHARACTERS = "".join(f"{chr(low)}-{chr(high)}" for low, high in _CJK_RANGES)
_SOUTHEAST_ASIAN_CHARACTERS = "".join(f"{chr(low)}-{chr(high)}" for low, high in _SOUTHEAST_ASIAN_RANGES)
CJK_WORD = 2
SOUTHEAST_ASIAN_WORD = 4
_UNSPACED = _CJK_CHARACTERS + _SOUTHEAST_ASIAN_CHARACTERS
_TOKEN_RUN = re.compile(f"[{_CJK_CHARACTERS}]+|[{_SOUTHEAST_ASIAN_CHARACTERS}]+|[^\\W{_UNSPACED}]+")
_CJK = re.compile(f"[{_CJK_CHARACTERS}]")
_UNSPACED_ANY = re.compile(f"[{_UNSPACED}]")
# A gap starts with a space and looks behind it only then: a pattern that starts with the
# look-behind tries it at every character of the text, three times slower.
_GAP_SPACE = "[ \t\u00a0\u3000\u200b]"
_UNSPACED_GAP = re.compile(f"{_GAP_SPACE}(?<=[{_UNSPACED}]{_GAP_SPACE}){_GAP_SPACE}*(?=[{_UNSPACED}])")
_SPACED_WORD = re.compile(f"[^\\W{_UNSPACED}]+")
_SOUTHEAST_ASIAN = re.compile(f"[{_SOUTHEAST_ASIAN_CHARACTERS}]")


def _script_table() -> np.ndarray:
    """Each code point of the Basic Multilingual Plane by script: 1 written without spaces with
    words of CJK_WORD characters, 2 of SOUTHEAST_ASIAN_WORD characters, 0 spaced or no letter."""
    table = np.zeros(0x10000, dtype=np.uint8)
    for script, ranges in ((1, _CJK_RANGES), (2, _SOUTHEAST_ASIAN_RANGES)):
        for low, high in ranges:
            table[low : high + 1] = script
    return table


_UNSPACED_SCRIPT = _script_table()
_KANA = re.compile("[\u3040-\u30ff]")
_HAN = re.compile("[\u3400-\u4dbf\u4e00-\u9fff\uf900-\ufaff]")
# Letters a copy may spell either way without changing a word, folded to one form before words
# are compared: Arabic and Persian yeh and kaf, alef with or without hamza, teh marbuta, Arabic-Indic
# digits; tatweel, vowel marks and direction marks dropped; the Persian half-space read as a space;
# Russian yo as ye. (NFKC and case folding come first.)
_LETTER_VARIANTS = str.maketrans(
    {
        "\u064a": "\u06cc",  # Arabic yeh -> Farsi yeh
        "\u0649": "\u06cc",  # alef maksura
        "\u0643": "\u06a9",  # Arabic kaf -> keheh
        "\u0623": "\u0627",  # alef with hamza above
        "\u0625": "\u0627",  # alef with hamza below
        "\u0622": "\u0627",  # alef with madda
        "\u0671": "\u0627",  # alef wasla
        "\u0629": "\u0647",  # teh marbuta -> heh
        "\u06c0": "\u0647",  # heh with yeh above
        "\u0640": None,  # tatweel
        "\u200c": " ",  # zero-width non-joiner (the Persian half-space)
        "\u200e": None,  # left-to-right mark
        "\u200f": None,  # right-to-left mark
        "\u061c": None,  # Arabic letter mark
        "\u0451": "\u0435",  # yo -> ye
        **{chr(code): None for code in range(0x064B, 0x0660)},  # harakat
        "\u0670": None,  # superscript alef
        **{chr(0x0660 + digit): str(digit) for digit in range(10)},
        **{chr(0x06F0 + digit): str(digit) for digit in range(10)},
        **{chr(code): None for code in (*range(0x202A, 0x202F), *range(0x2066, 0x206A))},  # bidi controls
    }
)
_DIRECTION_MARKS = re.compile("[\u200e\u200f\u061c\u202a-\u202e\u2066-\u2069]")
_VARIANT_LETTERS = re.compile("[\u0600-\u06ff\u200c\u200e\u200f\u202a-\u202e\u2066-\u2069\u0451]")
# Punctuation of the East Asian scripts (ideographic, full-width and vertical forms), whose NFKC
# forms are punctuation too (the forms NFKC turns into a low line, a word character, are left out;
# so are the ideographic space and the no-break space, which NFKC makes spaces).
_WIDE_PUNCTUATION = re.compile(
    "[\u2026\u3001-\u3004\u3008-\u3020\u3030\u303d-\u303f\ufe30-\ufe32\ufe35-\ufe4c"
    "\uff01-\uff0f\uff1a-\uff20\uff3b-\uff3e\uff40\uff5b-\uff64]"
)
# Characters whose NFKC form does not depend on their neighbours: the full-width and
# letter-like forms, spaces and enclosed numbers of East Asian text. Replacing them one by one
# leaves most such texts normalised without NFKC's slow pass over the whole text.
_COMPATIBILITY_FORMS = re.compile("[\u00a0\u2000-\u200a\u2100-\u218f\u2460-\u24ff\u3000\uff01-\uffef]")
# Traditional Chinese characters read as simplified: a copy converted from one to the other is
# still a copy. OpenCC converts phrase by phrase, as a person would. Japanese (text with kana)
# has its own forms and is never converted so; it is left as it is.
_TO_SIMPLIFIED = opencc.OpenCC("t2s")
# 32-bit hashes of character windows, from their code points (a multiplier and MurmurHash3's
# finaliser per character, combined per window), so that a Chinese story costs no more per
# character than an English one per word.
_CHARACTER_SALT = np.uint32(0x9E3779B1)
_WINDOW_WEIGHTS = np.random.RandomState(7).randint(0, 2**62, size=8, dtype=np.uint64) * 2 + 1


def normalize_text(text: str) -> str:
    """Return *text* in NFKC, lower case, straight quotes, ASCII hyphens and single spaces."""
    text = unicodedata.normalize("NFKC", text).translate(_TYPOGRAPHY).casefold()
    return _SPACES.sub(" ", text).strip()


def _folded(text: str) -> str:
    """*text* as words are read from it: NFKC, case folded, letter variants and scripts folded."""
    if not unicodedata.is_normalized("NFKC", text):
        # Chinese and Japanese punctuation alone would send every such text down NFKC's slow
        # path, the larger part of signing it; any other punctuation mark separates the same words.
        text = _WIDE_PUNCTUATION.sub("|", text)
        if not unicodedata.is_normalized("NFKC", text):
            # NFKC of a text is NFKC of the text with any character replaced by its NFKC form.
            text = _COMPATIBILITY_FORMS.sub(_nfkc_of_match, text)
            if not unicodedata.is_normalized("NFKC", text):
                text = unicodedata.normalize("NFKC", text)
    text = text.casefold()
    if _UNSPACED_ANY.search(text):
        # Spaces between Thai phrases (or Chinese characters) are layout, retyped at will; a line
        # break stays, so that paragraphs are read apart.
        text = _UNSPACED_GAP.sub("", text)
    if _VARIANT_LETTERS.search(text):
        text = text.translate(_LETTER_VARIANTS)
    if _HAN.search(text) and not _KANA.search(text):
        text = _TO_SIMPLIFIED.convert(text)
    return text


def _nfkc_of_match(match: re.Match[str]) -> str:
    return unicodedata.normalize("NFKC", match.group())


def words(text: str) -> list[str]:
    """Return the normalised words of *text*: runs of letters and digits, and in the scripts
    written without spaces (Chinese, Japanese, Thai, Lao, Burmese, Khmer) the word-length window
    of characters that starts at each character.

    Windows, not dictionary words: a dictionary segmenter costs more than the signature it
    serves, and five overlapping windows make a shingle of six Chinese or eight Thai characters,
    specific enough to tell stories apart and short enough to survive edits (bench/syndication.py
    measures it per language). Quotes, dashes and spaces are not word characters, so NFKC, case
    and letter folding are all the normalisation words need.
    """
    tokens: list[str] = []
    for run in _TOKEN_RUN.findall(_folded(text)):
        size = _word_length(run)
        if size == 1:
            tokens.append(run)
        else:
            tokens.extend(run[i : i + size] for i in range(max(1, len(run) - size + 1)))
    return tokens


def word_units(text: str) -> int:
    """About how many words *text* has, in any script: spaced words, plus one word per two
    Chinese or Japanese characters and per four Thai, Lao, Khmer or Burmese ones (their words'
    usual lengths). Counts of words (`word_count`, the minimums of extraction and of template
    lines, the judge's measures) are in these units; shingles are made of `words`."""
    cjk = len(_CJK.findall(text))
    southeast = len(_SOUTHEAST_ASIAN.findall(text))
    if not (cjk or southeast):
        return len(text.split())
    spaced = _SOUTHEAST_ASIAN.sub(" ", _CJK.sub(" ", text)).split()
    return len(spaced) + cjk // CJK_WORD + southeast // SOUTHEAST_ASIAN_WORD


def shingles(tokens: list[str], size: int) -> set[str]:
    """Return the set of *size*-word shingles of *tokens* (a shorter text is one shingle)."""
    if size < 1:
        raise ValueError("shingle size must be at least 1")
    if len(tokens) <= size:
        return {" ".join(tokens)} if tokens else set()
    return {" ".join(tokens[i : i + size]) for i in range(len(tokens) - size + 1)}


def without_direction_marks(text: str) -> str:
    """*text* without the invisible marks that set the direction of right-to-left scripts: the
    page needed them to lay text out, the stored text has no layout."""
    return _DIRECTION_MARKS.sub("", text)


def paragraphs(text: str) -> list[str]:
    """Split stored article text into paragraphs (separated by blank lines or single newlines)."""
    return [p.strip() for p in text.split("\n") if p.strip()]


def join_paragraphs(parts: list[str]) -> str:
    """Join paragraphs the way `text` is stored: one blank line between them."""
    return "\n\n".join(parts)


def word_hashes(text: str) -> np.ndarray:
    """The 32-bit hash of each word of *text* (see `words`), in order, as uint64 for shingling.

    Word hashes of consecutive paragraphs concatenate to the word hashes of the joined text, so
    they can be computed where the text is extracted and shingled after boilerplate removal.
    Spaced words are hashed with xxHash32; the character windows of the unspaced scripts all at
    once, from the code points, then put in their places among the spaced words. Of those windows
    one in two (Chinese, Japanese) or four (Thai...) is kept, chosen by its hash (`_windows`).
    """
    folded = _folded(text)
    spaced = [(match.start(), match.group()) for match in _SPACED_WORD.finditer(folded)]
    spaced_hashes = _spaced_hashes([word for _, word in spaced])
    if not _UNSPACED_ANY.search(folded):
        return spaced_hashes
    points = np.frombuffer(folded.encode("utf-32-le"), dtype="<u4")
    characters = _character_hashes(points)
    positions = [np.array([start for start, _ in spaced], dtype=np.int64)]
    hashes = [spaced_hashes]
    scripts = _UNSPACED_SCRIPT[np.minimum(points, 0xFFFF)]
    for script, size in ((1, CJK_WORD), (2, SOUTHEAST_ASIAN_WORD)):
        mask = scripts == script
        if mask.any():
            starts, window_hashes = _windows(characters, mask, size)
            positions.append(starts)
            hashes.append(window_hashes)
    order = np.argsort(np.concatenate(positions), kind="stable")
    return np.concatenate(hashes)[order]


def _word_length(run: str) -> int:
    """1 for a spaced word, else the characters of a word in the run's script."""
    if _CJK.match(run):
        return CJK_WORD
    if _SOUTHEAST_ASIAN.match(run):
        return SOUTHEAST_ASIAN_WORD
    return 1


def _spaced_hashes(tokens: list[str]) -> np.ndarray:
    return np.fromiter(
        (xxhash.xxh32_intdigest(token.encode()) for token in tokens), dtype=np.uint64, count=len(tokens)
    )


def _character_hashes(points: np.ndarray) -> np.ndarray:
    """A 32-bit hash of each code point: a multiplier and MurmurHash3's finaliser."""
    return fmix32(points * _CHARACTER_SALT).astype(np.uint64)


def fmix32(values: np.ndarray) -> np.ndarray:
    """MurmurHash3's 32-bit finalizer, on uint32 values (their arithmetic wraps, as intended)."""
    values = values ^ (values >> np.uint32(16))  # a new array: the caller's stays as it was
    values *= np.uint32(0x85EBCA6B)
    values ^= values >> np.uint32(13)
    values *= np.uint32(0xC2B2AE35)
    values ^= values >> np.uint32(16)
    return values


def _windows(characters: np.ndarray, mask: np.ndarray, size: int) -> tuple[np.ndarray, np.ndarray]:
    """The start and hash of each *size*-character window inside the runs of *mask* (a run
    shorter than that is one window), combined with odd multipliers per position."""
    before = np.concatenate(([False], mask[:-1]))
    after = np.concatenate((mask[1:], [False]))
    run_starts = np.flatnonzero(mask & ~before)
    run_lengths = np.flatnonzero(mask & ~after) - run_starts + 1
    counts = np.maximum(run_lengths - size + 1, 1)
    first = np.repeat(np.cumsum(counts) - counts, counts)
    starts = np.repeat(run_starts, counts) + np.arange(counts.sum()) - first
    lengths = np.repeat(np.minimum(run_lengths, size), counts)
    combined = np.zeros(len(starts), dtype=np.uint64)
    last = len(characters) - 1
    for position in range(size):
        inside = (position < lengths).astype(np.uint64)
        combined += characters[np.minimum(starts + position, last)] * _WINDOW_WEIGHTS[position] * inside
    hashes = combined >> np.uint64(32)
    # One window in `size`, chosen by content so that every copy keeps the same ones: as many
    # tokens per word as a spaced script has, so signing costs about the same per word.
    kept = (hashes & np.uint64(size - 1)) == 0
    return starts[kept], hashes[kept]


# --- segment keys ----------------------------------------------------------------------------

# Years are folded so a copyright line survives New Year; other numbers (scores, prices) are content.
_YEARS = np.sort(word_hashes(" ".join(str(year) for year in range(1900, 2100))))


def segment_keys(hashes: list[np.ndarray]) -> list[str]:
    """The identity of each paragraph for boilerplate statistics, from its word hashes: its
    normalised words with years folded (punctuation, typography and case ignored), so that
    "(c) 2025 Example Media." and "(c) 2026 Example Media" are one segment.

    The extraction worker hashes each paragraph's words for the near-duplicate signature; the
    same hashes identify the segments, all of a page's at once.
    """
    if not hashes:
        return []
    joined = np.concatenate(hashes)
    data = np.where(np.isin(joined, _YEARS), np.uint64(0), joined).astype("<u8").tobytes()
    keys, start = [], 0
    for paragraph in hashes:
        end = start + 8 * len(paragraph)
        keys.append(xxhash.xxh64_hexdigest(data[start:end]))
        start = end
    return keys


def paragraph_key(paragraph: str) -> str:
    """The segment identity of a paragraph given as text."""
    return segment_keys([word_hashes(paragraph)])[0]
