"""Extraction quality on the shared article-extraction benchmark, by that benchmark's method.

Prints precision, recall and F1 for trafilatura alone in the configurations considered, and for the
configuration this project ships (pipelines.core.extract with the settings/base.py defaults).

    .venv/bin/python -m bench.extraction
"""

from __future__ import annotations

import time

import trafilatura

from pipelines.extraction.page import ExtractOptions, extract_article
from settings import base
from tests.fixtures.articlebench import load_pages, score


def main() -> None:
    pages = load_pages()
    print(f"article-extraction benchmark: {len(pages)} pages")
    configurations = {
        "trafilatura include_comments=False": dict(include_comments=False),
        "trafilatura include_comments=False favor_precision=True": dict(
            include_comments=False, favor_precision=True
        ),
        "trafilatura include_comments=False favor_recall=True": dict(
            include_comments=False, favor_recall=True
        ),
    }
    for name, options in configurations.items():
        started = time.perf_counter()
        scores = score((p.body, trafilatura.extract(p.html, url=p.url, **options) or "") for p in pages)
        print(f"{name:58s} {scores}  ({len(pages) / (time.perf_counter() - started):.0f} pages/s)")
    shipped = ExtractOptions(favor_precision=base.EXTRACT_FAVOR_PRECISION, min_words=base.EXTRACT_MIN_WORDS)
    extract_article(pages[0].html, pages[0].url, options=shipped)  # loads the language model
    started = time.perf_counter()
    results = [extract_article(p.html, p.url, options=shipped) for p in pages]
    elapsed = time.perf_counter() - started
    scores = score((p.body, r["text"] if r else "") for p, r in zip(pages, results))
    print(
        f"{'shipped: pipelines.core.extract (' + str(shipped) + ')':58s} {scores}  ({len(pages) / elapsed:.0f} pages/s)"
    )


if __name__ == "__main__":
    main()
