"""Redis or PostgreSQL restarted in the middle of a crawl by several workers: nothing is stored
twice, nothing is lost (a run that could not finish says so, and the next run completes it)."""

from __future__ import annotations

import subprocess
from pathlib import Path

import pytest

from crawler.commands.crawl import EXIT_FAILED, EXIT_OK
from tests.fixtures.crawls import stored_articles
from tests.fixtures.newsroom.server import NewsroomServer
from tests.fixtures.scaleout import Namespace, partition, start_worker

pytestmark = [pytest.mark.crawl, pytest.mark.services, pytest.mark.restarts_services]

# The service restarts once this many articles were served: the crawl is surely under way, and
# the rest of the newsroom waits for the restart (see NewsroomServer).
PAUSE_AFTER = 8


def restart_redis() -> None:
    subprocess.run(["redis-cli", "-h", "127.0.0.1", "shutdown", "nosave"], check=False, capture_output=True)
    subprocess.run(
        [
            "redis-server",
            "--daemonize",
            "yes",
            "--bind",
            "127.0.0.1",
            "-::1",
            "--port",
            "6379",
            "--save",
            "",
            "--appendonly",
            "no",
            "--dir",
            "/var/lib/redis",
            "--logfile",
            "/var/log/redis/ci.log",
        ],
        check=True,
    )
    subprocess.run(["redis-cli", "-h", "127.0.0.1", "-r", "50", "-i", "0.1", "ping"], capture_output=True)


def restart_postgres() -> None:
    version = sorted(p.name for p in Path("/etc/postgresql").iterdir())[-1]
    subprocess.run(["pg_ctlcluster", "--skip-systemctl-redirect", version, "main", "restart"], check=True)


@pytest.fixture
def namespace():
    space = Namespace()
    yield space
    space.clean()


def crawl_through_a_restart(newsroom, namespace, tmp_path, restart) -> list[tuple[int, str]]:
    # No article is served before both workers asked for one: a worker slow to start could
    # otherwise open its spider only after the restart, and lose nothing to it.
    with NewsroomServer(newsroom, clients=2, pause_after=PAUSE_AFTER) as server:
        workers = [
            start_worker(
                server,
                namespace,
                tmp_path / f"w{n}",
                "-s",
                "LOG_LEVEL=DEBUG",
                "-s",
                f"USER_AGENT=newsdedup-test-{n}",
            )
            for n in range(2)
        ]
        assert server.paused.wait(120), "the crawl did not get under way"
        restart()
        server.resume()
        return [worker.wait(timeout=300) for worker in workers]


def finish_and_check(server, namespace, tmp_path, newsroom, first_crawl) -> None:
    """The next scheduled run completes the store: every article once, the same stories."""
    status, log = start_worker(server, namespace, tmp_path / "next", run="run2").wait(timeout=300)
    assert status == EXIT_OK, log[-3000:]
    urls = [row[0] for row in namespace.query("SELECT url FROM articles")]
    assert len(urls) == len(set(urls)) == len(newsroom.articles)
    assert partition(namespace.articles()) == partition(stored_articles(first_crawl))


def test_redis_restarted_mid_crawl(newsroom_server, newsroom, first_crawl, namespace, tmp_path):
    results = crawl_through_a_restart(newsroom, namespace, tmp_path, restart_redis)
    # the queue died with Redis: the workers say so and exit non-zero; the hot index was lost, and
    # matching went on against the store's cold index
    assert {status for status, _ in results} == {EXIT_FAILED}
    assert all("Redis restarted during this run" in log for _, log in results)
    assert any("'neardup/hot_index_lost'" in log for _, log in results)
    urls = [row[0] for row in namespace.query("SELECT url FROM articles")]
    assert len(urls) == len(set(urls))
    finish_and_check(newsroom_server, namespace, tmp_path, newsroom, first_crawl)


def test_postgres_restarted_mid_crawl(newsroom_server, newsroom, first_crawl, namespace, tmp_path):
    results = crawl_through_a_restart(newsroom, namespace, tmp_path, restart_postgres)
    # the workers reconnect and carry on
    assert {status for status, _ in results} == {EXIT_OK}, [log[-2000:] for _, log in results]
    assert any("PostgreSQL connection lost" in log for _, log in results)
    urls = [row[0] for row in namespace.query("SELECT url FROM articles")]
    assert len(urls) == len(set(urls)) == len(newsroom.articles)
    assert partition(namespace.articles()) == partition(stored_articles(first_crawl))
