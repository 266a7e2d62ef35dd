"""`scrapy crawl news` tells cron whether the run worked."""

from __future__ import annotations

import os
import signal
import subprocess
import sys

import pytest

from crawler.commands.crawl import EXIT_BUSY, EXIT_FAILED, EXIT_NOT_STARTED, EXIT_OK, exit_status
from tests.fixtures.components import project_crawler
from tests.fixtures.crawls import ROOT
from tests.fixtures.newsroom.demo import crawl

pytestmark = pytest.mark.crawl


def test_an_unwritable_data_dir_fails_before_crawling(tmp_path):
    (tmp_path / "file").write_text("x")
    result = crawl(["http://127.0.0.1:9/"], tmp_path / "file" / "data", {})
    assert result.returncode == EXIT_NOT_STARTED
    assert "set DATA_DIR to a writable directory" in result.stderr


def test_no_start_urls_fails_with_a_clear_message(tmp_path):
    result = crawl([], tmp_path, {})
    assert result.returncode == EXIT_NOT_STARTED
    assert "nothing to crawl" in result.stderr


@pytest.mark.parametrize(
    ("bootstrap_failed", "reason", "failed", "status"),
    [
        (False, "finished", None, EXIT_OK),
        (False, "closespider_itemcount", None, EXIT_OK),
        (False, "shutdown", None, EXIT_FAILED),
        (False, "finished", True, EXIT_FAILED),
        (True, None, None, EXIT_NOT_STARTED),
    ],
)
def test_exit_status_from_the_outcome(bootstrap_failed, reason, failed, status):
    crawler = project_crawler()
    if reason:
        crawler.stats.set_value("finish_reason", reason)
    if failed:
        crawler.stats.set_value("run/failed", True)
    assert exit_status(crawler, bootstrap_failed) == status


def test_a_second_run_on_the_same_data_dir_stops_at_once_touching_nothing(tmp_path):
    from crawler.extensions import DataDirLock

    running = DataDirLock(tmp_path)
    running.acquire()  # a crawl in progress holds the lock
    before = sorted(p.name for p in tmp_path.iterdir())
    try:
        result = crawl(["http://127.0.0.1:9/"], tmp_path, {})
    finally:
        running.release()
    assert result.returncode == EXIT_BUSY
    assert "another crawl is running on DATA_DIR" in result.stderr
    assert f"pid {os.getpid()}" in result.stderr
    assert sorted(p.name for p in tmp_path.iterdir()) == before == [".lock"]


def test_the_lock_is_released_when_a_run_ends(tmp_path):
    from crawler.extensions import DataDirBusy, DataDirLock

    with subprocess.Popen(
        [sys.executable, "-c", HOLD_THE_LOCK, str(tmp_path)],
        cwd=ROOT,
        stdin=subprocess.PIPE,
        stdout=subprocess.PIPE,
        text=True,
    ) as holder:
        try:
            assert holder.stdout.readline().strip() == "locked"
            with pytest.raises(DataDirBusy):
                DataDirLock(tmp_path).acquire()
        finally:
            holder.send_signal(signal.SIGKILL)  # a crashed run
            holder.wait()
    after = DataDirLock(tmp_path)
    after.acquire()  # the operating system released the dead run's lock
    after.release()


HOLD_THE_LOCK = """
import sys
from pathlib import Path
from crawler.extensions import DataDirLock
lock = DataDirLock(Path(sys.argv[1]))
lock.acquire()
print("locked", flush=True)
sys.stdin.read()  # holds the lock until killed
"""
