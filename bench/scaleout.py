"""Scale-out on the real Redis and PostgreSQL of this machine.

1. Near-duplicate cost per item against the shared Redis index holding 100k signatures: signature,
   cross-process claim, candidate lookup and insert, as a worker does them; and Redis memory per
   stored signature, for sizing.
2. Crawl throughput with 1 and 2 worker processes (settings/prod.py) on the same local newsroom:
   the 181 real pages of the article-extraction benchmark, 4 times each, served with 500 ms of
   latency per response as publishers across the internet answer. Each worker crawls with its own
   politeness budget (8 requests at a time, 2 per host) and one extraction process: a crawl bound
   by the publishers' pace, not by this machine's two cores, which is what more workers are for.

    .venv/bin/python -m bench.scaleout [--stored 100000]

Targets: <= 2 ms per item at 100k stored signatures; 2 workers >= 1.6 x the pages/s of one.
"""

from __future__ import annotations

import argparse
import re
import tempfile
import time
from datetime import datetime
from pathlib import Path

import numpy as np

from bench.articlebench import load_bodies, load_pages
from bench.crawl import bench_newsroom
from pipelines.core.index import IndexedCopy
from pipelines.core.redis_index import RedisSignatureIndex
from pipelines.core.signatures import Signer, word_hashes
from settings import base
from tests.newsroom.server import NewsroomServer
from tests.scaleout import REDIS_URL, Namespace, start_worker

# Each worker: 8 requests at a time (its politeness budget), 2 per host, one extraction process.
WORKER_SETTINGS = (
    *("-s", "EXTRACT_WORKERS=1", "-s", "CONCURRENT_REQUESTS_PER_DOMAIN=2", "-s", "CONCURRENT_REQUESTS=8"),
    *("-s", "SCALEOUT_IDLE_SECONDS=3", "-s", "LOG_LEVEL=DEBUG"),
)
LATENCY = 0.5
_STAMP = re.compile(r"^(\d{4}-\d\d-\d\d \d\d:\d\d:\d\d)")


def redis_cost(stored: int) -> dict[str, float]:
    namespace = Namespace()
    index = RedisSignatureIndex(
        REDIS_URL, f"{namespace.name}:index:", base.NEARDUP_NUM_PERM, base.NEARDUP_BANDS, base.NEARDUP_ROWS
    )
    try:
        before = int(index.client.info("memory")["used_memory"])
        rng = np.random.default_rng(3)
        started = time.perf_counter()
        for start in range(0, stored, 10_000):
            size = min(10_000, stored - start)
            matrix = rng.integers(0, 2**32, size=(size, base.NEARDUP_NUM_PERM), dtype=np.uint32)
            urls = [f"https://news{(start + i) % 300}.example/2026/11/story-{start + i}" for i in range(size)]
            index.load(
                urls,
                [f"{start + i:016x}" for i in range(size)],
                urls,
                matrix,
                np.full(size, 500),
                np.full(size, 20000),
            )
        filled = time.perf_counter() - started
        per_signature = (int(index.client.info("memory")["used_memory"]) - before) / stored
        signer = Signer(base.NEARDUP_NUM_PERM, base.NEARDUP_SHINGLE_SIZE)
        texts = list(load_bodies().values())
        costs = []
        for number, text in enumerate(texts):
            hashes = word_hashes(text)
            t0 = time.perf_counter()
            signature = signer.sign_words(hashes)
            with index.claim():
                for candidate in index.candidates(signature):
                    index.rule.judge_estimate(candidate, signature)
                url = f"https://new.example/{number}"
                index.add(IndexedCopy(url, url, url, signature), 20000, signature.shingles)
            costs.append(time.perf_counter() - t0)
        return {"ms": 1000 * float(np.median(costs)), "bytes": per_signature, "fill_s": filled}
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
    parser.add_argument("--stored", type=int, default=100_000)
    parser.add_argument("--copies", type=int, default=4)
    args = parser.parse_args()
    print(f"shared near-duplicate index in Redis ({REDIS_URL}), {args.stored:,} stored signatures:")
    cost = redis_cost(args.stored)
    verdict = "met" if cost["ms"] <= 2.0 else "NOT met"
    print(
        f"  filled in {cost['fill_s']:.1f} s; Redis memory per stored signature: {cost['bytes']:,.0f} bytes"
    )
    print(
        f"  per item (signature + claim + lookup + insert), median: {cost['ms']:.3f} ms; target <= 2 ms: {verdict}"
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


if __name__ == "__main__":
    main()
