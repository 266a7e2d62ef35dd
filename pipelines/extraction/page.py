"""One HTML page in an extraction worker: decoded, parsed once, judged, and its article extracted
(trafilatura for the body, the page's own metadata for the rest). Everything here is plain and
picklable: it runs in worker processes (see pipelines.extraction.stage).

Settings: EXTRACT_FAVOR_PRECISION, EXTRACT_MIN_WORDS, NEWS_ARTICLE_MIN_WORDS.
"""

from __future__ import annotations

import copy
import functools
import logging
import re
import unicodedata
from typing import Any

import trafilatura
from htmldate import find_date
from lxml import etree
from lxml.html import HtmlElement, HTMLParser, document_fromstring
from trafilatura.metadata import extract_metadata
from trafilatura.utils import load_html

from pipelines import clock
from pipelines.origin.credits import load_credit_rules, read_credits
from pipelines.signatures import ParagraphHashes, Signer
from pipelines.text import (
    join_paragraphs,
    normalize_text,
    paragraphs,
    segment_keys,
    without_direction_marks,
    word_hashes,
    word_units,
)
from pipelines.urls import page_keys

from .charset import decode_page, without_mojibake
from .judge import judge_article
from .layout import has_layout_tables, unwrap_layout_tables
from .lines import template_line_hashes
from .localdates import WrittenDates
from .metadata import (
    PageMetadata,
    author_page_links,
    byline_elements,
    byline_names,
    choose_authors,
    choose_language,
    choose_published,
    choose_title,
    names_apart,
    not_authors,
    written_byline,
)
from .task import ExtractOptions, PageResult

logger = logging.getLogger(__name__)
DEFAULT_OPTIONS = ExtractOptions()


_XML_DECLARATION = re.compile(r"^\s*<\?xml[^>]*\?>")
# Tag mismatches libxml2 repaired; a few are common on real pages, this many means broken markup.
_REPAIRS_FOR_MALFORMED = 3
# libxml2 reports a <noscript> end tag met while an element opened inside it is still open, and
# keeps the <noscript> open: the rest of the page falls inside it, where neither the judge nor
# trafilatura reads text. Browsers read a <noscript>'s content as plain text, so its end tag ends
# it whatever the content says.
_NOSCRIPT_LEFT_OPEN = "Opening and ending tag mismatch: noscript and "


def parse_html(html: str) -> tuple[HtmlElement | None, int, bool]:
    """Parse with libxml2's recovering parser; returns the tree, the number of repairs made, and
    whether the tree was reshaped after parsing (the content of a <noscript> left open unwrapped),
    so that it no longer reads as the markup does."""
    if not html.strip():
        return None, 0, False
    parser = HTMLParser(recover=True, remove_blank_text=False)
    try:
        # Parsed as text, already decoded: a <meta charset> in the page must not decode it again.
        tree = document_fromstring(_XML_DECLARATION.sub("", html, count=1), parser=parser)
    except (etree.ParserError, ValueError):
        return None, 0, False
    mismatches = [error.message for error in parser.error_log if error.type_name == "ERR_TAG_NAME_MISMATCH"]
    left_open = any(message.startswith(_NOSCRIPT_LEFT_OPEN) for message in mismatches)
    return tree, len(mismatches), left_open and _unwrap_noscripts(tree)


def _unwrap_noscripts(tree: HtmlElement) -> bool:
    """Unwrap the body's <noscript> elements that hold elements (see _NOSCRIPT_LEFT_OPEN)."""
    holding = [noscript for noscript in tree.xpath("//body//noscript") if len(noscript)]
    for noscript in holding:
        noscript.drop_tag()
    return bool(holding)


def process_page(
    body: bytes,
    http_charset: str | None,
    url: str,
    declared_language: str | None,
    options: ExtractOptions,
    request_url: str | None = None,
    fetched_on: str | None = None,
) -> PageResult:
    """Decode, parse once, judge whether the page is an article, and extract it if so.

    Runs in an extraction worker: decoding, parsing and judging cost as much CPU again as the
    extraction of a small page, so none of it stays in the crawling process. The fields include
    `word_hashes`, the word hashes of `text`'s paragraphs (ParagraphHashes), for the
    near-duplicate signature, the `signature` itself when the options ask for it,
    `segment_keys`, one per paragraph, and `template_lines`, the segment keys of the page's short
    lines extraction left out (for the boilerplate stage, see pipelines.extraction.lines), and
    `page_keys`, the keys the page is known under in the store (see pipelines.urls.page_keys).
    """
    decoded = decode_page(body, http_charset)
    html = decoded.text
    tree, repairs, reshaped = parse_html(html)
    notes = decoded.notes + (("markup_repaired",) if repairs >= _REPAIRS_FOR_MALFORMED or reshaped else ())
    if tree is None:
        return PageResult("unparseable", notes=notes)
    verdict = judge_article(tree, url, options.article_min_words)
    if not verdict.is_article:
        return PageResult("not_article", reasons=verdict.reasons, notes=notes)
    fields = _extract_fields(html, tree, url, declared_language, options, fetched_on, reshaped)
    if fields is None:
        return PageResult("no_text", reasons=verdict.reasons, notes=notes)
    parts = paragraphs(fields["text"])
    hashes = [word_hashes(part) for part in parts]
    fields["word_hashes"] = ParagraphHashes.of(hashes)
    if options.signer is not None:
        fields["signature"] = _signer(*options.signer).sign_words(fields["word_hashes"].words)
    fields["segment_keys"] = segment_keys(hashes)
    fields["template_lines"] = segment_keys(template_line_hashes(tree, parts))
    fields["page_keys"] = page_keys(url, request_url)
    if fields.pop("credit_in_quotes"):
        notes += ("credit_in_quotes",)  # a credit line set aside: counted, the page goes on
    return PageResult("article", fields, verdict.reasons, notes)


def extract_article(
    html: str,
    url: str,
    declared_language: str | None = None,
    options: ExtractOptions = DEFAULT_OPTIONS,
    fetched_on: str | None = None,
) -> dict[str, Any] | None:
    """Return the article fields of one page, or None when no article text is found.

    Fields: title, authors, published, language, canonical_url, text, word_count. *fetched_on*
    (YYYY-MM-DD, the clock's today if not given) bounds the publication date.
    """
    tree = load_html(html)
    if tree is None:
        return None
    return _extract_fields(html, tree, url, declared_language, options, fetched_on)


def _main_text(
    html: str, tree: HtmlElement, url: str, options: ExtractOptions, reshaped: bool = False
) -> str | None:
    """trafilatura's main text; when it finds none, once more in its recall mode, which finds the
    text of some layouts the other modes miss.

    trafilatura gets the markup, not our tree: parsing it again costs half of copying the tree,
    and ours stays whole for the metadata. A page laid out in tables gets a copy of our tree with
    its layout tables unwrapped (pipelines.extraction.layout), so its paragraphs stay apart; so
    does a page whose tree was *reshaped* after parsing (see parse_html).
    """
    laid_out = has_layout_tables(tree)
    for recall in (False, True):
        page: str | HtmlElement = html
        if laid_out or reshaped:
            page = copy.deepcopy(tree)
            laid_out = laid_out and unwrap_layout_tables(page) > 0
            page = page if laid_out or reshaped else html
        document = trafilatura.bare_extraction(
            page,
            url=url,
            with_metadata=False,
            include_comments=False,
            favor_precision=options.favor_precision and not recall,
            favor_recall=recall,
            deduplicate=False,  # trafilatura's cache is per process and order-dependent
            prune_xpath=list(options.prune_xpath) or None,
        )
        if body := getattr(document, "text", None):
            return body
    return None


def canonical_text(text: str) -> str:
    """*text* in Unicode's composed form (NFC), without direction marks or characters encoded
    twice ("â€™" for "’"): a page may write "য়" as one character or as two, and readers of the
    text compare it as one."""
    text = without_mojibake(without_direction_marks(text))
    return text if unicodedata.is_normalized("NFC", text) else unicodedata.normalize("NFC", text)


def _extract_fields(
    html: str,
    tree: HtmlElement,
    url: str,
    declared_language: str | None,
    options: ExtractOptions,
    fetched_on: str | None,
    reshaped: bool = False,
) -> dict[str, Any] | None:
    page = PageMetadata.read(tree, url)
    body = _main_text(html, tree, url, options, reshaped)
    if not body:
        return None
    fetched_on = fetched_on or clock.now().date().isoformat()
    # trafilatura's metadata search: <meta> and JSON-LD authors, bylines, and htmldate's search
    # for the original publication date, never later than the fetch.
    date_search = {"original_date": True, "extensive_search": True, "max_date": fetched_on}
    found = extract_metadata(tree, url, date_config=date_search)
    site_names = [name for name in (page.site_name, page.site_name_beside(found.sitename)) if name]
    title = choose_title(page, found.title, site_names, url)
    title = title and canonical_text(title)
    dates = WrittenDates(tree, fetched_on)
    published = choose_published(
        page.published,
        found.date,
        lambda: find_date(tree, url=url, original_date=True, extensive_search=False, max_date=fetched_on),
        fetched_on,
        dates.first,
        dates.shows,
        dates.unambiguous_days,
    )
    # The page's JSON-LD persons first, then trafilatura's (meta, JSON-LD, its byline search), the
    # <meta name="author"> trafilatura may have passed over (a first name alone), then our byline
    # search. A name the page declares an organization's is no author; a site's name
    # is, when the site is a person's.
    marked = byline_elements(tree)
    bylines = byline_names(marked)
    written = written_byline(tree)
    organizations = not_authors(page, [*bylines, *written])
    sources = [page.authors or [], (found.author or "").split(";"), page.meta_authors, bylines, written]
    # last, and read only if needed: a link to a writer's page that spells the name it shows
    authors = choose_authors(sources, organizations) or choose_authors(
        [author_page_links(tree)], organizations
    )
    authors = names_apart(marked, authors)
    parts = paragraphs(canonical_text(body))
    # trafilatura keeps an <h1> that sits inside the article container: the headline is not body text.
    headlines = {normalize_text(t) for t in (title, page.headline, *page.headlines) if t}
    if len(parts) > 1 and normalize_text(parts[0]) in headlines:
        parts = parts[1:]
    text = join_paragraphs(parts)
    word_count = word_units(text)
    if word_count < options.min_words:
        return None
    credits = read_credits(
        parts, [*bylines, *(page.authors or []), found.author or ""], load_credit_rules(options.credits_file)
    )
    return {
        "title": title,
        "authors": authors,
        "published": published,
        "language": choose_language(text, [page.language, declared_language]),
        "canonical_url": page.canonical_url or url,
        "text": text,
        "word_count": word_count,
        "wire": credits.wire,
        "site_name": site_names[0] if site_names else None,
        "credited": credits.original,
        "credit_in_quotes": credits.quoted,
    }


@functools.lru_cache(maxsize=2)
def _signer(num_perm: int, shingle_size: int) -> Signer:
    return Signer(num_perm, shingle_size)
