"""Log lines about items that name the page instead of printing the whole item.

Scrapy's default prints every field of a scraped or dropped item, which for these items means a
full article text or raw HTML page per line.
"""

from __future__ import annotations

import logging
from typing import Any

from scrapy.logformatter import LogFormatter, LogFormatterResult


def _url(item: Any) -> str:
    try:
        return str(item.get("url"))
    except AttributeError:
        return repr(item)[:200]


class ArticleLogFormatter(LogFormatter):
    def scraped(self, item: Any, response: Any, spider: Any) -> LogFormatterResult:
        return {"level": logging.DEBUG, "msg": "Stored %(url)s", "args": {"url": _url(item)}}

    def dropped(self, item: Any, exception: BaseException, response: Any, spider: Any) -> LogFormatterResult:
        # Every drop in this project is an expected outcome, counted in stats: DEBUG by default.
        level = getattr(exception, "log_level", None) or logging.DEBUG
        if isinstance(level, str):
            level = getattr(logging, level)
        return {
            "level": level,
            "msg": "Dropped %(url)s: %(exception)s",
            "args": {"url": _url(item), "exception": exception},
        }

    def item_error(
        self, item: Any, exception: BaseException, response: Any, spider: Any
    ) -> LogFormatterResult:
        return {"level": logging.ERROR, "msg": "Error processing %(url)s", "args": {"url": _url(item)}}
