"""Scheduled runs: known article pages are not fetched again too soon, revisits are conditional,
and a changed page becomes a new version of its story."""

from __future__ import annotations

import dataclasses
import json
import shutil

import pytest

from tests.fixtures.crawls import run_crawl, stored_articles
from tests.fixtures.newsroom.build import render_newsroom
from tests.fixtures.newsroom.model import Page
from tests.fixtures.newsroom.server import NewsroomServer
from tests.fixtures.newsroom.sites import ALL_SITES

pytestmark = pytest.mark.crawl


@pytest.fixture
def crawled(first_crawl, tmp_path):
    """A copy of the first crawl's DATA_DIR, for a later run to work on."""
    data_dir = tmp_path / "data"
    shutil.copytree(first_crawl, data_dir)
    return data_dir


def article_requests(server: NewsroomServer, newsroom) -> int:
    return sum(server.requests[a.url] for a in newsroom.articles)


def stat(result, name: str) -> int:
    for line in result.stderr.splitlines():
        if f"'{name}':" in line:
            return int(line.split(":")[-1].strip(" ,}"))
    return 0


def test_a_later_run_skips_stored_articles_but_reads_fronts_and_feeds(crawled, newsroom):
    before = stored_articles(crawled)
    with NewsroomServer(newsroom) as server:
        result = run_crawl(server, crawled, "-s", "LOG_LEVEL=INFO")
        assert article_requests(server, newsroom) == 0
        assert all(server.requests[url] >= 1 for url in newsroom.start_urls)
    assert stat(result, "incremental/skipped_fresh") == len(newsroom.articles)
    assert stored_articles(crawled) == before


def test_due_revisits_are_conditional_and_unchanged_pages_store_nothing(crawled, newsroom):
    before = stored_articles(crawled)
    with NewsroomServer(newsroom) as server:
        result = run_crawl(server, crawled, "-s", "INCREMENTAL_REVISIT_HOURS=0", "-s", "LOG_LEVEL=INFO")
        assert sum(server.not_modified.values()) == len(newsroom.articles)
    assert stat(result, "incremental/not_modified") == len(newsroom.articles)
    assert stored_articles(crawled) == before


def test_a_changed_page_is_stored_as_a_new_version(crawled, newsroom):
    before = stored_articles(crawled)
    target = next(a for a in newsroom.articles if a.edits)  # a syndicated copy
    changed = dataclasses.replace(
        target, paragraphs=(*target.paragraphs, "Update: officials confirmed the figures on Friday.")
    )
    articles = [changed if a is target else a for a in newsroom.articles]
    later = render_newsroom(articles, ALL_SITES, __import__("random").Random(1))
    with NewsroomServer(later) as server:
        run_crawl(server, crawled, "-s", "INCREMENTAL_REVISIT_HOURS=0")
    db = __import__("sqlite3").connect(crawled / "articles.sqlite3")
    rows = db.execute(
        "SELECT version, previous_id, cluster_id, duplicate_of, current, text FROM articles WHERE url = ? ORDER BY version",
        (target.url,),
    ).fetchall()
    assert [r[0] for r in rows] == [1, 2]
    assert [r[4] for r in rows] == [0, 1]
    assert rows[1][2] == before[target.url]["cluster_id"]
    assert rows[1][3] == before[target.url]["duplicate_of"]
    assert "officials confirmed the figures" in rows[1][5]
    assert db.execute("SELECT COUNT(*) FROM articles").fetchone()[0] == len(before) + 1


def test_a_redirected_url_and_its_other_variants_are_one_page(newsroom, tmp_path):
    target = newsroom.articles[0]
    moved = dataclasses.replace(newsroom)
    moved.pages = {host: dict(pages) for host, pages in newsroom.pages.items()}
    old_url = f"http://{target.host}/old-address-of-a-story"
    moved.pages[target.host]["/old-address-of-a-story"] = Page(
        301, "text/html", b"", (("Location", target.url),)
    )
    links = f'<a href="{old_url}">old</a> <a href="{target.url}?utm_source=newsletter">tracked</a>'
    moved.pages[target.host]["/links/"] = Page(
        200, "text/html", f"<html><body>{links}</body></html>".encode()
    )
    with NewsroomServer(moved) as server:
        run_crawl(server, tmp_path, start_urls=[old_url])  # stored under its final URL
        server.requests.clear()
        run_crawl(server, tmp_path, start_urls=[f"http://{target.host}/links/"])
        # the second run knew the page under its old address and under a tracking-parameter variant
        assert set(server.requests) == {f"http://{target.host}/robots.txt", f"http://{target.host}/links/"}
    assert list(stored_articles(tmp_path)).count(target.url) == 1


def test_a_source_that_stops_yielding_articles_raises_the_alarm(crawled, newsroom):
    from crawler.commands.crawl import EXIT_ALARM
    from tests.fixtures.newsroom.demo import crawl

    broken = dataclasses.replace(newsroom)
    broken.pages = {host: dict(pages) for host, pages in newsroom.pages.items()}
    ledger = "www.dailyledger.test"
    broken.pages[ledger]["/rss.xml"] = Page(
        200, "application/rss+xml", b'<?xml version="1.0"?><rss><channel/></rss>'
    )
    with NewsroomServer(broken) as server:
        result = crawl(broken.start_urls, crawled, server.proxy_env())
    assert result.returncode == EXIT_ALARM, result.stderr[-2000:]
    assert f"alarm: source {ledger} yielded no articles this run" in result.stderr
    latest = json.loads(max((crawled / "runs").glob("*.json")).read_text())
    assert len(latest["alarms"]) == 1
    assert latest["sources"]["www.meridianherald.test"]["articles"] > 0
