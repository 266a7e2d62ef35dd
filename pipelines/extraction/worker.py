"""The functions the extraction stage runs in its worker processes. Each worker imports the
extraction code as it starts (start): trafilatura, htmldate and the judge's model are the
workers' alone, and stay out of the crawling process (about a tenth of a second of every crawl's
start-up). Scrapy stays out of the workers in turn (tests/test_layout.py checks both).
"""

from __future__ import annotations

import gc
from typing import Any

from pipelines import faults
from pipelines.garbage import collect_less

from .task import PageResult


def process_page(*args: Any) -> PageResult:
    """pipelines.extraction.page.process_page, run in a worker."""
    from .page import process_page as process

    faults.reached("extract.page")
    return process(*args)


def start() -> None:
    """Each worker's initializer, run before its first page: the collector set as in the crawling
    process, the extraction code imported and the language model loaded."""
    from .metadata import language_ranking
    from .page import process_page  # noqa: F401  (imported now, not with the first page)

    collect_less()
    language_ranking("warming up the language identifier with a sentence")
    # What is loaded now lives as long as the worker: the collector's full passes skip it.
    gc.freeze()
