"""`make demo`: serve the bundled newsroom on loopback, crawl it with `scrapy crawl news`, and print
what was stored: pages fetched, articles stored, near-duplicate clusters with their members,
boilerplate removed and the time taken.

    python -m tests.newsroom.demo [--data-dir demo-data] [--seed 7]
"""

from __future__ import annotations

import argparse
import json
import os
import shutil
import sqlite3
import subprocess
import sys
import textwrap
from collections import defaultdict
from pathlib import Path

from .build import Plan, build_newsroom
from .server import NewsroomServer

ROOT = Path(__file__).resolve().parents[2]


def crawl_command(start_urls: list[str], data_dir: Path, *extra: str) -> list[str]:
    """The `scrapy crawl news` command line of *start_urls* into *data_dir*, as users type it."""
    return [
        sys.executable,
        "-m",
        "scrapy",
        "crawl",
        "news",
        "-a",
        "start_urls=" + ",".join(start_urls),
        "-s",
        f"DATA_DIR={data_dir}",
        *extra,
    ]


def crawl(
    start_urls: list[str], data_dir: Path, env: dict[str, str], *extra: str
) -> subprocess.CompletedProcess:
    """Run `scrapy crawl news` against the newsroom, from the repository root, as users do."""
    return subprocess.run(
        crawl_command(start_urls, data_dir, *extra),
        cwd=ROOT,
        env={**os.environ, "SCRAPY_SETTINGS_MODULE": "settings.loopback", **env},
        capture_output=True,
        text=True,
    )


def print_summary(data_dir: Path, newsroom_sites: int) -> None:
    run = json.loads(max((data_dir / "runs").glob("*.json")).read_text())
    db = sqlite3.connect(data_dir / "articles.sqlite3")
    rows = db.execute(
        "SELECT cluster_id, url, site, title, duplicate_of, similarity FROM articles ORDER BY id"
    ).fetchall()
    clusters: dict[str, list[tuple]] = defaultdict(list)
    for row in rows:
        clusters[row[0]].append(row)
    shared = {cid: members for cid, members in clusters.items() if len(members) > 1}
    print()
    print(f"Pages fetched:        {run['pages_fetched']}")
    print(
        f"Articles stored:      {run['articles_stored']} from {len(run['sites'])} hosts ({newsroom_sites} publisher sites)"
    )
    print(f"Stories:              {len(clusters)} ({len(shared)} republished by more than one outlet)")
    print(f"Later copies tagged:  {run['duplicates']}")
    print(f"Boilerplate removed:  {run['boilerplate_segments_removed']} segments")
    print(f"Time taken:           {run['seconds']:.1f} s (finish reason: {run['finish_reason']})")
    print()
    print("Near-duplicate clusters:")
    for cluster_id, members in sorted(shared.items(), key=lambda item: -len(item[1])):
        print(f"  cluster {cluster_id}: {textwrap.shorten(members[0][3] or '', 70)}")
        for _, _url, site, title, duplicate_of, similarity in members:
            role = "first copy" if duplicate_of is None else f"similarity {similarity:.2f}"
            print(f"    {site:26s} {role:16s} {textwrap.shorten(title or '', 60)}")
    print()
    print("Per site:")
    for host, counts in run["sites"].items():
        print(
            f"  {host:26s} {counts.get('pages_fetched', 0):4d} pages  {counts.get('articles_stored', 0):3d} articles"
            f"  {counts.get('duplicates', 0):3d} later copies"
        )


def main() -> int:
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument("--data-dir", type=Path, default=ROOT / "demo-data")
    parser.add_argument("--seed", type=int, default=7)
    args = parser.parse_args()
    newsroom = build_newsroom(args.seed, Plan(own_stories=5, wire_stories=7, briefs=2))
    sites = {a.host for a in newsroom.articles}
    stories = defaultdict(set)
    for article in newsroom.articles:
        stories[article.story].add(article.host)
    print(
        f"Demo newsroom: {len(sites)} publisher sites, {len(newsroom.articles)} articles, "
        f"{sum(1 for hosts in stories.values() if len(hosts) > 1)} stories republished by 2-4 outlets"
    )
    shutil.rmtree(args.data_dir, ignore_errors=True)
    with NewsroomServer(newsroom) as server:
        print(f"Serving it on {server.proxy_url} (an HTTP proxy for every publisher host)")
        print("Crawling: scrapy crawl news -a start_urls=" + ",".join(newsroom.start_urls))
        result = crawl(
            newsroom.start_urls,
            args.data_dir,
            server.proxy_env(),
            "-O",
            str(args.data_dir / "articles.jsonl"),
        )
    if result.returncode != 0:
        print(result.stderr[-5000:], file=sys.stderr)
        print(f"the crawl failed with exit status {result.returncode}", file=sys.stderr)
        return result.returncode
    print_summary(args.data_dir, len(sites))
    print()
    print(f"Stored in {args.data_dir}/articles.sqlite3; exported to {args.data_dir}/articles.jsonl")
    archive = sorted((args.data_dir / "warc").glob("*.warc.gz"))
    size = sum(path.stat().st_size for path in archive)
    print(
        f"Every response archived in {len(archive)} WARC file(s) under {args.data_dir}/warc ({size / 1e6:.1f} MB)"
    )
    return 0


if __name__ == "__main__":
    sys.exit(main())
