"""Dataset export: the article store as Parquet and JSON Lines files, partitioned by publication date.

    <out>/parquet/2026-11-20/part-00000.parquet
    <out>/jsonl/2026-11-20/part-00000.jsonl
    (articles without a publication date go to <out>/<format>/unknown/)

Every file carries every column, published_date included, so each loads on its own with pyarrow,
pandas or Hugging Face datasets (`load_dataset("parquet", data_files=...)`). The directories are
not named the Hive way (published_date=...): readers would then add the partition column a second
time, with another type, and refuse to merge it with the one in the files. The columns are in
SCHEMA below and in the README.

An export replaces the previous one under the same directory only once it is complete, so a
reader never sees half a dataset and an interrupted export leaves the previous one in place.
"""

from __future__ import annotations

import json
import shutil
import tempfile
from collections.abc import Iterable, Iterator
from dataclasses import dataclass
from datetime import date, datetime
from pathlib import Path
from typing import Any

import pyarrow as pa
import pyarrow.parquet as pq

from pipelines.items import EXPORT_FIELDS
from pipelines.state.interfaces import ArticleStore

# The type of each exported field (pipelines.items.EXPORT_FIELDS), when it is not a string.
_TYPES = {
    "authors": pa.list_(pa.string()),
    "word_count": pa.int32(),
    "similarity": pa.float64(),
    "origin_confidence": pa.float64(),
    "version": pa.int32(),
    "warc_offset": pa.int64(),
}
_REQUIRED = {"url", "site", "text", "cluster_id"}
# Columns the export adds after the field they are derived from.
_DERIVED = {
    "published": pa.field("published_date", pa.string(), nullable=False),  # YYYY-MM-DD, or "unknown"
    "duplicate_of": pa.field("first_copy", pa.bool_(), nullable=False),
    "origin_url": pa.field("is_origin", pa.bool_(), nullable=False),  # the story's elected origin
}
SCHEMA = pa.schema(
    [
        field
        for name in EXPORT_FIELDS
        for field in (
            pa.field(name, _TYPES.get(name, pa.string()), nullable=name not in _REQUIRED),
            *([_DERIVED[name]] if name in _DERIVED else []),
        )
    ]
)
COLUMNS = tuple(SCHEMA.names)  # looked up once: pyarrow builds a new Field object per access
UNKNOWN = "unknown"
FORMATS = ("parquet", "jsonl")


@dataclass(frozen=True)
class ExportOptions:
    since: date | None = None  # publication dates from this day on (articles without one are left out)
    until: date | None = None  # up to and including this day
    first_copies_only: bool = False  # one row per story: its first stored copy
    origins_only: bool = False  # one row per story: its elected origin
    min_words: int = 0
    all_versions: bool = False  # every stored version of a changed page, not only the current one
    formats: tuple[str, ...] = FORMATS
    rows_per_file: int = 100_000
    # Rows held in memory at once, all partitions together: a store of millions of articles over
    # many days must not be held whole. When reached, the largest partition is written out.
    max_buffered_rows: int = 20_000

    def __post_init__(self) -> None:
        unknown = set(self.formats) - set(FORMATS)
        if unknown:
            raise ValueError(f"unknown export format(s) {sorted(unknown)}; choose from {', '.join(FORMATS)}")
        if self.first_copies_only and self.origins_only:
            raise ValueError("choose --first-copies or --origins-only: each keeps one row per story")
        if self.since and self.until and self.since > self.until:
            raise ValueError("--since is after --until")
        if self.rows_per_file < 1 or self.max_buffered_rows < 1:
            raise ValueError("rows per file and rows buffered must be at least 1")


def publication_date(published: str | None) -> str:
    if published:
        try:
            return datetime.fromisoformat(published.replace("Z", "+00:00")).date().isoformat()
        except ValueError:
            pass
    return UNKNOWN


def rows(store: ArticleStore, options: ExportOptions) -> Iterator[dict[str, Any]]:
    """The store's articles as dataset rows, filtered by *options*."""
    for article in store.articles():
        if not options.all_versions and not article.get("current", True):
            continue
        if options.first_copies_only and article["duplicate_of"]:
            continue
        is_origin = is_story_origin(article)
        if options.origins_only and not is_origin:
            continue
        if (article["word_count"] or 0) < options.min_words:
            continue
        day = publication_date(article["published"])
        if options.since or options.until:
            if day == UNKNOWN:
                continue
            if (options.since and day < options.since.isoformat()) or (
                options.until and day > options.until.isoformat()
            ):
                continue
        yield {
            **{name: article.get(name) for name in COLUMNS},
            "published_date": day,
            "first_copy": not article["duplicate_of"],
            "is_origin": is_origin,
        }


def is_story_origin(article: dict[str, Any]) -> bool:
    """Whether *article* is its story's elected origin. A row stored before origins were elected
    has none: its story's first copy stands for the origin until the story's next copy arrives."""
    if article.get("origin_url"):
        return bool(article["origin_url"] == article["url"])
    return not article["duplicate_of"]


class _Partitions:
    """Buffers rows per partition and writes them in files of at most rows_per_file rows, holding
    at most max_buffered_rows in memory."""

    def __init__(self, out: Path, options: ExportOptions) -> None:
        self.out = out
        self.options = options
        self.buffers: dict[str, list[dict[str, Any]]] = {}
        self.parts: dict[str, int] = {}
        self.files: list[Path] = []
        self.buffered = 0

    def add(self, row: dict[str, Any]) -> None:
        buffer = self.buffers.setdefault(row["published_date"], [])
        buffer.append(row)
        self.buffered += 1
        if len(buffer) >= self.options.rows_per_file:
            self.flush(row["published_date"])
        elif self.buffered >= self.options.max_buffered_rows:
            self.flush(max(self.buffers, key=lambda day: len(self.buffers[day])))

    def flush(self, day: str) -> None:
        buffer = self.buffers.pop(day, [])
        if not buffer:
            return
        self.buffered -= len(buffer)
        part = self.parts.get(day, 0)
        self.parts[day] = part + 1
        if "parquet" in self.options.formats:
            path = self.out / "parquet" / day / f"part-{part:05d}.parquet"
            path.parent.mkdir(parents=True, exist_ok=True)
            pq.write_table(pa.Table.from_pylist(buffer, schema=SCHEMA), path, compression="zstd")
            self.files.append(path)
        if "jsonl" in self.options.formats:
            path = self.out / "jsonl" / day / f"part-{part:05d}.jsonl"
            path.parent.mkdir(parents=True, exist_ok=True)
            with path.open("w", encoding="utf-8") as handle:
                for row in buffer:
                    handle.write(json.dumps(row, ensure_ascii=False) + "\n")
            self.files.append(path)

    def close(self) -> None:
        for day in list(self.buffers):
            self.flush(day)


def export(store: ArticleStore, out: Path, options: ExportOptions) -> tuple[int, list[Path]]:
    """Write the dataset under *out*; returns the number of rows and the files written."""
    return write(rows(store, options), out, options)


def write(records: Iterable[dict[str, Any]], out: Path, options: ExportOptions) -> tuple[int, list[Path]]:
    out = Path(out)
    out.mkdir(parents=True, exist_ok=True)
    staging = Path(tempfile.mkdtemp(prefix=".export-", dir=out))
    try:
        partitions = _Partitions(staging, options)
        count = 0
        for row in records:
            partitions.add(row)
            count += 1
        partitions.close()
        for fmt in options.formats:
            _replace(out / fmt, staging / fmt)
    finally:
        shutil.rmtree(staging, ignore_errors=True)
    return count, [out / path.relative_to(staging) for path in partitions.files]


def _replace(target: Path, new: Path) -> None:
    """Put *new* where *target* is, with two renames: the old export is never half overwritten."""
    new.mkdir(exist_ok=True)  # an export with no rows is an empty directory, not the previous one
    old = target.with_name(f".{target.name}-previous")
    shutil.rmtree(old, ignore_errors=True)
    if target.exists():
        target.rename(old)
    new.rename(target)
    shutil.rmtree(old, ignore_errors=True)
