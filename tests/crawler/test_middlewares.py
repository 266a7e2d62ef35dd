"""Scrapy's proxy and meta-refresh middlewares as the project runs them: the same decisions, at
less cost per page."""

from __future__ import annotations

from scrapy import Request
from scrapy.downloadermiddlewares.redirect import MetaRefreshMiddleware as ScrapyMetaRefreshMiddleware
from scrapy.http import HtmlResponse
from scrapy.utils.misc import build_from_crawler

from crawler.middlewares import MetaRefreshMiddleware, ProxyMiddleware
from tests.fixtures.components import project_crawler

STORY = "<p>" + "The council met on Tuesday to discuss the harbour plan. " * 400 + "</p>"


def page(url: str, head: str = "", encoding: str = "utf-8") -> HtmlResponse:
    html = f"<html><head>{head}<title>t</title></head><body>{STORY}</body></html>"
    return HtmlResponse(url, body=html.encode(encoding), encoding=encoding)


def test_a_meta_refresh_still_redirects_and_a_page_without_one_passes():
    middleware = build_from_crawler(MetaRefreshMiddleware, project_crawler())
    request = Request("http://news.test/old")
    moved = page("http://news.test/old", '<meta http-equiv="Refresh" content="0; url=/new">')
    redirected = middleware.process_response(request, moved)
    assert isinstance(redirected, Request)
    assert redirected.url == "http://news.test/new"
    plain = page("http://news.test/story")
    assert middleware.process_response(Request("http://news.test/story"), plain) is plain


def test_a_page_saying_refresh_only_in_a_script_is_not_decoded_to_look(monkeypatch):
    def decoded(*args, **kwargs):
        raise AssertionError("the page was handed to Scrapy's scan")

    middleware = build_from_crawler(MetaRefreshMiddleware, project_crawler())
    monkeypatch.setattr(ScrapyMetaRefreshMiddleware, "process_response", decoded)
    live = page("http://news.test/live", "<script>setInterval(refreshScores, 30000)</script>")
    assert middleware.process_response(Request("http://news.test/live"), live) is live


def test_only_the_head_of_a_page_declaring_a_refresh_is_read(monkeypatch):
    read = []

    def scan(self, request, response, spider=None):
        read.append(len(response.body))
        return response

    middleware = build_from_crawler(MetaRefreshMiddleware, project_crawler())
    monkeypatch.setattr(ScrapyMetaRefreshMiddleware, "process_response", scan)
    # a refresh for readers without scripts, and a story far longer than the head
    kept = page(
        "http://news.test/story", '<noscript><meta http-equiv="refresh" content="0;url=/basic"></noscript>'
    )
    assert middleware.process_response(Request("http://news.test/story"), kept) is kept
    assert len(read) == 1
    assert read[0] <= 4 * 4096 < len(kept.body)


def test_a_meta_refresh_in_a_utf16_page_is_still_seen():
    middleware = build_from_crawler(MetaRefreshMiddleware, project_crawler())
    moved = page("http://news.test/old", '<meta http-equiv="refresh" content="0;URL=/new">', "utf-16")
    assert isinstance(middleware.process_response(Request("http://news.test/old"), moved), Request)


def test_the_proxy_and_no_proxy_of_the_environment_are_followed(monkeypatch):
    monkeypatch.setenv("http_proxy", "http://proxy.test:3128")
    monkeypatch.setenv("no_proxy", "local.test")
    middleware = build_from_crawler(ProxyMiddleware, project_crawler())
    for _ in range(2):  # the second answer comes from the per-host cache
        proxied = Request("http://news.test/a")
        middleware.process_request(proxied)
        assert proxied.meta["proxy"] == "http://proxy.test:3128"
        direct = Request("http://local.test/a")
        middleware.process_request(direct)
        assert direct.meta.get("proxy") is None
    chosen = Request("http://news.test/b", meta={"proxy": "http://other.test:8080"})
    middleware.process_request(chosen)
    assert chosen.meta["proxy"] == "http://other.test:8080"
