"""What a page's own markup says about what kind of page it is, as numbers for the article judge's
model (pipelines.extraction.judge).

Only evidence any page carries, in any language: its structured data (JSON-LD types, Open Graph,
microdata), the shape of its text (running text, long paragraphs, link density), its furniture
(forms, buttons, code blocks, tables, price figures, cards of links, navigation), the class and id
names its template gives to comments, prices, carts, bylines and dates, and the shape of its URL.
No host, no URL and no word of any language is a rule here: the model weighs what the
benchmark's real pages showed.
"""

from __future__ import annotations

import math
import re
import statistics
from collections import Counter
from typing import Any
from urllib.parse import urlsplit

from lxml.html import HtmlElement

from pipelines.text import word_units

from .markup import ARTICLE_TYPES, body_text, json_ld_types, og_type

# JSON-LD types by the kind of page they mark.
_TYPE_GROUPS = {
    "ld_article": ARTICLE_TYPES,
    "ld_product": {"product", "offer", "aggregateoffer", "productgroup", "individualproduct"},
    "ld_forum": {"discussionforumposting", "qapage", "question", "answer", "comment"},
    "ld_faq": {"faqpage"},
    "ld_howto": {"howto", "recipe"},
    "ld_listing": {"collectionpage", "itemlist", "searchresultspage", "offercatalog"},
    "ld_org": {
        "organization",
        "localbusiness",
        "corporation",
        "service",
        "professionalservice",
        "store",
        "restaurant",
        "medicalorganization",
        "educationalorganization",
    },
    "ld_software": {"softwareapplication", "webapplication", "mobileapplication", "softwaresourcecode"},
    "ld_webpage": {"webpage", "aboutpage", "contactpage", "checkoutpage", "medicalwebpage"},
    "ld_event": {"event", "course"},
    "ld_person": {"person", "profilepage"},
}
_SCRIPTS = frozenset({"script", "style"})
_OG_TYPES = ("article", "website", "product", "profile", "video", "book")
# Class and id words templates use for comments, prices, carts, bylines, documentation...
CLASS_WORDS = (
    "comment", "reply", "post", "thread", "topic", "forum", "answer", "question", "vote", "avatar",
    "user", "author", "byline", "price", "cart", "product", "buy", "checkout", "sku", "rating",
    "review", "doc", "docs", "toc", "sidebar", "breadcrumb", "nav", "menu", "code", "highlight",
    "share", "related", "tag", "category", "date", "time", "published", "article", "entry",
    "content", "card", "grid", "tile", "pagination", "pager", "search", "filter", "footer",
    "header", "hero", "cta", "pricing", "plan", "feature", "testimonial", "faq", "accordion",
)  # fmt: skip
_CLASS_WORD = re.compile(r"[a-z]+")
_SENTENCE_END = re.compile(r"[.!?。！？]['\"”’)]?\s")
_PRICE = re.compile(r"[$€£¥₹]\s?\d|\d\s?(?:€|USD|EUR|GBP)")
_DATE_TEXT = re.compile(
    r"\b(?:19|20)\d\d[-/.](?:0?[1-9]|1[0-2])[-/.](?:0?[1-9]|[12]\d|3[01])\b"
    r"|\b(?:0?[1-9]|[12]\d|3[01])[./](?:0?[1-9]|1[0-2])[./](?:19|20)\d\d\b"
)
DATE_IN_PATH = re.compile(
    r"(?:^|/)(?:19|20)\d{2}(?:[/-]?(?:0[1-9]|1[0-2]))(?:[/-]?(?:0[1-9]|[12]\d|3[01]))?(?:/|-|$)"
)
# Words a forum's URL paths name its threads by, in a folder ("/threads/", "/t/", "/r/x/comments/")
# or as the script showing one ("viewtopic.php", "thread-222085.html").
_FORUM_FOLDERS = {
    "forum", "forums", "thread", "threads", "discussion", "discussions", "board", "boards", "comments", "talk", "t",
}  # fmt: skip
_FORUM_SCRIPTS = {"viewtopic", "showthread", "showtopic", "thread"}
_PUBLISHED_META = (
    "//meta[@property='article:published_time' or @name='article:published_time' "
    "or @property='og:article:published_time' or @itemprop='datePublished' or @name='date' "
    "or @name='pubdate' or @name='publish-date' or @name='publishdate']"
)


def page_features(
    tree: HtmlElement, url: str, ld_objects: list[dict[str, Any]], main_block: int, listing_path: bool
) -> dict[str, float]:
    """The page's evidence, by name (see the module's docstring)."""
    features: dict[str, float] = {}
    types = json_ld_types(ld_objects)
    for group, members in _TYPE_GROUPS.items():
        features[group] = float(bool(types & members))
    features["ld_any_date"] = float(any(n.get("datePublished") or n.get("dateCreated") for n in ld_objects))
    features["ld_any_author"] = float(any(n.get("author") for n in ld_objects))
    features["ld_breadcrumb"] = float("breadcrumblist" in types)
    og = og_type(tree)
    for name in _OG_TYPES:
        features[f"og_{name}"] = float(og.startswith(name) or (name == "product" and "product" in og))
    features["og_none"] = float(not og)

    count = lambda query: float(tree.xpath(f"count({query})"))  # noqa: E731 - read as a table
    log_count = lambda query: math.log1p(count(query))  # noqa: E731
    features["meta_published"] = float(count(_PUBLISHED_META) > 0)
    features["itemprop_date"] = float(count("//*[@itemprop='datePublished']") > 0)
    features["time_elems"] = log_count("//time")
    features["rel_author"] = float(count("//a[contains(@rel,'author')]") > 0)
    features["meta_author"] = float(count("//meta[@name='author' or @property='article:author']") > 0)

    text = body_text(tree, " ", _SCRIPTS)
    words = word_units(text)
    link_words = word_units(" ".join(tree.xpath("//body//a//text()")))
    features["log_words"] = math.log1p(words)
    features["link_density"] = link_words / max(1, words)
    features["currency"] = math.log1p(len(_PRICE.findall(text)))
    for name, query in (
        ("log_links", "//a[@href]"),
        ("log_li", "//li"),
        ("log_forms", "//form"),
        ("log_inputs", "//input|//select|//textarea"),
        ("log_buttons", "//button"),
        ("log_pre", "//pre"),
        ("log_code", "//code"),
        ("log_tables", "//table"),
        ("log_imgs", "//img"),
        ("log_articles", "//article"),
        ("log_h1", "//h1"),
        ("log_h2", "//h2"),
        ("log_h3", "//h3"),
        ("log_teasers", "//*[self::h2 or self::h3 or self::h4][.//a[@href]]"),
        ("log_p", "//p"),
    ):
        features[name] = log_count(query)
    for name, query in (
        ("log_tel", "//a[starts-with(@href,'tel:')]"),  # service and shop pages give a phone number
        ("log_mailto", "//a[starts-with(@href,'mailto:')]"),
        ("log_iframes", "//iframe"),
        ("log_svg", "//svg"),
        ("log_video", "//video"),
        ("log_dl", "//dl"),
        ("log_blockquote", "//blockquote"),
        ("log_figure", "//figure"),
        ("log_figcaption", "//figcaption"),
        ("log_kbd", "//kbd|//var|//samp"),  # documentation
        ("log_article_h2", "//article//h2"),
        ("log_aside", "//aside"),
        ("log_section", "//section"),
        ("log_hreflang", "//link[@hreflang]"),
        ("log_comment_markup", "//*[contains(@class,'comment') or contains(@id,'comment')]"),
        # links to people's pages: forum threads link every poster
        (
            "log_people_links",
            "//a[contains(@href,'/author/') or contains(@href,'/user/') or contains(@href,'/users/')"
            " or contains(@href,'/u/') or contains(@href,'/members/') or contains(@href,'/profile/')]",
        ),
    ):
        features[name] = log_count(query)
    features["has_address"] = float(count("//address|//*[@itemprop='address']") > 0)
    features["has_main"] = float(count("//main") > 0)
    features["h1_count"] = count("//h1")
    paragraph_texts = [p.text_content() for p in tree.xpath("//p")]
    paragraph_words = [word_units(text) for text in paragraph_texts]
    long_paragraphs = [text for text, n in zip(paragraph_texts, paragraph_words) if n >= 20]
    features["log_long_p"] = math.log1p(sum(1 for n in paragraph_words if n >= 30))
    features["long_p_words"] = math.log1p(sum(map(word_units, long_paragraphs)))
    features["median_p_words"] = math.log1p(statistics.median(paragraph_words) if paragraph_words else 0)
    # running prose ends its sentences; feature lists and specifications often do not
    features["sentence_share"] = sum(
        bool(_SENTENCE_END.search(text + " ")) for text in long_paragraphs
    ) / max(1, len(long_paragraphs))
    features["heading_density"] = count("//h2|//h3|//h4") / max(1.0, sum(paragraph_words) / 100)
    features["main_block"] = math.log1p(main_block)

    class_words = Counter(_CLASS_WORD.findall(" ".join(tree.xpath("//@class|//@id")).lower()))
    for word in CLASS_WORDS:
        features[f"cls_{word}"] = math.log1p(class_words.get(word, 0))

    headline = tree.xpath("//h1")
    around = headline[0] if headline else None
    for _ in range(4):
        if around is not None and around.getparent() is not None:
            around = around.getparent()
    features["date_near_h1"] = float(
        around is not None and bool(_DATE_TEXT.search(around.text_content()[:3000]))
    )
    near = headline[0].getparent() if headline else None
    near = near.getparent() if near is not None else None
    features["time_near_h1"] = float(near is not None and bool(near.xpath(".//time")))
    cards: Counter[tuple[str, str]] = Counter(
        (element.tag, element.get("class") or "") for element in tree.xpath("//*[@class][.//a]")
    )
    features["cards"] = math.log1p(max(cards.values(), default=0))
    features["nav_links"] = log_count("//nav//a|//aside//a|//*[contains(@class,'sidebar')]//a")
    features["buttons_links"] = log_count("//a[contains(@class,'btn') or contains(@class,'button')]|//button")
    features["title_words"] = math.log1p(word_units(tree.findtext(".//title") or ""))

    parts = urlsplit(url)
    segments = [s for s in parts.path.split("/") if s]
    last = re.sub(r"\.\w+$", "", segments[-1]) if segments else ""
    features["url_date"] = float(bool(DATE_IN_PATH.search(parts.path)))
    features["url_listing"] = float(listing_path)
    features["url_depth"] = float(len(segments))
    features["url_slug_words"] = float(len(re.split(r"[-_]", last)) if last else 0)
    features["url_query"] = float(bool(parts.query))
    features["url_digits"] = float(bool(re.search(r"\d{4,}", parts.path)))
    features["url_forum"] = float(_forum_path(segments))
    return features


def _forum_path(segments: list[str]) -> bool:
    """Whether a URL's path has the shape of a forum thread's (see _FORUM_FOLDERS)."""
    words = [re.split(r"[-_.]", segment.lower()) for segment in segments]
    return bool(words) and (
        any(_FORUM_FOLDERS.intersection(folder) for folder in words[:-1]) or words[-1][0] in _FORUM_SCRIPTS
    )
