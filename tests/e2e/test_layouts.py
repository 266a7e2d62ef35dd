"""End-to-end: sites that lay their stories out without <p> (a layout table, <br>-separated lines, a
list, nested <div>s and <span>s, an AMP page) have their template lines learned and removed."""

from __future__ import annotations

import pytest

from pipelines.extraction.page import extract_article
from pipelines.text import words
from tests.fixtures.crawls import run_crawl, stored_articles
from tests.fixtures.newsroom.build import Plan, build_newsroom
from tests.fixtures.newsroom.layouts import LAYOUT_FAMILIES, LAYOUT_SITES
from tests.fixtures.newsroom.server import NewsroomServer

pytestmark = pytest.mark.crawl

PLAN = Plan(own_stories=8, wire_stories=6, briefs=5, quote_sharing=2)


@pytest.fixture(scope="module")
def layouts_newsroom():
    return build_newsroom(seed=5, plan=PLAN, sites=LAYOUT_SITES)


@pytest.fixture(scope="module")
def layouts_crawl(layouts_newsroom, tmp_path_factory):
    data_dir = tmp_path_factory.mktemp("layouts-crawl")
    with NewsroomServer(layouts_newsroom) as server:
        run_crawl(server, data_dir)
    return stored_articles(data_dir)


def _words(paragraph: str) -> str:
    return " ".join(words(paragraph))


def _extracted_alone(newsroom, article) -> str:
    html = newsroom.pages[article.host][article.url.split(article.host, 1)[1]].body.decode()
    fields = extract_article(html, article.url)
    return fields["text"] if fields else ""


@pytest.mark.parametrize("family", LAYOUT_FAMILIES)
def test_template_lines_are_learned_and_removed_in_every_layout(family, layouts_newsroom, layouts_crawl):
    site = LAYOUT_FAMILIES[family]
    assert len({b.kind for b in site.boilerplate}) >= 4
    articles = [a for a in layouts_newsroom.articles if a.host == site.host]
    kept_by_extraction = 0
    for article in articles:
        stored = layouts_crawl[article.url]["text"]
        lines = layouts_newsroom.boilerplate[article.url]
        kept_by_extraction += sum(line in _extracted_alone(layouts_newsroom, article) for line in lines)
        assert not [line for line in lines if line in stored], (article.url, article.kind)
        # and the story's own paragraphs, each one apart, briefs' included
        stored_paragraphs = {_words(paragraph) for paragraph in stored.split("\n\n")}
        kept = sum(_words(paragraph) in stored_paragraphs for paragraph in article.paragraphs)
        assert kept >= len(article.paragraphs) - 1, (article.url, article.kind)
    # the family is a test of the stage: extraction alone keeps template lines on every page
    assert kept_by_extraction >= len(articles)


def test_briefs_lose_the_template_lines_too(layouts_newsroom, layouts_crawl):
    briefs = [a for a in layouts_newsroom.articles if a.kind == "brief"]
    assert len(briefs) == PLAN.briefs
    for brief in briefs:
        lines = layouts_newsroom.boilerplate[brief.url]
        assert any(line in _extracted_alone(layouts_newsroom, brief) for line in lines), brief.url
        assert not [line for line in lines if line in layouts_crawl[brief.url]["text"]], brief.url
