"""Extraction stage: each HTML page judged (article or not) and its article extracted.

stage.py         the item pipeline: pages to a pool of worker processes, articles back
pool.py          the worker processes, driven from the crawl's event loop through pipes
task.py          what goes to a worker and comes back (options, the page's outcome)
worker.py        what the workers run; only they import the extraction code below
page.py          what a worker does with one page: decode, parse, judge, extract
charset.py       bytes to text, by the page's own evidence
layout.py        layout tables turned into plain blocks before extraction
lines.py         the short lines extraction left out, for the boilerplate stage to learn from
judge.py         article or not: the tree model's probability, and what the page declares
pagefeatures.py  the signals the judge reads from a parsed page
judgemodel.py    the judge's trees, loaded from judge_model.json and evaluated with numpy
markup.py        the page's JSON-LD objects and declared types
metadata.py      title, authors, date, language and canonical URL from the page's own markup
localdates.py    dates written the local way: CJK, Arabic, Persian and Thai calendars
"""

from __future__ import annotations

from typing import Any

__all__ = ["ExtractionPipeline"]


def __getattr__(name: str) -> Any:
    # The stage is imported when Scrapy asks for it, not with the package: the workers import
    # the package for pipelines.extraction.worker, and the stage would bring Scrapy into them.
    if name == "ExtractionPipeline":
        from .stage import ExtractionPipeline

        return ExtractionPipeline
    raise AttributeError(f"module {__name__!r} has no attribute {name!r}")
