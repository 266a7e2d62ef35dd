"""Scale-out on the real Redis and PostgreSQL of this machine.

1. Near-duplicate cost per item with the shared hot index in Redis holding 100k signatures and the
   cold index in PostgreSQL holding 1M: signature, cross-process claim, hot and cold candidate
   lookups and the hot insert, as a worker does them; and Redis memory per hot signature.
2. Crawl throughput with 1 and 2 worker processes (settings/prod.py) on the same local newsroom:
   the 181 real pages of the article-extraction benchmark, 4 times each, served with 500 ms of
   latency per response as publishers across the internet answer. Each worker crawls with its own
   politeness budget (8 requests at a time, 2 per host) and one extraction process: a crawl bound
   by the publishers' pace, not by this machine's two cores, which is what more workers are for.

    .venv/bin/python -m bench.scaleout [--hot 100000] [--cold 1000000]

Targets: <= 2 ms per item at 100k hot + 1M cold signatures, <= 4 KB of Redis memory per hot
signature; 2 workers >= 1.6 x the pages/s of one. The last line is a JSON object of the figures.
"""

from __future__ import annotations

import argparse
import json
import os
import re
import struct
import tempfile
import time
from datetime import datetime, timedelta
from pathlib import Path

import numpy as np

from bench.crawl import bench_newsroom
from pipelines import clock
from pipelines.neardup.matching import IndexedCopy, MatchRule
from pipelines.neardup.shared import RedisIndex
from pipelines.neardup.stage import NearDuplicatePipeline
from pipelines.signatures import BandLayout, Signature, Signer
from pipelines.state.postgres import PostgresBackend
from pipelines.text import word_hashes
from settings import base
from tests.fixtures.articlebench import load_bodies, load_pages
from tests.fixtures.newsroom.server import NewsroomServer
from tests.fixtures.scaleout import POSTGRES_DSN, REDIS_URL, Namespace, start_worker

# Each worker: 8 requests at a time (its politeness budget), 2 per host, one extraction process.
WORKER_SETTINGS = (
    *("-s", "EXTRACT_WORKERS=1", "-s", "CONCURRENT_REQUESTS_PER_DOMAIN=2", "-s", "CONCURRENT_REQUESTS=8"),
    *("-s", "SCALEOUT_IDLE_SECONDS=3", "-s", "LOG_LEVEL=DEBUG"),
)
LATENCY = 0.5
_STAMP = re.compile(r"^(\d{4}-\d\d-\d\d \d\d:\d\d:\d\d)")


class _Stats:
    def inc_value(self, key: str, count: int = 1, start: int = 0) -> None: ...

    def set_value(self, key: str, value: object) -> None: ...

    def get_value(self, key: str, default: object = None) -> object:
        return default


def _copy_rows(cursor, table: str, columns: str, fields: list[tuple[str, np.ndarray]]) -> None:
    """COPY numpy columns of int64 into *table* in PostgreSQL's binary format."""
    count = len(fields[0][1])
    row = np.dtype(
        [("n", ">i2")]
        + [(f"{name}{part}", kind) for name, _ in fields for part, kind in (("l", ">i4"), ("v", ">i8"))]
    )
    data = np.empty(count, dtype=row)
    data["n"] = len(fields)
    for name, values in fields:
        data[f"{name}l"] = 8
        data[f"{name}v"] = values
    with cursor.copy(f"COPY {table} ({columns}) FROM STDIN (FORMAT BINARY)") as copy:
        copy.write(b"PGCOPY\n\xff\r\n\x00" + struct.pack(">ii", 0, 0))
        for start in range(0, count, 1_000_000):
            copy.write(data[start : start + 1_000_000].tobytes())
        copy.write(struct.pack(">h", -1))


def fill_cold(namespace: Namespace, layout: BandLayout, signer: Signer, cold: int) -> PostgresBackend:
    """A PostgreSQL store of *cold* random signatures with their band table, written in bulk."""
    import psycopg

    backend = PostgresBackend(POSTGRES_DSN, namespace.name)
    backend.open_store(signer.scheme, layout)
    rng = np.random.default_rng(5)
    stored_at = (clock.now() - timedelta(days=5 * 365)).isoformat(timespec="seconds")  # long ago
    with psycopg.connect(POSTGRES_DSN, autocommit=True) as conn:
        conn.execute(f"SET search_path TO {namespace.name}")
        conn.execute("ALTER TABLE bands DROP CONSTRAINT bands_pkey")
        cursor = conn.cursor()
        for start in range(0, cold, 100_000):
            count = min(100_000, cold - start)
            ids = np.arange(start + 1, start + count + 1)
            matrix = rng.integers(0, 2**32, size=(count, base.NEARDUP_NUM_PERM), dtype=np.uint32)
            with cursor.copy(
                "COPY articles (id, url, site, text, word_count, fetched_at, cluster_id) FROM STDIN"
            ) as copy:
                for i in ids.tolist():
                    copy.write_row(
                        (
                            i,
                            f"https://c{i % 500}.example/{i}",
                            "c.example",
                            "t",
                            500,
                            stored_at,
                            f"{i:016x}",
                        )
                    )
            with cursor.copy(
                "COPY signatures (article_id, minhash, shingle_count, shingles, window_day) FROM STDIN"
            ) as copy:
                for n, i in enumerate(ids.tolist()):
                    copy.write_row((i, matrix[n].astype("<u4").tobytes(), 500, b"", 18000))
            keys = layout.keys(matrix)
            _copy_rows(
                cursor,
                "bands",
                "band, article_id",
                [("band", keys.ravel().astype(np.int64)), ("article", np.repeat(ids, keys.shape[1]))],
            )
        conn.execute("ALTER TABLE bands ADD PRIMARY KEY (band, article_id)")
        conn.execute("SELECT setval(pg_get_serial_sequence('articles', 'id'), %s)", (cold + 1,))
        conn.execute("VACUUM ANALYZE")
        conn.execute("CHECKPOINT")
    os.sync()  # a crawl starts on a store at rest, not one the disk is still writing out
    return backend


def redis_cost(hot: int, cold: int) -> dict[str, float]:
    namespace = Namespace()
    layout = BandLayout(base.NEARDUP_NUM_PERM, base.NEARDUP_BANDS, base.NEARDUP_ROWS)
    signer = Signer(base.NEARDUP_NUM_PERM, base.NEARDUP_SHINGLE_SIZE)
    index = RedisIndex(REDIS_URL, f"{namespace.name}:index:", layout, MatchRule(), hot)
    try:
        started = time.perf_counter()
        backend = fill_cold(namespace, layout, signer, cold)
        store = backend.open_store(signer.scheme, layout)
        cold_filled = time.perf_counter() - started
        before = int(index.client.info("memory")["used_memory"])
        rng = np.random.default_rng(3)
        started = time.perf_counter()
        for start in range(0, hot, 1000):
            matrix = rng.integers(0, 2**32, size=(1000, base.NEARDUP_NUM_PERM), dtype=np.uint32)
            pipe = index.client.pipeline(transaction=False)
            for n in range(1000):
                url = f"https://news{(start + n) % 300}.example/2026/11/story-{start + n}"
                copy = IndexedCopy(url, f"{start + n:016x}", url, Signature(matrix[n], 500))
                index._insert(
                    args=[
                        index.prefix,
                        url.encode(),
                        index._meta(copy),
                        b"",
                        0,
                        -1,
                        index._band_blob(layout.keys(matrix[n : n + 1])[0]),
                    ],
                    client=pipe,
                )
            pipe.execute()
        filled = time.perf_counter() - started
        per_signature = (int(index.client.info("memory")["used_memory"]) - before) / hot
        stage = NearDuplicatePipeline(_Stats(), signer, index, store)  # type: ignore[arg-type]
        stage._prepare()
        # A crawl that has run a while: PostgreSQL holds the upper levels of the band index in its
        # buffers. Random lookups warm it up, as the first thousand articles of a run would.
        for matrix in rng.integers(0, 2**32, size=(10, 100, base.NEARDUP_NUM_PERM), dtype=np.uint32):
            for row in matrix:
                store.candidates(layout.keys(row[np.newaxis, :])[0])
        texts = list(load_bodies().values())
        costs = []
        for number, text in enumerate(texts):
            hashes = word_hashes(text)
            url = f"https://new.example/{number}"
            t0 = time.perf_counter()
            signature = signer.sign_words(hashes)
            stage._decide(url, None, signature)
            costs.append(time.perf_counter() - t0)
        backend.close()
        return {
            "ms": 1000 * float(np.median(costs)),
            "p99_ms": 1000 * float(np.percentile(costs, 99)),
            "bytes": per_signature,
            "fill_s": filled,
            "cold_fill_s": cold_filled,
        }
    finally:
        index.clear()
        namespace.clean()


def crawl_rate(workers: int, copies: int) -> tuple[float, int]:
    """Articles per second of *workers* processes crawling the newsroom, first fetch to last store."""
    newsroom = bench_newsroom(load_pages(), copies)
    namespace = Namespace()
    try:
        with NewsroomServer(newsroom, latency=LATENCY) as server, tempfile.TemporaryDirectory() as scratch:
            processes = [
                start_worker(server, namespace, Path(scratch) / f"w{n}", *WORKER_SETTINGS)
                for n in range(workers)
            ]
            logs = [process.wait(timeout=900)[1] for process in processes]
        for log in logs:
            summary = [line for line in log.splitlines() if "run summary" in line or "ERROR" in line]
            print("    worker: " + (summary[-1][20:] if summary else log[-300:]))
        first = min(t for log in logs if (t := _time(log, "Crawled (")))
        last = max(t for log in logs if (t := _time(log, "] DEBUG: Stored ", last=True)))
        stored = namespace.query("SELECT COUNT(*) FROM articles")[0][0]
        return stored / max(1.0, (last - first).total_seconds()), stored
    finally:
        namespace.clean()


def _time(log: str, marker: str, last: bool = False) -> datetime | None:
    lines = [line for line in log.splitlines() if marker in line and _STAMP.match(line)]
    if not lines:
        return None
    return datetime.fromisoformat(_STAMP.match(lines[-1] if last else lines[0]).group(1))  # type: ignore[union-attr]


def main() -> None:
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument("--hot", type=int, default=100_000)
    parser.add_argument("--cold", type=int, default=1_000_000)
    parser.add_argument("--copies", type=int, default=4)
    args = parser.parse_args()
    print(
        f"near-duplicate index shared by workers: {args.hot:,} hot signatures in Redis ({REDIS_URL}), "
        f"{args.cold:,} cold ones in PostgreSQL:"
    )
    cost = redis_cost(args.hot, args.cold)
    print(
        f"  filled in {cost['fill_s']:.1f} s (Redis) and {cost['cold_fill_s']:.1f} s (PostgreSQL); "
        f"Redis memory per hot signature: {cost['bytes']:,.0f} bytes; target <= 4,096: "
        f"{'met' if cost['bytes'] <= 4096 else 'NOT met'}"
    )
    verdict = "met" if cost["ms"] <= 2.0 else "NOT met"
    print(
        f"  per item (signature + hot and cold lookup + insert): median {cost['ms']:.3f} ms, "
        f"p99 {cost['p99_ms']:.3f} ms; target median <= 2 ms: {verdict}"
    )
    print(
        f"crawl: {len(load_pages()) * args.copies} pages on 181 hosts, {LATENCY * 1000:.0f} ms latency per response; each worker 8 requests at a time, 2 per host, one extraction process"
    )
    one, stored_one = crawl_rate(1, args.copies)
    print(f"  1 worker:  {one:6.1f} articles/s ({stored_one} stored)")
    two, stored_two = crawl_rate(2, args.copies)
    print(f"  2 workers: {two:6.1f} articles/s ({stored_two} stored)")
    verdict = "met" if two >= 1.6 * one else "NOT met"
    print(f"  speed-up: {two / one:.2f}x; target >= 1.6x: {verdict}")
    print(
        json.dumps(
            {
                "redis_bytes_per_signature": round(cost["bytes"], 1),
                "per_item_ms_median": round(cost["ms"], 4),
                "per_item_ms_p99": round(cost["p99_ms"], 4),
                "speedup_2_workers": round(two / one, 3),
            }
        )
    )


if __name__ == "__main__":
    main()
