"""Real pages in every language: decoded, judged, extracted, titled, dated and identified.

Over the shared multilingual pages (../shared/data/multilingual, or MULTILINGUAL_DIR: 399 real
pages in 28 languages with the labels their source projects published, see its README), per
language, each page processed by the pipeline's own page processing with no HTTP charset (the
page's bytes and <meta> are all the evidence, as for a page served without one):

- charset: the text decoded is the text in the charset the page is written in;
- articles: pages judged articles (every page here is one; target >= 0.97);
- body: F1 of the stored text against the labelled body (the README's scoring: a character of
  scripts without spaces is a token, 4-gram shingles), next to trafilatura alone on the same page;
  pages labelled by snippets count the snippets found (in the text or the headline, which the
  labels count as text) and the unwanted ones absent;
- language: the stored `language` is the labelled one (target >= 0.97);
- title: exact after normalisation, next to trafilatura's extract_metadata;
- date: the same day, on pages whose label has a day, next to trafilatura.

    .venv/bin/python -m bench.languages

The last line is one JSON object with the figures, per language and overall.
"""

from __future__ import annotations

import gzip
import json
import multiprocessing
import re
import unicodedata
from collections import Counter, defaultdict
from dataclasses import dataclass

import trafilatura
from trafilatura.metadata import extract_metadata

from pipelines.extraction.charset import decode_page
from pipelines.extraction.page import ExtractOptions, extract_article, process_page
from settings import base
from tests.fixtures.multilingual import DATASET, manifest, page_url

OPTIONS = ExtractOptions(
    favor_precision=base.EXTRACT_FAVOR_PRECISION,
    min_words=base.EXTRACT_MIN_WORDS,
    article_min_words=base.NEWS_ARTICLE_MIN_WORDS,
)
NOSPACE = (
    "\u0e00-\u0e7f\u0e80-\u0eff\u1000-\u109f\u1780-\u17ff\u3040-\u30ff\u3400-\u4dbf\u4e00-\u9fff\uf900-\ufaff"
)
TOKEN = re.compile(f"[{NOSPACE}]|(?:(?![{NOSPACE}])\\w)+")
_QUOTES = str.maketrans(
    {"\u2018": "'", "\u2019": "'", "\u201c": '"', "\u201d": '"', "\u00ab": '"', "\u00bb": '"'}
)
_INVISIBLE = re.compile("[\u00ad\u200b\u200c\u200d\u200e\u200f\u2060\ufeff]")


@dataclass(frozen=True)
class PageScore:
    page_id: str
    language: str
    charset_right: bool
    judged_article: bool
    body: tuple[int, int, int] | None  # tp, fp, fn shingles (pages labelled with a body)
    body_trafilatura: tuple[int, int, int] | None
    snippets: tuple[int, int, int, int] | None  # with found, with missed, without found, without absent
    snippets_trafilatura: tuple[int, int, int, int] | None
    language_right: bool
    title: bool | None  # None: not labelled
    title_trafilatura: bool | None
    date: bool | None
    date_trafilatura: bool | None


def shingles(text: str) -> Counter[tuple[str, ...]]:
    tokens = TOKEN.findall(text.lower())
    if len(tokens) < 4:
        return Counter([tuple(tokens)]) if tokens else Counter()
    return Counter(tuple(tokens[i : i + 4]) for i in range(len(tokens) - 3))


def body_counts(truth: str, predicted: str) -> tuple[int, int, int]:
    t, p = shingles(truth), shingles(predicted)
    tp = sum((t & p).values())
    return tp, sum(p.values()) - tp, sum(t.values()) - tp


def snippet_counts(label: dict, predicted: str, title: str = "") -> tuple[int, int, int, int]:
    """Snippets wanted that were found in the text or the headline (the labels count the headline
    as text; an item keeps it in `title`), and snippets unwanted that were found in the text. Both
    sides in Unicode's composed form: "য়" written as one character or two is the same text."""

    def plain(text: str) -> str:
        return unicodedata.normalize("NFC", " ".join(text.split()))

    text, headline = plain(predicted), plain(title)
    found = [plain(s) in text or plain(s) in headline for s in label.get("with") or []]
    unwanted = [plain(s) in text for s in label.get("without") or []]
    return sum(found), len(found) - sum(found), sum(unwanted), len(unwanted) - sum(unwanted)


def same_title(found: str | None, label: str) -> bool:
    def norm(text: str) -> str:
        text = _INVISIBLE.sub("", unicodedata.normalize("NFKC", text)).translate(_QUOTES)
        return " ".join(text.split()).casefold()

    return norm(found or "") == norm(label)


def same_language(found: str | None, label: str) -> bool:
    def norm(code: str | None) -> str:
        code = (code or "").lower().split("-")[0]
        return "no" if code in ("nb", "nn") else code

    return norm(found) == norm(label)


def score_page(entry: dict) -> PageScore:
    label = json.loads((DATASET / "labels" / f"{entry['id']}.json").read_text(encoding="utf-8"))
    body = gzip.decompress((DATASET / "pages" / f"{entry['id']}.html.gz").read_bytes())
    url = page_url(entry, label)
    truth_html = body.decode(entry["charset"], errors="replace").removeprefix("\ufeff")
    charset_right = decode_page(body).text == truth_html
    result = process_page(body, None, url, None, OPTIONS)
    fields = result.fields
    if fields is None:  # judged otherwise, or no text: its text is still scored
        fields = extract_article(decode_page(body).text, url, options=OPTIONS)
    fields = fields or {}
    text = fields.get("text") or ""
    alone = trafilatura.extract(truth_html, url=url) or ""
    theirs = extract_metadata(truth_html, default_url=url)
    date = label.get("date") or ""
    has_day = len(date) >= 10
    return PageScore(
        entry["id"],
        entry["language"],
        charset_right,
        result.outcome == "article",
        body_counts(label["body"], text) if label.get("body") else None,
        body_counts(label["body"], alone) if label.get("body") else None,
        snippet_counts(label, text, fields.get("title") or "") if "with" in label else None,
        snippet_counts(label, alone) if "with" in label else None,
        same_language(fields.get("language"), entry["language"]),
        same_title(fields.get("title"), label["title"]) if label.get("title") else None,
        same_title(getattr(theirs, "title", None), label["title"]) if label.get("title") else None,
        (fields.get("published") or "")[:10] == date[:10] if has_day else None,
        (getattr(theirs, "date", None) or "")[:10] == date[:10] if has_day else None,
    )


def body_f1(counts: list[tuple[int, int, int]]) -> float | None:
    if not counts:
        return None
    precisions = [tp / (tp + fp) for tp, fp, _ in counts if tp + fp]
    recalls = [tp / (tp + fn) if fp or fn else 1.0 for tp, fp, fn in counts]
    p, r = sum(precisions) / max(1, len(precisions)), sum(recalls) / len(recalls)
    return 2 * p * r / (p + r) if p + r else 0.0


def snippet_f1(counts: list[tuple[int, int, int, int]]) -> float | None:
    if not counts:
        return None
    tp, fn, fp = (sum(c[i] for c in counts) for i in range(3))
    precision, recall = tp / max(1, tp + fp), tp / max(1, tp + fn)
    return 2 * precision * recall / (precision + recall) if precision + recall else 0.0


def share(values: list[bool | None]) -> float | None:
    known = [v for v in values if v is not None]
    return sum(known) / len(known) if known else None


def figures(scores: list[PageScore]) -> dict[str, float | int | None]:
    return {
        "pages": len(scores),
        "charset": share([s.charset_right for s in scores]),
        "articles": share([s.judged_article for s in scores]),
        "body_f1": body_f1([s.body for s in scores if s.body]),
        "body_f1_trafilatura": body_f1([s.body_trafilatura for s in scores if s.body_trafilatura]),
        "snippet_f1": snippet_f1([s.snippets for s in scores if s.snippets]),
        "snippet_f1_trafilatura": snippet_f1(
            [s.snippets_trafilatura for s in scores if s.snippets_trafilatura]
        ),
        "language": share([s.language_right for s in scores]),
        "title": share([s.title for s in scores]),
        "title_trafilatura": share([s.title_trafilatura for s in scores]),
        "date": share([s.date for s in scores]),
        "date_trafilatura": share([s.date_trafilatura for s in scores]),
    }


def cell(value: float | int | None) -> str:
    if value is None:
        return f"{'-':>7s}"
    return f"{value:>7d}" if isinstance(value, int) else f"{value:>7.3f}"


def main() -> None:
    entries = manifest()
    with multiprocessing.Pool(2) as pool:
        scores = pool.map(score_page, entries, chunksize=4)
    by_language: dict[str, list[PageScore]] = defaultdict(list)
    for score in scores:
        by_language[score.language].append(score)
    order = sorted(by_language, key=lambda lang: -len(by_language[lang]))
    table = {lang: figures(by_language[lang]) for lang in order} | {"all": figures(scores)}
    columns = list(table["all"])
    names = [
        "pages",
        "charset",
        "article",
        "body",
        "(traf)",
        "snippet",
        "(traf)",
        "lang",
        "title",
        "(traf)",
        "date",
        "(traf)",
    ]
    print(f"multilingual pages: {len(scores)} in {len(order)} languages (trafilatura alone in brackets)")
    print(f"  {'':6s}" + "".join(f"{n:>7s}" for n in names))
    for lang, row in table.items():
        print(f"  {lang:6s}" + "".join(cell(row[c]) for c in columns))
    missed = [s.page_id for s in scores if not s.judged_article]
    print(
        f"  pages not judged articles ({len(missed)}): {', '.join(missed[:20])}{' ...' if len(missed) > 20 else ''}"
    )
    wrong_charset = [s.page_id for s in scores if not s.charset_right]
    print(f"  pages decoded in another charset ({len(wrong_charset)}): {', '.join(wrong_charset)}")
    print(
        json.dumps(
            {
                lang: {k: (round(v, 4) if isinstance(v, float) else v) for k, v in row.items()}
                for lang, row in table.items()
            }
        )
    )


if __name__ == "__main__":
    main()
