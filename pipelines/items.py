"""Items that flow through the pipeline: a raw page from the spider, an article after extraction.

An ArticleItem holds the exported fields (FEED_EXPORT_FIELDS) and one more, `carried`: what the
stages pass along to each other and never export.
"""

from __future__ import annotations

import asyncio
import hashlib
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any

import scrapy

from .urls import page_keys

if TYPE_CHECKING:
    from .signatures import ParagraphHashes


class PageItem(scrapy.Item):
    """A fetched HTML page, raw: whether it is an article is decided in the extraction stage."""

    url = scrapy.Field()  # final URL, after redirects
    request_url = scrapy.Field()  # URL the page was first requested as
    site = scrapy.Field()  # host name the page was served from
    body = scrapy.Field()  # bytes as received (after content decoding)
    http_charset = scrapy.Field()  # the charset Content-Type names, if any (see extraction.charset)
    fetched_at = scrapy.Field()  # ISO 8601 UTC
    declared_language = scrapy.Field()  # Content-Language header, if any
    etag = scrapy.Field()  # validators for the next, conditional fetch
    last_modified = scrapy.Field()
    source = scrapy.Field()  # the source (start URL or sources-file entry) that led here
    warc_record = scrapy.Field()  # the archive's pending record of this response, when archiving
    page_lookup = scrapy.Field()  # (page key, PageState or None): what the store knew before the fetch


@dataclass
class Carried:
    """What the stages pass along with an article, never exported."""

    request_url: str | None = None
    page_keys: list[str] = field(default_factory=list)  # every key the page is known under
    etag: str | None = None
    last_modified: str | None = None
    source: str | None = None
    warc_record: Any = None  # the archive's pending record of the response (crawler.warc)
    page_lookup: Any = None  # (page key, PageState or None) the store gave before the fetch
    # Word hashes per paragraph of `text` (from the extraction worker), for the signature, and
    # each paragraph's segment key (pipelines.text.segment_keys), for boilerplate statistics.
    word_hashes: ParagraphHashes | None = None
    # The text's signature as the extraction worker made it; None once the text has changed.
    signed: Any = None
    segment_keys: list[str] | None = None
    # The segment keys of the page's short lines extraction left out, for learning its template.
    template_lines: list[str] | None = None
    text_hash: str | None = None  # of the cleaned text (versioning)
    # Evidence for the story's origin (pipelines.origin): the site's own name, and the outlet the
    # page credits as the story's first publisher.
    site_name: str | None = None
    credited: str | None = None
    previous: Any = None  # the page's stored state when this is a new version (PageState)
    signature: Any = None  # the MinHash signature, stored beside the article (Signature)
    reached_again: bool = False  # the same page, reached twice in this run: only its fetch is stored


class ArticleItem(scrapy.Item):
    """One stored article page; the exported fields are listed in settings.FEED_EXPORT_FIELDS."""

    url = scrapy.Field()
    canonical_url = scrapy.Field()
    site = scrapy.Field()
    title = scrapy.Field()
    authors = scrapy.Field()
    published = scrapy.Field()
    language = scrapy.Field()
    text = scrapy.Field()
    fetched_at = scrapy.Field()
    cluster_id = scrapy.Field()
    duplicate_of = scrapy.Field()
    similarity = scrapy.Field()
    origin_url = scrapy.Field()  # the copy the story most likely started from (pipelines.origin)
    origin_reason = scrapy.Field()  # the evidence that decided it
    origin_confidence = scrapy.Field()
    wire = scrapy.Field()  # the wire agency the page credits, or None
    word_count = scrapy.Field()
    version = scrapy.Field()  # 1, or higher when the page changed since it was stored
    warc_file = scrapy.Field()  # the WARC file holding the response this article came from
    warc_offset = scrapy.Field()  # where its response record starts in that file
    carried = scrapy.Field()  # Carried: for the stages, never exported

    @property
    def carry(self) -> Carried:
        """The item's Carried, made on first use (an article made outside the extraction stage,
        in a test or a benchmark, is known under its URL's page key)."""
        if self.get("carried") is None:
            self["carried"] = Carried(page_keys=page_keys(self["url"]))
        return self["carried"]


# The fields of an article that are exported (FEED_EXPORT_FIELDS, the dataset) and stored, in order.
EXPORT_FIELDS = tuple(name for name in ArticleItem.fields if name != "carried")


def new_cluster_id(url: str) -> str:
    """A story's cluster id, derived from its first copy's URL so it never changes."""
    return hashlib.sha1(url.encode("utf-8"), usedforsecurity=False).hexdigest()[:16]


async def archived_location(carry: Carried) -> Any | None:
    """Where the WARC archive put the page's response (crawler.warc.WarcLocation: file, offset,
    payload_digest), waiting for the write if it is still under way; None without one."""
    future = getattr(carry.warc_record, "future", None)
    if future is None:
        return None
    try:
        # mostly written by now: no asyncio future, and no wake-up from the archive's thread
        return future.result() if future.done() else await asyncio.wrap_future(future)
    except Exception:  # noqa: BLE001 - counted and logged by the archive; the article goes on
        return None
