"""Several crawler processes sharing the real Redis and PostgreSQL of this machine."""

from __future__ import annotations

import re

import pytest

from pipelines.origin.election import CONFIDENCE
from tests.fixtures.crawls import stored_articles
from tests.fixtures.newsroom.server import NewsroomServer
from tests.fixtures.scaleout import Namespace, partition, start_worker

pytestmark = [pytest.mark.crawl, pytest.mark.services]

WORKERS = 4
SURELY_EARLIEST = CONFIDENCE["earliest_day"]  # not the likely earliest, elected after containment


@pytest.fixture
def namespace():
    space = Namespace()
    yield space
    space.clean()


def run_workers(server, namespace, tmp_path, count, *settings, run="run1"):
    workers = [
        start_worker(
            server, namespace, tmp_path / f"w{n}", "-s", f"USER_AGENT=newsdedup-test-{n}", *settings, run=run
        )
        for n in range(count)
    ]
    results = [worker.wait(timeout=300) for worker in workers]
    for status, log in results:
        assert status == 0, log[-3000:]
    return [log for _, log in results]


def test_four_workers_find_the_same_clusters_as_one_and_store_nothing_twice(
    newsroom, first_crawl, namespace, tmp_path
):
    # No article is served before every worker has asked for one, each two at a time: on loopback
    # the first worker could otherwise fetch the whole newsroom within the 5 s an idle worker
    # waits between looks at the shared queue (Scrapy's engine heartbeat).
    with NewsroomServer(newsroom, clients=WORKERS) as server:
        logs = run_workers(server, namespace, tmp_path, WORKERS, "-s", "CONCURRENT_REQUESTS=2")
    shared = namespace.articles()
    urls = [row[0] for row in namespace.query("SELECT url FROM articles")]
    assert len(urls) == len(set(urls)) == len(newsroom.articles)
    assert partition(shared) == partition(stored_articles(first_crawl))  # the single-process crawl
    # every story has exactly one first copy, whichever worker stored it
    firsts = [row for row in shared.values() if row["duplicate_of"] is None]
    assert len(firsts) == len(partition(shared))
    # the workers' elections agree: one origin per story, the one the single process elected
    # wherever the pages' metadata decided it. Not where their text did (containment): the text
    # lost what boilerplate each worker had learned by then, which depends on the order of fetches.
    elected = namespace.query(
        "SELECT url, cluster_id, origin_url, origin_reason, origin_confidence FROM articles"
    )
    assert len({(cluster, origin) for _, cluster, origin, _, _ in elected}) == len(firsts)
    alone = stored_articles(first_crawl)
    decided = [
        (url, origin, reason, alone[url]["origin_url"])
        for url, _, origin, reason, confidence in elected
        if reason in ("canonical", "credit") or (reason == "earliest" and confidence >= SURELY_EARLIEST)
    ]
    assert decided
    assert [row for row in decided if row[1] != row[3]] == []
    stored_by = [int(re.search(r"(\d+) articles stored", log).group(1)) for log in logs]
    assert sum(stored_by) == len(newsroom.articles)
    assert sum(1 for n in stored_by if n) >= 2  # the work was shared


def test_a_later_run_on_the_shared_backends_behaves_like_the_embedded_one(
    newsroom_server, newsroom, namespace, tmp_path
):
    run_workers(newsroom_server, namespace, tmp_path, 2, run="monday")
    before = namespace.articles()
    logs = run_workers(newsroom_server, namespace, tmp_path, 2, "-s", "LOG_LEVEL=INFO", run="tuesday")
    assert namespace.articles() == before  # nothing stored twice: known pages were skipped
    skipped = sum(
        int(line.split(":")[-1].strip(" ,}"))
        for log in logs
        for line in log.splitlines()
        if "'incremental/skipped_fresh'" in line
    )
    assert skipped == len(newsroom.articles)
    assert namespace.query("SELECT COUNT(*) FROM site_segments")[0][0] == len(
        {a.host for a in newsroom.articles}
    )
    assert namespace.query("SELECT COUNT(*) FROM pages WHERE article_id IS NOT NULL")[0][0] >= len(before)
