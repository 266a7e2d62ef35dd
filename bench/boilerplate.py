"""The boilerplate stage, measured.

1. The shared article-extraction benchmark (one page per site, so learning cannot help there):
   P/R/F1 of trafilatura alone and with the boilerplate stage, in the same run; the stage must not
   lower F1.
2. A six-publisher fixture newsroom (each template with four or more kinds of boilerplate inside
   the article container, 10+ stories per site, wire copies, briefs), crawled for real: template
   boilerplate lines left in stored texts (target 0), body recall against trafilatura alone
   (target >= 0.98 of it), and per site the segments learned and removed.
3. Five more template families that hold their stories in other markup than <p> (a layout table,
   <br>-separated lines, a list, nested <div>s and <span>s, an AMP page), crawled as one newsroom:
   per family, boilerplate lines left (target 0) and body recall (target >= 0.98).

    .venv/bin/python -m bench.boilerplate
"""

from __future__ import annotations

import asyncio
import json
import sqlite3
import tempfile
from collections import Counter, defaultdict
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
from tests.fixtures.newsroom.layouts import LAYOUT_FAMILIES, LAYOUT_SITES
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
    left: Counter[str] = Counter()
    in_alone: Counter[str] = Counter()
    removed: Counter[str] = Counter()
    left_in_briefs = 0
    for article in newsroom.articles:
        lines = newsroom.boilerplate[article.url]
        leaks = sum(1 for line in lines if line in stored.get(article.url, ""))
        left[article.host] += leaks
        left_in_briefs += leaks if article.kind == "brief" else 0
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
    by_host = defaultdict(list)
    for article in newsroom.articles:
        by_host[article.host].append(article.url)
    urls = [a.url for a in newsroom.articles]
    return {
        "stored": len(stored),
        "articles": len(urls),
        "briefs": sum(1 for a in newsroom.articles if a.kind == "brief"),
        "alone": score((truth[u], alone[u]) for u in urls),
        "staged": score((truth[u], stored.get(u, "")) for u in urls),
        "staged_by_host": {
            host: score((truth[u], stored.get(u, "")) for u in host_urls)
            for host, host_urls in by_host.items()
        },
        "alone_by_host": {
            host: score((truth[u], alone[u]) for u in host_urls) for host, host_urls in by_host.items()
        },
        "left": left,
        "left_in_briefs": left_in_briefs,
        "in_alone": in_alone,
        "learned": learned,
        "removed": removed,
    }


def print_sites(figures: dict, hosts: list[str]) -> None:
    print(f"  stored {figures['stored']} of {figures['articles']} articles ({figures['briefs']} briefs)")
    print(
        f"  {'site':26s} {'boilerplate lines':>18s} {'left after':>11s} {'segments learned':>17s} "
        f"{'paragraphs removed':>19s}"
    )
    for host in hosts:
        print(
            f"  {host:26s} {figures['in_alone'][host]:>18d} {figures['left'][host]:>11d} "
            f"{figures['learned'][host]:>17d} {figures['removed'][host]:>19d}"
        )


def measure_families(seed: int = 11) -> dict[str, dict[str, float]]:
    """The layout families (tests/fixtures/newsroom/layouts.py) crawled as one newsroom: per family,
    boilerplate lines left in stored texts, lines trafilatura kept, and body recall (stored text
    against the published paragraphs, and relative to trafilatura alone)."""
    newsroom = build_newsroom(seed=seed, plan=NEWSROOM_PLAN, sites=LAYOUT_SITES)
    with tempfile.TemporaryDirectory() as scratch:
        figures = on_newsroom(newsroom, Path(scratch) / "data")
    families = {}
    for family, site in LAYOUT_FAMILIES.items():
        staged, alone = figures["staged_by_host"][site.host], figures["alone_by_host"][site.host]
        families[family] = {
            "articles": sum(1 for a in newsroom.articles if a.host == site.host),
            "kinds": len(site.boilerplate),
            "boilerplate_lines": figures["in_alone"][site.host],
            "leaked": figures["left"][site.host],
            "learned": figures["learned"][site.host],
            "recall": round(staged.recall, 4),
            "recall_vs_alone": round(staged.recall / alone.recall, 4),
        }
    families["all"] = {
        "stored": figures["stored"],
        "articles": figures["articles"],
        "leaked_in_briefs": figures["left_in_briefs"],
    }
    return families


def print_families(families: dict[str, dict[str, float]]) -> bool:
    """Print the families' table; True when every family meets the targets."""
    overall = families["all"]
    print(
        f"template families ({len(LAYOUT_FAMILIES)} layouts, {overall['articles']} articles, "
        f"{overall['stored']} stored; briefs among them):"
    )
    print(
        f"  {'family':24s} {'articles':>8s} {'kinds':>6s} {'lines kept by extraction':>25s} {'leaked':>7s} "
        f"{'body recall':>12s} {'vs alone':>9s}"
    )
    met = True
    for family in LAYOUT_FAMILIES:
        f = families[family]
        met &= f["leaked"] == 0 and f["recall"] >= 0.98
        print(
            f"  {family:24s} {f['articles']:>8d} {f['kinds']:>6d} {f['boilerplate_lines']:>25d} "
            f"{f['leaked']:>7d} {f['recall']:>12.3f} {f['recall_vs_alone']:>9.3f}"
        )
    print(f"  boilerplate lines left in briefs: {overall['leaked_in_briefs']}")
    print(f"  zero leaks and body recall >= 0.98 in every family: {'met' if met else 'NOT met'}")
    return met


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
    print_sites(figures, hosts)
    left = sum(figures["left"].values())
    in_alone = sum(figures["in_alone"].values())
    print(
        f"  template boilerplate lines in stored texts: {left} (trafilatura alone: {in_alone}); "
        f"target 0: {'met' if left == 0 else 'NOT met'}"
    )
    print(f"  boilerplate lines left in briefs: {figures['left_in_briefs']}")
    print(f"  trafilatura alone:          {figures['alone']}")
    print(f"  with the boilerplate stage: {figures['staged']}")
    ratio = figures["staged"].recall / figures["alone"].recall
    print(
        f"  body recall vs trafilatura alone: {ratio:.3f}; target >= 0.98: {'met' if ratio >= 0.98 else 'NOT met'}"
    )

    families = measure_families()
    families_met = print_families(families)
    print(
        json.dumps(
            {
                "benchmark_f1_alone": round(alone.f1, 4),
                "benchmark_f1_staged": round(staged.f1, 4),
                "newsroom_leaked": left,
                "newsroom_leaked_in_briefs": figures["left_in_briefs"],
                "newsroom_recall_vs_alone": round(ratio, 4),
                "families": {k: v for k, v in families.items() if k != "all"},
                "families_leaked_in_briefs": families["all"]["leaked_in_briefs"],
                "families_met": families_met,
            }
        )
    )


if __name__ == "__main__":
    main()
