"""`scrapy crawl` with an exit status that tells cron whether the run worked.

Exit status: 0 the run finished; 1 it could not start (bad arguments or sources file, store or
index that cannot be opened); 2 usage error (Scrapy's own); 3 it started but ended for an error
(see finish_reason in the log); 4 another run holds DATA_DIR, nothing was done; 5 the run
finished but a source that used to yield articles yielded none (RUN_ALARM_*).
"""

from __future__ import annotations

import argparse

from scrapy.commands.crawl import Command as ScrapyCrawlCommand
from scrapy.crawler import Crawler
from scrapy.exceptions import UsageError

from pipelines.garbage import collect_less

# Reasons a run ends on purpose; anything else (a spider or engine error) is a failure.
NORMAL_FINISH_REASONS = ("finished", "closespider_")

EXIT_OK = 0
EXIT_NOT_STARTED = 1
EXIT_FAILED = 3
EXIT_BUSY = 4
EXIT_ALARM = 5


def exit_status(crawler: Crawler, bootstrap_failed: bool) -> int:
    if crawler.stats is not None and crawler.stats.get_value("run/data_dir_busy"):
        return EXIT_BUSY
    if bootstrap_failed or crawler.stats is None:
        return EXIT_NOT_STARTED
    reason = crawler.stats.get_value("finish_reason")
    if reason is None:
        return EXIT_NOT_STARTED
    if not str(reason).startswith(NORMAL_FINISH_REASONS) or crawler.stats.get_value("run/failed"):
        return EXIT_FAILED
    if crawler.stats.get_value("run/alarms"):
        return EXIT_ALARM
    return EXIT_OK


class Command(ScrapyCrawlCommand):
    def run(self, args: list[str], opts: argparse.Namespace) -> None:
        if len(args) != 1:
            raise UsageError("give exactly one spider name, e.g. scrapy crawl news")
        if self.crawler_process is None:  # Scrapy sets it before run()
            raise UsageError("this command runs inside the project")
        collect_less()
        crawler = self._create_crawler(args[0])
        self.crawler_process.crawl(crawler, **opts.spargs)
        self.crawler_process.start()
        self.exitcode = exit_status(crawler, self.crawler_process.bootstrap_failed)
