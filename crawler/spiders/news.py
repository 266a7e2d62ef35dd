"""Spider `news`: discovers and fetches article pages, and yields them raw.

    scrapy crawl news -a start_urls=URL[,URL...]
    scrapy crawl news -a sources=sources.toml

Each start URL may be a home or section page (links followed within its host, NEWS_FOLLOW_DEPTH
deep), an RSS or Atom feed, or a sitemap (index and news sitemaps too); the kind is read from the
response. Every HTML page becomes a raw PageItem; the extraction stage judges whether it is an
article (pipelines.extraction.judge) in a worker process, so that fronts, section and tag pages
are never stored, and the spider never parses a page it does not follow links from.

Links are followed without session ids, and no more than NEWS_MAX_URLS_PER_PATTERN links of one
shape (digits aside) per run, so endless calendars and session-id traps end. Every failed fetch
is counted under news/failed/<kind> (http_404, timeout, too_large, redirect_loop...).

Settings: NEWS_FOLLOW_DEPTH, NEWS_MAX_URLS_PER_PATTERN.
"""

from __future__ import annotations

from collections.abc import AsyncIterator, Iterator
from typing import Any
from urllib.parse import urlsplit

from scrapy import Request, Spider
from scrapy.crawler import Crawler
from scrapy.http import Response, TextResponse
from scrapy.utils.gz import gunzip, gzip_magic_number
from scrapy.utils.sitemap import Sitemap
from twisted.python.failure import Failure
from w3lib.encoding import http_content_type_encoding
from w3lib.url import canonicalize_url

from crawler.discovery import PageKind, feed_links, page_links, sniff_kind
from crawler.failures import failure_kind
from crawler.sources import Source, load_sources
from pipelines import clock
from pipelines.items import PageItem
from pipelines.urls import path_template, without_session

_SEEN_LINKS = 500_000


class NewsSpider(Spider):
    name = "news"

    def __init__(self, start_urls: str | None = None, sources: str | None = None, **kwargs: Any) -> None:
        super().__init__(**kwargs)
        self._start_urls_arg = start_urls
        self._sources_arg = sources
        self.sources: list[Source] = []
        # Set from the crawler's settings in from_crawler.
        self.follow_depth = 0
        self.max_sitemap_size = 0
        self.max_urls_per_pattern = 0
        self.start_dont_filter = True
        self._templates: dict[str, int] = {}
        self._start_pages: set[str] = set()
        # hashes of the links already followed: a site's menus and related boxes link the same
        # pages from every page, and each repeat would cost a Request and a trip to the duplicate
        # filter only to be dropped there (a hash a link, not its URL; emptied at _SEEN_LINKS,
        # about 35 MB, after which the duplicate filter alone drops repeats until it fills again)
        self._seen_links: set[int] = set()

    @classmethod
    def from_crawler(cls, crawler: Crawler, *args: Any, **kwargs: Any) -> NewsSpider:
        spider = super().from_crawler(crawler, *args, **kwargs)
        settings = crawler.settings
        spider.follow_depth = settings.getint("NEWS_FOLLOW_DEPTH")
        spider.max_sitemap_size = settings.getint("DOWNLOAD_MAXSIZE")
        spider.max_urls_per_pattern = settings.getint("NEWS_MAX_URLS_PER_PATTERN")
        spider.start_dont_filter = settings.getbool("NEWS_START_DONT_FILTER")
        # A bad sources file raises here, before anything is fetched, and the run exits non-zero.
        spider.sources = load_sources(spider._start_urls_arg, spider._sources_arg, spider.follow_depth)
        # Start requests skip the duplicate filter, so it never learns their URLs: without this a
        # home page would be fetched again from the first page linking back to it.
        spider._start_pages = (
            {canonicalize_url(source.url) for source in spider.sources} if spider.start_dont_filter else set()
        )
        return spider

    async def start(self) -> AsyncIterator[Request]:
        for source in self.sources:
            yield Request(
                source.url,
                callback=self.parse,
                errback=self.fetch_failed,
                dont_filter=self.start_dont_filter,
                meta={"source": source.name, "hops_left": source.depth, "start_url": True},
            )

    def parse(self, response: Response) -> Iterator[Request | PageItem]:
        content_type = (response.headers.get(b"Content-Type") or b"").decode("latin-1")
        body = self._decompressed(response)
        kind = sniff_kind(content_type, body)
        self.crawler.stats.inc_value(f"news/pages/{kind.value}")
        if kind is PageKind.FEED:
            yield from self._follow(response, feed_links(body), hops_left=0)
        elif kind is PageKind.SITEMAP:
            yield from self._parse_sitemap(response, body)
        elif kind is PageKind.HTML and isinstance(response, TextResponse):
            yield from self._parse_html(response)
        else:
            self.logger.debug("skipped %s: not HTML, a feed or a sitemap (%s)", response.url, content_type)

    def _parse_sitemap(self, response: Response, body: bytes) -> Iterator[Request]:
        # A sitemap index lists sitemaps, a urlset lists pages: parse() tells them apart on arrival.
        locations = [entry["loc"] for entry in Sitemap(body) if entry.get("loc")]
        yield from self._follow(response, locations, hops_left=0)

    def _parse_html(self, response: TextResponse) -> Iterator[Request | PageItem]:
        yield self._page_item(response)
        hops_left = response.meta.get("hops_left", 0)
        if hops_left > 0:
            host = urlsplit(response.url).hostname
            links = [
                link
                for link in page_links(response.text, response.url, response.encoding)
                if urlsplit(link).hostname == host
            ]
            yield from self._follow(response, links, hops_left=hops_left - 1, from_page=True)

    def _follow(
        self, response: Response, urls: list[str], hops_left: int, from_page: bool = False
    ) -> Iterator[Request]:
        source = response.meta.get("source")
        for link in urls:
            try:
                # a page's links come absolute (page_links), a feed's may not
                url = link if from_page else response.urljoin(link)
                if (seen := hash(url)) in self._seen_links:
                    continue
                url, had_session = without_session(url)
                start_page = canonicalize_url(url) in self._start_pages
            except ValueError:  # "http://[broken/": no address; the other links go on
                self.crawler.stats.inc_value("news/bad_links")
                self.logger.debug("skipped a link that is no address: %r", link[:200])
                continue
            if had_session:  # session ids in links make endless copies of one page
                self.crawler.stats.inc_value("news/session_ids_removed")
            if start_page:
                self._remember(seen)
                continue
            # a link over a pattern's cap is not remembered: a feed or sitemap may still list it
            if from_page and self._trap(url):  # feeds and sitemaps list pages on purpose
                continue
            self._remember(seen)
            yield Request(
                url,
                callback=self.parse,
                errback=self.fetch_failed,
                meta={"source": source, "hops_left": hops_left},
            )

    def _remember(self, link_hash: int) -> None:
        if len(self._seen_links) >= _SEEN_LINKS:
            self._seen_links.clear()
        self._seen_links.add(link_hash)

    def _trap(self, url: str) -> bool:
        """Whether *url* is one too many of a pattern (an endless calendar, numbered pages)."""
        template = path_template(url)
        seen = self._templates.get(template, 0) + 1
        self._templates[template] = seen
        if seen > self.max_urls_per_pattern:
            self.crawler.stats.inc_value("news/trap_links_capped")
            if seen == self.max_urls_per_pattern + 1:
                self.logger.info("not following more links like %s (a crawler trap?)", url)
            return True
        return False

    def fetch_failed(self, failure: Failure) -> None:
        kind = failure_kind(failure)
        if kind is not None:
            self.crawler.stats.inc_value(f"news/failed/{kind}")
            self.logger.debug("could not fetch %s: %s", failure.request.url, kind)  # type: ignore[attr-defined]

    def _page_item(self, response: TextResponse) -> PageItem:
        redirects = response.meta.get("redirect_urls") or [response.url]

        def header(name: bytes) -> str | None:
            return (response.headers.get(name) or b"").decode("latin-1").strip() or None

        return PageItem(
            url=response.url,
            request_url=redirects[0],
            site=urlsplit(response.url).hostname,
            body=response.body,
            http_charset=http_content_type_encoding(header(b"Content-Type")),
            fetched_at=clock.now_iso(),
            declared_language=header(b"Content-Language"),
            etag=header(b"ETag"),
            last_modified=header(b"Last-Modified"),
            source=response.meta.get("source"),
            warc_record=response.meta.get("warc_record"),
            page_lookup=response.meta.get("page_lookup"),
        )

    def _decompressed(self, response: Response) -> bytes:
        # Sitemaps are often served as .xml.gz files without a Content-Encoding header.
        if gzip_magic_number(response):
            try:
                return gunzip(response.body, max_size=self.max_sitemap_size)
            except (OSError, EOFError, ValueError):
                self.crawler.stats.inc_value("news/bad_gzip")
                return b""
        return response.body
