"""What a page says about itself: headline, authors, publication date, language, canonical URL,
read from its JSON-LD, Open Graph and link elements, with trafilatura's metadata search as the
fallback. Runs in the extraction workers.
"""

from __future__ import annotations

import functools
import re
from dataclasses import dataclass
from datetime import datetime
from typing import Any
from urllib.parse import urljoin, urlsplit

from lxml.html import HtmlElement

from .judge import json_ld_objects

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
