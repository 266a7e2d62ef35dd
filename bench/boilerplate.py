"""The boilerplate stage, measured.

1. The shared article-extraction benchmark (one page per site, so learning cannot help there):
   P/R/F1 of trafilatura alone and with the boilerplate stage, in the same run; the stage must not
   lower F1.
2. A six-publisher fixture newsroom (each template with four or more kinds of boilerplate inside
   the article container, 10+ stories per site, wire copies, briefs), crawled for real: template
   boilerplate lines left in stored texts (target 0), body recall against trafilatura alone
   (target >= 0.98 of it), and per site the segments learned and removed.

    .venv/bin/python -m bench.boilerplate
"""

from __future__ import annotations

import asyncio
import sqlite3
import tempfile
from collections import Counter
from pathlib import Path

from scrapy.utils.misc import build_from_crawler

from pipelines.boilerplate import BoilerplatePipeline
from pipelines.boilerplate.segments import SiteSegments
from pipelines.extraction.page import ExtractOptions, extract_article
from pipelines.items import ArticleItem
from pipelines.state.sqlite import SQLiteBackend
from settings import base
from tests.fixtures.articlebench import load_pages, score
from tests.fixtures.components import project_crawler
from tests.fixtures.newsroom.build import Plan, build_newsroom
from tests.fixtures.newsroom.demo import crawl
from tests.fixtures.newsroom.model import Newsroom
from tests.fixtures.newsroom.server import NewsroomServer

NEWSROOM_PLAN = Plan(own_stories=10, wire_stories=8, briefs=4, quote_sharing=3)
OPTIONS = ExtractOptions(favor_precision=base.EXTRACT_FAVOR_PRECISION, min_words=base.EXTRACT_MIN_WORDS)


def on_extraction_benchmark() -> tuple[object, object]:
    """Scores of trafilatura alone and of the boilerplate stage after it, on the same pages."""
    pages = load_pages()
    extracted = [extract_article(p.html, p.url, options=OPTIONS) for p in pages]
    with tempfile.TemporaryDirectory() as data_dir:
        stage = build_from_crawler(
            BoilerplatePipeline, project_crawler(DATA_DIR=data_dir, BOILERPLATE_HOLD_QUIET_SECONDS=0.2)
        )

        async def clean_all() -> list[str]:
            await stage.open_spider()
            items = [
                ArticleItem(url=p.url, site=p.url.split("/")[2], text=fields["text"])
                for p, fields in zip(pages, extracted)
                if fields
            ]
            results = await asyncio.gather(*(stage.process_item(i) for i in items), return_exceptions=True)
            await stage.close_spider()
            return [r["text"] if isinstance(r, ArticleItem) else "" for r in results]

        cleaned = iter(asyncio.run(clean_all()))
    alone = score((p.body, f["text"] if f else "") for p, f in zip(pages, extracted))
    staged = score((p.body, next(cleaned) if f else "") for p, f in zip(pages, extracted))
    return alone, staged


def on_newsroom(newsroom: Newsroom, data_dir: Path) -> dict:
    """Crawl the newsroom and compare what was stored with trafilatura alone on the same pages."""
    with NewsroomServer(newsroom) as server:
        result = crawl(newsroom.start_urls, data_dir, server.proxy_env(), "-s", "LOG_LEVEL=WARNING")
        if result.returncode != 0:
            raise SystemExit(f"crawl failed:\n{result.stderr[-3000:]}")
    db = sqlite3.connect(data_dir / "articles.sqlite3")
    stored = dict(db.execute("SELECT url, text FROM articles").fetchall())
    db.close()
    alone: dict[str, str] = {}
    for article in newsroom.articles:
        html = newsroom.pages[article.host][article.url.split(article.host, 1)[1]].body.decode()
        fields = extract_article(html, article.url, options=OPTIONS)
        alone[article.url] = fields["text"] if fields else ""
    truth = {a.url: "\n\n".join(a.paragraphs) for a in newsroom.articles}
    left = Counter()
    in_alone = Counter()
    removed = Counter()
    for article in newsroom.articles:
        lines = newsroom.boilerplate[article.url]
        left[article.host] += sum(1 for line in lines if line in stored.get(article.url, ""))
        in_alone[article.host] += sum(1 for line in lines if line in alone[article.url])
        removed[article.host] += len(alone[article.url].split("\n\n")) - len(
            stored.get(article.url, "").split("\n\n")
        )
    learned = Counter()
    backend = SQLiteBackend(Path(data_dir))
    segments = backend.open_segments()
    for host in {a.host for a in newsroom.articles}:
        site = SiteSegments()
        site.load_dict(segments.load(host) or {})
        learned[host] = len(site.boilerplate())
    backend.close()
    urls = [a.url for a in newsroom.articles]
    return {
        "stored": len(stored),
        "articles": len(urls),
        "alone": score((truth[u], alone[u]) for u in urls),
        "staged": score((truth[u], stored.get(u, "")) for u in urls),
        "left": left,
        "in_alone": in_alone,
        "learned": learned,
        "removed": removed,
    }


def main() -> None:
    alone, staged = on_extraction_benchmark()
    print("article-extraction benchmark (181 pages, one per site):")
    print(f"  trafilatura alone:            {alone}")
    print(f"  with the boilerplate stage:   {staged}")
    verdict = "met" if staged.f1 >= alone.f1 else "NOT met"
    print(f"  F1 not lowered: {verdict}")

    newsroom = build_newsroom(seed=11, plan=NEWSROOM_PLAN)
    hosts = sorted({a.host for a in newsroom.articles})
    per_site = Counter(a.host for a in newsroom.articles)
    print(
        f"fixture newsroom: {len(hosts)} publisher templates, {len(newsroom.articles)} articles "
        f"({min(per_site.values())}-{max(per_site.values())} per site)"
    )
    with tempfile.TemporaryDirectory() as scratch:
        figures = on_newsroom(newsroom, Path(scratch) / "data")
    print(f"  stored {figures['stored']} of {figures['articles']} articles")
    print(
        f"  {'site':26s} {'boilerplate lines':>18s} {'left after':>11s} {'segments learned':>17s} {'paragraphs removed':>19s}"
    )
    for host in hosts:
        print(
            f"  {host:26s} {figures['in_alone'][host]:>18d} {figures['left'][host]:>11d} "
            f"{figures['learned'][host]:>17d} {figures['removed'][host]:>19d}"
        )
    left = sum(figures["left"].values())
    print(
        f"  template boilerplate lines in stored texts: {left} (trafilatura alone: {sum(figures['in_alone'].values())}); target 0: {'met' if left == 0 else 'NOT met'}"
    )
    print(f"  trafilatura alone:          {figures['alone']}")
    print(f"  with the boilerplate stage: {figures['staged']}")
    ratio = figures["staged"].recall / figures["alone"].recall
    print(
        f"  body recall vs trafilatura alone: {ratio:.3f}; target >= 0.98: {'met' if ratio >= 0.98 else 'NOT met'}"
    )


if __name__ == "__main__":
    main()
