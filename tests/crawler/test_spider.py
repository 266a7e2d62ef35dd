"""The spider's callbacks on saved responses: what it follows and what it yields."""

from __future__ import annotations

import gzip

import pytest
from scrapy import Request
from scrapy.http import HtmlResponse, Response, TextResponse, XmlResponse

from crawler.sources import SourcesError
from crawler.spiders.news import NewsSpider
from pipelines.items import PageItem
from tests.fixtures.components import project_crawler


@pytest.fixture
def spider() -> NewsSpider:
    crawler = project_crawler()
    return NewsSpider.from_crawler(crawler, start_urls="http://www.meridianherald.test/")


def response_for(newsroom, url: str, hops_left: int = 2, cls=HtmlResponse) -> Response:
    host, path = url.split("/", 3)[2], "/" + url.split("/", 3)[3]
    page = newsroom.pages[host][path]
    request = Request(url, meta={"hops_left": hops_left, "source": host})
    return cls(url, body=page.body, headers={"Content-Type": page.content_type}, request=request)


def test_a_front_page_is_followed_within_its_host(spider, newsroom):
    output = list(spider.parse(response_for(newsroom, "http://www.meridianherald.test/")))
    # every HTML page goes on raw; the extraction stage judges whether it is an article
    assert [o["url"] for o in output if isinstance(o, PageItem)] == ["http://www.meridianherald.test/"]
    output = [o for o in output if not isinstance(o, PageItem)]
    urls = {o.url for o in output}
    newest_year = max(a.published[:4] for a in newsroom.articles if a.host == "www.meridianherald.test")
    assert any(f"/news/{newest_year}/" in url for url in urls)
    assert all(url.startswith("http://www.meridianherald.test/") for url in urls)
    assert all(o.meta["hops_left"] == 1 for o in output)


def test_an_article_is_yielded_raw(spider, newsroom):
    article = next(a for a in newsroom.articles if a.host == "www.meridianherald.test")
    output = list(spider.parse(response_for(newsroom, article.url, hops_left=0)))
    [item] = output  # no links followed at the last hop
    assert item["url"] == article.url
    assert item["site"] == article.host
    assert b"<html" in item["body"]
    assert item["http_charset"] == "utf-8"
    assert item["fetched_at"].endswith("+00:00")
    assert "text" not in item


def test_feeds_and_sitemaps_lead_to_articles(spider, newsroom):
    rss = list(spider.parse(response_for(newsroom, "http://www.dailyledger.test/rss.xml", cls=XmlResponse)))
    ledger = {a.url for a in newsroom.articles if a.host == "www.dailyledger.test"}
    assert {r.url for r in rss} == ledger
    assert all(r.meta["hops_left"] == 0 for r in rss)
    index = list(
        spider.parse(response_for(newsroom, "http://www.eveningpost.test/sitemap.xml", cls=XmlResponse))
    )
    assert {r.url for r in index} == {
        "http://www.eveningpost.test/sitemaps/news.xml",
        "http://www.eveningpost.test/sitemaps/sections.xml",
    }
    news = list(
        spider.parse(response_for(newsroom, "http://www.eveningpost.test/sitemaps/news.xml", cls=XmlResponse))
    )
    assert {r.url for r in news} == {a.url for a in newsroom.articles if a.host == "www.eveningpost.test"}


def html_response(url: str, links: list[str], hops_left: int = 1) -> HtmlResponse:
    body = "".join(f'<a href="{link}">{link}</a>' for link in links)
    request = Request(url, meta={"hops_left": hops_left, "source": "a.test"})
    return HtmlResponse(
        url, body=f"<html><body>{body}</body></html>".encode(), encoding="utf-8", request=request
    )


def followed(output) -> list[str]:
    return [o.url for o in output if isinstance(o, Request)]


def test_a_link_is_followed_once_however_often_pages_repeat_it(spider):
    menu = ["/world/", "/world/", "/sport/"]
    assert followed(spider.parse(html_response("http://a.test/1", [*menu, "/news/a"]))) == [
        "http://a.test/world/",
        "http://a.test/sport/",
        "http://a.test/news/a",
    ]
    assert followed(spider.parse(html_response("http://a.test/2", [*menu, "/news/b"]))) == [
        "http://a.test/news/b"
    ]


def test_the_links_remembered_are_forgotten_at_a_bound(spider, monkeypatch):
    from crawler.spiders import news

    monkeypatch.setattr(news, "_SEEN_LINKS", 2)
    links = ["/a", "/b", "/c"]
    assert len(followed(spider.parse(html_response("http://a.test/1", links)))) == 3
    # the memory empties each time it holds two: the repeats go on to the duplicate filter
    assert "http://a.test/a" in followed(spider.parse(html_response("http://a.test/2", links)))
    assert len(spider._seen_links) <= 2


def test_a_link_over_its_patterns_cap_is_still_followed_from_a_feed(spider):
    spider.max_urls_per_pattern = 2
    days = [f"/calendar/2024-01-{day:02d}" for day in range(1, 5)]
    assert followed(spider.parse(html_response("http://a.test/events", days))) == [
        "http://a.test/calendar/2024-01-01",
        "http://a.test/calendar/2024-01-02",
    ]
    rss = (
        '<?xml version="1.0"?><rss version="2.0"><channel>'
        "<item><link>http://a.test/calendar/2024-01-04</link></item></channel></rss>"
    )
    feed = XmlResponse(
        "http://a.test/rss.xml",
        body=rss.encode(),
        headers={"Content-Type": "application/rss+xml"},
        request=Request("http://a.test/rss.xml", meta={"source": "a.test"}),
    )
    assert followed(spider.parse(feed)) == ["http://a.test/calendar/2024-01-04"]


def test_links_that_are_no_address_are_counted_and_the_others_followed(spider):
    links = ["http://a.test:99999999/x", "http://[broken/", "http://a.test/good"]
    items = "".join(f"<item><link>{link}</link></item>" for link in links)
    feed = XmlResponse(
        "http://a.test/rss.xml",
        body=f'<?xml version="1.0"?><rss version="2.0"><channel>{items}</channel></rss>'.encode(),
        headers={"Content-Type": "application/rss+xml"},
        request=Request("http://a.test/rss.xml", meta={"source": "a.test"}),
    )
    assert followed(spider.parse(feed)) == ["http://a.test/good"]
    assert spider.crawler.stats.get_value("news/bad_links") == 2
    page = html_response("http://a.test/", links)
    assert followed(spider.parse(page)) == []  # the good one is followed already


def test_a_gzipped_sitemap_is_read(spider):
    body = gzip.compress(
        b'<?xml version="1.0"?><urlset xmlns="x"><url><loc>http://a.test/1</loc></url></urlset>'
    )
    response = Response(
        "http://a.test/sitemap.xml.gz", body=body, request=Request("http://a.test/sitemap.xml.gz")
    )
    assert [r.url for r in spider.parse(response)] == ["http://a.test/1"]


def test_binary_and_unknown_responses_are_counted_and_skipped(spider):
    png = Response(
        "http://a.test/x.png", body=b"\x89PNG\r\n\x1a\n\x00\x00", headers={"Content-Type": "image/png"}
    )
    fake_html = TextResponse(
        "http://a.test/y", body=b"\x00\x01\x02binary", headers={"Content-Type": "text/html"}, encoding="utf-8"
    )
    assert list(spider.parse(png)) == []
    assert list(spider.parse(fake_html)) == []
    assert spider.crawler.stats.get_value("news/pages/binary") == 2


def test_a_spider_without_sources_cannot_start():
    with pytest.raises(SourcesError, match="nothing to crawl"):
        NewsSpider.from_crawler(project_crawler())
