"""The article store: stored articles and the MinHash signatures that let later runs recognise them.

The embedded default is one SQLite file under DATA_DIR (setting STORAGE_BACKEND = "sqlite").
"""

from __future__ import annotations

import json
import logging
import sqlite3
from abc import ABC, abstractmethod
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import numpy as np

from .signatures import Signature, shingles_from_bytes

logger = logging.getLogger(__name__)

ARTICLE_COLUMNS = (
    "url",
    "canonical_url",
    "site",
    "title",
    "authors",
    "published",
    "language",
    "text",
    "word_count",
    "fetched_at",
    "cluster_id",
    "duplicate_of",
    "similarity",
    "version",
    "previous_id",
    "text_hash",
    "warc_file",
    "warc_offset",
)


# Columns added after the first release of the schema: (table, column, SQL type).
ADDED_COLUMNS = (
    ("articles", "warc_file", "TEXT"),
    ("articles", "warc_offset", "BIGINT"),
    ("pages", "payload_digest", "TEXT"),
)


class StoreError(RuntimeError):
    """The store cannot be used; the message says what to fix."""


@dataclass(frozen=True)
class IndexRows:
    """What the near-duplicate index needs of the stored articles in its window, column by column."""

    urls: list[str]
    cluster_ids: list[str]
    first_urls: list[str]
    matrix: np.ndarray  # one MinHash signature per row
    shingle_counts: np.ndarray
    window_days: np.ndarray  # the date each article counts from, days since 1970-01-01


@dataclass(frozen=True)
class PageFetch:
    """One fetch of a page: every key it is known under, and the validators the server sent."""

    keys: list[str]
    fetched_at: str
    etag: str | None = None
    last_modified: str | None = None
    payload_digest: str | None = None  # of the WARC record archived for this fetch


@dataclass(frozen=True)
class PageState:
    """What the store knows of one page (reached under any of its URLs), as of its latest fetch."""

    article_id: int | None  # the latest stored version; None if the page never held an article
    url: str | None
    version: int
    text_hash: str | None
    cluster_id: str | None
    duplicate_of: str | None
    similarity: float | None
    etag: str | None
    last_modified: str | None
    fetched_at: str
    payload_digest: str | None = None


@dataclass(frozen=True)
class ClusterMember:
    url: str
    site: str
    title: str | None
    cluster_id: str
    duplicate_of: str | None
    similarity: float | None


class ArticleStore(ABC):
    """Stored articles with their signatures; each article and its signature are written together."""

    @abstractmethod
    def add(self, article: dict[str, Any], signature: Signature, window_day: int, page: PageFetch) -> bool:
        """Store *article* (a version of the page *page* names) and its *signature* (dated
        *window_day*) in one transaction, and record the fetch of the page.

        Returns False, storing nothing, when this version of the URL is already stored.
        """

    @abstractmethod
    def page(self, keys: list[str]) -> PageState | None:
        """The state of the page known under any of *keys* (see crawler.urls.page_key)."""

    @abstractmethod
    def touch_page(self, page: PageFetch) -> None:
        """Record a fetch that brought nothing new (304 Not Modified, or the same text)."""

    @abstractmethod
    def update_text(self, url: str, text: str, word_count: int, signature: Signature) -> bool:
        """Replace a stored article's text and signature (after boilerplate re-cleaning)."""

    @abstractmethod
    def index_rows(self, since_day: int) -> IndexRows:
        """The signatures dated *since_day* or later, oldest article first."""

    @abstractmethod
    def shingles(self, urls: list[str]) -> dict[str, np.ndarray]:
        """The exact shingle-hash sets of stored articles, by URL (missing URLs are left out)."""

    @abstractmethod
    def articles(self) -> Iterator[dict[str, Any]]:
        """Yield every stored article as a dict of ARTICLE_COLUMNS and "current" (the page's latest
        version), oldest first."""

    @abstractmethod
    def cluster_members(self) -> Iterator[ClusterMember]:
        """Yield every stored article's place in its story's cluster, oldest first."""

    @abstractmethod
    def close(self) -> None: ...


class SQLiteArticleStore(ArticleStore):
    """The embedded store: a SQLite database in WAL mode.

    WAL lets the near-duplicate stage read signatures while the storage stage writes, and a crash
    can lose at most the transaction under way, never one already committed.
    """

    SCHEMA = """
        CREATE TABLE IF NOT EXISTS articles (
            id INTEGER PRIMARY KEY,
            url TEXT NOT NULL,
            canonical_url TEXT,
            site TEXT NOT NULL,
            title TEXT,
            authors TEXT NOT NULL DEFAULT '[]',
            published TEXT,
            language TEXT,
            text TEXT NOT NULL,
            word_count INTEGER NOT NULL,
            fetched_at TEXT NOT NULL,
            cluster_id TEXT NOT NULL,
            duplicate_of TEXT,
            similarity REAL,
            version INTEGER NOT NULL DEFAULT 1,
            previous_id INTEGER REFERENCES articles (id),
            text_hash TEXT,
            current INTEGER NOT NULL DEFAULT 1,
            warc_file TEXT,
            warc_offset INTEGER,
            UNIQUE (url, version)
        );
        CREATE INDEX IF NOT EXISTS articles_cluster ON articles (cluster_id);
        CREATE INDEX IF NOT EXISTS articles_site ON articles (site);
        CREATE TABLE IF NOT EXISTS signatures (
            article_id INTEGER PRIMARY KEY REFERENCES articles (id) ON DELETE CASCADE,
            minhash BLOB NOT NULL,
            shingle_count INTEGER NOT NULL,
            shingles BLOB NOT NULL,
            window_day INTEGER NOT NULL
        );
        CREATE INDEX IF NOT EXISTS signatures_window ON signatures (window_day);
        CREATE TABLE IF NOT EXISTS pages (
            page_key TEXT PRIMARY KEY,
            article_id INTEGER REFERENCES articles (id),
            etag TEXT,
            last_modified TEXT,
            fetched_at TEXT NOT NULL,
            payload_digest TEXT
        );
        CREATE TABLE IF NOT EXISTS settings (
            name TEXT PRIMARY KEY,
            value TEXT NOT NULL
        );
    """

    def __init__(self, path: Path, signature_scheme: str, create: bool = True) -> None:
        self.path = Path(path)
        if not create and not self.path.exists():
            raise StoreError(f"there is no article store at {self.path}; check DATA_DIR")
        try:
            self.path.parent.mkdir(parents=True, exist_ok=True)
            # The connection is used from one writer thread at a time, never concurrently.
            self._db = sqlite3.connect(self.path, check_same_thread=False, isolation_level=None)
            self._db.execute("PRAGMA journal_mode=WAL")
            self._db.execute("PRAGMA synchronous=NORMAL")
            self._db.execute("PRAGMA busy_timeout=10000")
            self._db.execute("PRAGMA foreign_keys=ON")
            self._db.executescript(self.SCHEMA)
            self._add_missing_columns()
        except (OSError, sqlite3.Error) as exc:
            raise StoreError(
                f"cannot open the article store {self.path}: {exc}; set DATA_DIR to a writable directory"
            ) from exc
        self._check_signature_scheme(signature_scheme)

    def _add_missing_columns(self) -> None:
        # Stores made by earlier versions of the crawler get the columns added since.
        for table, column, kind in ADDED_COLUMNS:
            present = {row[1] for row in self._db.execute(f"PRAGMA table_info({table})")}
            if column not in present:
                self._db.execute(f"ALTER TABLE {table} ADD COLUMN {column} {kind}")

    def _check_signature_scheme(self, scheme: str) -> None:
        # Signatures built with other permutations or shingles cannot be compared with new ones.
        row = self._db.execute("SELECT value FROM settings WHERE name = 'signature_scheme'").fetchone()
        if row is None:
            self._db.execute(
                "INSERT OR IGNORE INTO settings (name, value) VALUES ('signature_scheme', ?)", (scheme,)
            )
        elif row[0] != scheme:
            raise StoreError(
                f"the store {self.path} holds signatures built as {row[0]!r}, but the settings "
                f"ask for {scheme!r}; restore NEARDUP_NUM_PERM and NEARDUP_SHINGLE_SIZE "
                "or use a new DATA_DIR"
            )

    def add(self, article: dict[str, Any], signature: Signature, window_day: int, page: PageFetch) -> bool:
        values = [article.get(column) for column in ARTICLE_COLUMNS]
        values[ARTICLE_COLUMNS.index("authors")] = json.dumps(article.get("authors") or [])
        values[ARTICLE_COLUMNS.index("version")] = article.get("version") or 1
        cursor = self._db.cursor()
        cursor.execute("BEGIN IMMEDIATE")
        try:
            cursor.execute(
                f"INSERT INTO articles ({', '.join(ARTICLE_COLUMNS)}) "
                f"VALUES ({', '.join('?' * len(ARTICLE_COLUMNS))}) ON CONFLICT (url, version) DO NOTHING",
                values,
            )
            if cursor.rowcount == 0:
                cursor.execute("ROLLBACK")
                return False
            article_id = cursor.lastrowid
            cursor.execute(
                "INSERT INTO signatures (article_id, minhash, shingle_count, shingles, window_day) "
                "VALUES (?, ?, ?, ?, ?)",
                (
                    article_id,
                    signature.to_bytes(),
                    signature.shingle_count,
                    signature.shingles_to_bytes(),
                    window_day,
                ),
            )
            if article.get("previous_id"):
                cursor.execute("UPDATE articles SET current = 0 WHERE id = ?", (article["previous_id"],))
            self._record_fetch(cursor, page, article_id)
            cursor.execute("COMMIT")
        except BaseException:
            cursor.execute("ROLLBACK")
            raise
        return True

    def _record_fetch(self, cursor: sqlite3.Cursor, page: PageFetch, article_id: int | None) -> None:
        if article_id is None:  # a fetch that stored nothing: new URLs join the page's article
            placeholders = ", ".join("?" * len(page.keys))
            row = cursor.execute(
                f"SELECT article_id FROM pages WHERE page_key IN ({placeholders}) AND article_id IS NOT NULL",
                page.keys,
            ).fetchone()
            article_id = row[0] if row else None
        for key in page.keys:
            cursor.execute(
                "INSERT INTO pages (page_key, article_id, etag, last_modified, fetched_at, payload_digest) "
                "VALUES (?, ?, ?, ?, ?, ?) "
                "ON CONFLICT (page_key) DO UPDATE SET article_id = COALESCE(excluded.article_id, pages.article_id), "
                "etag = COALESCE(excluded.etag, pages.etag), "
                "last_modified = COALESCE(excluded.last_modified, pages.last_modified), "
                "fetched_at = excluded.fetched_at, "
                "payload_digest = COALESCE(excluded.payload_digest, pages.payload_digest)",
                (key, article_id, page.etag, page.last_modified, page.fetched_at, page.payload_digest),
            )

    def page(self, keys: list[str]) -> PageState | None:
        for key in keys:
            row = self._db.execute(
                "SELECT p.article_id, a.url, a.version, a.text_hash, a.cluster_id, a.duplicate_of, a.similarity, "
                "p.etag, p.last_modified, p.fetched_at, p.payload_digest "
                "FROM pages p LEFT JOIN articles a ON a.id = p.article_id WHERE p.page_key = ?",
                (key,),
            ).fetchone()
            if row is not None:
                return PageState(row[0], row[1], row[2] or 0, *row[3:])
        return None

    def touch_page(self, page: PageFetch) -> None:
        cursor = self._db.cursor()
        cursor.execute("BEGIN IMMEDIATE")
        try:
            self._record_fetch(cursor, page, None)
            cursor.execute("COMMIT")
        except BaseException:
            cursor.execute("ROLLBACK")
            raise

    def update_text(self, url: str, text: str, word_count: int, signature: Signature) -> bool:
        cursor = self._db.cursor()
        cursor.execute("BEGIN IMMEDIATE")
        try:
            cursor.execute(
                "UPDATE articles SET text = ?, word_count = ? WHERE url = ? AND current = 1",
                (text, word_count, url),
            )
            updated = cursor.rowcount > 0
            if updated:
                cursor.execute(
                    "UPDATE signatures SET minhash = ?, shingle_count = ?, shingles = ? "
                    "WHERE article_id = (SELECT id FROM articles WHERE url = ? AND current = 1)",
                    (signature.to_bytes(), signature.shingle_count, signature.shingles_to_bytes(), url),
                )
            cursor.execute("COMMIT")
        except BaseException:
            cursor.execute("ROLLBACK")
            raise
        return updated

    def index_rows(self, since_day: int) -> IndexRows:
        # Only the current version of each page takes part in near-duplicate matching.
        query = "FROM signatures s JOIN articles a ON a.id = s.article_id WHERE s.window_day >= ? AND a.current = 1"
        (count,) = self._db.execute(f"SELECT COUNT(*) {query}", (since_day,)).fetchone()
        urls: list[str] = []
        clusters: list[str] = []
        firsts: list[str] = []
        counts = np.empty(count, dtype=np.int64)
        days = np.empty(count, dtype=np.int32)
        matrix: np.ndarray | None = None
        cursor = self._db.execute(
            f"SELECT a.url, a.cluster_id, a.duplicate_of, s.minhash, s.shingle_count, s.window_day {query} "
            "ORDER BY a.id",
            (since_day,),
        )
        # Read in slices into preallocated arrays: a million rows at once would need gigabytes.
        row = 0
        while batch := cursor.fetchmany(20_000):
            if matrix is None:
                matrix = np.empty((count, len(batch[0][3]) // 4), dtype=np.uint32)
            end = row + len(batch)
            matrix[row:end] = np.frombuffer(b"".join(r[3] for r in batch), dtype="<u4").reshape(
                len(batch), -1
            )
            counts[row:end] = [r[4] for r in batch]
            days[row:end] = [r[5] for r in batch]
            for url, cluster_id, duplicate_of, *_ in batch:
                urls.append(url)
                clusters.append(cluster_id)
                firsts.append(duplicate_of or url)
            row = end
        if matrix is None:
            matrix = np.empty((0, 0), dtype=np.uint32)
        return IndexRows(urls, clusters, firsts, matrix[:row], counts[:row], days[:row])

    def shingles(self, urls: list[str]) -> dict[str, np.ndarray]:
        found = {}
        for url in urls:
            row = self._db.execute(
                "SELECT s.shingles FROM articles a JOIN signatures s ON s.article_id = a.id "
                "WHERE a.url = ? AND a.current = 1",
                (url,),
            ).fetchone()
            if row is not None:
                found[url] = shingles_from_bytes(row[0])
        return found

    def articles(self) -> Iterator[dict[str, Any]]:
        try:
            rows = self._db.execute(f"SELECT {', '.join(ARTICLE_COLUMNS)}, current FROM articles ORDER BY id")
            for row in rows:
                article = dict(zip((*ARTICLE_COLUMNS, "current"), row))
                article["authors"] = json.loads(article["authors"])
                article["current"] = bool(article["current"])
                yield article
        except sqlite3.Error as exc:
            raise StoreError(f"reading the articles from {self.path} failed: {exc}") from exc

    def cluster_members(self) -> Iterator[ClusterMember]:
        rows = self._db.execute(
            "SELECT url, site, title, cluster_id, duplicate_of, similarity FROM articles ORDER BY id"
        )
        for row in rows:
            yield ClusterMember(*row)

    def close(self) -> None:
        self._db.close()


class SegmentStatsStore(ABC):
    """Learned boilerplate statistics, one JSON-able state per site."""

    @abstractmethod
    def load(self, site: str) -> dict[str, Any] | None: ...

    @abstractmethod
    def save(self, states: dict[str, dict[str, Any]]) -> None:
        """Replace the states of the given sites, all in one transaction."""

    @abstractmethod
    def close(self) -> None: ...


class SQLiteSegmentStatsStore(SegmentStatsStore):
    """Boilerplate statistics in their own SQLite file, so saving them never waits on article writes."""

    def __init__(self, path: Path) -> None:
        self.path = Path(path)
        try:
            self.path.parent.mkdir(parents=True, exist_ok=True)
            self._db = sqlite3.connect(self.path, check_same_thread=False, isolation_level=None)
            self._db.execute("PRAGMA journal_mode=WAL")
            self._db.execute(
                "CREATE TABLE IF NOT EXISTS site_segments ("
                " site TEXT PRIMARY KEY, state TEXT NOT NULL, updated_at TEXT NOT NULL DEFAULT CURRENT_TIMESTAMP)"
            )
        except (OSError, sqlite3.Error) as exc:
            raise StoreError(
                f"cannot open the boilerplate statistics {self.path}: {exc}; set DATA_DIR to a writable directory"
            ) from exc

    def load(self, site: str) -> dict[str, Any] | None:
        row = self._db.execute("SELECT state FROM site_segments WHERE site = ?", (site,)).fetchone()
        return json.loads(row[0]) if row else None

    def save(self, states: dict[str, dict[str, Any]]) -> None:
        with self._db:
            self._db.execute("BEGIN IMMEDIATE")
            self._db.executemany(
                "INSERT INTO site_segments (site, state, updated_at) VALUES (?, ?, CURRENT_TIMESTAMP) "
                "ON CONFLICT (site) DO UPDATE SET state = excluded.state, updated_at = excluded.updated_at",
                [(site, json.dumps(state, separators=(",", ":"))) for site, state in states.items()],
            )

    def close(self) -> None:
        self._db.close()


@dataclass(frozen=True)
class StoreConfig:
    """Where state lives: settings STORAGE_BACKEND ("sqlite" or "postgres"), DATA_DIR, and for
    PostgreSQL STORAGE_POSTGRES_DSN and STORAGE_POSTGRES_SCHEMA."""

    backend: str = "sqlite"
    data_dir: str | Path = "data"
    postgres_dsn: str = ""
    postgres_schema: str = "newsdedup"

    @classmethod
    def from_settings(cls, settings: Any) -> StoreConfig:
        return cls(
            backend=settings.get("STORAGE_BACKEND") or "sqlite",
            data_dir=settings.get("DATA_DIR") or "data",
            postgres_dsn=settings.get("STORAGE_POSTGRES_DSN") or "",
            postgres_schema=settings.get("STORAGE_POSTGRES_SCHEMA") or "newsdedup",
        )


def open_segment_store(config: StoreConfig) -> SegmentStatsStore:
    """Open the boilerplate statistics store of *config*."""
    if config.backend == "sqlite":
        return SQLiteSegmentStatsStore(Path(config.data_dir) / "boilerplate.sqlite3")
    if config.backend == "postgres":
        from .postgres import PostgresSegmentStatsStore

        return PostgresSegmentStatsStore(config.postgres_dsn, config.postgres_schema)
    raise StoreError(f"unknown STORAGE_BACKEND {config.backend!r}; use 'sqlite' or 'postgres'")


def open_store(config: StoreConfig, signature_scheme: str, create: bool = True) -> ArticleStore:
    """Open the article store of *config* (creating it unless *create* is off)."""
    if config.backend == "sqlite":
        return SQLiteArticleStore(Path(config.data_dir) / "articles.sqlite3", signature_scheme, create)
    if config.backend == "postgres":
        from .postgres import PostgresArticleStore

        return PostgresArticleStore(config.postgres_dsn, config.postgres_schema, signature_scheme, create)
    raise StoreError(f"unknown STORAGE_BACKEND {config.backend!r}; use 'sqlite' or 'postgres'")
