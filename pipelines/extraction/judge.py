"""Whether an HTML page is one article, rather than a page that lists articles (a front, section,
tag or search page) or a page of another kind a site crawl reaches (a product, service, forum
thread, documentation page). Plain functions over lxml trees, run in the extraction workers.

Two kinds of evidence are weighed. A hand-made evidence score (structured data, one long block of
running text, the URL's shape, teaser headlines) is one of the features of a learned model
(pipelines.extraction.judgemodel, trained on real pages of all seven kinds by
bench/train_judge.py) that also reads the page's furniture and markup vocabulary
(pipelines.extraction.pagefeatures). A dated story (markup that declares a dated article, or a
date in the URL's path) needs less of the model's confidence, or only the evidence score: news
publishers mark and address their stories that way, though wikis and some shops mark every page
as an article. A page that declares a product and no article is a shop's page, whatever the model
makes of its description.

Setting: NEWS_ARTICLE_MIN_WORDS.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from typing import Any
from urllib.parse import urlsplit

from lxml.html import HtmlElement

from pipelines.text import word_units

from .judgemodel import JudgeModel, shipped_model
from .markup import ARTICLE_TYPES, json_ld_objects, json_ld_types, og_type
from .pagefeatures import DATE_IN_PATH, page_features

LISTING_TYPES = {"collectionpage", "itemlist", "searchresultspage", "profilepage", "sitenavigationelement"}
# The model's probability from which a page is an article; lower for a dated story (see
# is_dated_story; chosen by cross-validation on the WCXB pages, bench/articles.py: at 0.3 for a
# dated story, a coupon page, a shop's product and a Wikipedia list got in, 0.3 to 0.4 each, and
# no article between the two).
ARTICLE_PROBABILITY, DATED_STORY_PROBABILITY = 0.6, 0.4
# A dated story with this much hand-made evidence is one whatever the model says: news briefs of
# 40 words, rare among the pages the model learned from, have it (article markup and a paragraph).
# Documentation and service pages that declare a dated article and show nothing more of one
# (3 points) do not: cross-validated on the WCXB pages, precision 0.906 at 2 points, 0.912 at 4,
# at the same recall.
DATED_STORY_EVIDENCE = 4
_LISTING_SEGMENTS = {
    "tag",
    "tags",
    "topic",
    "topics",
    "category",
    "categories",
    "section",
    "sections",
    "author",
    "authors",
    "search",
    "page",
    "archive",
    "archives",
    "latest",
    "index",
    "feed",
    "rss",
    "about",
    "contact",
    "subscribe",
    "newsletter",
    "newsletters",
    "video",
    "videos",
    "gallery",
    "photos",
}
_DOCUMENT_NAME = re.compile(r"([\w-]+)\.(?:s?html?|php|aspx?|jsp|cms)")
_ID_PARAMETER = re.compile(
    r"(?:^|&)(?:id|idx|p|article|story|aid|sid|nid|newsid|articleid)=\w", re.IGNORECASE
)
_EXCLUDED_ANCESTORS = {
    "a",
    "nav",
    "header",
    "footer",
    "aside",
    "button",
    "figcaption",
    "h1",
    "h2",
    "h3",
    "h4",
    "h5",
    "h6",
    "select",
    "label",
}
# A <header>, <footer>, <nav> or <aside> holding this many of the page's words, and most of them,
# is a misparse's (see _swallowing_sections).
_SWALLOWED_WORDS = 200
_SECTIONS = "//body//*[self::header or self::footer or self::nav or self::aside]"
_MAX_SECTIONS = 20
_SKIPPED_TAGS = {"script", "style", "noscript", "template", "svg", "head", "title"}
_INLINE_TAGS = {
    "span",
    "b",
    "i",
    "em",
    "strong",
    "u",
    "font",
    "small",
    "big",
    "sub",
    "sup",
    "mark",
    "abbr",
    "cite",
    "q",
    "time",
    "code",
    "br",
    "wbr",
    "s",
    "del",
    "ins",
}
# What else sits inside a line of text: a paragraph holding a link or an image is still a
# paragraph, and adds up with its siblings (see _BlockFinder.block_of).
_PHRASING_TAGS = _INLINE_TAGS | {
    "a",
    "img",
    "picture",
    "source",
    "button",
    "input",
    "label",
    "select",
    "textarea",
    "kbd",
    "var",
    "samp",
    "dfn",
    "bdi",
    "bdo",
    "data",
    "ruby",
    "rt",
    "rp",
    "iframe",
    "audio",
    "video",
    "canvas",
    "embed",
    "object",
    "math",
}


@dataclass(frozen=True)
class ArticleVerdict:
    is_article: bool
    probability: float
    reasons: tuple[str, ...]


@dataclass(frozen=True)
class Evidence:
    score: int
    reasons: tuple[str, ...]
    main_block: int  # words in the largest block of running text
    listing_path: bool  # the URL's path names a section, tag, search or index


def judge_article(
    tree: HtmlElement, url: str, min_words: int = 150, model: JudgeModel | None = None
) -> ArticleVerdict:
    """Decide whether an HTML page is one article (see the module's docstring)."""
    ld_objects = json_ld_objects(tree)
    features, evidence = judge_features(tree, url, min_words, ld_objects)
    probability = (model or shipped_model()).probability(features)
    reasons = [*evidence.reasons, f"model {probability:.2f}"]
    dated = is_dated_story(tree, url, ld_objects)
    if dated:
        reasons.append("a dated story")
    if sells_a_product(features):
        reasons.append("declares a product and no article")
    return ArticleVerdict(is_judged_article(probability, dated, features), probability, tuple(reasons))


def is_judged_article(probability: float, dated: bool, features: dict[str, float]) -> bool:
    if sells_a_product(features):
        return False
    if dated:
        return probability >= DATED_STORY_PROBABILITY or features["evidence"] >= DATED_STORY_EVIDENCE
    return probability >= ARTICLE_PROBABILITY


def sells_a_product(features: dict[str, float]) -> bool:
    """The page's JSON-LD declares a product or an offer, and no article: a shop's page (the model
    alone let a few long product descriptions through)."""
    return bool(features["ld_product"]) and not features["ld_article"]


def is_dated_story(tree: HtmlElement, url: str, ld_objects: list[dict[str, Any]]) -> bool:
    """The page declares a dated article, or its URL's path carries a date: news sites date
    their stories' URLs, and no page of another type among the benchmark's 600 does."""
    return declares_dated_article(tree, ld_objects) or bool(DATE_IN_PATH.search(urlsplit(url).path))


def judge_features(
    tree: HtmlElement, url: str, min_words: int, ld_objects: list[dict[str, Any]] | None = None
) -> tuple[dict[str, float], Evidence]:
    """The model's features of a page, the evidence score among them (also what training reads)."""
    if ld_objects is None:
        ld_objects = json_ld_objects(tree)
    evidence = evidence_score(tree, url, ld_objects, min_words)
    features = page_features(tree, url, ld_objects, evidence.main_block, evidence.listing_path)
    features["evidence"] = float(evidence.score)
    return features, evidence


def declares_dated_article(tree: HtmlElement, ld_objects: list[dict[str, Any]]) -> bool:
    """JSON-LD of an article type with a publication date, or og:type article with a published
    time: the markup of a story, which shops, forums and documentation do not use."""
    for node in ld_objects:
        if json_ld_types([node]) & ARTICLE_TYPES and node.get("datePublished"):
            return True
    return og_type(tree) == "article" and bool(
        tree.xpath(
            "//meta[@property='article:published_time' or @name='article:published_time']"
            "[normalize-space(@content)]"
        )
    )


def evidence_score(tree: HtmlElement, url: str, ld_objects: list[dict[str, Any]], min_words: int) -> Evidence:
    """The hand-made evidence score: each signal adds or takes away points, and no single one
    decides, because each fails on some sites (og:type "website" on every page, dates missing
    from URLs, articles without <p>)."""
    score = 0
    reasons: list[str] = []

    def note(points: int, reason: str) -> None:
        nonlocal score
        score += points
        reasons.append(f"{points:+d} {reason}")

    types = json_ld_types(ld_objects)
    if types & ARTICLE_TYPES:
        note(3, "JSON-LD article type")
    elif types & LISTING_TYPES:
        note(-3, "JSON-LD listing type")
    page_og_type = og_type(tree)
    if page_og_type == "article":
        note(2, "og:type article")
    elif page_og_type in ("website", "profile"):
        note(-1, f"og:type {page_og_type}")
    parts = urlsplit(url)
    if DATE_IN_PATH.search(parts.path):
        note(1, "date in URL path")
    listing_path = _looks_like_listing_path(parts.path, parts.query)
    if listing_path:
        note(-2, "listing-like URL path")
    body_words = main_block_words(tree)
    if body_words >= min_words:
        note(3, f"{body_words} words in one text block")
    elif body_words >= 40:
        note(1, f"{body_words} words in one text block")
    elif body_words < 25:
        note(-2, f"only {body_words} words in one text block")
    # Article pages wrap their story in one <article>; fronts and tag pages wrap each teaser.
    articles = int(tree.xpath("count(//article)"))
    if articles == 1:
        note(1, "one <article> element")
    elif articles >= 3 and body_words < min_words:
        note(-1, f"{articles} <article> elements")
    # Related-story boxes put linked headlines on article pages too: they only count against
    # pages without a body of their own.
    teasers = _teaser_count(tree)
    if teasers >= 5 and body_words < min_words:
        note(-1, f"{teasers} linked headlines")
    return Evidence(score, tuple(reasons), body_words, listing_path)


def main_block_words(tree: HtmlElement) -> int:
    """Words in the largest block of running text outside navigation and links (list items count:
    listicles and some templates set their paragraphs in <li>).

    Text is credited to its nearest block container, or to that container's parent when the
    container holds only inline content, so sibling paragraphs add up.
    """
    per_block: dict[HtmlElement, int] = {}
    blocks = _BlockFinder(_swallowing_sections(tree))
    # The text nodes are selected in C; each element is then looked at once (see _BlockFinder).
    for text in tree.xpath("//body//text()[normalize-space()]"):
        holder = text.getparent()
        if text.is_tail:
            holder = holder.getparent()
        block = blocks.block_of(holder) if holder is not None else None
        if block is not None:
            per_block[block] = per_block.get(block, 0) + word_units(text)
    return max(per_block.values(), default=0)


def _swallowing_sections(tree: HtmlElement) -> set[HtmlElement]:
    """The page's <header>, <footer>, <nav> or <aside> elements that hold most of its words.

    libxml2 parses HTML 4: it ignores an HTML5 section's end tag met while an element opened in
    it is still open (browsers close both), and the rest of the page then sits in the site's
    header (and in its menu, if that too was left open). Such a header's text is the page's, not
    the header's. Only the first few sections are read: each is read whole, and broken markup
    can nest thousands.
    """
    sections = tree.xpath(_SECTIONS)[:_MAX_SECTIONS]
    words = {section: word_units(section.text_content()) for section in sections}
    if max(words.values(), default=0) < _SWALLOWED_WORDS:
        return set()
    body = next(tree.iter("body"), None)
    page_words = word_units(body.text_content()) if body is not None else 0
    return {
        section for section, count in words.items() if count >= _SWALLOWED_WORDS and 2 * count > page_words
    }


class _BlockFinder:
    """The container a piece of text counts towards, or None if it sits in excluded markup.

    Results are remembered per element, so a page costs one visit per element, not one walk up
    the tree per piece of text.
    """

    def __init__(self, swallowing: set[HtmlElement]) -> None:
        self._swallowing = swallowing  # sections whose text counts (see _swallowing_sections)
        self._nearest: dict[
            HtmlElement, HtmlElement | None
        ] = {}  # element -> nearest block, None if excluded
        self._result: dict[HtmlElement, HtmlElement | None] = {}

    def block_of(self, node: HtmlElement) -> HtmlElement | None:
        if node in self._result:
            return self._result[node]
        block = self._nearest_block(node)
        result = block
        # A paragraph-like block (only inline content) counts towards its parent, so that sibling
        # <p> or <div class="paragraph"> elements add up to one body.
        if block is not None:
            parent = block.getparent()
            if parent is not None and not any(_is_block(child) for child in block):
                result = parent
        self._result[node] = result
        return result

    def _nearest_block(self, node: HtmlElement) -> HtmlElement | None:
        path = []
        current: HtmlElement | None = node
        inherited: HtmlElement | None = None
        known = False
        while current is not None:
            if current in self._nearest:
                inherited, known = self._nearest[current], True
                break
            path.append(current)
            current = current.getparent()
        excluded = known and inherited is None
        for element in reversed(path):  # from the top down
            tag = element.tag
            if tag == "main":  # the page's main content, even where a misparse nests it in a <header>
                excluded = False
            if (
                excluded
                or (tag in _EXCLUDED_ANCESTORS and element not in self._swallowing)
                or tag in _SKIPPED_TAGS
            ):
                excluded = True
                self._nearest[element] = None
                continue
            if tag not in _INLINE_TAGS:
                inherited = element
            self._nearest[element] = inherited
        return None if excluded else self._nearest[node]


def _is_block(node: HtmlElement) -> bool:
    return isinstance(node.tag, str) and node.tag not in _PHRASING_TAGS and node.tag not in _SKIPPED_TAGS


def _teaser_count(tree: HtmlElement) -> int:
    return int(tree.xpath("count(//*[self::h2 or self::h3 or self::h4][.//a[@href]])"))


def _looks_like_listing_path(path: str, query: str) -> bool:
    segments = [s for s in path.lower().split("/") if s]
    if segments and _DOCUMENT_NAME.fullmatch(segments[-1]) and segments[-1].split(".")[0] == "index":
        segments.pop()  # ".../story-slug/index.html" names the story, not an index
    if not segments:
        return not _ID_PARAMETER.search(query)  # the home page, unless it serves ?id=123
    if any(s in _LISTING_SEGMENTS for s in segments[:-1]):
        return True
    last = segments[-1]
    name = _DOCUMENT_NAME.fullmatch(last)
    if name:
        # "story.html" is a document; "news_list.php?page=2" without an id is not
        return name.group(1) in _LISTING_SEGMENTS and not _ID_PARAMETER.search(query)
    if last in _LISTING_SEGMENTS or (last.isdigit() and len(segments) >= 2 and segments[-2] == "page"):
        return True
    # "/world/" or "/business/markets": a one-word slug without digits names a section
    return len(segments) <= 2 and not any(c.isdigit() for c in last) and len(re.split(r"[-_]", last)) == 1
