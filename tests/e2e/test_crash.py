"""A crawl killed with SIGKILL loses nothing: the next run stores every article exactly once, and
the near-duplicate index (the stored signatures) matches the store.

The kills land where they matter, through the fault-injection points of pipelines.faults: inside
an article's transaction, just after it, between the near-duplicate decision and the store, after
a WARC record, while the band filter is being saved; then seeded random points and counts.
"""

from __future__ import annotations

import contextlib
import os
import random
import signal
import sqlite3
import subprocess
from collections import defaultdict

import pytest

from pipelines.faults import ENVIRONMENT
from tests.fixtures.crawls import ROOT, run_crawl, stored_articles
from tests.fixtures.newsroom.build import Plan, build_newsroom
from tests.fixtures.newsroom.demo import crawl_command
from tests.fixtures.newsroom.server import NewsroomServer

pytestmark = pytest.mark.crawl

# (point, the time it is reached when the crawl dies): each must kill the crawl.
KILLS = [
    ("store.committing", 1),  # the first article's transaction, not yet committed
    ("store.committed", 4),  # an article committed, the next one not begun
    ("neardup.decided", 6),  # decided, in the hot index, never stored
    ("warc.written", 9),  # a response archived, its article not yet stored
    ("filter.saving", 1),  # the run's end: the band filter written beside the old one
]
POINTS = sorted({point for point, _ in KILLS})
RANDOM_TRIALS = 3


def stats(result: subprocess.CompletedProcess) -> str:
    """The crawl's stats, as it logged them: what a failed assertion needs to be understood."""
    return result.stderr[result.stderr.rfind("Dumping Scrapy stats") :][:4000]


def partition(data_dir) -> set[frozenset[str]]:
    clusters = defaultdict(set)
    for url, row in stored_articles(data_dir).items():
        clusters[row["cluster_id"]].add(url)
    return {frozenset(urls) for urls in clusters.values()}


def killed_crawl(server: NewsroomServer, data_dir, point: str, count: int) -> int:
    """A crawl told to die the *count*th time it reaches *point*; its exit status."""
    command = crawl_command(server.newsroom.start_urls, data_dir, "-s", "LOG_LEVEL=WARNING")
    env = {
        **os.environ,
        "SCRAPY_SETTINGS_MODULE": "settings.loopback",
        ENVIRONMENT: f"{point}:{count}",
        **server.proxy_env(),
    }
    # its own process group, so that the kill of what is left takes its extraction workers too
    with subprocess.Popen(
        command,
        cwd=ROOT,
        env=env,
        start_new_session=True,
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
    ) as process:
        status = process.wait(timeout=300)
        with contextlib.suppress(ProcessLookupError):
            os.killpg(process.pid, signal.SIGKILL)
    return status


@pytest.fixture(scope="module")
def small_newsroom():
    return build_newsroom(seed=13, plan=Plan(own_stories=3, wire_stories=5, briefs=2))


def test_a_crawl_killed_at_any_point_loses_nothing(small_newsroom, tmp_path):
    rng = random.Random(2026)
    trials = KILLS + [(rng.choice(POINTS), rng.randint(1, 20)) for _ in range(RANDOM_TRIALS)]
    with NewsroomServer(small_newsroom) as server:
        run_crawl(server, tmp_path / "reference")
        expected = partition(tmp_path / "reference")
        assert sum(len(c) for c in expected) == len(small_newsroom.articles)
        for number, (point, count) in enumerate(trials):
            data_dir = tmp_path / f"trial{number}"
            status = killed_crawl(server, data_dir, point, count)
            if number < len(KILLS):  # a random count may be more than the crawl reaches
                assert status == -signal.SIGKILL, (point, count)
            result = run_crawl(server, data_dir)  # the next scheduled run
            db = sqlite3.connect(data_dir / "articles.sqlite3")
            urls = [row[0] for row in db.execute("SELECT url FROM articles")]
            unsigned = db.execute(
                "SELECT COUNT(*) FROM articles a LEFT JOIN signatures s ON s.article_id = a.id WHERE s.article_id IS NULL"
            ).fetchone()[0]
            orphans = db.execute(
                "SELECT COUNT(*) FROM signatures s LEFT JOIN articles a ON a.id = s.article_id WHERE a.id IS NULL"
            ).fetchone()[0]
            db.close()
            missing = {a.url for a in small_newsroom.articles} - set(urls)
            assert len(urls) == len(set(urls)) == len(small_newsroom.articles), (
                point,
                count,
                missing,
                stats(result),
            )
            assert unsigned == orphans == 0, (point, count)
            assert partition(data_dir) == expected, (point, count)
