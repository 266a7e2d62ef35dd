"""What the crawling process sends to an extraction worker and gets back. Kept apart from the
work itself (pipelines.extraction.page), which only the workers import (pipelines.extraction.worker).
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from pipelines.origin.credits import DEFAULT_RULES_FILE


@dataclass(frozen=True)
class ExtractOptions:
    favor_precision: bool = False
    min_words: int = 10
    prune_xpath: tuple[str, ...] = ()
    article_min_words: int = 150  # NEWS_ARTICLE_MIN_WORDS, for pages without article markup
    credits_file: str = DEFAULT_RULES_FILE  # CREDITS_RULES_FILE: agencies and credit lines
    # (NEARDUP_NUM_PERM, NEARDUP_SHINGLE_SIZE): the worker signs the text for the near-duplicate
    # stage too; None, it does not
    signer: tuple[int, int] | None = None


@dataclass(frozen=True)
class PageResult:
    """What one fetched HTML page turned out to be."""

    outcome: str  # "article", "not_article" (a front, section, tag page...), "no_text", "unparseable"
    fields: dict[str, Any] | None = None
    reasons: tuple[str, ...] = ()
    # what had to be repaired: "charset_mismatch", "bytes_replaced", "markup_repaired"
    notes: tuple[str, ...] = ()
