"""The crawl's stats collector counts as Scrapy's does."""

from __future__ import annotations

from scrapy.utils.misc import load_object

from crawler.stats import CrawlStats
from settings import base
from tests.fixtures.components import project_crawler


def test_the_project_counts_with_its_own_collector():
    assert load_object(base.STATS_CLASS) is CrawlStats


def test_values_are_counted_set_and_kept_as_by_scrapys_collector():
    stats = CrawlStats(project_crawler())
    stats.open_spider()
    stats.inc_value("pages")
    stats.inc_value("pages", 2)
    stats.max_value("peak", 3)
    stats.max_value("peak", 1)
    stats.set_value("name", "run")
    stats.inc_value("old_style", spider=None)  # the deprecated argument is accepted and ignored
    assert stats.get_stats() == {"pages": 3, "peak": 3, "name": "run", "old_style": 1}
    assert stats.get_value("missing", 0) == 0
