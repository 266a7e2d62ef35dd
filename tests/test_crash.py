"""Killing a crawl with SIGKILL at any moment loses nothing: the next run stores every article
exactly once, and the near-duplicate index (the stored signatures) matches the store."""

from __future__ import annotations

import os
import random
import signal
import sqlite3
import subprocess
import time
from collections import defaultdict

import pytest

from tests.conftest import ROOT, run_crawl, stored_articles
from tests.newsroom.build import Plan, build_newsroom
from tests.newsroom.demo import crawl_command
from tests.newsroom.server import NewsroomServer

TRIALS = 10


def partition(data_dir) -> set[frozenset[str]]:
    clusters = defaultdict(set)
    for url, row in stored_articles(data_dir).items():
        clusters[row["cluster_id"]].add(url)
    return {frozenset(urls) for urls in clusters.values()}


def has_articles(data_dir) -> bool:
    """Whether a killed crawl stored anything (it may have died before its store had tables)."""
    if not (data_dir / "articles.sqlite3").exists():
        return False
    db = sqlite3.connect(data_dir / "articles.sqlite3")
    try:
        return bool(db.execute("SELECT 1 FROM articles LIMIT 1").fetchone())
    except sqlite3.OperationalError:
        return False
    finally:
        db.close()


def wait(process: subprocess.Popen, seconds: float) -> bool:
    """Wait up to *seconds* for *process* to end; whether it is still running."""
    try:
        process.wait(timeout=max(seconds, 0))
    except subprocess.TimeoutExpired:
        return True
    return False


def start_crawl(server: NewsroomServer, data_dir) -> subprocess.Popen:
    command = crawl_command(server.newsroom.start_urls, data_dir, "-s", "LOG_LEVEL=WARNING")
    env = {**os.environ, "SCRAPY_SETTINGS_MODULE": "settings.loopback", **server.proxy_env()}
    # its own process group, so the kill takes the extraction workers too
    return subprocess.Popen(
        command,
        cwd=ROOT,
        env=env,
        start_new_session=True,
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
    )


@pytest.fixture(scope="module")
def small_newsroom():
    return build_newsroom(seed=13, plan=Plan(own_stories=3, wire_stories=5, briefs=2))


def test_sigkill_at_random_moments_loses_nothing(small_newsroom, tmp_path):
    rng = random.Random(2026)
    with NewsroomServer(small_newsroom) as server:
        started = time.monotonic()
        run_crawl(server, tmp_path / "reference")
        # Kill moments are spread over the length of a whole crawl on this machine, whatever its speed.
        whole_crawl = time.monotonic() - started
        expected = partition(tmp_path / "reference")
        assert sum(len(c) for c in expected) == len(small_newsroom.articles)
        killed_storing = 0
        for trial in range(TRIALS):
            data_dir = tmp_path / f"trial{trial}"
            process = start_crawl(server, data_dir)
            # Even trials die at any moment of a crawl on this machine, whatever its speed; odd ones
            # while articles are being stored, the moment that matters most and lasts least.
            if trial % 2 == 0:
                deadline = time.monotonic() + rng.uniform(0.1, 1.0) * whole_crawl
            else:
                while process.poll() is None and not has_articles(data_dir):
                    wait(process, 0.05)
                deadline = time.monotonic() + rng.uniform(0.0, 0.3)
            if wait(process, deadline - time.monotonic()):
                os.killpg(process.pid, signal.SIGKILL)
                process.wait()
                killed_storing += has_articles(data_dir)
            run_crawl(server, data_dir)  # the next scheduled run
            db = sqlite3.connect(data_dir / "articles.sqlite3")
            urls = [row[0] for row in db.execute("SELECT url FROM articles")]
            unsigned = db.execute(
                "SELECT COUNT(*) FROM articles a LEFT JOIN signatures s ON s.article_id = a.id WHERE s.article_id IS NULL"
            ).fetchone()[0]
            orphans = db.execute(
                "SELECT COUNT(*) FROM signatures s LEFT JOIN articles a ON a.id = s.article_id WHERE a.id IS NULL"
            ).fetchone()[0]
            db.close()
            assert len(urls) == len(set(urls)) == len(small_newsroom.articles), trial
            assert unsigned == orphans == 0, trial
            assert partition(data_dir) == expected, trial
    assert killed_storing >= 3  # kills did land mid-crawl, after articles were stored
