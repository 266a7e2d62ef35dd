"""The near-duplicate index at archive scale: start-up, memory, per-article cost and disk.

For stores of 100k, 1M and 5M signatures whose stories were published over ten years, it fills a
real SQLite store (articles, signatures and the cold index's band table, as the crawler writes
them), then in a fresh process (so memory is measured alone) starts the near-duplicate stage the
way a crawl starts, fills its hot index to its capacity (NEARDUP_HOT_SIGNATURES) as a long run
would, and signs, looks up (hot and cold) and stores real article texts one at a time.

    .venv/bin/python -m bench.index [--sizes 100000,1000000,5000000]

Targets: start-up <= 2 s and index memory <= 400 MB at every size; per article (sign + look up +
insert) median <= 1 ms and p99 <= 10 ms at 1M. Before the cold index, 1M signatures took 15 s and
2.1 GB to load.
"""

from __future__ import annotations

import argparse
import asyncio
import json
import os
import sqlite3
import subprocess
import sys
import tempfile
import time
from datetime import timedelta
from pathlib import Path

import numpy as np

from pipelines import clock
from settings import base

ROOT = Path(__file__).resolve().parent.parent
YEARS = 10


def _settings():
    from scrapy.settings import Settings

    settings = Settings()
    settings.setmodule(base)
    return settings


def fill_store(data_dir: Path, size: int) -> None:
    """A store of *size* articles published (and stored) over the last ten years, written in bulk."""
    from pipelines.signatures import BandLayout, Signer
    from pipelines.state.sqlite import SQLiteBackend

    settings = _settings()
    layout = BandLayout.from_settings(settings)
    backend = SQLiteBackend(data_dir)
    backend.open_store(Signer.from_settings(settings).scheme, layout)
    backend.close()
    db = sqlite3.connect(data_dir / "articles.sqlite3")
    db.execute("PRAGMA journal_mode=WAL")
    db.execute("PRAGMA synchronous=OFF")
    db.execute("PRAGMA cache_size=-2000000")
    rng = np.random.default_rng(7)
    today = clock.today()
    chunk = 50_000
    matrices = []
    with db:
        for start in range(0, size, chunk):
            count = min(chunk, size - start)
            matrix = rng.integers(0, 2**32, size=(count, base.NEARDUP_NUM_PERM), dtype=np.uint32)
            shingles = rng.integers(0, 2**32, size=(count, 64), dtype=np.uint32)
            days = today - rng.integers(0, YEARS * 365, count)
            ids = range(start + 1, start + count + 1)
            db.executemany(
                "INSERT INTO articles (id, url, site, text, word_count, published, fetched_at, cluster_id, authors) "
                "VALUES (?, ?, ?, ?, ?, ?, ?, ?, '[]')",
                [
                    (
                        i,
                        f"https://news{i % 500}.example/story-{i}",
                        f"news{i % 500}.example",
                        "text",
                        500,
                        (clock.EPOCH + timedelta(days=int(day))).isoformat(),
                        (clock.EPOCH + timedelta(days=int(day) + 1)).isoformat() + "T08:00:00+00:00",
                        f"{i:016x}",
                    )
                    for i, day in zip(ids, days)
                ],
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
            matrices.append(layout.keys(matrix))
    # The band table in key order, as a B-tree is built fastest; the crawler writes it row by row.
    keys = np.concatenate(matrices)
    del matrices
    packed = (keys << np.uint64(25)) | (np.arange(1, size + 1, dtype=np.uint64)[:, np.newaxis])
    del keys
    packed = packed.ravel()
    packed.sort()
    mask = np.uint64((1 << 25) - 1)
    with db:
        for start in range(0, len(packed), 1_000_000):
            part = packed[start : start + 1_000_000]
            db.executemany(
                "INSERT INTO bands (band, article_id) VALUES (?, ?)",
                zip((part >> np.uint64(25)).tolist(), (part & mask).tolist()),
            )
    db.execute("PRAGMA wal_checkpoint(TRUNCATE)")  # as a crawl leaves its store: checkpointed as it goes
    db.close()
    # The cold index's filter, complete, as the crawls that stored these articles leave it.
    stage, backend = _stage(data_dir, settings)
    stage._prepare()
    asyncio.run(stage.close_spider())
    backend.close()


def _stage(data_dir: Path, settings):
    """The near-duplicate stage over the store under *data_dir*, built as a crawl builds it."""
    from pipelines.neardup.stage import FILTER_FILE, NearDuplicatePipeline, open_index
    from pipelines.signatures import BandLayout, Signer
    from pipelines.state.sqlite import SQLiteBackend

    signer = Signer.from_settings(settings)
    backend = SQLiteBackend(data_dir)
    store = backend.open_store(signer.scheme, BandLayout.from_settings(settings))
    stage = NearDuplicatePipeline(
        _Stats(), signer, open_index(settings), store, filter_path=data_dir / FILTER_FILE
    )
    return stage, backend


class _Stats:
    """The stats collector the stage is given: counts, unread."""

    def __init__(self) -> None:
        self.values: dict[str, object] = {}

    def inc_value(self, key: str, count: int = 1, start: int = 0) -> None:
        self.values[key] = self.values.get(key, start) + count  # type: ignore[operator]

    def set_value(self, key: str, value: object) -> None:
        self.values[key] = value

    def get_value(self, key: str, default: object = None) -> object:
        return self.values.get(key, default)


def _rss_mb(field: str = "VmRSS") -> float:
    """This process's resident memory now (VmRSS) or at its peak (VmHWM). Not getrusage's
    ru_maxrss, which Linux carries over an exec from the parent that filled the store."""
    with Path("/proc/self/status").open() as status:
        for line in status:
            if line.startswith(field + ":"):
                return int(line.split()[1]) / 1024
    return 0.0


def measure(data_dir: str) -> dict:
    """Runs in a fresh process: start the stage like a crawl, fill the hot index, then sign, look
    up and store real texts."""
    from pipelines.neardup.matching import IndexedCopy
    from pipelines.signatures import Signature
    from pipelines.state.interfaces import PageFetch
    from pipelines.text import word_hashes
    from pipelines.urls import page_keys
    from tests.fixtures.articlebench import load_bodies

    settings = _settings()
    texts = list(load_bodies().values()) * 3
    hashes = [word_hashes(t) for t in texts]
    baseline = _rss_mb()
    started = time.perf_counter()
    stage, backend = _stage(Path(data_dir), settings)
    signer, store = stage.signer, stage.store
    stage._prepare()
    startup = time.perf_counter() - started
    after_startup = _rss_mb()
    rng = np.random.default_rng(11)
    capacity = stage.index.capacity
    for start in range(0, capacity, 10_000):
        matrix = rng.integers(0, 2**32, size=(10_000, base.NEARDUP_NUM_PERM), dtype=np.uint32)
        stage.index.add_many(
            [
                IndexedCopy(f"https://hot.example/{start + n}", "h", "h", Signature(matrix[n], 500))
                for n in range(len(matrix))
            ]
        )
    costs, signs, decisions, writes = [], [], [], []
    for number, words in enumerate(hashes):
        url = f"https://new.example/{number}"
        now = clock.now_iso()
        keys = page_keys(url)  # computed in the extraction worker, beside the word hashes
        t0 = time.perf_counter()
        signature = signer.sign_words(words)
        t1 = time.perf_counter()
        decision = stage._decide(url, None, signature)
        t2 = time.perf_counter()
        article = {
            "url": url,
            "site": "new.example",
            "text": texts[number],
            "word_count": 1,
            "fetched_at": now,
            "version": 1,
            **decision.fields,
        }
        store.add(article, signature, PageFetch(keys, now))
        t3 = time.perf_counter()
        costs.append(t3 - t0)
        signs.append(t1 - t0)
        decisions.append(t2 - t1)
        writes.append(t3 - t2)
    peak = _rss_mb("VmHWM")
    asyncio.run(stage.close_spider())
    backend.close()
    return {
        "startup_s": startup,
        "startup_rss_mb": after_startup - baseline,
        "index_rss_mb": peak - baseline,
        "process_peak_rss_mb": peak,
        "hot": len(stage.index),
        "per_item_ms_median": 1000 * float(np.median(costs)),
        "per_item_ms_p99": 1000 * float(np.percentile(costs, 99)),
        "sign_ms": 1000 * float(np.median(signs)),
        "decide_ms": 1000 * float(np.median(decisions)),
        "decide_ms_p99": 1000 * float(np.percentile(decisions, 99)),
        "write_ms": 1000 * float(np.median(writes)),
        "duplicates": stage.stats.values.get("neardup/duplicates", 0),
    }


def disk_bytes(data_dir: Path) -> tuple[int, int]:
    """Bytes of the store's files and the cold index's filter, and of the band table alone (when
    SQLite can tell)."""
    from pipelines.neardup.stage import FILTER_FILE

    files = [*data_dir.glob("articles.sqlite3*"), data_dir / FILTER_FILE]
    total = sum(path.stat().st_size for path in files if path.exists())
    db = sqlite3.connect(data_dir / "articles.sqlite3")
    try:
        (bands,) = db.execute("SELECT SUM(pgsize) FROM dbstat WHERE name = 'bands'").fetchone()
    except sqlite3.Error:
        bands = 0
    db.close()
    return total, int(bands or 0)


def main() -> None:
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument(
        "--sizes", default="100000,1000000,5000000", help="stored signatures, comma-separated"
    )
    parser.add_argument("--measure", help=argparse.SUPPRESS)  # internal: the fresh measuring process
    args = parser.parse_args()
    if args.measure:
        print(json.dumps(measure(args.measure)))
        return
    print(
        f"near-duplicate index: {base.NEARDUP_NUM_PERM} permutations, {base.NEARDUP_BANDS} bands x "
        f"{base.NEARDUP_ROWS} rows; hot index of {base.NEARDUP_HOT_SIGNATURES:,} signatures, cold index "
        f"in the SQLite store; stories published over the last {YEARS} years"
    )
    results = []
    for size in (int(s) for s in args.sizes.split(",")):
        with tempfile.TemporaryDirectory(dir=os.environ.get("BENCH_TMPDIR")) as scratch:
            data_dir = Path(scratch)
            started = time.perf_counter()
            fill_store(data_dir, size)
            filled = time.perf_counter() - started
            os.sync()  # a crawl starts on a store at rest, not one the disk is still writing out
            total, bands = disk_bytes(data_dir)
            result = subprocess.run(
                [sys.executable, "-m", "bench.index", "--measure", str(data_dir)],
                cwd=ROOT,
                capture_output=True,
                text=True,
                check=False,
            )
            if result.returncode != 0:
                raise SystemExit(result.stderr[-3000:])
            figures = json.loads(result.stdout.splitlines()[-1])
        figures |= {
            "signatures": size,
            "disk_bytes_per_signature": total / size,
            "band_bytes_per_signature": bands / size,
        }
        results.append(figures)
        print(
            f"  {size:>9,} stored (filled in {filled:.0f} s): start-up {figures['startup_s']:.3f} s, "
            f"index memory {figures['index_rss_mb']:.0f} MB with the hot index full "
            f"({figures['hot']:,}; process peak {figures['process_peak_rss_mb']:.0f} MB), "
            f"per article (sign + look up + store) median {figures['per_item_ms_median']:.3f} ms, "
            f"p99 {figures['per_item_ms_p99']:.3f} ms (medians: sign {figures['sign_ms']:.3f}, look up in "
            f"both indexes and decide {figures['decide_ms']:.3f} [p99 {figures['decide_ms_p99']:.3f}], store the "
            f"article with its band rows {figures['write_ms']:.3f}); disk {figures['disk_bytes_per_signature']:,.0f} "
            f"bytes per signature (band table {figures['band_bytes_per_signature']:,.0f})"
        )
    met = all(r["startup_s"] <= 2 and r["index_rss_mb"] <= 400 for r in results) and all(
        r["per_item_ms_median"] <= 1 and r["per_item_ms_p99"] <= 10
        for r in results
        if r["signatures"] == 1_000_000
    )
    print(
        "targets (start-up <= 2 s and index memory <= 400 MB at every size; at 1M per article median "
        f"<= 1 ms, p99 <= 10 ms): {'met' if met else 'NOT met'}"
    )
    keys = (
        "signatures",
        "startup_s",
        "index_rss_mb",
        "per_item_ms_median",
        "per_item_ms_p99",
        "disk_bytes_per_signature",
    )
    print(json.dumps({"sizes": [{key: round(r[key], 4) for key in keys} for r in results]}))


if __name__ == "__main__":
    main()
