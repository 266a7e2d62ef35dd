"""Article extraction from one HTML page: trafilatura for the body, the page's own metadata for the rest.

Runs in worker processes (see pipelines.extraction), so everything here is plain and picklable.
Settings: EXTRACT_FAVOR_PRECISION, EXTRACT_MIN_WORDS.
"""

from __future__ import annotations

import functools
import logging
import re
from dataclasses import dataclass
from datetime import datetime
from typing import Any
from urllib.parse import urljoin, urlsplit

import trafilatura
from lxml import etree
from lxml.html import HtmlElement, HTMLParser, document_fromstring
from trafilatura.metadata import extract_author, extract_metadata
from trafilatura.utils import load_html

from crawler.pages import json_ld_objects, judge_article
from crawler.urls import page_keys

from .signatures import word_hashes
from .text import join_paragraphs, normalize_text, paragraphs, words

logger = logging.getLogger(__name__)

ARTICLE_TYPES = {
    "Article",
    "NewsArticle",
    "ReportageNewsArticle",
    "AnalysisNewsArticle",
    "BackgroundNewsArticle",
    "OpinionNewsArticle",
    "ReviewNewsArticle",
    "BlogPosting",
    "LiveBlogPosting",
    "Report",
}
_TITLE_SEPARATORS = re.compile(r"\s+[|\-\u2013\u2014:\u00b7\u2022/\\\u00bb]+\s+")
_GLUED_SITE = re.compile(r"^(?P<first>[\w.]+)[|\-\u2013\u2014:](?P<rest>\S.*)$")
_LANGUAGE_CODE = re.compile(r"^([a-zA-Z]{2})(?:[-_][a-zA-Z0-9]+)*$")
# Below this the detector's guess is weaker than what the page declares.
_CONFIDENT_DETECTION = 0.9


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
    `page_keys`, the keys the page is known under in the store (see crawler.urls.page_keys).
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
    if document is None or not document.text:
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
    parts = paragraphs(document.text)
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


@dataclass
class PageMetadata:
    """What a page declares about itself in JSON-LD, Open Graph and link elements."""

    headline: str | None = None
    site_name: str | None = None
    authors: list[str] | None = None
    published: str | None = None
    language: str | None = None
    canonical_url: str | None = None
    h1: str | None = None

    @classmethod
    def read(cls, tree: HtmlElement, url: str) -> PageMetadata:
        meta = cls()
        meta.h1 = " ".join(tree.xpath("string(//h1)").split()) or None
        for node in json_ld_objects(tree):
            types = node.get("@type")
            types = set(types) if isinstance(types, list) else {types}
            if types & ARTICLE_TYPES:
                meta.headline = meta.headline or _string(node.get("headline"))
                meta.published = meta.published or iso_datetime(_string(node.get("datePublished")))
                meta.authors = meta.authors or _json_ld_names(node.get("author"))
                publisher = node.get("publisher")
                if isinstance(publisher, dict):
                    meta.site_name = meta.site_name or _string(publisher.get("name"))
        meta.site_name = meta.site_name or _meta_content(tree, "og:site_name")
        meta.headline = meta.headline or _meta_content(tree, "og:title")
        meta.published = meta.published or iso_datetime(_meta_content(tree, "article:published_time"))
        meta.language = _first_language(
            tree.get("lang"),
            tree.get("xml:lang"),
            _meta_content(tree, "og:locale"),
            _http_equiv(tree, "content-language"),
        )
        meta.canonical_url = valid_url(_link_href(tree, "canonical"), url) or valid_url(
            _meta_content(tree, "og:url"), url
        )
        return meta


def clean_title(title: str, site_names: list[str], url: str) -> str | None:
    """Strip a site-name prefix or suffix ("Headline | Site", "Site - Headline")."""
    title = " ".join(title.split())
    if not title:
        return None
    host_label = _host_label(url)
    parts = _TITLE_SEPARATORS.split(title)
    if len(parts) < 2:
        # "PressTV-Headline": a site name glued to the headline by a separator without spaces
        glued = _GLUED_SITE.match(title)
        if glued:
            parts = [glued["first"], glued["rest"]]
        else:
            return title

    def is_site(part: str) -> bool:
        key = _squash(part)
        if not key:
            return False
        for name in map(_squash, site_names):
            # "Site", "Site - Official site", or a long enough part of the name ("Reuters")
            if name and (key == name or name in key or (len(key) >= 5 and key in name)):
                return True
        return bool(host_label) and (key == host_label or host_label in key)

    while len(parts) > 1 and is_site(parts[-1]):
        parts.pop()
    while len(parts) > 1 and is_site(parts[0]):
        parts.pop(0)
    # Rejoin with the original separators by cutting the title where the kept parts start and end.
    start = title.find(parts[0])
    end = title.rfind(parts[-1]) + len(parts[-1])
    return title[start:end].strip() or title


def clean_authors(names: list[str]) -> list[str]:
    """Strip "By" prefixes and blanks from author names, keeping their order, without repeats."""
    cleaned: list[str] = []
    for name in names:
        name = re.sub(r"^\s*by\s+", "", " ".join(name.split()), flags=re.IGNORECASE).strip(" ,")
        if name and name not in cleaned:
            cleaned.append(name)
    return cleaned


def choose_language(text: str, declared: list[str | None]) -> str | None:
    """Pick an ISO 639-1 code: a confident detection on the text, else the page's declaration."""
    declaration = _first_language(*declared)
    detected, probability = detect_language(text)
    if detected and probability >= _CONFIDENT_DETECTION:
        return detected
    return declaration or (detected if probability >= 0.5 else None)


def detect_language(text: str) -> tuple[str | None, float]:
    if len(text) < 20:
        return None, 0.0
    # 1,500 characters decide the language as well as the whole text, at a third of the cost
    language, probability = _language_identifier().classify(text[:1500])
    return language, float(probability)


@functools.lru_cache(maxsize=1)
def _language_identifier() -> Any:
    # Loaded once per worker process; the model takes a moment to unpickle.
    from py3langid.langid import MODEL_FILE, LanguageIdentifier

    return LanguageIdentifier.from_model_file(MODEL_FILE, norm_probs=True)


def valid_url(candidate: str | None, base: str) -> str | None:
    """Resolve *candidate* against *base*; keep it only if it is an absolute http(s) URL."""
    if not candidate:
        return None
    resolved = urljoin(base, candidate.strip())
    parts = urlsplit(resolved)
    if parts.scheme not in ("http", "https") or not parts.hostname:
        return None
    return resolved


def iso_datetime(value: str | None) -> str | None:
    """Return *value* as an ISO 8601 date or date-time if it parses as one."""
    if not value:
        return None
    value = value.strip()
    try:
        parsed = datetime.fromisoformat(value.replace("Z", "+00:00"))
    except ValueError:
        return None
    if len(value) <= 10:
        return parsed.date().isoformat()
    return parsed.isoformat()


def _first_language(*values: str | None) -> str | None:
    for value in values:
        if value and (match := _LANGUAGE_CODE.match(value.strip())):
            return match[1].lower()
    return None


def _meta_content(tree: HtmlElement, name: str) -> str | None:
    for node in tree.xpath("//meta[@property=$n or @name=$n]", n=name):
        content = (node.get("content") or "").strip()
        if content:
            return content
    return None


def _http_equiv(tree: HtmlElement, name: str) -> str | None:
    for node in tree.xpath("//meta[@http-equiv]"):
        if node.get("http-equiv", "").lower() == name:
            return (node.get("content") or "").split(",")[0].strip() or None
    return None


def _link_href(tree: HtmlElement, rel: str) -> str | None:
    for node in tree.xpath("//link[@href]"):
        if rel in (node.get("rel") or "").lower().split():
            return node.get("href")
    return None


def _json_ld_names(value: Any) -> list[str] | None:
    values = value if isinstance(value, list) else [value]
    names = []
    for entry in values:
        name = entry.get("name") if isinstance(entry, dict) else entry
        if isinstance(name, str) and name.strip() and name.strip() not in names:
            names.append(name.strip())
    return names or None


def _string(value: Any) -> str | None:
    if isinstance(value, list):
        value = value[0] if value else None
    return value.strip() if isinstance(value, str) and value.strip() else None


def _squash(text: str) -> str:
    return re.sub(r"[\W_]+", "", text.casefold())


def _host_label(url: str) -> str:
    host = (urlsplit(url).hostname or "").removeprefix("www.")
    return _squash(host.split(".")[0]) if host else ""
