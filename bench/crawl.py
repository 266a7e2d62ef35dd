"""Crawl throughput on the 181 real pages of the article-extraction benchmark, served on loopback.

Prints, in one run: pages/s of a fetch-only crawl (no item pipelines), of extraction alone in one
process and in the worker pool, and of the full pipeline; peak memory; and the per-item cost of
near-duplicate detection (signature + lookup + insert) with 10k and 100k stored signatures.

    .venv/bin/python -m bench.crawl [--copies 6]

Each page is served under its original host name (one local server acts as the HTTP proxy for
all of them) and --copies times under different query strings, so the crawl is long enough to
measure in a steady state. Targets: the full pipeline reaches 85% of the pooled extraction rate;
near-duplicate cost <= 1 ms per item.
"""

from __future__ import annotations

import argparse
import json
import multiprocessing
import os
import resource
import tempfile
import time
from concurrent.futures import ProcessPoolExecutor
from pathlib import Path
from urllib.parse import urlsplit

import numpy as np

from bench.articlebench import BenchmarkPage, load_pages
from pipelines.core.extract import ExtractOptions, extract_article
from pipelines.core.index import IndexedCopy, SignatureIndex
from pipelines.core.signatures import Signature, Signer
from settings import base
from tests.newsroom.demo import crawl
from tests.newsroom.model import Newsroom, Page
from tests.newsroom.server import NewsroomServer

SITEMAP_HOST = "sitemaps.bench.test"


def page_urls(pages: list[BenchmarkPage], copies: int) -> list[tuple[str, BenchmarkPage]]:
    urls = []
    for copy in range(copies):
        for page in pages:
            parts = urlsplit(page.url)
            query = f"{parts.query}&" if parts.query else ""
            urls.append((f"http://{parts.netloc}{parts.path or '/'}?{query}benchcopy={copy}", page))
    return urls


def bench_newsroom(pages: list[BenchmarkPage], copies: int) -> Newsroom:
    newsroom = Newsroom()
    entries = page_urls(pages, copies)
    for url, page in entries:
        parts = urlsplit(url)
        newsroom.add(parts.hostname, f"{parts.path}?{parts.query}", Page(200, "text/html; charset=utf-8", page.html.encode()))
    locs = "".join(f"<url><loc>{url.replace('&', '&amp;')}</loc></url>" for url, _ in entries)
    sitemap = f'<?xml version="1.0"?><urlset xmlns="http://www.sitemaps.org/schemas/sitemap/0.9">{locs}</urlset>'
    newsroom.add(SITEMAP_HOST, "/sitemap.xml", Page(200, "application/xml", sitemap.encode()))
    newsroom.start_urls.append(f"http://{SITEMAP_HOST}/sitemap.xml")
    return newsroom


def timed_crawl(server: NewsroomServer, data_dir: Path, *settings: str) -> dict:
    started = time.perf_counter()
    result = crawl(server.newsroom.start_urls, data_dir, server.proxy_env(), "-s", "LOG_LEVEL=WARNING", *settings)
    wall = time.perf_counter() - started
    if result.returncode != 0:
        raise SystemExit(f"crawl failed ({result.returncode}):\n{result.stderr[-3000:]}")
    summary = json.loads(max((data_dir / "runs").glob("*.json")).read_text())
    return {"wall": wall, **summary}


def extraction_rate(pages: list[BenchmarkPage], workers: int) -> float:
    options = ExtractOptions(favor_precision=base.EXTRACT_FAVOR_PRECISION, min_words=base.EXTRACT_MIN_WORDS)
    if workers == 1:
        extract_article(pages[0].html, pages[0].url, None, options)  # load the language model first
        started = time.perf_counter()
        for page in pages:
            extract_article(page.html, page.url, None, options)
        return len(pages) / (time.perf_counter() - started)
    with ProcessPoolExecutor(workers, mp_context=multiprocessing.get_context("spawn")) as pool:
        list(pool.map(extract_article, [p.html for p in pages[:workers]], [p.url for p in pages[:workers]]))
        started = time.perf_counter()
        list(pool.map(extract_article, [p.html for p in pages], [p.url for p in pages], [None] * len(pages),
                      [options] * len(pages), chunksize=4))
        return len(pages) / (time.perf_counter() - started)


def neardup_cost(stored: int, texts: list[str], rng: np.random.Generator) -> tuple[float, float, float]:
    """Milliseconds per item for signing, looking up (candidates and decisions) and inserting."""
    signer = Signer(base.NEARDUP_NUM_PERM, base.NEARDUP_SHINGLE_SIZE)
    index = SignatureIndex(base.NEARDUP_NUM_PERM, base.NEARDUP_BANDS, base.NEARDUP_ROWS)
    # The stored population: signatures of distinct stories (independent random minima).
    matrix = rng.integers(0, 2**32, size=(stored, base.NEARDUP_NUM_PERM), dtype=np.uint32)
    index.add_many([
        IndexedCopy(f"http://stored.test/{i}", f"c{i}", f"http://stored.test/{i}", Signature(matrix[i], 500))
        for i in range(stored)
    ])
    sign = lookup = insert = 0.0
    for number, text in enumerate(texts):
        t0 = time.perf_counter()
        signature = signer.sign(text)
        t1 = time.perf_counter()
        for candidate in index.candidates(signature):
            index.rule.judge_estimate(candidate, signature)
        t2 = time.perf_counter()
        index.add(IndexedCopy(f"http://new.test/{number}", f"n{number}", f"http://new.test/{number}", signature))
        t3 = time.perf_counter()
        sign, lookup, insert = sign + t1 - t0, lookup + t2 - t1, insert + t3 - t2
    n = len(texts)
    return 1000 * sign / n, 1000 * lookup / n, 1000 * insert / n


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--copies", type=int, default=6, help="times each page is served (default 6)")
    args = parser.parse_args()
    pages = load_pages()
    workers = os.cpu_count() or 1
    newsroom = bench_newsroom(pages, args.copies)
    total = len(pages) * args.copies
    print(f"crawl benchmark: {len(pages)} benchmark pages x {args.copies} = {total} pages, {workers} cores")

    with NewsroomServer(newsroom) as server, tempfile.TemporaryDirectory() as scratch:
        fetch = timed_crawl(server, Path(scratch) / "fetch", "-s", "ITEM_PIPELINES={}")
        full = timed_crawl(server, Path(scratch) / "full")
        peak_mb = resource.getrusage(resource.RUSAGE_CHILDREN).ru_maxrss / 1024
    single = extraction_rate(pages, 1)
    pooled = extraction_rate(pages * 2, workers)

    def rate(run: dict) -> float:
        return run["pages_fetched"] / run["seconds"]

    print(f"  fetch-only crawl (no pipelines):        {rate(fetch):7.1f} pages/s  ({fetch['pages_fetched']} pages in {fetch['seconds']:.1f} s)")
    print(f"  extraction alone, one process:          {single:7.1f} pages/s")
    print(f"  extraction alone, pool of {workers} processes:  {pooled:7.1f} pages/s")
    print(f"  full pipeline crawl:                    {rate(full):7.1f} pages/s  ({full['articles_stored']} articles stored in {full['seconds']:.1f} s)")
    share = rate(full) / pooled
    print(f"  full pipeline / pooled extraction:      {share:7.0%}  (target >= 85%: {'met' if share >= 0.85 else 'NOT met'})")
    print(f"  peak RSS of the largest crawl process:  {peak_mb:7.0f} MB")

    rng = np.random.default_rng(1)
    texts = [p.body for p in pages] * 3
    print("near-duplicate cost per item (signature + lookup + insert), benchmark texts:")
    for stored in (10_000, 100_000):
        sign, lookup, insert = neardup_cost(stored, texts, rng)
        total_ms = sign + lookup + insert
        verdict = "met" if total_ms <= 1.0 else "NOT met"
        print(f"  {stored:>7,} stored: {total_ms:.3f} ms  (sign {sign:.3f} + lookup {lookup:.3f} + insert {insert:.3f}; target <= 1 ms: {verdict})")


if __name__ == "__main__":
    main()
