"""The boilerplate stage built as Scrapy builds it, fed articles directly."""

from __future__ import annotations

import asyncio

import pytest
from scrapy.utils.misc import build_from_crawler

from pipelines.boilerplate import BoilerplatePipeline
from pipelines.drops import OnlyBoilerplate
from pipelines.items import ArticleItem
from pipelines.signals import article_recleaned
from pipelines.signatures import ParagraphHashes, Signer
from pipelines.text import word_hashes
from tests.fixtures.components import project_crawler

FOOTER = [
    "Sign up for the Example Daily newsletter: the news you need every morning.",
    "Download the Example app for breaking news alerts.",
    "\u00a9 2026 Example Media. All rights reserved.",
]
SITE = "www.example.test"


def body(number: int, paragraphs: int = 5) -> list[str]:
    return [
        f"In story {name} the {part} paragraph reports what happened, in words no other story uses."
        for name, part in [(_name(number), _name(p + 20)) for p in range(paragraphs)]
    ]


def _name(number: int) -> str:
    return [
        "alpha",
        "bravo",
        "charlie",
        "delta",
        "echo",
        "foxtrot",
        "golf",
        "hotel",
        "india",
        "juliet",
        "kilo",
        "lima",
        "mike",
        "november",
        "oscar",
        "papa",
        "quebec",
        "romeo",
        "sierra",
        "tango",
        "uniform",
        "victor",
        "whiskey",
        "xray",
        "yankee",
        "zulu",
        "amber",
        "bronze",
        "cobalt",
        "denim",
    ][number]


def article(number: int, parts: list[str]) -> ArticleItem:
    return ArticleItem(url=f"http://{SITE}/story/{number}", site=SITE, text="\n\n".join(parts), word_count=0)


def stage(tmp_path, **settings) -> BoilerplatePipeline:
    crawler = project_crawler(**{"DATA_DIR": str(tmp_path), "BOILERPLATE_HOLD_SECONDS": 5.0, **settings})
    return build_from_crawler(BoilerplatePipeline, crawler)


async def run(pipeline: BoilerplatePipeline, items: list[ArticleItem]) -> list:
    results = await asyncio.gather(*(pipeline.process_item(item) for item in items), return_exceptions=True)
    await pipeline.close_spider()
    return results


def test_a_new_sites_first_pages_wait_and_come_out_clean(tmp_path):
    pipeline = stage(tmp_path)
    items = [article(n, body(n) + FOOTER) for n in range(8)]
    results = asyncio.run(run(pipeline, items))
    for result in results:
        assert not any(line in result["text"] for line in FOOTER)
        assert result["text"].count("\n\n") == 4
    assert pipeline.stats.get_value("boilerplate/pages_held") >= 4
    assert pipeline.stats.get_value("boilerplate/segments_removed") == 3 * 8


def test_the_words_a_signature_is_made_of_lose_the_boilerplate_too(tmp_path):
    pipeline = stage(tmp_path)
    items = [article(n, body(n) + FOOTER) for n in range(8)]
    for item in items:  # as the extraction worker hashes and signs them
        item.carry.word_hashes = ParagraphHashes.of(
            [word_hashes(part) for part in item["text"].split("\n\n")]
        )
        item.carry.signed = Signer().sign(item["text"])
    for result in asyncio.run(run(pipeline, items)):
        kept = result["text"].split("\n\n")
        hashes = result.carry.word_hashes
        assert hashes.counts == tuple(len(word_hashes(p)) for p in kept)
        assert hashes.words.tolist() == [h for p in kept for h in word_hashes(p).tolist()]
        assert result.carry.signed is None  # made of the text before its boilerplate went


def test_learned_statistics_persist_between_runs(tmp_path):
    asyncio.run(run(stage(tmp_path), [article(n, body(n) + FOOTER) for n in range(6)]))
    second = stage(tmp_path)
    [result] = asyncio.run(run(second, [article(20, body(20) + FOOTER)]))
    assert not any(line in result["text"] for line in FOOTER)
    assert second.stats.get_value("boilerplate/pages_held") is None  # the site was warm already


def test_a_brief_keeps_its_text(tmp_path):
    pipeline = stage(tmp_path)
    brief = ["Police closed the bridge on Monday after a lorry shed its load; it reopened two hours later."]
    items = [article(n, body(n) + FOOTER) for n in range(6)] + [article(29, brief + FOOTER)]
    results = asyncio.run(run(pipeline, items))
    assert results[-1]["text"] == brief[0]


def test_a_paragraph_quoted_in_two_stories_is_kept(tmp_path):
    quote = "\u201cWe will rebuild the bridge before winter,\u201d the minister said on Tuesday."
    pipeline = stage(tmp_path)
    items = [article(n, body(n) + ([quote] if n in (2, 7) else []) + FOOTER) for n in range(12)]
    results = asyncio.run(run(pipeline, items))
    assert quote in results[2]["text"]
    assert quote in results[7]["text"]


def test_rules_drop_known_boilerplate_from_the_first_page(tmp_path):
    rules = tmp_path / "rules.toml"
    rules.write_text('[[site]]\nhosts = ["example.test"]\ndrop_patterns = ["^Download the Example app"]\n')
    pipeline = stage(tmp_path, BOILERPLATE_RULES_FILE=str(rules), BOILERPLATE_HOLD_SECONDS=0.01)
    [result] = asyncio.run(run(pipeline, [article(1, body(1) + FOOTER)]))
    assert FOOTER[1] not in result["text"]
    assert FOOTER[0] in result["text"]
    assert pipeline.stats.get_value("boilerplate/rule_matches") == 1
    assert pipeline.stats.get_value("boilerplate/hold_timeouts") == 1


def test_a_page_of_nothing_but_boilerplate_is_dropped(tmp_path):
    pipeline = stage(tmp_path)
    items = [article(n, body(n) + FOOTER) for n in range(6)] + [article(28, FOOTER)]
    results = asyncio.run(run(pipeline, items))
    assert isinstance(results[-1], OnlyBoilerplate)


def test_stored_pages_are_recleaned_when_more_boilerplate_is_learned(tmp_path):
    pipeline = stage(tmp_path, BOILERPLATE_WARMUP_STORIES=2, BOILERPLATE_HOLD_SECONDS=0.01)
    recleaned = []
    pipeline.signals.connect(lambda **kw: recleaned.append(kw), signal=article_recleaned, weak=False)
    promo = "Watch Example TV live, all day, on our apps."

    async def crawl() -> None:
        for n in range(8):  # the promo appears from the third story on, after warm-up
            item = await pipeline.process_item(article(n, body(n) + ([promo] if n >= 2 else [])))
            pipeline.item_scraped(item, None, None)
        await pipeline.close_spider()

    asyncio.run(crawl())
    assert {kw["url"] for kw in recleaned} >= {f"http://{SITE}/story/{n}" for n in (2, 3, 4)}
    assert all(promo not in kw["text"] for kw in recleaned)
    assert pipeline.stats.get_value("boilerplate/pages_recleaned") >= 3


def test_invalid_settings_are_refused(tmp_path):
    from scrapy.exceptions import NotConfigured

    with pytest.raises(NotConfigured, match="BOILERPLATE_MIN_STORIES"):
        stage(tmp_path, BOILERPLATE_MIN_STORIES=1)
    bad_rules = tmp_path / "bad.toml"
    bad_rules.write_text('[[site]]\nhosts = ["a.test"]\nprune_xpath = ["//div[@"]\n')
    with pytest.raises(NotConfigured, match="not a valid XPath"):
        stage(tmp_path, BOILERPLATE_RULES_FILE=str(bad_rules))


def test_a_right_to_left_template_is_learned_whatever_its_direction_marks_and_letter_forms(tmp_path):
    # An Arabic site's footer, written by its template with or without direction marks, tatweel
    # and the Persian letter forms; the stories are real Arabic sentences.
    footers = [
        ["\u200fتابعونا على تطبيق الأخبار لمتابعة آخر الأحداث.", "جميع الحقوق محفوظة © 2026 شبكة الأخبار"],
        [
            "تابعونا على تطبيـــق الأخبار لمتابعة آخر الأحداث.\u200e",
            "\u202bجميع الحقوق محفوظة © 2026 شبكة الأخبار\u202c",
        ],
        ["تابعونا علی تطبیق الأخبار لمتابعة آخر الأحداث.", "جمیع الحقوق محفوظة © 2026 شبکة الأخبار"],
    ]
    sentences = [
        "قال الوزير في اليوم {n} إن المحادثات مستمرة بشأن الملف رقم {n} مع الأطراف المعنية كافة.",
        "وأضاف أن الاجتماع {n} سيعقد في العاصمة بعد أسبوع لبحث التفاصيل المتبقية من الاتفاق.",
        "وأشار المتحدث إلى أن اللجنة {n} رفعت تقريرها إلى مجلس الوزراء قبل موعده بيومين.",
        "ومن المتوقع أن تصدر الحكومة بيانا بشأن القرار {n} خلال الأيام القليلة المقبلة.",
    ]
    stories = [[sentence.format(n=n) for sentence in sentences] for n in range(9)]
    items = [article(n, stories[n] + footers[n % 3]) for n in range(9)]
    results = asyncio.run(run(stage(tmp_path), items))
    for number, result in enumerate(results):
        assert result["text"] == "\n\n".join(stories[number])
