"""Items that flow through the pipeline: a raw page from the spider, an article after extraction."""

from __future__ import annotations

import scrapy


class PageItem(scrapy.Item):
    """A fetched HTML page, raw: whether it is an article is decided in the extraction stage."""

    url = scrapy.Field()  # final URL, after redirects
    request_url = scrapy.Field()  # URL the page was first requested as
    site = scrapy.Field()  # host name the page was served from
    body = scrapy.Field()  # bytes as received (after content decoding)
    encoding = scrapy.Field()  # character encoding Scrapy detected for the body
    fetched_at = scrapy.Field()  # ISO 8601 UTC
    declared_language = scrapy.Field()  # Content-Language header, if any
    etag = scrapy.Field()  # validators for the next, conditional fetch
    last_modified = scrapy.Field()
    source = scrapy.Field()  # the source (start URL or sources-file entry) that led here
    warc_record = scrapy.Field()  # the archive's PendingRecord of this response, when archiving


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
    word_count = scrapy.Field()
    version = scrapy.Field()  # 1, or higher when the page changed since it was stored
    warc_file = scrapy.Field()  # the WARC file holding the response this article came from
    warc_offset = scrapy.Field()  # where its response record starts in that file
    # Internal, never exported: word hashes per paragraph of `text` (from the extraction worker),
    # and the MinHash signature written to the store beside the article.
    word_hashes = scrapy.Field()
    signature = scrapy.Field()
    request_url = scrapy.Field()
    page_keys = scrapy.Field()  # the keys the page is known under (crawler.urls.page_keys)
    etag = scrapy.Field()
    last_modified = scrapy.Field()
    source = scrapy.Field()
    text_hash = scrapy.Field()
    previous_id = scrapy.Field()  # the stored version this one replaces
    unchanged = scrapy.Field()  # the page's text is the same as its stored version's
    warc_record = scrapy.Field()
