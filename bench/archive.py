"""What archiving and exporting cost: crawl pages/s with and without the WARC archive, and export rows/s.

    .venv/bin/python -m bench.archive [--copies 6] [--rounds 5] [--rows 100000]

The crawl is bench/crawl.py's: the 181 real pages of the article-extraction benchmark, each served
--copies times under its original host name. The full pipeline crawls them with WARC_ENABLED off
and on, alternately (this machine's speed drifts from minute to minute), and the medians are
compared. Target: with the archive at most 10% slower.

The export is timed on a store grown to --rows articles from the crawl's own (the stored articles
repeated under other URLs, publication dates spread over 90 days), to Parquet, JSON Lines and both.
"""

from __future__ import annotations

import argparse
import sqlite3
import tempfile
import time
from datetime import timedelta
from pathlib import Path

import numpy as np

from bench.crawl import bench_newsroom, timed_crawl
from pipelines import clock
from pipelines.export import ExportOptions, export
from pipelines.signatures import Signer
from pipelines.state.interfaces import ARTICLE_COLUMNS
from pipelines.state.sqlite import SQLiteBackend
from settings import base
from tests.fixtures.articlebench import load_pages
from tests.fixtures.newsroom.server import NewsroomServer

SCHEME = Signer(base.NEARDUP_NUM_PERM, base.NEARDUP_SHINGLE_SIZE).scheme


def grow_store(source: Path, target: Path, rows: int) -> int:
    """Copy the articles of the store at *source* into a new store at *target* until it has *rows*."""
    backend = SQLiteBackend(target.parent)
    backend.open_store(SCHEME, None)  # the schema, as the crawler makes it
    backend.close()
    db = sqlite3.connect(target)
    db.execute("ATTACH DATABASE ? AS crawl", (str(source),))
    stored = db.execute("SELECT count(*) FROM crawl.articles").fetchone()[0]
    columns = [c for c in ARTICLE_COLUMNS if c not in ("url", "published", "previous_id")]
    first_day = (clock.now() - timedelta(days=90)).date().isoformat()  # 90 days of publication dates
    for copy in range(-(-rows // stored)):
        db.execute(
            f"INSERT INTO articles (url, published, {', '.join(columns)}) "
            f"SELECT url || '#copy{copy}', date(?, '+' || ((id + {copy}) % 90) || ' days'), "
            f"{', '.join(columns)} FROM crawl.articles LIMIT ?",
            (first_day, rows - copy * stored),
        )
    db.commit()
    count = db.execute("SELECT count(*) FROM articles").fetchone()[0]
    db.close()
    return count


def export_rate(store_path: Path, out: Path, formats: tuple[str, ...]) -> tuple[float, int, int]:
    """Rows/s of an export of the whole store, the rows and the bytes written."""
    backend = SQLiteBackend(store_path.parent)
    store = backend.open_store(None, None, create=False)
    started = time.perf_counter()
    count, files = export(store, out, ExportOptions(formats=formats))
    seconds = time.perf_counter() - started
    backend.close()
    return count / seconds, count, sum(path.stat().st_size for path in files)


def main() -> None:
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument("--copies", type=int, default=6, help="times each page is served (default 6)")
    parser.add_argument("--rounds", type=int, default=5, help="crawls with and without WARC, alternated")
    parser.add_argument("--rows", type=int, default=100_000, help="articles in the exported store")
    args = parser.parse_args()
    pages = load_pages()
    total = len(pages) * args.copies
    print(f"archive benchmark: {len(pages)} benchmark pages x {args.copies} = {total} pages")

    rates: dict[bool, list[float]] = {False: [], True: []}
    # CPU ms per page of the crawling process, where the archive works (the extraction workers'
    # CPU does not change with it, but varies by a few percent from run to run).
    cpu: dict[bool, list[float]] = {False: [], True: []}
    with (
        NewsroomServer(bench_newsroom(pages, args.copies)) as server,
        tempfile.TemporaryDirectory() as scratch,
    ):
        for round_number in range(args.rounds):
            # Which goes first alternates too, so a drift in the machine's speed favours neither.
            for warc in (False, True) if round_number % 2 == 0 else (True, False):
                data_dir = Path(scratch) / f"{'warc' if warc else 'plain'}{round_number}"
                run = timed_crawl(server, data_dir, "-s", f"WARC_ENABLED={warc}")
                rates[warc].append(total / run["seconds"])
                cpu[warc].append(1000 * run["cpu_seconds"]["crawler"] / total)
        warc_bytes = sum(path.stat().st_size for path in (Path(scratch) / "warc0" / "warc").glob("*.warc.gz"))
        without, with_warc = (float(np.median(rates[warc])) for warc in (False, True))
        slower = 1 - with_warc / without
        for warc, rate in ((False, without), (True, with_warc)):
            print(
                f"  full pipeline crawl, WARC {'on ' if warc else 'off'}:   {rate:6.1f} pages/s  "
                f"(median of {', '.join(f'{r:.1f}' for r in rates[warc])}); "
                f"crawler process CPU {np.median(cpu[warc]):.1f} ms per page"
            )
        print(
            f"  with the archive:                  {slower:6.1%} slower  (target <= 10%: "
            f"{'met' if slower <= 0.10 else 'NOT met'}); {warc_bytes / 1e6:.1f} MB of WARC for {total} pages"
        )
        extra_cpu = np.median(cpu[True]) - np.median(cpu[False])
        print(f"  CPU the archive adds:              {extra_cpu:6.1f} ms per page (steadier than pages/s)")

        store = Path(scratch) / "export.sqlite3"
        rows = grow_store(Path(scratch) / "warc0" / "articles.sqlite3", store, args.rows)
        print(f"export of {rows:,} articles:")
        for formats in (("parquet",), ("jsonl",), ("parquet", "jsonl")):
            rate, count, size = export_rate(store, Path(scratch) / "out", formats)
            print(
                f"  {' + '.join(formats):16s} {rate:9,.0f} rows/s  ({count:,} rows, {size / 1e6:.0f} MB written)"
            )


if __name__ == "__main__":
    main()
