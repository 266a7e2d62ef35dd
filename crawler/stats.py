"""The crawl's stats collector: Scrapy's in-memory one, read and counted without a detour.

Scrapy's collector routes every attribute access through a hook that wraps its methods to warn
about a deprecated `spider` argument, and looks its own attributes up by way of an exception.
The stages count a score of values per page, so that detour cost about 2% of the crawling
process's CPU in bench/crawl.py's profile (6.8 against 0.5 microseconds a count). The methods
still accept `spider` and ignore it, as Scrapy's do.

Setting: STATS_CLASS.
"""

from __future__ import annotations

from scrapy.statscollectors import MemoryStatsCollector


class CrawlStats(MemoryStatsCollector):
    __getattribute__ = object.__getattribute__
