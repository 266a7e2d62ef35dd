"""Syndication detection, measured on a labelled benchmark crawled through the real pipeline.

The benchmark is generated (seeded, reproducible) from the real article texts of the shared
article-extraction benchmark, rendered into six publisher templates and served on loopback. Each
story is republished by 0-5 other outlets, each copy with a new headline and byline plus one to
three of: a wire dateline, the last 20-50% cut, an editor's note or correction, a local paragraph,
an update with new paragraphs, retyped quotes/dashes/spaces, HTML entities. Hard negatives: every
site's stories share its template; different stories quote 2-3 paragraphs (20-40% of the shorter
text) of a wire story; briefs under 100 words.

Each shared story has a true original: most come from an agency that their pages credit (a
dateline or a byline), the others from an outlet that half their copies name as the first
publisher; copies follow 20 minutes to 4 days later in their site's own time zone, a fifth declare
the original canonical, and a tenth of the originals are gone (404). The newsroom is crawled in
two shuffled start orders.

Printed, in one run: pairwise precision, recall and F1 over stored items, the adjusted Rand index
of the clusters, recall per kind of edit, the hard negatives merged, and the same figures for
datasketch's default MinHashLSH(threshold=0.9) over the same stored texts in the same order; the
elected origins' accuracy over the copies of stories whose original was stored, right and wrong
per `origin_reason`, the stories whose original is gone, wire agency precision and recall, and
how many origins the other crawl order changed (targets: accuracy >= 0.95, wire precision >= 0.98
and recall >= 0.90).

Then the same newsroom as a backfill: stories published over the last eleven years, each copy
0-400 days after its story, crawled once, and crawled again a simulated year later (the clock
set with NEWSDEDUP_NOW) when new copies of first-run stories have appeared. Its precision and
recall must equal the all-recent crawl's.

    .venv/bin/python -m bench.syndication [--seed 3] [--no-backfill]

Then, per language (Chinese, Japanese, Thai, Arabic, Persian, Russian), real stories with copies
edited the way outlets in that language edit them (tests/fixtures/wirecopies.py), run through the
versioning, near-duplicate and storage stages in several shuffled orders: precision and recall per
language, whether every order gave the same clusters, and the naive datasketch baseline (`\\w+`
5-word shingles, MinHashLSH(threshold=0.9)) over the same texts.

    .venv/bin/python -m bench.syndication --languages-only

The last line is a JSON object of the figures.
"""

from __future__ import annotations

import argparse
import asyncio
import dataclasses
import json
import random
import re
import sqlite3
import tempfile
import time
from collections import defaultdict
from datetime import timedelta
from itertools import combinations
from math import comb
from pathlib import Path
from urllib.parse import urlsplit

from datasketch import MinHash, MinHashLSH

from bench import rounded
from pipelines import clock
from pipelines.signatures import Signer
from pipelines.text import words
from tests.fixtures.components import Stages
from tests.fixtures.components import article as article_item
from tests.fixtures.newsroom.build import (
    COPY_EDITS,
    OTHER_EDITS,
    Plan,
    build_newsroom,
    default_newest,
    with_new_copy,
)
from tests.fixtures.newsroom.demo import crawl
from tests.fixtures.newsroom.model import ArticlePage
from tests.fixtures.newsroom.server import NewsroomServer
from tests.fixtures.newsroom.stories import load_stories
from tests.fixtures.wirecopies import EDITS_OF, LANGUAGES, Copy, build_copies, load_texts

PLAN = Plan(own_stories=0, wire_stories=92, outlets=(1, 6), briefs=14, quote_sharing=24, edits=COPY_EDITS)
BACKFILL_YEARS = 11
LANGUAGE_ORDERS = 3  # shuffled crawl orders per language
LATE_COPIES = 20  # new copies of first-run stories in the second backfill run, a year later
GONE_ORIGINALS = 0.1  # shared stories whose original page is gone (404): their copies elect among themselves
EDIT_KINDS = ("headline", "byline", *COPY_EDITS, *OTHER_EDITS)


def pairs_of(labels: dict[str, str]) -> set[frozenset[str]]:
    groups: dict[str, list[str]] = defaultdict(list)
    for url, label in labels.items():
        groups[label].append(url)
    return {frozenset(pair) for members in groups.values() for pair in combinations(sorted(members), 2)}


def adjusted_rand_index(truth: dict[str, str], predicted: dict[str, str]) -> float:
    """Hubert and Arabie's adjusted Rand index of two clusterings of the same items."""
    table: dict[tuple[str, str], int] = defaultdict(int)
    rows: dict[str, int] = defaultdict(int)
    columns: dict[str, int] = defaultdict(int)
    for item in truth:
        table[truth[item], predicted[item]] += 1
        rows[truth[item]] += 1
        columns[predicted[item]] += 1
    index = sum(comb(n, 2) for n in table.values())
    row_sum = sum(comb(n, 2) for n in rows.values())
    column_sum = sum(comb(n, 2) for n in columns.values())
    expected = row_sum * column_sum / comb(len(truth), 2)
    best = (row_sum + column_sum) / 2
    return (index - expected) / (best - expected) if best != expected else 1.0


def report(
    name: str, truth: dict[str, str], predicted: dict[str, str], articles: dict[str, ArticlePage]
) -> dict:
    true_pairs, found_pairs = pairs_of(truth), pairs_of(predicted)
    right = true_pairs & found_pairs
    precision, recall = precision_recall(true_pairs, found_pairs)
    f1 = 2 * precision * recall / (precision + recall) if precision + recall else 0.0
    ari = adjusted_rand_index(truth, predicted)
    print(f"{name}:")
    print(
        f"  pairwise precision {precision:.4f}  recall {recall:.4f}  F1 {f1:.4f}  "
        f"({len(right)} of {len(true_pairs)} true pairs found, {len(found_pairs) - len(right)} wrong pairs)"
    )
    print(f"  adjusted Rand index {ari:.4f}")
    per_kind = []
    for kind in EDIT_KINDS:
        involved = [p for p in true_pairs if any(kind in articles[u].edits for u in p)]
        if involved:
            found = sum(1 for p in involved if p in found_pairs)
            per_kind.append(f"{kind} {found / len(involved):.3f} ({len(involved)})")
    print("  recall by edit (pairs): " + ", ".join(per_kind))
    wrong = found_pairs - true_pairs
    quoting = [p for p in wrong if any(articles[u].kind == "shares quotes" for u in p)]
    briefs = [p for p in wrong if any(articles[u].kind == "brief" for u in p)]
    same_site = [p for p in wrong if len({articles[u].host for u in p}) == 1]
    print(
        f"  hard negatives merged: quote-sharing stories {len(quoting)}, briefs {len(briefs)}, "
        f"stories of one site {len(same_site)}"
    )
    return {"precision": precision, "recall": recall, "f1": f1, "ari": ari}


def baseline_clusters(texts: list[tuple[str, str]], shingle_size: int, tokenize=words) -> dict[str, str]:
    """datasketch's default MinHashLSH(threshold=0.9): a text joins the first candidate's cluster."""
    lsh = MinHashLSH(threshold=0.9, num_perm=128)
    cluster_of: dict[str, str] = {}
    for url, text in texts:
        tokens = tokenize(text)
        grams = {
            " ".join(tokens[i : i + shingle_size]) for i in range(max(1, len(tokens) - shingle_size + 1))
        }
        minhash = MinHash(num_perm=128)
        minhash.update_batch([g.encode() for g in grams])
        candidates = sorted(lsh.query(minhash), key=lambda u: order[u])
        cluster_of[url] = cluster_of[candidates[0]] if candidates else url
        lsh.insert(url, minhash)
        order[url] = len(order)
    return cluster_of


order: dict[str, int] = {}


def crawl_store(newsroom, data_dir: Path, now: str | None = None, order: int = 0) -> list[StoredRow]:
    """Crawl *newsroom* into *data_dir* (the clock set to *now*, the start URLs in the shuffled
    order *order*, 0 for as listed); the stored articles."""
    env = {"NEWSDEDUP_NOW": now} if now else {}
    start_urls = list(newsroom.start_urls)
    if order:
        random.Random(order).shuffle(start_urls)
    with NewsroomServer(newsroom) as server:
        result = crawl(start_urls, data_dir, {**server.proxy_env(), **env}, "-s", "LOG_LEVEL=WARNING")
    if result.returncode != 0:
        raise SystemExit(f"crawl failed:\n{result.stderr[-3000:]}")
    db = sqlite3.connect(data_dir / "articles.sqlite3")
    rows = db.execute(
        "SELECT url, cluster_id, text, origin_url, origin_reason, wire FROM articles WHERE current ORDER BY id"
    ).fetchall()
    db.close()
    return [StoredRow(*row) for row in rows]


@dataclasses.dataclass(frozen=True)
class StoredRow:
    url: str
    cluster_id: str
    text: str
    origin_url: str | None
    origin_reason: str | None
    wire: str | None


def without_originals(newsroom, seed: int) -> set[str]:
    """Take the original page of a share of the shared stories off its site (it answers 404, and
    copies may still declare it canonical); the URLs taken."""
    rng = random.Random(seed)
    copies: dict[str, int] = defaultdict(int)
    for article in newsroom.articles:
        copies[article.story] += 1
    originals = [a for a in newsroom.articles if not a.edits and a.kind == "story" and copies[a.story] > 2]
    gone = rng.sample(originals, round(GONE_ORIGINALS * len(originals)))
    for page in gone:
        del newsroom.pages[page.host][urlsplit(page.url).path]
    return {page.url for page in gone}


def origins(rows: list[StoredRow], articles: dict[str, ArticlePage]) -> dict:
    """How often the elected origin is the story's true original, over the copies of stories with
    two stored copies or more whose original was stored; and the wire agencies found."""
    stored = {row.url: row for row in rows}
    copies: dict[str, list[StoredRow]] = defaultdict(list)
    for row in rows:
        copies[articles[row.url].story].append(row)
    original = {a.story: a.url for a in articles.values() if not a.edits and a.kind == "story"}
    measured = [
        row
        for story, members in copies.items()
        if len(members) > 1 and original.get(story) in stored
        for row in members
    ]
    right = [row for row in measured if row.origin_url == original[articles[row.url].story]]
    by_reason: dict[str, list[int]] = defaultdict(lambda: [0, 0])
    for row in measured:
        by_reason[row.origin_reason or "none"][row in right] += 1
    accuracy = len(right) / len(measured) if measured else 1.0
    # stories whose original is gone: every copy names one origin, a stored copy
    orphans = [rows for story, rows in copies.items() if len(rows) > 1 and original.get(story) not in stored]
    agreed = sum(
        1 for rows in orphans if len({r.origin_url for r in rows}) == 1 and rows[0].origin_url in stored
    )
    print(
        f"  origins: {len(measured)} copies of {len({articles[r.url].story for r in measured})} stories "
        f"whose original was stored; origin right for {len(right)} ({accuracy:.4f}); "
        f"{len(orphans)} stories whose original is gone: one stored copy elected in {agreed}"
    )
    print(
        "  origin_reason: "
        + ", ".join(f"{reason} {ok} right {wrong} wrong" for reason, (wrong, ok) in sorted(by_reason.items()))
    )
    found = [row for row in rows if row.wire]
    credited = [row for row in rows if articles[row.url].wire]
    wire_right = [row for row in found if row.wire == articles[row.url].wire]
    wire_precision = len(wire_right) / len(found) if found else 1.0
    wire_recall = len(wire_right) / len(credited) if credited else 1.0
    print(
        f"  wire agency: precision {wire_precision:.4f} ({len(wire_right)} of {len(found)} named), recall "
        f"{wire_recall:.4f} (of {len(credited)} pages crediting one); briefs quoting an agency credited: "
        f"{sum(1 for row in found if articles[row.url].kind == 'brief' and not articles[row.url].wire)}"
    )
    return {
        "origin_accuracy": accuracy,
        "origin_reasons": {
            reason: {"right": ok, "wrong": wrong} for reason, (wrong, ok) in by_reason.items()
        },
        "wire_precision": wire_precision,
        "wire_recall": wire_recall,
    }


def backfill(seed: int, plan: Plan) -> dict:
    """The newsroom as an archive: eleven years of stories, copies up to 400 days late, and a
    second run a year later bringing new copies of first-run stories."""
    first_run = dataclasses.replace(plan, span_days=BACKFILL_YEARS * 365, copy_delay_days=400)
    year_later = clock.now() + timedelta(days=365)
    newsroom = build_newsroom(seed, first_run, newest=default_newest() - timedelta(days=1))
    years = sorted({a.published[:4] for a in newsroom.articles})
    rng = random.Random(seed)
    later = newsroom
    stories = [a for a in newsroom.articles if not a.edits and a.kind == "story"]
    hosts = sorted({a.host for a in newsroom.articles})
    late = []
    for original in rng.sample(stories, min(LATE_COPIES, len(stories))):
        carried = {a.host for a in later.articles if a.story == original.story}
        free = [h for h in hosts if h not in carried]
        if free:
            later, page = with_new_copy(later, original.story, rng.choice(free), seed=rng.randrange(10**6))
            late.append(page)
    articles = {a.url: a for a in later.articles}
    print(
        f"backfill: stories published {years[0]}-{years[-1]}, copies 0-400 days after them; a second "
        f"run at {year_later.date()} (simulated clock) with {len(late)} new copies of first-run stories"
    )
    with tempfile.TemporaryDirectory() as scratch:
        data_dir = Path(scratch) / "data"
        crawl_store(newsroom, data_dir)
        # the new copies are published during the simulated year
        rows = crawl_store(later, data_dir, year_later.isoformat(timespec="seconds"))
    stored = {row.url: row.cluster_id for row in rows}
    truth = {url: articles[url].story for url in stored}
    print(f"stored {len(stored)} of {len(articles)} article pages over both runs")
    figures = report("this pipeline (backfill, two runs a year apart)", truth, stored, articles)
    joined = sum(
        1
        for page in late
        if page.url in stored
        and any(stored[page.url] == stored.get(a.url) for a in newsroom.articles if a.story == page.story)
    )
    print(f"  new copies in the second run linked to their first-run story: {joined} of {len(late)}")
    return figures | {"late_copies_linked": joined, "late_copies": len(late)}


def naive_words(text: str) -> list[str]:
    """Words as a naive pipeline reads them, whatever the script: runs of `\\w`."""
    return re.findall(r"\w+", text.lower())


def precision_recall(true_pairs: set, found_pairs: set) -> tuple[float, float]:
    right = len(true_pairs & found_pairs)
    precision = right / len(found_pairs) if found_pairs else 1.0
    recall = right / len(true_pairs) if true_pairs else 1.0
    return precision, recall


def cluster_in_stages(copies: list[Copy], scratch: Path) -> dict[str, str]:
    """The cluster of each copy, passed through the versioning, near-duplicate and storage stages
    in the given order."""
    items = []
    for copy in copies:
        item = article_item(copy.url, copy.paragraphs)
        item["language"] = copy.language
        items.append(item)
    results = asyncio.run(Stages(scratch).run(items))
    return {copy.url: result["cluster_id"] for copy, result in zip(copies, results, strict=True)}


def per_language(seed: int) -> dict:
    """Each language's copies in LANGUAGE_ORDERS shuffled orders; the figures of the worst order."""
    print(f"\nper language: real stories and their copies, {LANGUAGE_ORDERS} shuffled orders each")
    figures = {}
    rng = random.Random(seed)
    for language in LANGUAGES:
        copies = build_copies(language, seed)
        truth = {copy.url: copy.story for copy in copies}
        true_pairs = pairs_of(truth)
        scores, partitions = [], set()
        for order in range(LANGUAGE_ORDERS):
            shuffled = copies[:]
            rng.shuffle(shuffled)
            with tempfile.TemporaryDirectory() as scratch:
                clusters = cluster_in_stages(shuffled, Path(scratch) / f"{language}{order}")
            found = pairs_of(clusters)
            partitions.add(frozenset(found))  # the pairs are the clusters
            scores.append((*precision_recall(true_pairs, found), true_pairs - found))
        precision = min(p for p, _, _ in scores)
        recall = min(r for _, r, _ in scores)
        missed = scores[0][2]
        by_edit = defaultdict(list)
        for pair in true_pairs:
            for kind in {edit for copy in copies if copy.url in pair for edit in copy.edits} or {"none"}:
                by_edit[kind].append(pair not in missed)
        baseline = baseline_clusters([(c.url, "\n\n".join(c.paragraphs)) for c in copies], 5, naive_words)
        base_p, base_r = precision_recall(true_pairs, pairs_of(baseline))
        stories = len(set(truth.values()))
        print(
            f"  {language}: {len(copies)} pages, {stories} stories; precision {precision:.4f} recall "
            f"{recall:.4f} (worst of {LANGUAGE_ORDERS} orders); same clusters in every order: "
            f"{'yes' if len(partitions) == 1 else 'NO'}; naive baseline precision {base_p:.4f} "
            f"recall {base_r:.4f}"
        )
        print(
            "      recall by edit (pairs): "
            + ", ".join(
                f"{kind} {sum(found) / len(found):.3f} ({len(found)})"
                for kind in (*EDITS_OF[language], "none")
                if (found := by_edit.get(kind))
            )
        )
        figures[language] = {
            "precision": precision,
            "recall": recall,
            "same_in_every_order": len(partitions) == 1,
            "baseline_precision": base_p,
            "baseline_recall": base_r,
        }
    met = all(
        f["precision"] >= 0.99 and f["recall"] >= 0.97 and f["same_in_every_order"] for f in figures.values()
    )
    print(
        f"  targets per language (precision >= 0.99, recall >= 0.97, any order): {'met' if met else 'NOT met'}"
    )
    figures["signing_cost_to_english"] = signing_costs()
    return figures


def signing_costs(length: int = 4000, rounds: int = 7) -> dict[str, float]:
    """What signing an article of *length* characters costs in each language, against English
    (the best of *rounds* passes over up to 60 such articles each)."""
    signer = Signer()
    english = ["\n\n".join(story.paragraphs) for story in load_stories()]
    texts = {"en": english, **{lang: ["\n\n".join(t) for t in load_texts(lang)] for lang in LANGUAGES}}
    costs = {}
    for language, sources in texts.items():
        articles, buffer = [], ""
        for text in sources:
            buffer += text + "\n\n"
            if len(buffer) >= length:
                articles.append(buffer[:length])
                buffer = ""
            if len(articles) == 60:
                break
        best = float("inf")
        for _ in range(rounds):
            started = time.perf_counter()
            for text in articles:
                signer.sign(text)
            best = min(best, (time.perf_counter() - started) / len(articles))
        costs[language] = best
    ratios = {language: costs[language] / costs["en"] for language in LANGUAGES}
    print(
        f"  signing a {length}-character article: English {costs['en'] * 1000:.3f} ms; "
        + ", ".join(f"{language} {ratio:.2f}x" for language, ratio in ratios.items())
        + f" ({'at most 2x: met' if max(ratios.values()) <= 2 else 'over 2x: NOT met'})"
    )
    return ratios


def main() -> None:
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument("--seed", type=int, default=3)
    parser.add_argument(
        "--other-edits",
        action="store_true",
        help="also reword copies lightly and reorder or merge their paragraphs (edits outside the benchmark's list)",
    )
    parser.add_argument("--no-backfill", action="store_true", help="leave out the backfill runs")
    parser.add_argument(
        "--languages-only", action="store_true", help="only the per-language stories (no crawl)"
    )
    args = parser.parse_args()
    if args.languages_only:
        figures = per_language(args.seed)
        print(json.dumps({"languages": rounded(figures, 4)}))
        return
    plan = dataclasses.replace(PLAN, edits=COPY_EDITS + OTHER_EDITS) if args.other_edits else PLAN
    newsroom = build_newsroom(args.seed, plan)
    gone = without_originals(newsroom, args.seed)
    articles = {a.url: a for a in newsroom.articles}
    stories = defaultdict(list)
    for article in newsroom.articles:
        stories[article.story].append(article)
    copies = sum(len(v) - 1 for v in stories.values())
    print(
        f"syndication benchmark (seed {args.seed}): {len(newsroom.articles)} article pages on 6 sites, "
        f"{len(stories)} stories, {copies} republished copies, "
        f"{sum(a.kind == 'shares quotes' for a in newsroom.articles)} stories quoting another, "
        f"{sum(a.kind == 'brief' for a in newsroom.articles)} briefs"
    )
    with tempfile.TemporaryDirectory() as scratch:
        rows = crawl_store(newsroom, Path(scratch) / "data", order=args.seed)
        other_order = crawl_store(newsroom, Path(scratch) / "again", order=args.seed + 1)
    stored = {row.url: row.cluster_id for row in rows}
    print(f"stored {len(stored)} of {len(articles) - len(gone)} article pages ({len(gone)} originals gone)")
    truth = {url: articles[url].story for url in stored}
    ours = report("this pipeline (crawled)", truth, stored, articles)
    elected = origins(rows, articles)
    again = {row.url: row.origin_url for row in other_order}
    differ = sum(1 for row in rows if again.get(row.url) != row.origin_url)
    print(f"  the same newsroom crawled in another order: {differ} pages with another origin")
    baseline = report(
        "datasketch MinHashLSH(threshold=0.9), same stored texts and order",
        truth,
        baseline_clusters([(row.url, row.text) for row in rows], 5),
        articles,
    )
    met = ours["precision"] >= 0.99 and ours["recall"] >= 0.97
    print(
        f"targets (precision >= 0.99, recall >= 0.97): {'met' if met else 'NOT met'}; "
        f"baseline precision {baseline['precision']:.3f} recall {baseline['recall']:.3f}"
    )
    origin_met = (
        elected["origin_accuracy"] >= 0.95
        and elected["wire_precision"] >= 0.98
        and elected["wire_recall"] >= 0.90
    )
    print(
        "origin targets (accuracy >= 0.95, wire precision >= 0.98, recall >= 0.90): "
        f"{'met' if origin_met else 'NOT met'}"
    )
    figures = {"precision": ours["precision"], "recall": ours["recall"], "f1": ours["f1"], "ari": ours["ari"]}
    figures |= elected | {"origins_differing_in_another_order": differ}
    figures |= {"baseline_precision": baseline["precision"], "baseline_recall": baseline["recall"]}
    if not args.no_backfill:
        archive = backfill(args.seed, plan)
        same = archive["precision"] >= ours["precision"] and archive["recall"] >= ours["recall"]
        print(
            f"backfill precision {archive['precision']:.4f} recall {archive['recall']:.4f} against "
            f"all-recent {ours['precision']:.4f} / {ours['recall']:.4f}: {'equal or better' if same else 'WORSE'}"
        )
        figures |= {
            "backfill_precision": archive["precision"],
            "backfill_recall": archive["recall"],
            "late_copies_linked": archive["late_copies_linked"],
            "late_copies": archive["late_copies"],
        }
    figures["languages"] = per_language(args.seed)
    print(json.dumps(rounded(figures, 4)))


if __name__ == "__main__":
    main()
