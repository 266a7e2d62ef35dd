"""`scrapy export`: the article store as a dataset, in Parquet and JSON Lines, by publication date.

    scrapy export --out DIR [--format parquet,jsonl] [--since 2026-11-01] [--until 2026-11-30]
                  [--first-copies | --origins-only] [--min-words 100] [--all-versions]

Files: DIR/parquet/YYYY-MM-DD/part-NNNNN.parquet and the same under DIR/jsonl/.
The columns are described in the README ("Dataset export").
"""

from __future__ import annotations

import argparse
import sys
import time
from datetime import date
from pathlib import Path
from typing import Any, ClassVar

from scrapy.commands import ScrapyCommand
from scrapy.exceptions import UsageError

from pipelines.state import StoreError, open_backend


def _day(value: str) -> date:
    try:
        return date.fromisoformat(value)
    except ValueError:
        raise argparse.ArgumentTypeError(f"{value!r} is not a date like 2026-11-30") from None


class Command(ScrapyCommand):
    requires_project = True
    default_settings: ClassVar[dict[str, Any]] = {"LOG_ENABLED": False}

    def syntax(self) -> str:
        return "--out DIR [options]"

    def short_desc(self) -> str:
        return "Export the article store to Parquet and JSON Lines, partitioned by publication date"

    def add_options(self, parser: argparse.ArgumentParser) -> None:
        super().add_options(parser)
        parser.add_argument("--out", required=True, type=Path, help="directory to write the dataset to")
        parser.add_argument("--format", default="parquet,jsonl", help="parquet, jsonl, or both (default)")
        parser.add_argument("--since", type=_day, help="first publication date to export (YYYY-MM-DD)")
        parser.add_argument("--until", type=_day, help="last publication date to export (YYYY-MM-DD)")
        parser.add_argument("--first-copies", action="store_true", help="one row per story: its first copy")
        parser.add_argument(
            "--origins-only", action="store_true", help="one row per story: its elected origin"
        )
        parser.add_argument("--min-words", type=int, default=0, help="leave out shorter articles")
        parser.add_argument("--all-versions", action="store_true", help="every version of changed pages")

    def run(self, args: list[str], opts: argparse.Namespace) -> None:
        if args:
            raise UsageError("scrapy export takes options only; see scrapy export -h")
        if self.settings is None:  # Scrapy sets it before run()
            raise UsageError("this command runs inside the project")
        # Imported here: Scrapy imports every command to list them, and pyarrow's half a second
        # would be paid by every `scrapy crawl`.
        from pipelines.export import ExportOptions, export

        try:
            options = ExportOptions(
                since=opts.since,
                until=opts.until,
                first_copies_only=opts.first_copies,
                origins_only=opts.origins_only,
                min_words=opts.min_words,
                all_versions=opts.all_versions,
                formats=tuple(f.strip() for f in opts.format.split(",") if f.strip()),
            )
            backend = open_backend(self.settings)
            store = backend.open_store(None, None, create=False)
        except (ValueError, StoreError) as exc:
            print(f"error: {exc}", file=sys.stderr)
            self.exitcode = 1
            return
        started = time.perf_counter()
        try:
            count, files = export(store, opts.out, options)
        except (OSError, StoreError) as exc:
            print(
                f"error: the export to {opts.out} failed, the previous one is left as it was: {exc}",
                file=sys.stderr,
            )
            self.exitcode = 1
            return
        finally:
            backend.close()
        seconds = time.perf_counter() - started
        print(f"exported {count} articles to {len(files)} files under {opts.out} in {seconds:.1f} s")
