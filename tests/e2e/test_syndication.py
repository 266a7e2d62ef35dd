"""Syndicated copies: every kind of edit is recognised, every hard negative is kept apart."""

from __future__ import annotations

import asyncio
import dataclasses
import json
import random
import subprocess
import sys

import pytest

from pipelines.extraction.page import extract_article
from pipelines.items import ArticleItem
from pipelines.text import words
from tests.fixtures.components import Stages
from tests.fixtures.crawls import ROOT, run_crawl, stored_articles
from tests.fixtures.newsroom import edits
from tests.fixtures.newsroom.build import COPY_EDITS, Plan, apply_edits, build_newsroom, quoted_paragraphs
from tests.fixtures.newsroom.server import NewsroomServer
from tests.fixtures.newsroom.sites import MERIDIAN_HERALD, render_article
from tests.fixtures.newsroom.stories import load_stories

pytestmark = pytest.mark.crawl


def article(url: str, paragraphs) -> ArticleItem:
    text = "\n\n".join(paragraphs)
    return ArticleItem(
        url=url, site=url.split("/")[2], text=text, word_count=len(text.split()), authors=[], fetched_at="x"
    )


def clusters(data_dir, items) -> list:
    return [
        r["cluster_id"] if isinstance(r, ArticleItem) else r for r in asyncio.run(Stages(data_dir).run(items))
    ]


FRESH = [p for s in load_stories()[-12:] for p in s.paragraphs[1:] if 15 <= len(p.split()) <= 70]


@pytest.mark.parametrize("kind", [k for k in COPY_EDITS if k != "entities"] + ["reword", "reorder"])
def test_each_kind_of_edit_is_recognised(tmp_path, kind):
    rng = random.Random(kind)
    story = load_stories()[30 + COPY_EDITS.index(kind) if kind in COPY_EDITS else 40]
    copy = apply_edits(list(story.paragraphs), (kind,), rng, FRESH)
    assert copy != list(story.paragraphs)
    first, second = clusters(
        tmp_path, [article("http://a.test/1", story.paragraphs), article("http://b.test/1", copy)]
    )
    assert first == second


def test_html_entities_do_not_change_the_extracted_words(newsroom):
    site = MERIDIAN_HERALD
    original = next(a for a in newsroom.articles if a.host == site.host and not a.edits)
    escaped = dataclasses.replace(original, edits=("entities",))
    html = render_article(site, escaped, [])
    assert "&rsquo;" in html or "&#8212;" in html or "&ldquo;" in html
    plain = extract_article(render_article(site, original, []), original.url)["text"]
    assert words(extract_article(html, original.url)["text"]) == words(plain)


def test_a_copy_keeping_half_the_story_with_additions_is_recognised(tmp_path):
    rng = random.Random(4)
    story = list(load_stories()[50].paragraphs)
    half = edits.trim_ending(story, rng, 0.5, 0.5)
    copy = edits.add_local_paragraph(edits.add_dateline(half, rng), rng)
    assert len(" ".join(half).split()) <= 0.55 * len(" ".join(story).split())
    first, second = clusters(tmp_path, [article("http://a.test/1", story), article("http://b.test/1", copy)])
    assert first == second


def test_stories_sharing_quoted_paragraphs_are_not_merged(tmp_path):
    stories = load_stories()
    rng = random.Random(9)
    merged = 0
    for number in range(20):
        quoted, other = stories[number], stories[60 + number]
        quotes = quoted_paragraphs(quoted, other, rng)
        if not quotes:
            continue
        quoting = list(other.paragraphs)
        for quote in quotes:
            quoting.insert(rng.randrange(1, len(quoting)), quote)
        a, b = clusters(
            tmp_path / str(number),
            [article("http://a.test/1", quoted.paragraphs), article("http://b.test/1", quoting)],
        )
        merged += a == b
    assert merged == 0


def test_briefs_on_one_site_are_not_merged_through_its_boilerplate(newsroom_server, tmp_path):
    plan = Plan(own_stories=4, wire_stories=0, briefs=18)
    newsroom = build_newsroom(seed=21, plan=plan)
    with NewsroomServer(newsroom) as server:
        run_crawl(server, tmp_path)
    stored = stored_articles(tmp_path)
    briefs = [a for a in newsroom.articles if a.kind == "brief"]
    assert len(briefs) == 18
    assert all(len(" ".join(b.paragraphs).split()) < 100 for b in briefs)
    assert len({stored[b.url]["cluster_id"] for b in briefs}) == 18
    assert all(b.paragraphs[0] in stored[b.url]["text"].split("\n\n") for b in briefs)  # the brief is kept


def test_a_copy_that_links_two_clusters_joins_the_closer_one_and_merges_nothing(tmp_path):
    stories = load_stories()
    first, second = list(stories[70].paragraphs), list(stories[71].paragraphs)
    # a round-up quoting most of the first story and a little of the second
    roundup = first[: int(len(first) * 0.8)] + second[:2]
    a, b, c = clusters(
        tmp_path,
        [
            article("http://a.test/1", first),
            article("http://b.test/1", second),
            article("http://c.test/1", roundup),
        ],
    )
    assert c == a
    assert a != b
    stored = stored_articles(tmp_path)
    assert stored["http://c.test/1"]["duplicate_of"] == "http://a.test/1"
    assert stored["http://b.test/1"]["cluster_id"] == b  # the other cluster is left as it was


def test_the_benchmark_targets_hold_on_a_small_benchmark(tmp_path):
    plan = Plan(own_stories=0, wire_stories=36, outlets=(1, 6), briefs=6, quote_sharing=10)
    newsroom = build_newsroom(seed=5, plan=plan)
    with NewsroomServer(newsroom) as server:
        run_crawl(server, tmp_path)
    stored = stored_articles(tmp_path)
    assert set(stored) == {a.url for a in newsroom.articles}
    story = {a.url: a.story for a in newsroom.articles}
    urls = sorted(stored)
    true_pairs = {(u, v) for i, u in enumerate(urls) for v in urls[i + 1 :] if story[u] == story[v]}
    found_pairs = {
        (u, v)
        for i, u in enumerate(urls)
        for v in urls[i + 1 :]
        if stored[u]["cluster_id"] == stored[v]["cluster_id"]
    }
    precision = len(true_pairs & found_pairs) / len(found_pairs)
    recall = len(true_pairs & found_pairs) / len(true_pairs)
    assert len(true_pairs) > 50
    assert precision >= 0.99
    assert recall >= 0.97
    # each story's copies name its original as their origin, and the agency their page credits
    original = {a.story: a.url for a in newsroom.articles if not a.edits and a.kind == "story"}
    copies = [a for a in newsroom.articles if sum(b.story == a.story for b in newsroom.articles) > 1]
    right = sum(stored[a.url]["origin_url"] == original[a.story] for a in copies)
    assert right / len(copies) >= 0.95
    assert {stored[a.url]["origin_reason"] for a in copies} >= {"canonical", "earliest"}
    credited = [a for a in newsroom.articles if a.wire]
    assert credited
    assert all(stored[a.url]["wire"] == a.wire for a in credited)
    assert all(stored[a.url]["wire"] is None for a in newsroom.articles if not a.wire)


def test_report_command_summarises_clusters_and_sites(first_crawl, newsroom):
    result = subprocess.run(
        [sys.executable, "-m", "scrapy", "report", "--json", "--top", "3", "-s", f"DATA_DIR={first_crawl}"],
        cwd=ROOT,
        capture_output=True,
        text=True,
    )
    assert result.returncode == 0, result.stderr
    report = json.loads(result.stdout)
    assert report["articles"] == len(newsroom.articles)
    assert len(report["largest"]) == 3
    assert len(report["largest"][0]["members"]) >= len(report["largest"][2]["members"]) > 1
    assert set(report["sites"]) == {a.host for a in newsroom.articles}
    copies = sum(s["later_copies"] for s in report["sites"].values())
    assert copies == report["articles"] - report["clusters"]
    for story in report["largest"]:
        assert story["origin"]["url"] in {member["url"] for member in story["members"]}
        assert story["origin"]["reason"] != "alone"
    human = subprocess.run(
        [sys.executable, "-m", "scrapy", "report", "--top", "2", "-s", f"DATA_DIR={first_crawl}"],
        cwd=ROOT,
        capture_output=True,
        text=True,
    )
    assert human.returncode == 0, human.stderr
    assert "  origin: http" in human.stdout
    assert "  agency: " in human.stdout


def test_report_on_a_missing_store_says_so(tmp_path):
    result = subprocess.run(
        [sys.executable, "-m", "scrapy", "report", "-s", f"DATA_DIR={tmp_path / 'none'}"],
        cwd=ROOT,
        capture_output=True,
        text=True,
    )
    assert result.returncode == 1
    assert "no article store" in result.stderr
    assert not (tmp_path / "none").exists()


def test_plans_are_reproducible():
    one = build_newsroom(seed=5, plan=dataclasses.replace(Plan(), wire_stories=4))
    two = build_newsroom(seed=5, plan=dataclasses.replace(Plan(), wire_stories=4))
    assert [(a.url, a.paragraphs) for a in one.articles] == [(a.url, a.paragraphs) for a in two.articles]
