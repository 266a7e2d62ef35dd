"""The shared article-extraction benchmark: its pages, and its scoring method (see its README).

Scoring: 4-gram shingle multisets of `\\w+` tokens; per-document tp/fp/fn normalised to sum to 1;
precision and recall averaged over documents; F1 is the harmonic mean of the two averages.
"""

from __future__ import annotations

import gzip
import json
import re
from collections import Counter
from collections.abc import Iterable, Iterator
from dataclasses import dataclass
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
DATASET = Path(
    __import__("os").environ.get(
        "ARTICLE_BENCHMARK_DIR", ROOT.parent / "shared" / "data" / "article-extraction-benchmark"
    )
)
_TOKEN = re.compile(r"\w+")


@dataclass(frozen=True)
class BenchmarkPage:
    page_id: str
    url: str
    html: str
    body: str  # the hand-labelled article text


def load_pages(dataset: Path = DATASET) -> list[BenchmarkPage]:
    """Load every page of the benchmark, ordered by id."""
    truth_file = dataset / "ground-truth.json"
    if not truth_file.exists():
        raise SystemExit(f"benchmark not found at {dataset}; set ARTICLE_BENCHMARK_DIR")
    truth = json.loads(truth_file.read_text(encoding="utf-8"))
    pages = []
    for page_id in sorted(truth):
        with gzip.open(dataset / "html" / f"{page_id}.html.gz") as handle:
            html = handle.read().decode("utf-8", errors="replace")
        pages.append(BenchmarkPage(page_id, truth[page_id]["url"], html, truth[page_id]["articleBody"]))
    return pages


def load_bodies(dataset: Path = DATASET) -> dict[str, str]:
    """Return the hand-labelled article bodies by page id (raw material for fixtures)."""
    truth = json.loads((dataset / "ground-truth.json").read_text(encoding="utf-8"))
    return {page_id: truth[page_id]["articleBody"] for page_id in sorted(truth)}


def _shingles(text: str) -> Counter[tuple[str, ...]]:
    tokens = _TOKEN.findall(text)
    if len(tokens) < 4:
        return Counter([tuple(tokens)])
    return Counter(tuple(tokens[i : i + 4]) for i in range(len(tokens) - 3))


def document_scores(expected: str, predicted: str) -> tuple[float | None, float]:
    """Return (precision or None when nothing relevant was predicted, recall) for one document."""
    truth, guess = _shingles(expected), _shingles(predicted or "")
    tp = fp = fn = 0
    for shingle in truth.keys() | guess.keys():
        t, g = truth.get(shingle, 0), guess.get(shingle, 0)
        tp += min(t, g)
        fp += max(0, g - t)
        fn += max(0, t - g)
    total = tp + fp + fn
    if total == 0:
        return 1.0, 1.0
    tp, fp, fn = tp / total, fp / total, fn / total
    precision = tp / (tp + fp) if tp + fp > 0 else None
    recall = tp / (tp + fn) if fp or fn else 1.0
    return precision, recall


@dataclass(frozen=True)
class Scores:
    precision: float
    recall: float

    @property
    def f1(self) -> float:
        total = self.precision + self.recall
        return 2 * self.precision * self.recall / total if total else 0.0

    def __str__(self) -> str:
        return f"P {self.precision:.3f}  R {self.recall:.3f}  F1 {self.f1:.3f}"


def score(pairs: Iterable[tuple[str, str]]) -> Scores:
    """Score (expected, predicted) text pairs by the benchmark's method."""
    precisions, recalls = [], []
    for expected, predicted in pairs:
        precision, recall = document_scores(expected, predicted)
        if precision is not None:
            precisions.append(precision)
        recalls.append(recall)
    return Scores(sum(precisions) / len(precisions), sum(recalls) / len(recalls))


def pages_by_id(pages: Iterable[BenchmarkPage]) -> Iterator[tuple[str, BenchmarkPage]]:
    for page in pages:
        yield page.page_id, page
