"""What a response is (feed, sitemap, HTML), the links a feed or a page lists, and where a crawl starts."""

from __future__ import annotations

import gzip

import pytest

from crawler.discovery import PageKind, feed_links, page_links, sniff_kind
from crawler.sources import SourcesError, load_sources


@pytest.mark.parametrize(
    ("content_type", "body", "kind"),
    [
        ("application/rss+xml", b'<?xml version="1.0"?><rss version="2.0"></rss>', PageKind.FEED),
        (
            "text/html",
            b'\xef\xbb\xbf<?xml version="1.0"?>\n<!-- x --><feed xmlns="http://www.w3.org/2005/Atom"/>',
            PageKind.FEED,
        ),
        ("text/xml", b"<rdf:RDF xmlns:rdf='x'></rdf:RDF>", PageKind.FEED),
        ("text/plain", b'<?xml version="1.0"?><urlset xmlns="x"></urlset>', PageKind.SITEMAP),
        ("application/xml", b"<sitemapindex></sitemapindex>", PageKind.SITEMAP),
        ("text/html; charset=utf-8", b"<!DOCTYPE html>\n<html><body>x</body></html>", PageKind.HTML),
        ("", b"   <html><head><title>x</title></head></html>", PageKind.HTML),
        ("text/html", b"\x89PNG\r\n\x1a\n\x00\x00\x00\rIHDR", PageKind.BINARY),
        ("image/jpeg", b"\xff\xd8\xff\xe0", PageKind.BINARY),
        ("application/json", b'{"a": 1}', PageKind.OTHER),
    ],
)
def test_kind_is_read_from_the_content(content_type, body, kind):
    assert sniff_kind(content_type, body) is kind


def test_feed_links_from_rss_and_atom():
    rss = b"""<?xml version="1.0"?><rss version="2.0"><channel>
      <item><title>A</title><link> http://a.test/1 </link></item>
      <item><guid isPermaLink="true">http://a.test/2</guid></item>
      <item><guid isPermaLink="false">tag:a,1</guid></item></channel></rss>"""
    atom = b"""<feed xmlns="http://www.w3.org/2005/Atom"><entry>
      <link rel="self" href="http://a.test/feed/1"/><link rel="alternate" href="http://a.test/3"/></entry>
      <entry><link href="http://a.test/4"/></entry></feed>"""
    assert feed_links(rss) == ["http://a.test/1", "http://a.test/2"]
    assert feed_links(atom) == ["http://a.test/3", "http://a.test/4"]
    assert feed_links(b"<rss><item><link>http://a.test/5</link></item>") == ["http://a.test/5"]  # unclosed
    assert feed_links(b"not xml at all") == []


def test_entities_in_feeds_are_not_expanded():
    hostile = b"""<?xml version="1.0"?><!DOCTYPE r [<!ENTITY x SYSTEM "file:///etc/passwd">]>
    <rss><channel><item><link>&x;</link></item></channel></rss>"""
    assert all("root:" not in link for link in feed_links(hostile))


def test_sources_from_arguments_and_file(tmp_path):
    file = tmp_path / "sources.toml"
    file.write_text(
        '[[sources]]\nurl = "https://b.test/feed.xml"\nname = "B"\ndepth = 0\n'
        '[[sources]]\nurl = "https://a.test/"\n'
    )
    sources = load_sources("https://a.test/, https://c.test/", str(file), default_depth=2)
    assert [(s.url, s.name, s.depth) for s in sources] == [
        ("https://a.test/", "a.test", 2),
        ("https://c.test/", "c.test", 2),
        ("https://b.test/feed.xml", "B", 0),
    ]


@pytest.mark.parametrize(
    ("start_urls", "content", "message"),
    [
        (None, None, "nothing to crawl"),
        ("ftp://a.test/", None, "is not an http"),
        (None, "not toml [", "is not valid TOML"),
        (None, "[[sources]]\nname = 'x'\n", "table needs url"),
        (None, "[[sources]]\nurl = 'http://a.test/'\ndepth = -1\n", "depth must be"),
        (None, "title = 'no sources'\n", r"at least one \[\[sources\]\]"),
    ],
)
def test_bad_sources_say_what_to_fix(tmp_path, start_urls, content, message):
    path = None
    if content is not None:
        path = tmp_path / "sources.toml"
        path.write_text(content)
    with pytest.raises(SourcesError, match=message):
        load_sources(start_urls, str(path) if path else None, 2)


def test_missing_sources_file(tmp_path):
    with pytest.raises(SourcesError, match="cannot read the sources file"):
        load_sources(None, str(tmp_path / "absent.toml"), 2)


def test_gzip_is_not_html():
    assert sniff_kind("application/x-gzip", gzip.compress(b"<urlset/>")) is PageKind.BINARY


def test_a_page_links_to_its_pages_once_each_in_page_order():
    html = """<html><head><title>Front</title></head><body>
        <a href="/news/harbour-plan#comments">Harbour plan</a>
        <a href=" https://other.test/story "> Elsewhere </a>
        <a href="/news/harbour-plan">again</a>
        <map><area href="/world/" alt="World"></map>
        <a href="mailto:desk@coast.test">mail</a> <a href="javascript:void(0)">menu</a>
        <a href="tel:+3100000">call</a> <a href="/photos/harbour.JPG">photo</a>
        <a href="/files/plan.pdf">the plan</a> <a>no link</a>
        <script>document.write('<a href="/from-a-script">x</a>')</script>
        <!-- <a href="/commented-out">old</a> -->
    </body></html>"""
    assert page_links(html, "https://coast.test/index.html") == [
        "https://coast.test/news/harbour-plan",
        "https://other.test/story",
        "https://coast.test/world/",
    ]


def test_page_links_follow_the_base_element_and_the_pages_charset():
    html = (
        '<html><head><base href="https://cdn.coast.test/en/"></head><body><a href="a/b">x</a></body></html>'
    )
    assert page_links(html, "https://coast.test/") == ["https://cdn.coast.test/en/a/b"]
    # a query in Chinese is percent-encoded in the page's own charset, as a browser sends it
    html = '<html><body><a href="/search?q=新闻">search</a></body></html>'
    assert page_links(html, "http://news.test/", "gbk") == ["http://news.test/search?q=%D0%C2%CE%C5"]
    assert page_links(html, "http://news.test/") == ["http://news.test/search?q=%E6%96%B0%E9%97%BB"]
    # a charset without those characters: UTF-8, as for the path
    assert page_links(html, "http://news.test/", "latin-1") == [
        "http://news.test/search?q=%E6%96%B0%E9%97%BB"
    ]
    lone = '<html><body><a href="/a?q=\udcff">x</a><a href="/b">y</a></body></html>'
    assert page_links(lone, "http://news.test/") == ["http://news.test/a?q=?", "http://news.test/b"]


def test_a_link_that_is_no_address_is_passed_over():
    html = (
        '<html><head><base href="http://[b/"></head><body><a href="http://[broken/x">x</a><a href="/ok">y</a>'
    )
    assert page_links(html, "http://news.test/") == ["http://news.test/ok"]
    html = '<a href="http://news.test:99999999/x">x</a><a href="http://news.test:8080/y">y</a>'
    assert page_links(html, "http://news.test/") == ["http://news.test:8080/y"]


def test_a_page_that_cannot_be_read_links_nowhere():
    assert page_links("", "http://news.test/") == []
    assert page_links("\x00\x01\x02", "http://news.test/") == []
