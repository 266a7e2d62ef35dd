"""The functions the extraction stage runs in its worker processes. They import the extraction
code when first called: trafilatura, htmldate and the judge's model are the workers' alone, and
stay out of the crawling process (about a tenth of a second of every crawl's start-up).
"""

from __future__ import annotations

import gc
from typing import Any

from .task import PageResult


def process_page(*args: Any) -> PageResult:
    """pipelines.extraction.page.process_page, run in a worker."""
    from .page import process_page as process

    return process(*args)


def warm_up() -> None:
    """Import the extraction code and load the language model before the first page arrives."""
    from .metadata import detect_language

    detect_language("warming up the language identifier with a sentence")
    # What is loaded now lives as long as the worker: the collector's full passes skip it.
    gc.freeze()
