"""Downloader middlewares and the request fingerprinter.

IncrementalMiddleware: a page stored as an article in an earlier run is not fetched again before
INCREMENTAL_REVISIT_HOURS; after that it is fetched conditionally (If-None-Match /
If-Modified-Since), and a 304 Not Modified stores nothing. Pages that never held an article
(feeds, sitemaps, fronts, sections) are always fetched.

RetryAfterMiddleware: a 429 or 503 with Retry-After is retried after the time asked for, up to
RETRY_AFTER_MAX_SECONDS; longer, it is not retried this run.

RobotsTxtMiddleware: Scrapy's, fixed for requests that wait together for a host's robots.txt.

ProxyMiddleware: Scrapy's HttpProxyMiddleware, asking whether a host bypasses the proxy once per
host. MetaRefreshMiddleware: Scrapy's, reading a page's text only when its first bytes mention a
refresh.

PageFingerprinter: requests for one page (see pipelines.urls.page_key: http and https, session ids,
campaign parameters) are one request to Scrapy's duplicate filter.

Settings: INCREMENTAL_ENABLED, INCREMENTAL_REVISIT_HOURS, RETRY_AFTER_ENABLED,
RETRY_AFTER_MAX_SECONDS, and the page history's STORAGE_BACKEND (pipelines.state).
"""

from __future__ import annotations

import asyncio
import functools
import hashlib
import logging
import re
from concurrent.futures import ThreadPoolExecutor
from datetime import datetime, timedelta
from email.utils import parsedate_to_datetime
from typing import Any
from urllib.request import proxy_bypass

from scrapy import Request, signals
from scrapy.crawler import Crawler
from scrapy.downloadermiddlewares.httpproxy import HttpProxyMiddleware
from scrapy.downloadermiddlewares.redirect import MetaRefreshMiddleware as ScrapyMetaRefreshMiddleware
from scrapy.downloadermiddlewares.robotstxt import RobotsTxtMiddleware as ScrapyRobotsTxtMiddleware
from scrapy.exceptions import IgnoreRequest, NotConfigured
from scrapy.http import Response
from scrapy.signalmanager import SignalManager
from scrapy.statscollectors import StatsCollector
from scrapy.utils.httpobj import urlparse_cached
from twisted.internet.defer import Deferred

from pipelines import clock
from pipelines.state import CrawlState
from pipelines.state.interfaces import PageFetch, PageHistory
from pipelines.urls import page_key, page_keys

logger = logging.getLogger(__name__)

# Sent with `request` when a known article page is skipped or found unchanged: the source still
# lists articles, even though nothing new is stored (see the run summary's source alarm).
known_article_seen = object()


class PageFingerprinter:
    """Fingerprints a request by the page it names, so variants of one URL are fetched once."""

    def fingerprint(self, request: Request) -> bytes:
        digest = hashlib.sha1(request.method.encode(), usedforsecurity=False)
        digest.update(page_key(request.url).encode())
        digest.update(request.body or b"")
        return digest.digest()


class IncrementalMiddleware:
    def __init__(
        self, stats: StatsCollector, signals: SignalManager, pages: PageHistory, revisit: timedelta
    ) -> None:
        self.stats = stats
        self.signals = signals
        self.pages = pages
        self.revisit = revisit
        # One thread does this middleware's store reads and writes, off the reactor thread.
        self._thread = ThreadPoolExecutor(max_workers=1, thread_name_prefix="incremental-store")

    @classmethod
    def from_crawler(cls, crawler: Crawler) -> IncrementalMiddleware:
        settings = crawler.settings
        if not settings.getbool("INCREMENTAL_ENABLED"):
            raise NotConfigured("incremental crawling is off (INCREMENTAL_ENABLED = False)")
        hours = settings.getfloat("INCREMENTAL_REVISIT_HOURS")
        if hours < 0:
            raise NotConfigured("INCREMENTAL_REVISIT_HOURS must be 0 or more")
        middleware = cls(crawler.stats, crawler.signals, CrawlState.of(crawler).pages, timedelta(hours=hours))
        crawler.signals.connect(middleware.spider_closed, signal=signals.spider_closed)
        return middleware

    def spider_closed(self) -> None:
        self._thread.shutdown(wait=True)

    async def process_request(self, request: Request) -> None:
        if request.meta.get("start_url") or request.method != "GET":
            return None
        loop = asyncio.get_running_loop()
        key = page_key(request.url)
        state = await loop.run_in_executor(self._thread, self.pages.page, [key])
        # What the store knew of the page, for the versioning stage: unless the page is reached
        # under another URL (a redirect), it need not ask again.
        request.meta["page_lookup"] = (key, state)
        if state is None or state.article_id is None:
            return None  # never held an article: a front, a feed, or a page not seen before
        age = clock.now() - datetime.fromisoformat(state.fetched_at)
        if age < self.revisit:
            self.stats.inc_value("incremental/skipped_fresh")
            self.signals.send_catch_log(known_article_seen, request=request)
            raise IgnoreRequest(f"stored {age} ago, revisited after {self.revisit}: {request.url}")
        self.stats.inc_value("incremental/revisits")
        if state.etag:
            request.headers[b"If-None-Match"] = state.etag
        if state.last_modified:
            request.headers[b"If-Modified-Since"] = state.last_modified
        request.meta["revisit"] = True
        request.meta["page_state"] = state  # for the WARC archive's revisit records
        return None

    async def process_response(self, request: Request, response: Response) -> Response:
        if response.status != 304 or not request.meta.get("revisit"):
            return response
        self.stats.inc_value("incremental/not_modified")
        self.signals.send_catch_log(known_article_seen, request=request)
        fetch = PageFetch(
            page_keys(response.url, request.url),
            clock.now_iso(),
            _header(response, b"ETag"),
            _header(response, b"Last-Modified"),
        )
        await asyncio.get_running_loop().run_in_executor(self._thread, self.pages.touch_page, fetch)
        raise IgnoreRequest(f"not modified since its last fetch: {request.url}")


class RetryAfterMiddleware:
    def __init__(self, stats: StatsCollector, max_seconds: float) -> None:
        self.stats = stats
        self.max_seconds = max_seconds

    @classmethod
    def from_crawler(cls, crawler: Crawler) -> RetryAfterMiddleware:
        if not crawler.settings.getbool("RETRY_AFTER_ENABLED"):
            raise NotConfigured("Retry-After is not honoured (RETRY_AFTER_ENABLED = False)")
        return cls(crawler.stats, crawler.settings.getfloat("RETRY_AFTER_MAX_SECONDS"))

    async def process_response(self, request: Request, response: Response) -> Response:
        if response.status not in (429, 503):
            return response
        delay = retry_after_seconds(_header(response, b"Retry-After") or "")
        if delay is None:
            return response
        if delay > self.max_seconds:
            self.stats.inc_value("news/retry_after/too_long")
            request.meta["dont_retry"] = True  # counted as a failed fetch; the next run tries again
            return response
        self.stats.inc_value("news/retry_after/honoured")
        await asyncio.sleep(delay)  # only this request waits; the retry middleware retries it next
        return response


def _header(response: Response, name: bytes) -> str | None:
    return (response.headers.get(name) or b"").decode("latin-1").strip() or None


def retry_after_seconds(value: str) -> float | None:
    """Seconds asked for by a Retry-After header (delay-seconds or an HTTP date), or None."""
    value = value.strip()
    if not value:
        return None
    if value.isdigit():
        return float(value)
    try:
        when = parsedate_to_datetime(value)
    except (TypeError, ValueError):
        return None
    return max(0.0, (when - clock.now()).total_seconds())


class RobotsTxtMiddleware(ScrapyRobotsTxtMiddleware):
    """Scrapy's robots.txt middleware, with every waiting request getting the parser.

    When several requests to one host wait for its robots.txt, Scrapy hands the parser to the
    first of them only: the Deferred they share yields None to the others, and None means
    "allowed". Each request here reads the host's parser again once robots.txt is in.
    """

    async def robot_parser(self, request: Request) -> Any:
        parser = await super().robot_parser(request)
        current = self._parsers.get(urlparse_cached(request).netloc)
        return parser if current is None or isinstance(current, Deferred) else current


class ProxyMiddleware(HttpProxyMiddleware):
    """Scrapy's proxy middleware (the *_proxy environment variables, request.meta["proxy"]), with
    the no_proxy check made once per host: urllib's reads every environment variable on each
    call, which cost a third of a millisecond per request through a proxy."""

    def __init__(self, auth_encoding: str | None = "latin-1") -> None:
        super().__init__(auth_encoding)
        self._bypassed = functools.lru_cache(maxsize=65536)(proxy_bypass)

    def process_request(self, request: Request, spider: Any = None) -> None:  # spider: never passed
        if "proxy" in request.meta or not self.proxies:
            super().process_request(request)
            return
        parsed = urlparse_cached(request)
        scheme = parsed.scheme
        proxied = scheme in self.proxies and (
            scheme not in ("http", "https") or bool(parsed.hostname and not self._bypassed(parsed.hostname))
        )
        if proxied:
            creds, proxy_url = self.proxies[scheme]
            self._set_proxy_and_creds(request, proxy_url, creds, scheme)
        else:
            self._set_proxy_and_creds(request, None, None, None)


# Scrapy looks for a refresh in a page's first 4,096 characters: at most four bytes each.
_REFRESH_WINDOW = 4 * 4096
# A refresh is declared in a <meta> tag; pages say "refresh" in scripts too (ads, live blogs).
_META_REFRESH = re.compile(rb"<meta\b[^>]*refresh", re.IGNORECASE)


class MetaRefreshMiddleware(ScrapyMetaRefreshMiddleware):
    """Scrapy's meta-refresh redirects, with only the page's head read, and only when it
    mentions a refresh: Scrapy's decodes every HTML page whole to look at its first characters."""

    def process_response(
        self, request: Request, response: Response, spider: Any = None
    ) -> Request | Response:
        head = response.body[:_REFRESH_WINDOW]
        # A page in UTF-16 or UTF-32 spells "refresh" with NUL bytes between its letters.
        if b"\x00" in head[:512]:
            return super().process_response(request, response)
        # (the word first: a search for bytes is many times faster than the pattern's)
        if (b"efresh" not in head and b"EFRESH" not in head) or not _META_REFRESH.search(head):
            return response
        # Cut after a tag's end, never inside a multi-byte character, so the head decodes as the
        # page does (a <noscript> refresh is common on pages far longer than their head).
        window = head[: head.rfind(b">") + 1] or head
        if len(window) < len(response.body):
            decision = super().process_response(request, response.replace(body=window))
            return response if isinstance(decision, Response) else decision
        return super().process_response(request, response)
