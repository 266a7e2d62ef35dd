"""Extraction stage: each HTML page judged (article or not) and its article extracted.

stage.py     the item pipeline: pages to a pool of worker processes, articles back
page.py      what a worker does with one page: decode, parse, judge, extract
judge.py     article or listing page (front, section, tag, search)
metadata.py  title, authors, date, language and canonical URL from the page's own markup
"""

from .stage import ExtractionPipeline

__all__ = ["ExtractionPipeline"]
