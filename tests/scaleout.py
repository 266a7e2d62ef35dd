"""Helpers for the scale-out tests: crawler workers on the real Redis and PostgreSQL of this
machine, each test in its own key prefix and schema."""

from __future__ import annotations

import os
import subprocess
import uuid
from collections import defaultdict
from pathlib import Path

import psycopg
import redis

from tests.newsroom.demo import crawl_command
from tests.newsroom.server import NewsroomServer

ROOT = Path(__file__).resolve().parents[1]
REDIS_URL = os.environ.get("NEWSDEDUP_TEST_REDIS_URL", "redis://127.0.0.1:6379/0")
POSTGRES_DSN = os.environ.get("NEWSDEDUP_TEST_POSTGRES_DSN", "postgresql://127.0.0.1/test")


class Namespace:
    """A key prefix and schema of its own, removed afterwards."""

    def __init__(self) -> None:
        self.name = f"t{uuid.uuid4().hex[:12]}"

    def env(self, run: str = "run1") -> dict[str, str]:
        return {
            "SCRAPY_SETTINGS_MODULE": "settings.prod",
            "NEWSDEDUP_NAMESPACE": self.name,
            "NEWSDEDUP_RUN": run,
            "NEWSDEDUP_REDIS_URL": REDIS_URL,
            "NEWSDEDUP_POSTGRES_DSN": POSTGRES_DSN,
        }

    def query(self, sql: str) -> list[tuple]:
        with psycopg.connect(POSTGRES_DSN) as conn:
            conn.execute(f"SET search_path TO {self.name}")
            return conn.execute(sql).fetchall()

    def articles(self) -> dict[str, dict]:
        rows = self.query("SELECT url, cluster_id, duplicate_of, version FROM articles ORDER BY id")
        return {url: {"cluster_id": c, "duplicate_of": d, "version": v} for url, c, d, v in rows}

    def clean(self) -> None:
        with psycopg.connect(POSTGRES_DSN, autocommit=True) as conn:
            conn.execute(f"DROP SCHEMA IF EXISTS {self.name} CASCADE")
        client = redis.Redis.from_url(REDIS_URL)
        keys = list(client.scan_iter(match=f"{self.name}:*", count=5000))
        for start in range(0, len(keys), 5000):
            client.unlink(*keys[start : start + 5000])
        client.close()


class Worker:
    """A crawler worker process; its log goes to a file (or a pipe the caller reads), so that no
    worker ever blocks on a full pipe while another one is being waited for."""

    def __init__(self, process: subprocess.Popen, log_path: Path | None) -> None:
        self.process = process
        self.log_path = log_path

    @property
    def stderr(self):  # noqa: ANN201 - the pipe, when the worker was started with pipe=True
        return self.process.stderr

    def wait(self, timeout: float = 300) -> tuple[int, str]:
        """Wait for the worker; returns its exit status and its whole log."""
        piped, _ = "", None
        if self.process.stderr is not None:
            _, piped = self.process.communicate(timeout=timeout)
        else:
            self.process.wait(timeout=timeout)
        log = self.log_path.read_text(encoding="utf-8", errors="replace") if self.log_path else piped
        return self.process.returncode, log


def start_worker(
    server: NewsroomServer,
    namespace: Namespace,
    data_dir: Path,
    *settings: str,
    run: str = "run1",
    pipe: bool = False,
) -> Worker:
    data_dir.mkdir(parents=True, exist_ok=True)
    command = crawl_command(
        server.newsroom.start_urls,
        data_dir,
        "-s",
        "SCALEOUT_IDLE_SECONDS=3",
        "-s",
        "AUTOTHROTTLE_ENABLED=False",
        "-s",
        "CONCURRENT_REQUESTS_PER_DOMAIN=16",
        "-s",
        "DOWNLOAD_DELAY=0",
        "-s",
        "RETRY_ENABLED=False",
        *settings,
    )
    env = {**os.environ, **namespace.env(run), **server.proxy_env()}
    log_path = None if pipe else data_dir / "worker.log"
    stderr = subprocess.PIPE if pipe else open(log_path, "w", encoding="utf-8")  # noqa: SIM115
    try:
        process = subprocess.Popen(
            command, cwd=ROOT, env=env, stdout=subprocess.DEVNULL, stderr=stderr, text=True
        )
    finally:
        if not pipe:
            stderr.close()  # the child holds its own copy
    return Worker(process, log_path)


def partition(articles: dict[str, dict]) -> set[frozenset[str]]:
    clusters = defaultdict(set)
    for url, row in articles.items():
        clusters[row["cluster_id"]].add(url)
    return {frozenset(urls) for urls in clusters.values()}
