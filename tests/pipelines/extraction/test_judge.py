"""Articles versus pages that list them."""

from __future__ import annotations

from lxml.html import fromstring

from pipelines.extraction.judge import judge_article
from tests.fixtures.newsroom.sites import ALL_SITES, slug


def test_every_newsroom_article_is_judged_an_article(newsroom):
    for article in newsroom.articles:
        page = newsroom.pages[article.host][article.url.split(article.host, 1)[1]]
        verdict = judge_article(fromstring(page.body), article.url)
        assert verdict.is_article, (article.url, verdict.reasons)


def test_listing_pages_are_not_articles(newsroom):
    for site in ALL_SITES:
        pages = newsroom.pages[site.host]
        paths = ["/", "/about/", f"/{slug(site.sections[0])}/", "/search?q=news"]
        paths += [p for p in pages if p.startswith("/tag/")][:2]
        for path in paths:
            verdict = judge_article(fromstring(pages[path].body), f"http://{site.host}{path}")
            assert not verdict.is_article, (site.host, path, verdict.reasons)


def test_a_plain_article_without_metadata_is_an_article():
    body = "".join(f"<p>{'Sentence of the story with several words. ' * 6}</p>" for _ in range(6))
    html = f"<html><body><div id='main'>{body}</div></body></html>"
    assert judge_article(fromstring(html), "http://a.test/news/a-long-story-slug-about-things").is_article
