"""Real pages of seven types that the judge's model was not trained on (tests/fixtures/realpages):
only the articles are articles, their metadata matches the labels, their text is trafilatura's at
least, and the shipped model is the one its training script writes."""

from __future__ import annotations

import copy
from collections import Counter

import pytest
import trafilatura

from pipelines.extraction.charset import decode_page
from pipelines.extraction.judge import judge_article, judge_features
from pipelines.extraction.judgemodel import shipped_model
from pipelines.extraction.page import ExtractOptions, parse_html, process_page
from tests.fixtures.wcxb import HELD_OUT, LabelledPage, load_pages, word_f1

PAGES = list(load_pages(dataset=HELD_OUT))
ARTICLES = [page for page in PAGES if page.page_type == "article"]
FETCHED_ON = "2026-12-02"  # after every labelled date; the check against the fetch is its own test


def tree_of(page: LabelledPage):
    html = decode_page(page.html, "utf-8").text
    return parse_html(html)[0]


def test_the_pages_cover_every_type():
    assert Counter(page.page_type for page in PAGES) == {
        "article": 6,
        **dict.fromkeys(("service", "product", "collection", "listing", "forum", "documentation"), 4),
    }


@pytest.mark.parametrize("page", ARTICLES, ids=lambda page: page.file_id)
def test_articles_are_judged_articles(page):
    verdict = judge_article(tree_of(page), page.url)
    assert verdict.is_article, verdict.reasons


def test_pages_of_other_types_are_not_articles():
    judged = Counter(
        page.page_type
        for page in PAGES
        if page.page_type != "article" and judge_article(tree_of(page), page.url).is_article
    )
    # Cross-validated, about one page in seven of these types passes (bench/articles.py); here six
    # of 24 do, at probabilities 0.67 to 0.89 but for a wiki's list page marked up as a dated
    # article: a shop page of one product described at length, a long man page, a tool page of
    # 22 <article> cards, a product page and a forum thread of one long post.
    assert sum(judged.values()) <= 6, judged
    assert judged["collection"] == 0


def test_articles_stay_articles_without_their_structured_data():
    stripped = 0
    for page in ARTICLES:
        tree = tree_of(page)
        for node in tree.xpath("//meta|//script[@type='application/ld+json']"):
            node.getparent().remove(node)
        stripped += judge_article(tree, page.url).is_article
    # Cross-validated, nine in ten articles stay articles without it (bench/train_judge.py).
    assert stripped >= len(ARTICLES) - 2


def test_article_metadata_matches_the_labels():
    for page in ARTICLES:
        fields = process_page(
            page.html, "utf-8", page.url, None, ExtractOptions(), fetched_on=FETCHED_ON
        ).fields
        assert fields is not None, page.url
        assert fields["title"] == page.title
        if fields["published"] and page.published:
            assert fields["published"][:10] == page.published
        if fields["authors"] and page.author:
            assert fields["authors"] == [page.author]


def test_no_publication_date_after_the_fetch():
    page = next(page for page in ARTICLES if page.published)
    before = (int(page.published[:4]) - 1, page.published[4:])
    fields = process_page(
        page.html, "utf-8", page.url, None, ExtractOptions(), fetched_on=f"{before[0]}{before[1]}"
    )
    assert fields.fields is not None
    assert not fields.fields["published"] or fields.fields["published"][:10] <= f"{before[0]}{before[1]}"


def test_extracted_text_is_never_far_below_trafilatura():
    for page in ARTICLES:
        html = decode_page(page.html, "utf-8").text
        fields = process_page(
            page.html, "utf-8", page.url, None, ExtractOptions(), fetched_on=FETCHED_ON
        ).fields
        ours = word_f1(fields["text"], page.main_content)
        theirs = word_f1(trafilatura.extract(html, url=page.url) or "", page.main_content)
        assert ours >= theirs - 0.02, (page.url, ours, theirs)


def test_the_shipped_model_reads_the_features_the_judge_computes():
    features, _ = judge_features(tree_of(ARTICLES[0]), ARTICLES[0].url, 150)
    assert set(shipped_model().features) == set(features)


def test_written_out_trees_give_scikit_learns_probabilities():
    from bench.train_judge import feature_names, fit, page_rows

    rows = [row for page in PAGES if (pair := page_rows(page)) for row in pair]
    model = fit(rows, feature_names(rows))  # raises if the two disagree on any page
    assert copy.deepcopy(model).probability(rows[0].features) == model.probability(rows[0].features)
