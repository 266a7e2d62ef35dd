"""Broken and hostile input: the crawl finishes, every case is counted under its own key, and the
good articles around them are all stored."""

from __future__ import annotations

import copy

import pytest

from tests.fixtures.crawls import run_crawl, stored_articles
from tests.fixtures.newsroom.hostile import add_hostile_host
from tests.fixtures.newsroom.server import NewsroomServer
from tests.fixtures.newsroom.stories import load_stories

pytestmark = pytest.mark.crawl

LIMIT = 1_000_000  # DOWNLOAD_MAXSIZE in this test


def stats_of(stderr: str) -> dict[str, int]:
    found = {}
    for line in stderr.splitlines():
        line = line.strip(" {},")
        if line.startswith("'") and "':" in line:
            name, _, value = line.partition("':")
            value = value.strip(" ,}")
            if value.isdigit():
                found[name.strip("'")] = int(value)
    return found


def test_hostile_input_is_counted_and_good_articles_are_stored(newsroom, tmp_path):
    hostile = copy.copy(newsroom)
    hostile.pages = {host: dict(pages) for host, pages in newsroom.pages.items()}
    hostile.start_urls = list(newsroom.start_urls)
    good = add_hostile_host(hostile, list(load_stories()[100:103]), LIMIT)
    with NewsroomServer(hostile) as server:
        result = run_crawl(
            server,
            tmp_path,
            "-s",
            f"DOWNLOAD_MAXSIZE={LIMIT}",
            "-s",
            "DOWNLOAD_TIMEOUT=2",
            "-s",
            "RETRY_ENABLED=True",
            "-s",
            "RETRY_TIMES=1",
            "-s",
            "RETRY_AFTER_MAX_SECONDS=2",
            "-s",
            "NEWS_MAX_URLS_PER_PATTERN=3",
            "-s",
            "LOG_LEVEL=INFO",
        )
    stats = stats_of(result.stderr)
    expected = [
        "extract/markup_repaired",
        "extract/charset_mismatch",
        "news/pages/binary",
        "news/failed/too_large",
        "news/failed/decompression_bomb",
        "news/failed/redirect_loop",
        "news/failed/http_404",
        "news/failed/http_500",
        "news/failed/http_503",
        "news/retry_after/honoured",
        "news/retry_after/too_long",
        "news/failed/timeout",
        "news/trap_links_capped",
        "news/session_ids_removed",
    ]
    assert {name: stats.get(name, 0) for name in expected if not stats.get(name)} == {}
    stored = stored_articles(tmp_path)
    assert {a.url for a in newsroom.articles} <= set(stored)  # every good article of the newsroom
    assert set(good.values()) <= set(stored)
    assert "café de la gare" in stored[good["undeclared"]]["text"]
    assert "Über die Brücke" in stored[good["lying"]]["text"]
    assert len(stored) == len(newsroom.articles) + len(good)  # nothing stored twice or by mistake
