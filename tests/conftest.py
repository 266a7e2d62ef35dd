"""Shared fixtures: the fixture newsroom served on loopback, and one real crawl of it."""

from __future__ import annotations

from pathlib import Path

import pytest

from tests.fixtures.crawls import run_crawl
from tests.fixtures.newsroom.build import Plan, build_newsroom
from tests.fixtures.newsroom.model import Newsroom
from tests.fixtures.newsroom.server import NewsroomServer

# Six publishers, own stories, wire stories republished by 2-4 of them, briefs, and stories
# that quote paragraphs of a wire story without being a copy of it.
TEST_PLAN = Plan(own_stories=8, wire_stories=6, briefs=3, quote_sharing=2)


def pytest_collection_modifyitems(items: list[pytest.Item]) -> None:
    # Tests on the machine's PostgreSQL and Redis run one after another, in one test process, when
    # the suite runs in several (pytest-xdist): some restart the services under the others.
    for item in items:
        if item.get_closest_marker("services") or item.get_closest_marker("restarts_services"):
            item.add_marker(pytest.mark.xdist_group("services"))


@pytest.fixture(scope="session")
def newsroom() -> Newsroom:
    return build_newsroom(seed=7, plan=TEST_PLAN)


@pytest.fixture(scope="session")
def newsroom_server(newsroom: Newsroom):
    with NewsroomServer(newsroom) as server:
        yield server


@pytest.fixture(scope="session")
def first_crawl(newsroom_server: NewsroomServer, tmp_path_factory: pytest.TempPathFactory) -> Path:
    """One full crawl of the test newsroom; tests read what it stored and exported."""
    data_dir = tmp_path_factory.mktemp("first-crawl")
    run_crawl(newsroom_server, data_dir, "-O", str(data_dir / "articles.jsonl"))
    return data_dir
