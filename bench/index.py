"""The near-duplicate index at archive scale: start-up time, peak memory and per-item cost.

For 100k and 1M stored signatures inside the window (NEARDUP_WINDOW_DAYS), plus 10% older ones
that must stay out, it fills a real SQLite store, then in a fresh process (so memory is measured
alone) loads the index the way a crawl starts and looks up and inserts real article texts.

    .venv/bin/python -m bench.index [--sizes 100000,1000000]

Targets for a 100k-article window: start-up <= 3 s, peak RSS <= 1 GB. Anchor: datasketch's
in-memory MinHashLSH costs about 8.8 KB per document at 25 bands and its pickle takes 13.6 s to
load per 100k.
"""

from __future__ import annotations

import argparse
import json
import resource
import sqlite3
import subprocess
import sys
import tempfile
import time
from pathlib import Path

import numpy as np

from settings import base

ROOT = Path(__file__).resolve().parent.parent


def fill_store(data_dir: Path, in_window: int, today: int) -> None:
    """A store of *in_window* articles dated within the window and 10% more dated before it."""
    from scrapy.settings import Settings

    from pipelines.core.store import StoreConfig, open_store
    from pipelines.neardup import build_signer

    settings = Settings()
    settings.setmodule(base)
    open_store(StoreConfig("sqlite", data_dir), build_signer(settings).scheme).close()  # creates the schema
    db = sqlite3.connect(data_dir / "articles.sqlite3")
    db.execute("PRAGMA journal_mode=WAL")
    db.execute("PRAGMA synchronous=OFF")
    rng = np.random.default_rng(7)
    total = in_window + in_window // 10
    chunk = 50_000
    with db:
        for start in range(0, total, chunk):
            size = min(chunk, total - start)
            matrix = rng.integers(0, 2**32, size=(size, base.NEARDUP_NUM_PERM), dtype=np.uint32)
            shingles = rng.integers(0, 2**32, size=(size, 64), dtype=np.uint32)
            ids = range(start + 1, start + size + 1)
            db.executemany(
                "INSERT INTO articles (id, url, site, text, word_count, fetched_at, cluster_id, authors) "
                "VALUES (?, ?, ?, ?, ?, ?, ?, '[]')",
                [
                    (
                        i,
                        f"https://news{i % 500}.example/2026/11/story-{i}",
                        f"news{i % 500}.example",
                        "text",
                        500,
                        "2026-11-26T00:00:00+00:00",
                        f"{i:016x}",
                    )
                    for i in ids
                ],
            )
            days = np.where(
                np.arange(start, start + size) < in_window,
                today - rng.integers(0, base.NEARDUP_WINDOW_DAYS, size),
                today - base.NEARDUP_WINDOW_DAYS - 1 - rng.integers(0, 300, size),
            )
            db.executemany(
                "INSERT INTO signatures (article_id, minhash, shingle_count, shingles, window_day) VALUES (?, ?, ?, ?, ?)",
                [
                    (
                        i,
                        matrix[n].astype("<u4").tobytes(),
                        500,
                        shingles[n].astype("<u4").tobytes(),
                        int(days[n]),
                    )
                    for n, i in enumerate(ids)
                ],
            )
    db.close()


def measure(data_dir: str) -> dict:
    """Runs in a fresh process: start up like a crawl, then look up and insert real texts."""
    from scrapy.settings import Settings

    from bench.articlebench import load_bodies
    from pipelines.core.index import IndexedCopy
    from pipelines.core.signatures import word_hashes
    from pipelines.core.store import StoreConfig, open_store
    from pipelines.neardup import build_index, build_signer, today

    settings = Settings()
    settings.setmodule(base)
    signer = build_signer(settings)
    started = time.perf_counter()
    store = open_store(StoreConfig("sqlite", data_dir), signer.scheme)
    index = build_index(settings)
    rows = store.index_rows(today() - base.NEARDUP_WINDOW_DAYS)
    index.load(
        rows.urls, rows.cluster_ids, rows.first_urls, rows.matrix, rows.shingle_counts, rows.window_days
    )
    del rows
    startup = time.perf_counter() - started
    after_startup = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024
    texts = list(load_bodies().values()) * 3
    hashes = [word_hashes(t) for t in texts]
    lookups, inserts, signs = [], [], []
    for number, words in enumerate(hashes):
        t0 = time.perf_counter()
        signature = signer.sign_words(words)
        t1 = time.perf_counter()
        for candidate in index.candidates(signature):
            index.rule.judge_estimate(candidate, signature)
        t2 = time.perf_counter()
        index.add(
            IndexedCopy(
                f"https://new.example/{number}", f"n{number}", f"https://new.example/{number}", signature
            ),
            today(),
        )
        t3 = time.perf_counter()
        signs.append(t1 - t0)
        lookups.append(t2 - t1)
        inserts.append(t3 - t2)
    return {
        "indexed": len(index) - len(texts),
        "startup_s": startup,
        "rss_mb": after_startup,
        "sign_ms": 1000 * float(np.median(signs)),
        "lookup_ms": 1000 * float(np.median(lookups)),
        "insert_ms": 1000 * float(np.median(inserts)),
    }


def main() -> None:
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument(
        "--sizes", default="100000,1000000", help="signatures inside the window, comma-separated"
    )
    parser.add_argument("--measure", help=argparse.SUPPRESS)  # internal: the fresh measuring process
    args = parser.parse_args()
    if args.measure:
        print(json.dumps(measure(args.measure)))
        return
    from pipelines.neardup import today

    print(
        f"near-duplicate index: {base.NEARDUP_NUM_PERM} permutations, {base.NEARDUP_BANDS} bands x "
        f"{base.NEARDUP_ROWS} rows, {base.NEARDUP_WINDOW_DAYS}-day window"
    )
    for size in (int(s) for s in args.sizes.split(",")):
        with tempfile.TemporaryDirectory() as scratch:
            data_dir = Path(scratch)
            started = time.perf_counter()
            fill_store(data_dir, size, today())
            filled = time.perf_counter() - started
            result = subprocess.run(
                [sys.executable, "-m", "bench.index", "--measure", str(data_dir)],
                cwd=ROOT,
                capture_output=True,
                text=True,
                check=True,
            )
            figures = json.loads(result.stdout)
        print(
            f"  {size:>9,} in the window (+{size // 10:,} older, left out; store filled in {filled:.0f} s): "
            f"start-up {figures['startup_s']:.2f} s, peak RSS {figures['rss_mb']:.0f} MB, "
            f"per item: lookup {figures['lookup_ms']:.3f} ms + insert {figures['insert_ms']:.3f} ms "
            f"(+ signature {figures['sign_ms']:.3f} ms)"
        )
        if size == 100_000:
            ok = figures["startup_s"] <= 3 and figures["rss_mb"] <= 1024
            print(f"    targets for 100k (start-up <= 3 s, RSS <= 1 GB): {'met' if ok else 'NOT met'}")
        assert figures["indexed"] == size, figures


if __name__ == "__main__":
    main()
