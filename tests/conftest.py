"""Shared fixtures: the fixture newsroom served on loopback, and real crawls of it."""

from __future__ import annotations

import json
import sqlite3
import subprocess
from pathlib import Path

import pytest
from scrapy.utils.misc import build_from_crawler
from scrapy.utils.test import get_crawler

from pipelines.neardup import NearDuplicatePipeline
from pipelines.storage import StoragePipeline
from settings import base
from tests.newsroom.build import Plan, build_newsroom
from tests.newsroom.demo import crawl
from tests.newsroom.model import Newsroom
from tests.newsroom.server import NewsroomServer

# Six publishers, own stories, wire stories republished by 2-4 of them, briefs, and stories
# that quote paragraphs of a wire story without being a copy of it.
ROOT = Path(__file__).resolve().parents[1]

TEST_PLAN = Plan(own_stories=8, wire_stories=6, briefs=3, quote_sharing=2)


@pytest.fixture(scope="session")
def newsroom() -> Newsroom:
    return build_newsroom(seed=7, plan=TEST_PLAN)


@pytest.fixture(scope="session")
def newsroom_server(newsroom: Newsroom):
    with NewsroomServer(newsroom) as server:
        yield server


def run_crawl(
    server: NewsroomServer,
    data_dir: Path,
    *extra: str,
    start_urls: list[str] | None = None,
    now: str | None = None,
) -> subprocess.CompletedProcess:
    """`scrapy crawl news` of the served newsroom into *data_dir*, with the clock set to *now*
    (crawler.clock) if given; fails the test if the crawl fails."""
    env = {**server.proxy_env(), **({"NEWSDEDUP_NOW": now} if now else {})}
    result = crawl(start_urls or server.newsroom.start_urls, data_dir, env, *extra)
    assert result.returncode == 0, result.stderr[-4000:]
    return result


def stored_articles(data_dir: Path) -> dict[str, dict]:
    db = sqlite3.connect(data_dir / "articles.sqlite3")
    db.row_factory = sqlite3.Row
    rows = db.execute("SELECT * FROM articles ORDER BY id").fetchall()
    db.close()
    return {row["url"]: dict(row) for row in rows}


def read_jsonl(path: Path) -> list[dict]:
    return [json.loads(line) for line in path.read_text(encoding="utf-8").splitlines() if line.strip()]


@pytest.fixture(scope="session")
def first_crawl(newsroom_server: NewsroomServer, tmp_path_factory: pytest.TempPathFactory) -> Path:
    """One full crawl of the test newsroom; tests read what it stored and exported."""
    data_dir = tmp_path_factory.mktemp("first-crawl")
    run_crawl(newsroom_server, data_dir, "-O", str(data_dir / "articles.jsonl"))
    return data_dir


def project_crawler(**overrides):
    """A Crawler with this project's settings (settings/base.py) and *overrides*."""
    values = {name: getattr(base, name) for name in dir(base) if name.isupper()}
    # Components are built directly in these tests; run-level extensions (the DATA_DIR lock, the
    # run summary) belong to real crawls, which the end-to-end tests run.
    values["EXTENSIONS"] = {}
    return get_crawler(settings_dict={**values, **overrides})


class Stages:
    """Near-duplicate and storage stages over one DATA_DIR, run like Scrapy runs them."""

    def __init__(self, data_dir, **settings) -> None:
        crawler = project_crawler(DATA_DIR=str(data_dir), **settings)
        self.crawler = crawler
        self.neardup = build_from_crawler(NearDuplicatePipeline, crawler)
        self.storage = build_from_crawler(StoragePipeline, crawler)

    async def run(self, items):
        await self.neardup.open_spider()
        results = []
        for item in items:
            try:
                item = await self.neardup.process_item(item)
                item = await self.storage.process_item(item)
                self.neardup.item_done(item)
                results.append(item)
            except Exception as exc:  # drops are results too
                results.append(exc)
        await self.storage.close_spider()
        await self.neardup.close_spider()
        return results
