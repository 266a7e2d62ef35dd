"""Articles versus pages that list them."""

from __future__ import annotations

from lxml.html import fromstring

from pipelines.extraction.judge import is_judged_article, judge_article, main_block_words
from pipelines.extraction.page import parse_html
from tests.fixtures.newsroom.sites import ALL_SITES, slug


def test_every_newsroom_article_is_judged_an_article(newsroom):
    for article in newsroom.articles:
        page = newsroom.pages[article.host][article.url.split(article.host, 1)[1]]
        verdict = judge_article(fromstring(page.body), article.url)
        assert verdict.is_article, (article.url, verdict.reasons)


def test_listing_pages_are_not_articles(newsroom):
    for site in ALL_SITES:
        pages = newsroom.pages[site.host]
        paths = ["/", "/about/", f"/{slug(site.sections[0])}/", "/search?q=news"]
        paths += [p for p in pages if p.startswith("/tag/")][:2]
        for path in paths:
            verdict = judge_article(fromstring(pages[path].body), f"http://{site.host}{path}")
            assert not verdict.is_article, (site.host, path, verdict.reasons)


def test_a_brief_marked_up_as_a_dated_article_is_an_article(newsroom):
    # 40-word briefs are rare among the pages the model learned from; their markup and the
    # evidence score carry them
    brief = min(newsroom.articles, key=lambda a: sum(len(p.split()) for p in a.paragraphs))
    page = newsroom.pages[brief.host][brief.url.split(brief.host, 1)[1]]
    assert sum(len(p.split()) for p in brief.paragraphs) < 60
    assert judge_article(fromstring(page.body), brief.url).is_article


def test_a_dated_page_the_model_doubts_needs_more_than_its_markup():
    declared = {"ld_article": 1.0, "ld_product": 0.0, "evidence": 3.0}  # a dated Article, no more
    assert not is_judged_article(0.1, True, declared)
    assert is_judged_article(0.1, True, {**declared, "evidence": 4.0})  # and a paragraph of text
    assert not is_judged_article(0.1, False, {**declared, "evidence": 6.0})  # undated: the model decides
    # a dated page gets in on less of the model's confidence than an undated one, but not on a third
    assert is_judged_article(0.45, True, declared)
    assert not is_judged_article(0.45, False, declared)
    assert not is_judged_article(0.35, True, declared)


def test_the_verdict_gives_its_reasons(newsroom):
    article = newsroom.articles[0]
    page = newsroom.pages[article.host][article.url.split(article.host, 1)[1]]
    verdict = judge_article(fromstring(page.body), article.url)
    assert any(reason.startswith("model ") for reason in verdict.reasons)
    assert 0.0 <= verdict.probability <= 1.0


def test_a_page_declaring_a_product_and_no_article_is_not_an_article():
    description = "".join(
        f"<p>The walnut desk of our workshop, made by hand in the valley, {n} of the reasons our "
        "customers return: solid joints, a finish that lasts, and drawers that run true for years.</p>"
        for n in range(12)
    )
    product = '{"@context": "https://schema.org", "@type": "Product", "name": "Walnut desk"}'
    page = (
        f'<html><head><script type="application/ld+json">{product}</script><title>Walnut desk</title></head>'
        f"<body><main><h1>Walnut desk</h1>{description}</main></body></html>"
    )
    verdict = judge_article(fromstring(page), "https://www.workshop.test/desks/walnut-desk")
    assert not verdict.is_article
    assert "declares a product and no article" in verdict.reasons
    as_article = page.replace('"@type": "Product"', '"@type": ["Product", "Article"]')
    assert (
        "declares a product and no article"
        not in judge_article(fromstring(as_article), "https://www.workshop.test/a").reasons
    )


PARAGRAPH = (
    "The council voted on Tuesday to delay the bridge once more, after residents asked for a study "
    "of the river's banks and the ferry's future, and the mayor promised an answer by spring."
)  # 33 words


def test_paragraphs_holding_links_add_up_to_one_body():
    linked = PARAGRAPH.replace("the river's", "the <a href='/river'>river's</a>", 1)
    body = "".join(f"<p>{linked if n % 2 else PARAGRAPH}</p>" for n in range(6))
    tree = fromstring(f"<html><body><div class='story'>{body}</div></body></html>")
    assert main_block_words(tree) == 3 * 33 + 3 * 32  # a link's own words do not count


def test_the_main_content_counts_where_a_misparse_nests_it_in_the_site_header():
    # Real pages whose markup a parser repairs can end up with <main> inside a <header> or a
    # <button>; the header's own menu still does not count.
    body = "".join(f"<p>{PARAGRAPH}</p>" for _ in range(5))
    tree = fromstring(
        "<html><body><header><button><p>Menu: news, sport, weather and the rest of the site's sections"
        f"</p><main><article><div>{body}</div></article></main></button></header></body></html>"
    )
    assert main_block_words(tree) == 5 * 33


def test_the_story_counts_where_the_parser_left_it_inside_the_site_header():
    # libxml2 ignores a </header> met while a <div> opened in the header is open, and the rest
    # of the page falls inside the header; browsers close both
    body = "".join(f"<p>{PARAGRAPH}</p>" for _ in range(8))
    tree, *_ = parse_html(
        "<html><body><header><div class='top'><a href='/'>The Herald</a> Local news since 1901</header>"
        f"<div class='story'>{body}</div></body></html>"
    )
    assert tree.xpath("boolean(//header//div[@class='story'])")
    assert main_block_words(tree) == 8 * 33
    # and where its menu too was left open
    tree, *_ = parse_html(
        "<html><body><header><nav><div class='menu'><a href='/'>Home</a></nav></header>"
        f"<div class='story'>{body}</div></body></html>"
    )
    assert tree.xpath("boolean(//header//nav//div[@class='story'])")
    assert main_block_words(tree) == 8 * 33
    # a long header that holds less than half the page is the site's, and does not count
    part = "".join(f"<p>{PARAGRAPH}</p>" for _ in range(5))
    tree, *_ = parse_html(
        f"<html><body><header>{body}</header><div>{part}</div><div>{part}</div></body></html>"
    )
    assert main_block_words(tree) == 5 * 33


def test_a_forum_thread_s_url_has_its_own_shape():
    from pipelines.extraction.pagefeatures import page_features

    def forum_shaped(url: str) -> bool:
        return (
            page_features(fromstring("<html><body><p>Text.</p></body></html>"), url, [], 0, False)[
                "url_forum"
            ]
            == 1
        )

    for thread in (
        "https://forum.example.test/threads/best-hosts-2025.691400/",
        "https://www.example.test/r/Cooking/comments/1rl0nt4/enameled_pan/",
        "https://bbs.example.test/viewtopic.php?id=298271",
        "https://community.example.test/thread-222085.html",
        "https://discuss.example.test/t/plugin-recommendations/4412",
    ):
        assert forum_shaped(thread), thread
    # a story about a forum, or a board, names it in its slug only
    for story in (
        "https://news.example.test/2024/01/18/world-economic-forum-opens-in-davos",
        "https://news.example.test/local/school-board-votes-on-budget",
    ):
        assert not forum_shaped(story), story
