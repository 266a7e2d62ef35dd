"""Builds a fixture newsroom: publishers, their own stories, syndicated wire copies, listing pages,
feeds and sitemaps, all rendered to bytes and reproducible from a seed."""

from __future__ import annotations

import dataclasses
import random
from collections import defaultdict
from collections.abc import Iterator
from datetime import datetime, timedelta

from crawler import clock

from . import edits as ed
from .model import ArticlePage, Newsroom, Page
from .sites import (
    ALL_SITES,
    SiteTemplate,
    render_about,
    render_article,
    render_atom,
    render_listing,
    render_news_sitemap,
    render_robots,
    render_rss,
    render_sections_sitemap,
    render_sitemap_index,
    slug,
)
from .stories import Story, load_stories

TAGS = ("Politics", "Economy", "Technology", "Health", "Sport", "Culture", "Climate", "Courts")
COPY_EDITS = ("dateline", "trim", "editor_note", "local_paragraph", "update", "typography", "entities")
# Edits beyond the benchmark's list, for checking that detection does not depend on it.
OTHER_EDITS = ("reword", "reorder")


def default_newest() -> datetime:
    """When a newsroom's newest story was published: the evening before the clock's today, so
    fixtures, the demo and benchmarks look the same whatever the date (crawler.clock)."""
    yesterday = clock.now() - timedelta(days=1)
    return yesterday.replace(hour=18, minute=0, second=0, microsecond=0)


HTML = "text/html; charset=utf-8"


@dataclasses.dataclass(frozen=True)
class Plan:
    """How many of each kind of article a newsroom holds."""

    own_stories: int = 6  # per site, published by that site only
    wire_stories: int = 6  # each republished by several sites
    outlets: tuple[int, int] = (2, 4)  # sites carrying one wire story, original included
    briefs: int = 0  # short stories under 100 words, spread over the sites
    quote_sharing: int = 0  # different stories that quote 2-3 paragraphs of a wire story
    edits: tuple[str, ...] = COPY_EDITS  # edits a copy may get, besides headline and byline
    span_days: int = 10  # stories are published over this many days before the newest moment
    copy_delay_days: int = 0  # copies follow their story by up to this many days (0: by hours)


def build_newsroom(
    seed: int = 7,
    plan: Plan = Plan(),
    sites: tuple[SiteTemplate, ...] = ALL_SITES,
    newest: datetime | None = None,
) -> Newsroom:
    """The newsroom of *seed* and *plan*, its stories published in the ten days before *newest*
    (default: `default_newest()`)."""
    rng = random.Random(seed)
    newest = newest or default_newest()
    stories = list(load_stories())
    rng.shuffle(stories)
    # Real paragraphs from stories used nowhere else, for the new paragraphs of updated copies.
    fresh_text = [p for story in stories[-12:] for p in story.paragraphs[1:] if 15 <= len(p.split()) <= 70]
    supply: Iterator[Story] = iter(stories[:-12])
    numbers = {site.host: rng.randrange(1000, 9000) for site in sites}
    articles: list[ArticlePage] = []

    def publish(
        site: SiteTemplate,
        story_key: str,
        headline: str,
        paragraphs: list[str],
        when: datetime,
        edits: tuple[str, ...] = (),
        kind: str = "story",
        wire: bool = False,
    ) -> ArticlePage:
        numbers[site.host] += 1
        author, byline = ed.byline(rng) if wire else (rng.choice(ed.REPORTERS), "")
        page = ArticlePage(
            host=site.host,
            number=numbers[site.host],
            story=story_key,
            headline=headline,
            byline=byline or f"By {author}",
            author=author,
            published=when.isoformat(timespec="seconds"),
            section=rng.choice(site.sections),
            tags=tuple(rng.sample(TAGS, 2)),
            paragraphs=tuple(paragraphs),
            edits=edits,
            kind=kind,
        )
        page = dataclasses.replace(page, url=site.url(page))
        articles.append(page)
        return page

    def moment() -> datetime:
        return newest - timedelta(minutes=rng.randrange(0, plan.span_days * 24 * 60))

    def copy_moment(first: datetime, offset: int) -> datetime:
        if plan.copy_delay_days:
            return min(newest, first + timedelta(minutes=rng.randrange(0, plan.copy_delay_days * 24 * 60)))
        return first + timedelta(hours=offset * rng.randint(1, 6))

    for site in sites:
        for _ in range(plan.own_stories):
            story = next(supply)
            publish(site, story.story_id, story.headline, list(story.paragraphs), moment())
    wire: list[tuple[Story, ArticlePage]] = []
    for _ in range(plan.wire_stories):
        story = next(supply)
        outlets = rng.sample(sites, min(len(sites), rng.randint(*plan.outlets)))
        first = moment()
        original = publish(outlets[0], story.story_id, story.headline, list(story.paragraphs), first)
        wire.append((story, original))
        for offset, site in enumerate(outlets[1:], start=1):
            kinds = (
                tuple(sorted(rng.sample(plan.edits, rng.randint(1, min(3, len(plan.edits))))))
                if plan.edits
                else ()
            )
            paragraphs = apply_edits(list(story.paragraphs), kinds, rng, fresh_text)
            publish(
                site,
                story.story_id,
                ed.retitle(story.headline, rng),
                paragraphs,
                copy_moment(first, offset),
                edits=("headline", "byline", *kinds),
                wire=True,
            )
    for number in range(plan.briefs):
        story = next(supply)
        brief = ed.trim_ending(list(story.paragraphs), rng, 0.0, 0.0)[:2]
        words = " ".join(brief).split()[: rng.randint(40, 95)]
        publish(
            sites[number % len(sites)],
            story.story_id,
            story.headline,
            [" ".join(words)],
            moment(),
            kind="brief",
        )
    for number in range(plan.quote_sharing):
        quoted_story, original = wire[number % len(wire)]
        other = next(supply)
        quotes = quoted_paragraphs(quoted_story, other, rng)
        if not quotes:
            continue
        paragraphs = list(other.paragraphs)
        for quote in quotes:
            paragraphs.insert(rng.randrange(1, len(paragraphs)), quote)
        site = rng.choice([s for s in sites if s.host != original.host] or list(sites))
        publish(site, other.story_id, other.headline, paragraphs, moment(), kind="shares quotes")
    return render_newsroom(articles, sites, rng)


def with_new_copy(
    newsroom: Newsroom, story: str, host: str, seed: int = 99, sites: tuple[SiteTemplate, ...] = ALL_SITES
) -> tuple[Newsroom, ArticlePage]:
    """The same newsroom a while later: *host* has republished *story*, edited, as its newest article."""
    rng = random.Random(seed)
    original = next(a for a in newsroom.articles if a.story == story and not a.edits)
    site = next(s for s in sites if s.host == host)
    kinds = ("dateline", "typography")
    page = ArticlePage(
        host=host,
        number=max(a.number for a in newsroom.articles if a.host == host) + 1,
        story=story,
        headline=ed.retitle(original.headline, rng),
        byline=ed.byline(rng)[1],
        author=rng.choice(ed.REPORTERS),
        published=(
            max(datetime.fromisoformat(a.published) for a in newsroom.articles) + timedelta(hours=6)
        ).isoformat(timespec="seconds"),
        section=site.sections[0],
        tags=(TAGS[0],),
        paragraphs=tuple(apply_edits(list(original.paragraphs), kinds, rng, [])),
        edits=("headline", "byline", *kinds),
    )
    page = dataclasses.replace(page, url=site.url(page))
    return render_newsroom([*newsroom.articles, page], sites, rng), page


def quoted_paragraphs(quoted: Story, other: Story, rng: random.Random) -> list[str]:
    """Two or three paragraphs of *quoted* that make up 20-40% of the shorter of the two stories
    once *other* quotes them: different stories about one event, not a copy. Empty if none fit."""
    candidates = list(quoted.paragraphs[1:])
    other_words = other.words
    for _ in range(50):
        count = rng.randint(2, 3)
        if len(candidates) < count:
            return []
        chosen = rng.sample(candidates, count)
        shared = sum(len(p.split()) for p in chosen)
        if 0.2 <= shared / min(quoted.words, other_words + shared) <= 0.4:
            return chosen
    return []


def apply_edits(
    paragraphs: list[str], kinds: tuple[str, ...], rng: random.Random, fresh: list[str]
) -> list[str]:
    """Apply the named copy-desk edits, in a fixed order, to a story's paragraphs.

    Every copy keeps at least half of the original: the ending is trimmed before an update adds
    new paragraphs, and an update adds at most 40% of the story's length.
    """
    if "trim" in kinds:
        paragraphs = ed.trim_ending(paragraphs, rng)
    if "update" in kinds:
        budget = 0.4 * sum(len(p.split()) for p in paragraphs)
        start = rng.randrange(0, max(1, len(fresh) - 3))
        new = [p for p in fresh[start : start + 3]]
        while new and sum(len(p.split()) for p in new) > budget:
            new.pop()
        if new:
            paragraphs = ed.add_update(paragraphs, rng, new)
    if "dateline" in kinds:
        paragraphs = ed.add_dateline(paragraphs, rng)
    if "local_paragraph" in kinds:
        paragraphs = ed.add_local_paragraph(paragraphs, rng)
    if "editor_note" in kinds:
        paragraphs = ed.add_editor_note(paragraphs, rng)
    if "reword" in kinds:
        paragraphs = ed.reword(paragraphs, rng)
    if "reorder" in kinds:
        paragraphs = ed.reorder(paragraphs, rng)
    if "typography" in kinds:
        paragraphs = ed.retypeset(paragraphs, rng)
    return paragraphs


def render_newsroom(
    articles: list[ArticlePage], sites: tuple[SiteTemplate, ...], rng: random.Random
) -> Newsroom:
    newsroom = Newsroom(articles=articles)
    by_site: dict[str, list[ArticlePage]] = defaultdict(list)
    for article in articles:
        by_site[article.host].append(article)
    for site in sites:
        own = sorted(by_site[site.host], key=lambda a: a.published, reverse=True)

        def add(path: str, body: str, kind: str = HTML, host: str = site.host) -> None:
            newsroom.add(host, path, Page(200, kind, body.encode("utf-8")))

        for article in own:
            related = [a for a in own if a is not article][:3]
            add(site.path(article), render_article(site, article, related))
            newsroom.boilerplate[article.url] = site.boilerplate_texts(article)
        add("/", render_listing(site, site.name, own[:12]))
        for section in site.sections:
            add(f"/{slug(section)}/", render_listing(site, section, [a for a in own if a.section == section]))
        for tag in {t for a in own for t in a.tags}:
            add(f"/tag/{slug(tag)}/", render_listing(site, f"Tag: {tag}", [a for a in own if tag in a.tags]))
        for path in ("/about/", "/privacy/", "/terms/"):
            add(path, render_about(site))
        add("/search?q=news", render_listing(site, "Search results", own))
        add("/rss.xml", render_rss(site, own), "application/rss+xml")
        add("/feed.atom", render_atom(site, own), "application/atom+xml")
        add("/sitemap.xml", render_sitemap_index(site), "application/xml")
        add("/sitemaps/news.xml", render_news_sitemap(site, own), "application/xml")
        add("/sitemaps/sections.xml", render_sections_sitemap(site), "application/xml")
        add("/robots.txt", render_robots(site), "text/plain")
        newsroom.start_urls.append(site.start_url)
    return newsroom
