"""One HTML page in an extraction worker: decoded, parsed once, judged, and its article extracted
(trafilatura for the body, the page's own metadata for the rest). Everything here is plain and
picklable: it runs in worker processes (see pipelines.extraction.stage).

Settings: EXTRACT_FAVOR_PRECISION, EXTRACT_MIN_WORDS, NEWS_ARTICLE_MIN_WORDS.
"""

from __future__ import annotations

import logging
import re
from dataclasses import dataclass
from typing import Any

import trafilatura
from lxml import etree
from lxml.html import HtmlElement, HTMLParser, document_fromstring
from trafilatura.metadata import extract_author, extract_metadata
from trafilatura.utils import load_html

from pipelines.text import join_paragraphs, normalize_text, paragraphs, word_hashes, words
from pipelines.urls import page_keys

from .judge import judge_article
from .metadata import PageMetadata, choose_language, clean_authors, clean_title

logger = logging.getLogger(__name__)


@dataclass(frozen=True)
class ExtractOptions:
    favor_precision: bool = True
    min_words: int = 10
    prune_xpath: tuple[str, ...] = ()
    article_min_words: int = 150  # NEWS_ARTICLE_MIN_WORDS, for pages without article markup


@dataclass(frozen=True)
class PageResult:
    """What one fetched HTML page turned out to be."""

    outcome: str  # "article", "not_article" (a front, section, tag page...), "no_text", "unparseable"
    fields: dict[str, Any] | None = None
    reasons: tuple[str, ...] = ()
    notes: tuple[str, ...] = ()  # what had to be repaired: "charset_mismatch", "markup_repaired"


_XML_DECLARATION = re.compile(r"^\s*<\?xml[^>]*\?>")
_SINGLE_BYTE = {"latin-1", "latin1", "iso-8859-1", "iso8859-1", "cp1252", "windows-1252", "ascii", "us-ascii"}
# Tag mismatches libxml2 repaired; a few are common on real pages, this many means broken markup.
_REPAIRS_FOR_MALFORMED = 3


def decode_body(body: bytes, encoding: str) -> tuple[str, bool]:
    """Decode *body*, correcting a declared charset the bytes contradict; the flag says it did.

    Servers often declare ISO-8859-1 for UTF-8 pages (every accented letter turns into two
    characters of mojibake) or UTF-8 for Windows-1252 pages (undecodable bytes).
    """
    try:
        text = body.decode(encoding)
    except (UnicodeDecodeError, LookupError):
        try:
            return body.decode("utf-8"), True
        except UnicodeDecodeError:
            return body.decode("cp1252", errors="replace"), True
    if encoding.lower().replace("_", "-") in _SINGLE_BYTE and not body.isascii():
        try:
            return body.decode("utf-8"), True
        except UnicodeDecodeError:
            pass
    return text, False


def parse_html(html: str) -> tuple[HtmlElement | None, int]:
    """Parse with libxml2's recovering parser; returns the tree and the number of repairs made."""
    if not html.strip():
        return None, 0
    parser = HTMLParser(recover=True, remove_blank_text=False)
    try:
        # Parsed as text, already decoded: a <meta charset> in the page must not decode it again.
        tree = document_fromstring(_XML_DECLARATION.sub("", html, count=1), parser=parser)
    except (etree.ParserError, ValueError):
        return None, 0
    repairs = sum(1 for error in parser.error_log if error.type_name == "ERR_TAG_NAME_MISMATCH")
    return tree, repairs


def process_page(
    body: bytes,
    encoding: str,
    url: str,
    declared_language: str | None,
    options: ExtractOptions,
    request_url: str | None = None,
) -> PageResult:
    """Decode, parse once, judge whether the page is an article, and extract it if so.

    Runs in an extraction worker: decoding, parsing and judging cost as much CPU again as the
    extraction of a small page, so none of it stays in the crawling process. The fields include
    `word_hashes`, one array per paragraph of `text`, for the near-duplicate signature, and
    `page_keys`, the keys the page is known under in the store (see pipelines.urls.page_keys).
    """
    html, corrected = decode_body(body, encoding)
    tree, repairs = parse_html(html)
    notes = (("charset_mismatch",) if corrected else ()) + (
        ("markup_repaired",) if repairs >= _REPAIRS_FOR_MALFORMED else ()
    )
    if tree is None:
        return PageResult("unparseable", notes=notes)
    verdict = judge_article(tree, url, options.article_min_words)
    if not verdict.is_article:
        return PageResult("not_article", reasons=verdict.reasons, notes=notes)
    fields = _extract_fields(html, tree, url, declared_language, options)
    if fields is None:
        return PageResult("no_text", reasons=verdict.reasons, notes=notes)
    fields["word_hashes"] = [word_hashes(part) for part in paragraphs(fields["text"])]
    fields["page_keys"] = page_keys(url, request_url)
    return PageResult("article", fields, verdict.reasons, notes)


def extract_article(
    html: str, url: str, declared_language: str | None = None, options: ExtractOptions = ExtractOptions()
) -> dict[str, Any] | None:
    """Return the article fields of one page, or None when no article text is found.

    Fields: title, authors, published, language, canonical_url, text, word_count.
    """
    tree = load_html(html)
    if tree is None:
        return None
    return _extract_fields(html, tree, url, declared_language, options)


def _extract_fields(
    html: str, tree: HtmlElement, url: str, declared_language: str | None, options: ExtractOptions
) -> dict[str, Any] | None:
    page = PageMetadata.read(tree, url)
    # trafilatura gets the markup, not our tree: parsing it again costs half of copying the tree,
    # and ours stays whole for the metadata fallback.
    document = trafilatura.bare_extraction(
        html,
        url=url,
        with_metadata=False,
        include_comments=False,
        favor_precision=options.favor_precision,
        deduplicate=False,  # trafilatura's cache is per process and order-dependent
        prune_xpath=list(options.prune_xpath) or None,
    )
    body = getattr(document, "text", None)
    if not body:
        return None
    # JSON-LD and Open Graph name the headline and date on most news pages; trafilatura's own
    # metadata search (<title>, bylines, htmldate) costs a third of an extraction, so it runs only
    # for pages that do not declare them.
    fallback = None
    if not (page.headline and page.published):
        fallback = extract_metadata(tree, url)
    site_names = [name for name in (page.site_name, fallback.sitename if fallback else None) if name]
    title = clean_title(
        page.headline or (fallback.title if fallback else None) or page.h1 or "", site_names, url
    )
    parts = paragraphs(body)
    # trafilatura keeps an <h1> that sits inside the article container: the headline is not body text.
    headlines = {normalize_text(t) for t in (title, page.headline, page.h1) if t}
    if len(parts) > 1 and normalize_text(parts[0]) in headlines:
        parts = parts[1:]
    text = join_paragraphs(parts)
    word_count = len(words(text))
    if word_count < options.min_words:
        return None
    if page.authors:
        authors = page.authors
    else:
        byline = fallback.author if fallback else extract_author(tree)
        authors = (byline or "").split(";")
    return {
        "title": title,
        "authors": clean_authors(authors),
        "published": page.published or (fallback.date if fallback else None),
        "language": choose_language(text, [page.language, declared_language]),
        "canonical_url": page.canonical_url or url,
        "text": text,
        "word_count": word_count,
    }
