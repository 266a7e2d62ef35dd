"""What a fetched response is: a feed, a sitemap, an HTML page, or something to skip; and the
links a feed or a page lists. Plain functions over bytes and text, so they can be tested on saved
responses.
(Whether an HTML page is an article is judged in the extraction stage: pipelines.extraction.judge.)
"""

from __future__ import annotations

import posixpath
import re
from enum import Enum
from urllib.parse import urldefrag, urljoin, urlsplit

import lxml.html
from lxml import etree
from scrapy.linkextractors import IGNORED_EXTENSIONS
from w3lib.url import safe_url_string


class PageKind(Enum):
    HTML = "html"
    FEED = "feed"
    SITEMAP = "sitemap"
    BINARY = "binary"
    OTHER = "other"


_BINARY_TYPES = (
    "image/",
    "audio/",
    "video/",
    "font/",
    "application/pdf",
    "application/zip",
    "application/octet-stream",
    "application/x-gzip",
    "application/gzip",
)
_ROOT_TAG = re.compile(rb"<\s*([A-Za-z][\w:.-]*)")
_MARKUP_PREAMBLE = re.compile(rb"^(?:\s|<\?.*?\?>|<!--.*?-->|<!doctype[^>]*>)*", re.IGNORECASE | re.DOTALL)


def sniff_kind(content_type: str, body: bytes) -> PageKind:
    """Tell the kind of a response from its content, using the declared type only to break ties.

    Servers label feeds as text/html and sitemaps as text/plain often enough that the root element
    has the last word.
    """
    head = body[:4096]
    if head.startswith(b"\xef\xbb\xbf"):
        head = head[3:]
    if b"\x00" in head[:1024] and not head.startswith((b"\xff\xfe", b"\xfe\xff")):
        return PageKind.BINARY
    content_type = content_type.lower()
    preamble = _MARKUP_PREAMBLE.match(head)  # it matches every head, if only emptily
    match = _ROOT_TAG.match(head, preamble.end() if preamble else 0)
    root = match.group(1).lower().split(b":")[-1] if match else b""
    if root in (b"rss", b"rdf", b"feed"):
        return PageKind.FEED
    if root in (b"urlset", b"sitemapindex"):
        return PageKind.SITEMAP
    if root in (b"html", b"head", b"body", b"meta", b"div", b"title", b"link", b"script"):
        return PageKind.HTML
    if "html" in content_type and match:
        return PageKind.HTML
    if content_type.startswith(_BINARY_TYPES):
        return PageKind.BINARY
    return PageKind.OTHER


def feed_links(body: bytes) -> list[str]:
    """Return the entry links of an RSS 0.9x/1.0/2.0 or Atom feed, in feed order."""
    root = _parse_xml(body)
    if root is None:
        return []
    links: list[str] = []
    for entry in root.iter("{*}item", "{*}entry"):
        link = None
        for child in entry:
            if not isinstance(child.tag, str):
                continue
            name = etree.QName(child).localname
            if name == "link":
                if child.get("href"):  # Atom
                    if child.get("rel", "alternate") == "alternate":
                        link = child.get("href")
                        break
                elif child.text and child.text.strip():  # RSS
                    link = child.text.strip()
                    break
            elif name == "guid" and link is None and child.get("isPermaLink", "true") == "true":
                text = (child.text or "").strip()
                if text.startswith(("http://", "https://")):
                    link = text
        if link:
            links.append(link.strip())
    return links


def page_links(text: str, url: str, encoding: str = "utf-8") -> list[str]:
    """The pages an HTML page links to (<a> and <area>), absolute, without fragments, in page
    order, each once; links to files that are no pages (images, documents, archives) are left out.

    Scrapy's LinkExtractor does the same at about twice the cost (6 to 7.5 ms a page on the
    article benchmark's pages, most of it after the parse, against 3 here: bench/crawl.py), and
    every page followed for links pays it in the crawling process. *encoding* is the page's: a
    link's non-ASCII query is percent-encoded in it, as browsers do.
    """
    try:
        tree = lxml.html.document_fromstring(text.encode("utf-8", "replace"), parser=_HTML_PARSER)
    except (etree.ParserError, ValueError):  # an empty or unreadable page links nowhere
        return []
    base = url
    for href in tree.xpath("//base/@href"):
        base = _joined(url, href, encoding) or url
        break
    links: dict[str, None] = {}
    for href in tree.xpath("//a/@href | //area/@href"):
        link = _joined(base, href, encoding)
        if link is None:
            continue
        parts = urlsplit(link)
        if parts.scheme in ("http", "https") and posixpath.splitext(parts.path)[1].lower() not in _NOT_PAGES:
            links[link] = None
    return list(links)


def _joined(base: str, href: str, encoding: str) -> str | None:
    """*href* made absolute against *base*, without its fragment, its non-ASCII characters
    percent-encoded (the query's in *encoding*, or in UTF-8 where that charset has no such
    character); None for a link that is no address at all ("http://[broken", a port out of
    range)."""
    try:
        link = urldefrag(urljoin(base, href.strip())).url
        urlsplit(link).port  # noqa: B018 - raises for a port out of range or a bracketed non-address
        if link.isascii():
            return link
        try:
            return safe_url_string(link, encoding)
        except UnicodeEncodeError:
            return safe_url_string(link, "utf-8")
    except ValueError:
        return None


_HTML_PARSER = lxml.html.HTMLParser(encoding="utf-8")
_NOT_PAGES = {f".{extension}" for extension in IGNORED_EXTENSIONS}


def _parse_xml(body: bytes) -> etree._Element | None:
    # Feeds in the wild are often not well-formed; entities are never resolved (XXE).
    parser = etree.XMLParser(recover=True, resolve_entities=False, no_network=True, huge_tree=False)
    try:
        return etree.fromstring(body, parser=parser)
    except etree.XMLSyntaxError:
        return None
