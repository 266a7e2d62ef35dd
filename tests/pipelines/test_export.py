"""The dataset export's memory bound, on a store of many days."""

from __future__ import annotations

import json

import pandas
import pyarrow.dataset

from pipelines import export as dataset


def jsonl_rows(directory):
    return [json.loads(line) for path in directory.rglob("*.jsonl") for line in path.read_text().splitlines()]


class ListedStore:
    """Just what the export reads of a store."""

    def __init__(self, articles):
        self._articles = articles

    def articles(self):
        yield from self._articles


def test_the_export_holds_a_bounded_number_of_rows_in_memory(tmp_path, monkeypatch):
    days = [f"2026-10-{day:02d}" for day in range(1, 31)]
    articles = [
        {
            "url": f"http://news.test/{n}",
            "site": "news.test",
            "authors": [],
            "published": days[n % len(days)] + "T08:00:00Z",
            "text": "words " * 20,
            "word_count": 20,
            "cluster_id": f"c{n // 2}",
            "duplicate_of": f"http://news.test/{n - 1}" if n % 2 else None,
            "current": True,
        }
        for n in range(3000)
    ]
    peak = 0
    original = dataset._Partitions.add

    def add(self, row):
        nonlocal peak
        original(self, row)
        peak = max(peak, self.buffered)

    monkeypatch.setattr(dataset._Partitions, "add", add)
    options = dataset.ExportOptions(rows_per_file=400, max_buffered_rows=250)
    count, _ = dataset.export(ListedStore(articles), tmp_path, options)
    assert count == 3000
    assert peak < 250
    table = pyarrow.dataset.dataset(tmp_path / "parquet", format="parquet").to_table()
    assert sorted(table.column("url").to_pylist()) == sorted(a["url"] for a in articles)
    assert len(jsonl_rows(tmp_path / "jsonl")) == 3000
    for path in (tmp_path / "parquet").glob("*/*.parquet"):
        assert set(pandas.read_parquet(path)["published_date"]) == {path.parent.name}
