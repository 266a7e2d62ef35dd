"""The extraction stage built as Scrapy builds it: pages judged and extracted in worker processes."""

from __future__ import annotations

import asyncio
import gc
import os
import subprocess
import sys
import time

from scrapy.utils.misc import build_from_crawler

from pipelines import faults
from pipelines.drops import ExtractionFailed, NoArticleText, NotAnArticle
from pipelines.extraction import ExtractionPipeline
from pipelines.extraction import stage as stage_module
from pipelines.extraction.pool import WorkerPool
from pipelines.extraction.worker import start
from pipelines.garbage import YOUNG_GENERATION_THRESHOLD
from pipelines.items import ArticleItem, PageItem
from pipelines.signatures import Signer
from tests.fixtures.components import project_crawler
from tests.fixtures.crawls import ROOT


def test_extraction_runs_in_worker_processes(newsroom):
    crawler = project_crawler(EXTRACT_WORKERS=1)
    stage = build_from_crawler(ExtractionPipeline, crawler)
    target = newsroom.articles[0]

    def page(url: str, body: bytes) -> PageItem:
        return PageItem(url=url, site=url.split("/")[2], body=body, http_charset="utf-8", fetched_at="x")

    article_page = page(target.url, newsroom.pages[target.host][target.url.split(target.host, 1)[1]].body)
    front = page(f"http://{target.host}/", newsroom.pages[target.host]["/"].body)
    # marked up as a dated article, but with no text to speak of (a video page, say)
    empty = page(
        f"http://{target.host}/2026/01/01/empty-story",
        b'<html><head><meta property="og:type" content="article"><script type="application/ld+json">'
        b'{"@type": "NewsArticle", "datePublished": "2026-01-01"}</script></head>'
        b"<body><p>Watch.</p></body></html>",
    )

    async def run():
        await stage.open_spider()
        try:
            pages = (article_page, front, empty)
            return await asyncio.gather(*(stage.process_item(p) for p in pages), return_exceptions=True)
        finally:
            await stage.close_spider()

    item, listing, nothing = asyncio.run(run())
    assert isinstance(item, ArticleItem)
    assert item["title"] == target.headline
    assert len(item.carry.word_hashes) == len(item["text"].split("\n\n"))
    # signed in the worker as the near-duplicate stage would sign the text
    expected = Signer.from_settings(crawler.settings).sign(item["text"])
    assert item.carry.signed.hashvalues.tolist() == expected.hashvalues.tolist()
    assert isinstance(listing, NotAnArticle)
    assert isinstance(nothing, NoArticleText)
    assert crawler.stats.get_value("extract/not_article") == 1


def article_page(newsroom, article) -> PageItem:
    body = newsroom.pages[article.host][article.url.split(article.host, 1)[1]].body
    return PageItem(url=article.url, site=article.host, body=body, http_charset="utf-8", fetched_at="x")


def extract_in_turn(crawler, pages: list[PageItem]) -> list:
    """Each page through the stage, one after the other; an item or the exception it raised."""
    stage = build_from_crawler(ExtractionPipeline, crawler)

    async def run():
        await stage.open_spider()
        results = []
        try:
            for page in pages:
                try:
                    results.append(await stage.process_item(page))
                except Exception as exc:  # noqa: BLE001 - what the test looks at
                    results.append(exc)
        finally:
            await stage.close_spider()
        return results

    return asyncio.run(run())


def test_a_page_whose_worker_dies_is_tried_once_more(newsroom, monkeypatch):
    # Every worker dies on its second page (the fault point counts per process).
    monkeypatch.setenv(faults.ENVIRONMENT, "extract.page:2")
    crawler = project_crawler(EXTRACT_WORKERS=1)
    articles = newsroom.articles[:3]
    items = extract_in_turn(crawler, [article_page(newsroom, article) for article in articles])
    assert [item["title"] for item in items] == [article.headline for article in articles]
    assert crawler.stats.get_value("extract/worker_crashed") == 2
    assert crawler.stats.get_value("extract/failed") is None


def test_a_page_that_kills_every_worker_fails_alone(newsroom, monkeypatch):
    monkeypatch.setenv(faults.ENVIRONMENT, "extract.page:1")
    crawler = project_crawler(EXTRACT_WORKERS=1)
    [failed] = extract_in_turn(crawler, [article_page(newsroom, newsroom.articles[0])])
    assert isinstance(failed, ExtractionFailed)
    assert "failed twice" in str(failed)
    assert crawler.stats.get_value("extract/failed") == 1


def _stuck(*page: object) -> None:
    time.sleep(60)  # as markup that keeps a parser busy


def test_a_page_that_keeps_its_worker_busy_too_long_is_dropped(monkeypatch):
    monkeypatch.setattr(stage_module, "process_page", _stuck)
    crawler = project_crawler(EXTRACT_WORKERS=1, EXTRACT_TIMEOUT_SECONDS=0.5)
    page = PageItem(url="http://example.com/a", site="example.com", body=b"<p>x</p>", fetched_at="x")
    [failed] = extract_in_turn(crawler, [page])
    assert isinstance(failed, ExtractionFailed)
    assert "took too long" in str(failed)
    assert crawler.stats.get_value("extract/timed_out") == 1
    assert crawler.stats.get_value("extract/failed") == 1


def test_workers_collect_garbage_less_often_than_python_by_default():
    async def run():
        pool = WorkerPool(1, initializer=start)
        try:
            return await pool.run(gc.get_threshold)
        finally:
            pool.close()

    young, middle, old = asyncio.run(run())
    assert young == YOUNG_GENERATION_THRESHOLD
    assert (middle, old) == gc.get_threshold()[1:]


# Run as the `scrapy` script runs: a main script that imports Scrapy before it starts the crawl.
SCRIPT = """
import asyncio
import scrapy.cmdline
from pipelines.extraction.pool import WorkerPool
from pipelines.extraction.worker import start


async def main():
    pool = WorkerPool(1, initializer=start)
    try:
        print(await pool.run(eval, "[m for m in ('scrapy', 'twisted') if m in __import__('sys').modules]"))
    finally:
        pool.close()

if __name__ == "__main__":
    asyncio.run(main())
"""


def test_workers_of_a_crawl_started_by_a_script_do_not_run_the_script(tmp_path):
    script = tmp_path / "crawl_script.py"
    script.write_text(SCRIPT)
    env = {**os.environ, "PYTHONPATH": str(ROOT)}
    result = subprocess.run([sys.executable, str(script)], cwd=ROOT, env=env, capture_output=True, text=True)
    assert result.returncode == 0, result.stderr
    assert result.stdout.split() == ["[]"]
