"""End-to-end: real `scrapy crawl news` runs against the multi-host fixture newsroom."""

from __future__ import annotations

import shutil
from collections import Counter, defaultdict
from datetime import datetime, timedelta

import pytest

from pipelines import clock
from pipelines.extraction.page import extract_article
from tests.fixtures.articlebench import score
from tests.fixtures.crawls import read_jsonl, run_crawl, stored_articles
from tests.fixtures.newsroom.build import with_new_copy
from tests.fixtures.newsroom.server import NewsroomServer
from tests.fixtures.newsroom.sites import ALL_SITES

pytestmark = pytest.mark.crawl

INTERFACE_FIELDS = {
    "url",
    "canonical_url",
    "site",
    "title",
    "authors",
    "published",
    "language",
    "text",
    "fetched_at",
    "cluster_id",
    "duplicate_of",
    "similarity",
}


def test_every_article_is_stored_and_nothing_else(first_crawl, newsroom, newsroom_server):
    stored = stored_articles(first_crawl)
    assert set(stored) == {a.url for a in newsroom.articles}
    # fronts, sections, tag and about pages, feeds and sitemaps were fetched, and not stored
    not_stored = set(newsroom_server.requests) - set(stored)
    for path in ("/", "/tag/politics/", "/world/", "/about/", "/rss.xml", "/feed.atom", "/sitemaps/news.xml"):
        assert any(url.endswith(path) for url in not_stored), path


def test_robots_txt_is_obeyed(first_crawl, newsroom_server):
    assert not [url for url in newsroom_server.requests if "/search" in url]


def test_every_copy_of_a_story_is_in_its_cluster(first_crawl, newsroom):
    stored = stored_articles(first_crawl)
    clusters_of_story = defaultdict(set)
    for article in newsroom.articles:
        clusters_of_story[article.story].add(stored[article.url]["cluster_id"])
    assert all(len(clusters) == 1 for clusters in clusters_of_story.values()), clusters_of_story
    syndicated = [s for s in clusters_of_story if sum(a.story == s for a in newsroom.articles) > 1]
    assert len(syndicated) >= 5


def test_distinct_stories_are_never_clustered(first_crawl, newsroom):
    stored = stored_articles(first_crawl)
    story_of = {a.url: a.story for a in newsroom.articles}
    stories_in_cluster = defaultdict(set)
    for url, row in stored.items():
        stories_in_cluster[row["cluster_id"]].add(story_of[url])
    assert all(len(stories) == 1 for stories in stories_in_cluster.values())
    # the hard cases are there: briefs, and stories quoting a wire story's paragraphs
    assert {a.kind for a in newsroom.articles} >= {"brief", "shares quotes"}


def test_duplicate_of_names_the_first_stored_copy(first_crawl):
    stored = stored_articles(first_crawl)
    members = defaultdict(list)
    for row in stored.values():
        members[row["cluster_id"]].append(row)
    for rows in members.values():
        firsts = [r for r in rows if r["duplicate_of"] is None]
        assert len(firsts) == 1
        assert firsts[0]["similarity"] is None
        first = firsts[0]
        for row in rows:
            if row is not first:
                assert row["duplicate_of"] == first["url"]
                assert 0.0 < row["similarity"] <= 1.0
                assert row["id"] > first["id"]


def test_no_template_boilerplate_is_left_in_text(first_crawl, newsroom):
    stored = stored_articles(first_crawl)
    left = [
        (url, line)
        for url, lines in newsroom.boilerplate.items()
        for line in lines
        if line in stored[url]["text"]
    ]
    assert left == []


def test_body_recall_stays_within_two_percent_of_trafilatura_alone(first_crawl, newsroom):
    stored = stored_articles(first_crawl)
    alone = {}
    for article in newsroom.articles:
        html = newsroom.pages[article.host][article.url.split(article.host, 1)[1]].body.decode()
        alone[article.url] = extract_article(html, article.url)["text"]
    truth = {a.url: "\n\n".join(a.paragraphs) for a in newsroom.articles}
    with_stage = score((truth[url], stored[url]["text"]) for url in truth)
    trafilatura_alone = score((truth[url], alone[url]) for url in truth)
    assert with_stage.recall >= 0.98 * trafilatura_alone.recall
    assert with_stage.precision > trafilatura_alone.precision  # the boilerplate is gone


def test_every_site_has_ten_stories_and_four_kinds_of_boilerplate(newsroom):
    per_site = Counter(a.host for a in newsroom.articles)
    assert len(per_site) >= 6
    assert min(per_site.values()) >= 10
    assert all(len({b.kind for b in site.boilerplate}) >= 4 for site in ALL_SITES)


def test_story_text_is_kept(first_crawl, newsroom):
    stored = stored_articles(first_crawl)
    for article in newsroom.articles:
        text = stored[article.url]["text"]
        kept = sum(
            1 for paragraph in article.paragraphs if " ".join(paragraph.split()[:8]) in " ".join(text.split())
        )
        assert kept >= len(article.paragraphs) - 1, (article.url, article.kind)


def test_feed_export_carries_the_interface_fields(first_crawl, newsroom):
    exported = read_jsonl(first_crawl / "articles.jsonl")
    assert len(exported) == len(newsroom.articles)
    by_url = {a.url: a for a in newsroom.articles}
    for item in exported:
        assert set(item) >= INTERFACE_FIELDS
        assert "signature" not in item
        assert "html" not in item
        article = by_url[item["url"]]
        assert item["site"] == article.host
        # a copy declaring the original its canonical page is still stored, as its own page
        assert item["canonical_url"] == (article.canonical or article.url)
        assert item["wire"] == article.wire
        assert item["origin_url"] in by_url
        assert item["title"] == article.headline
        # a wire byline ("By Dana Whitfield | Reuters") may credit the agency too
        assert item["authors"][0] == article.author
        assert len(item["authors"]) <= 2
        assert item["published"][:10] == article.published[:10]
        assert item["language"] == "en"
        assert "\n\n" in item["text"] or len(article.paragraphs) == 1
        datetime.fromisoformat(item["fetched_at"])
    assert any(a.canonical for a in newsroom.articles)


@pytest.mark.parametrize("days_later", [0, 3 * 365])
def test_second_run_stores_nothing_twice_and_recognises_a_story_from_the_first(
    first_crawl, newsroom, tmp_path, days_later
):
    # the second run may come years later (the clock set forward): the story is still recognised
    data_dir = tmp_path / "data"
    shutil.copytree(first_crawl, data_dir)
    before = stored_articles(data_dir)
    wire_story = next(a.story for a in newsroom.articles if a.edits)
    hosts_with_story = {a.host for a in newsroom.articles if a.story == wire_story}
    host = next(a.host for a in newsroom.articles if a.host not in hosts_with_story)
    later, new_copy = with_new_copy(newsroom, wire_story, host)
    with NewsroomServer(later) as server:
        now = (clock.now() + timedelta(days=days_later)).isoformat(timespec="seconds")
        run_crawl(server, data_dir, "-O", str(tmp_path / "second.jsonl"), now=now if days_later else None)
    after = stored_articles(data_dir)
    assert set(after) == set(before) | {new_copy.url}
    assert all(after[url] == row for url, row in before.items())
    first_copy = next(
        row for row in before.values() if row["cluster_id"] == after[new_copy.url]["cluster_id"]
    )
    story_urls = {a.url for a in newsroom.articles if a.story == wire_story}
    assert first_copy["url"] in story_urls
    assert after[new_copy.url]["duplicate_of"] in story_urls
    assert [item["url"] for item in read_jsonl(tmp_path / "second.jsonl")] == [new_copy.url]


def test_robots_txt_holds_for_every_request_that_waited_for_it(newsroom, tmp_path):
    # Start URLs on one host all wait for its robots.txt; Scrapy's own middleware let all but the
    # first of them through unchecked.
    host = "http://www.meridianherald.test"
    starts = [f"{host}/search?q=news", f"{host}/", f"{host}/about/", f"{host}/search?q=news&page=2"]
    with NewsroomServer(newsroom) as server:
        run_crawl(server, tmp_path, "-s", "NEWS_FOLLOW_DEPTH=0", start_urls=starts)
        assert [url for url in server.requests if "/search" in url] == []
        assert server.requests[f"{host}/"] == 1


def test_connections_through_a_proxy_are_kept_for_every_request_in_flight(newsroom, tmp_path):
    # Every request goes to the proxy: with a connection kept per host only for the requests one
    # host may have in flight (2 here), the other 30 were closed after each page and opened anew.
    with NewsroomServer(newsroom) as server:
        run_crawl(server, tmp_path, "-s", "CONCURRENT_REQUESTS=32", "-s", "CONCURRENT_REQUESTS_PER_DOMAIN=2")
        fetched = sum(server.requests.values())
        assert fetched > 100
        assert server.connections <= 32


def test_a_crawl_of_well_behaved_sites_logs_no_warning(newsroom, tmp_path):
    # Cron mails what a run logs: a warning must mean something is wrong.
    with NewsroomServer(newsroom) as server:
        result = run_crawl(server, tmp_path)
    assert [line for line in result.stderr.splitlines() if "WARNING" in line] == []
