"""The article store: stored articles and the MinHash signatures that let later runs recognise them.

Every stored signature's LSH band keys sit in the table `bands` behind a B-tree, written in the
same transaction as the article: the cold near-duplicate index. A lookup reads only the rows of
the looked-up keys, so neither the crawler's memory nor its start-up grows with the archive, and
a copy is found however long ago its story was stored.

The embedded default is one SQLite file under DATA_DIR (setting STORAGE_BACKEND = "sqlite").
"""

from __future__ import annotations

import json
import logging
import sqlite3
import threading
import uuid
from abc import ABC, abstractmethod
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import numpy as np

from crawler import clock

from .index import BandLayout
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


# SQLite's page cache per connection, in KiB.
CACHE_KIB = 65536
# Page size of a new SQLite store (an existing one keeps its own).
PAGE_BYTES = 1024
# Band keys are rebuilt from the stored signatures this many at a time (upgrades, layout changes).
REBUILD_SLICE = 20_000


@dataclass(frozen=True)
class IndexRows:
    """Stored articles as the near-duplicate index needs them, column by column, oldest first."""

    ids: list[int]
    urls: list[str]
    cluster_ids: list[str]
    first_urls: list[str]
    matrix: np.ndarray  # one MinHash signature per row
    shingle_counts: np.ndarray

    @classmethod
    def empty(cls, num_perm: int) -> IndexRows:
        return cls.from_rows([], num_perm)

    @classmethod
    def from_rows(cls, rows: list[tuple], num_perm: int) -> IndexRows:
        """From (id, url, cluster_id, duplicate_of, minhash bytes, shingle_count) rows."""
        matrix = np.frombuffer(b"".join(bytes(r[4]) for r in rows), dtype="<u4").reshape(len(rows), num_perm)
        return cls(
            [r[0] for r in rows],
            [r[1] for r in rows],
            [r[2] for r in rows],
            [r[3] or r[1] for r in rows],
            matrix.astype(np.uint32),
            np.array([r[5] for r in rows], dtype=np.int64),
        )


def rebuild_bands(
    where: str,
    layout: BandLayout,
    previous: str | None,
    slices: Iterator[tuple[list[int], np.ndarray]],
    insert: Any,
) -> int:
    """Write the band keys of every stored signature (an emptied band table) from *slices* of
    (article ids, signature matrix), logging progress; returns how many signatures."""
    if previous is None:
        why = "the store predates its band table"
    elif previous == layout.name:
        why = "its band table was empty: lost or deleted"
    else:
        why = f"the layout changed from {previous}"
    done = 0
    for ids, matrix in slices:
        if done == 0:
            logger.warning("building the cold near-duplicate index of %s (%s); this is done once", where, why)
        insert(ids, layout.keys(matrix.astype(np.uint32)))
        done += len(ids)
        if done % (10 * REBUILD_SLICE) < len(ids):
            logger.info("cold index: %d signatures done", done)
    if done:
        logger.warning("cold near-duplicate index of %s built: %d signatures", where, done)
    return done


def bands_match(db: Any, layout: BandLayout) -> bool:
    """Whether the band table of the store behind *db* (a connection or cursor) holds the stored
    signatures' keys in *layout*: the layout is recorded, and the table is not empty while
    signatures exist (it was dropped or lost)."""
    row = db.execute("SELECT value FROM settings WHERE name = 'band_layout'").fetchone()
    if row is None or row[0] != layout.name:
        return False
    has_bands = db.execute("SELECT 1 FROM bands LIMIT 1").fetchone() is not None
    return has_bands or db.execute("SELECT 1 FROM signatures LIMIT 1").fetchone() is None


def story_day(published: str | None, fetched_at: str) -> int:
    """The day a story is dated by, kept beside its signature as evidence (never to skip a
    comparison): its publication date when the page gives a plausible one (not after the fetch),
    else the day it was fetched."""
    fetched = clock.day_of(fetched_at)
    if fetched is None:
        fetched = clock.today()
    day = clock.day_of(published) if published else None
    return day if day is not None and day <= fetched + 1 else fetched


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
    def add(self, article: dict[str, Any], signature: Signature, page: PageFetch) -> bool:
        """Store *article* (a version of the page *page* names), its *signature* and the
        signature's band keys in one transaction, and record the fetch of the page.

        Returns False, storing nothing, when this version of the URL is already stored.
        """

    @abstractmethod
    def page(self, keys: list[str]) -> PageState | None:
        """The state of the page known under any of *keys* (see crawler.urls.page_key)."""

    def page_and_candidates(
        self, page_keys: list[str], band_keys: np.ndarray, stored_since: str | None = None
    ) -> tuple[PageState | None, IndexRows | None]:
        """page() and candidates() together (a store across the network asks both in one round
        trip); without band keys, no candidates (None)."""
        state = self.page(page_keys)
        return state, self.candidates(band_keys, stored_since) if len(band_keys) else None

    @abstractmethod
    def touch_page(self, page: PageFetch) -> None:
        """Record a fetch that brought nothing new (304 Not Modified, or the same text)."""

    @abstractmethod
    def update_text(self, url: str, text: str, word_count: int, signature: Signature) -> bool:
        """Replace a stored article's text and signature (after boilerplate re-cleaning)."""

    @abstractmethod
    def candidates(self, keys: np.ndarray, stored_since: str | None = None) -> IndexRows:
        """The current stored articles with a band among *keys* (see BandLayout.keys), oldest
        first; with *stored_since* (ISO time), only those fetched since then."""

    @abstractmethod
    def identity(self) -> str:
        """A name of this store, made when it was created: files derived from it carry it."""

    @abstractmethod
    def last_article_id(self) -> int:
        """The id of the article stored last (0 for an empty store)."""

    @abstractmethod
    def signatures_after(self, after: int) -> Iterator[tuple[list[int], np.ndarray]]:
        """The stored signatures of the articles after id *after*, in slices of (ids, matrix)."""

    @abstractmethod
    def last_fetched_at(self) -> str | None:
        """When the article stored last was fetched (None for an empty store)."""

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
        DROP INDEX IF EXISTS articles_site;
        CREATE TABLE IF NOT EXISTS signatures (
            article_id INTEGER PRIMARY KEY REFERENCES articles (id) ON DELETE CASCADE,
            minhash BLOB NOT NULL,
            shingle_count INTEGER NOT NULL,
            shingles BLOB NOT NULL,
            window_day INTEGER NOT NULL
        );
        DROP INDEX IF EXISTS signatures_window;
        CREATE TABLE IF NOT EXISTS bands (
            band INTEGER NOT NULL,
            article_id INTEGER NOT NULL,
            PRIMARY KEY (band, article_id)
        ) WITHOUT ROWID;
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

    def __init__(
        self, path: Path, signature_scheme: str, create: bool = True, layout: BandLayout | None = None
    ) -> None:
        self.path = Path(path)
        self.layout = layout
        self._checkpointer: _Checkpointer | None = None
        if not create and not self.path.exists():
            raise StoreError(f"there is no article store at {self.path}; check DATA_DIR")
        try:
            self.path.parent.mkdir(parents=True, exist_ok=True)
            # The connection is used from one writer thread at a time, never concurrently.
            self._db = sqlite3.connect(self.path, check_same_thread=False, isolation_level=None)
            # Small pages for a new store: an article's 64 band rows land on 64 pages of the band
            # table, and each is written whole at commit; 1 KiB pages halve what a commit writes.
            self._db.execute(f"PRAGMA page_size={PAGE_BYTES}")
            self._db.execute("PRAGMA journal_mode=WAL")
            self._db.execute("PRAGMA synchronous=NORMAL")
            self._db.execute("PRAGMA busy_timeout=10000")
            self._db.execute("PRAGMA foreign_keys=ON")
            # Band lookups and inserts touch pages all over the band table's B-tree.
            self._db.execute(f"PRAGMA cache_size=-{CACHE_KIB}")
            self._db.executescript(self.SCHEMA)
            self._add_missing_columns()
        except (OSError, sqlite3.Error) as exc:
            raise StoreError(
                f"cannot open the article store {self.path}: {exc}; set DATA_DIR to a writable directory"
            ) from exc
        self._check_signature_scheme(signature_scheme)
        if layout is not None:
            self._prepare_bands(layout)

    def _prepare_bands(self, layout: BandLayout) -> None:
        """Make the band table match *layout*: a store written before it existed, or with another
        layout, has its band keys rebuilt from the stored signatures, in one transaction."""
        if bands_match(self._db, layout):
            return
        cursor = self._db.cursor()
        cursor.execute("BEGIN IMMEDIATE")
        try:
            row = cursor.execute("SELECT value FROM settings WHERE name = 'band_layout'").fetchone()
            if not bands_match(cursor, layout):  # another process may have done it meanwhile
                cursor.execute("DELETE FROM bands")
                rebuild_bands(
                    str(self.path),
                    layout,
                    row[0] if row else None,
                    self._signature_slices(cursor),
                    lambda ids, keys: self._insert_bands(cursor, ids, keys),
                )
                cursor.execute(
                    "INSERT INTO settings (name, value) VALUES ('band_layout', ?) "
                    "ON CONFLICT (name) DO UPDATE SET value = excluded.value",
                    (layout.name,),
                )
            cursor.execute("COMMIT")
        except BaseException:
            cursor.execute("ROLLBACK")
            raise

    def _signature_slices(self, cursor: Any, after: int = 0) -> Iterator[tuple[list[int], np.ndarray]]:
        while rows := cursor.execute(
            "SELECT article_id, minhash FROM signatures WHERE article_id > ? ORDER BY article_id LIMIT ?",
            (after, REBUILD_SLICE),
        ).fetchall():
            after = rows[-1][0]
            yield (
                [r[0] for r in rows],
                np.frombuffer(b"".join(r[1] for r in rows), dtype="<u4").reshape(len(rows), -1),
            )

    def _insert_bands(self, cursor: Any, ids: list[int], keys: np.ndarray) -> None:
        rows = keys.shape[1]
        if len(ids) == 1:  # one statement for an article's rows: a third of executemany's cost
            values = np.empty(2 * rows, dtype=np.int64)
            values[0::2] = keys.ravel().astype(np.int64)
            values[1::2] = ids[0]
            cursor.execute(
                f"INSERT OR IGNORE INTO bands (band, article_id) VALUES {', '.join(['(?, ?)'] * rows)}",
                values.tolist(),
            )
            return
        cursor.executemany(
            "INSERT OR IGNORE INTO bands (band, article_id) VALUES (?, ?)",
            zip(keys.ravel().tolist(), np.repeat(ids, rows).tolist()),
        )

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

    def add(self, article: dict[str, Any], signature: Signature, page: PageFetch) -> bool:
        assert self.layout is not None, "the store was opened without a band layout"
        if self._checkpointer is None:
            self._checkpointer = _Checkpointer(self.path)
            self._db.execute("PRAGMA wal_autocheckpoint=0")  # the checkpointer's job now
        values = [article.get(column) for column in ARTICLE_COLUMNS]
        values[ARTICLE_COLUMNS.index("authors")] = json.dumps(article.get("authors") or [])
        values[ARTICLE_COLUMNS.index("version")] = article.get("version") or 1
        keys = self.layout.keys(signature.hashvalues[np.newaxis, :])
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
                    story_day(article.get("published"), article["fetched_at"]),
                ),
            )
            self._insert_bands(cursor, [article_id], keys)  # type: ignore[list-item]
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
        assert self.layout is not None, "the store was opened without a band layout"
        cursor = self._db.cursor()
        cursor.execute("BEGIN IMMEDIATE")
        try:
            row = cursor.execute(
                "SELECT a.id, s.minhash FROM articles a JOIN signatures s ON s.article_id = a.id "
                "WHERE a.url = ? AND a.current = 1",
                (url,),
            ).fetchone()
            updated = row is not None
            if updated:
                article_id, old = row
                cursor.execute(
                    "UPDATE articles SET text = ?, word_count = ? WHERE id = ?",
                    (text, word_count, article_id),
                )
                cursor.execute(
                    "UPDATE signatures SET minhash = ?, shingle_count = ?, shingles = ? WHERE article_id = ?",
                    (
                        signature.to_bytes(),
                        signature.shingle_count,
                        signature.shingles_to_bytes(),
                        article_id,
                    ),
                )
                old_keys = self.layout.keys(np.frombuffer(old, dtype="<u4")[np.newaxis, :].astype(np.uint32))
                cursor.executemany(
                    "DELETE FROM bands WHERE band = ? AND article_id = ?",
                    [(key, article_id) for key in old_keys.ravel().tolist()],
                )
                self._insert_bands(
                    cursor, [article_id], self.layout.keys(signature.hashvalues[np.newaxis, :])
                )
            cursor.execute("COMMIT")
        except BaseException:
            cursor.execute("ROLLBACK")
            raise
        return updated

    def candidates(self, keys: np.ndarray, stored_since: str | None = None) -> IndexRows:
        assert self.layout is not None, "the store was opened without a band layout"
        keys_list = [int(k) for k in np.asarray(keys).ravel()]
        query = (
            "SELECT a.id, a.url, a.cluster_id, a.duplicate_of, s.minhash, s.shingle_count "
            "FROM articles a JOIN signatures s ON s.article_id = a.id "
            f"WHERE a.id IN (SELECT article_id FROM bands WHERE band IN ({', '.join('?' * len(keys_list))})) "
            "AND a.current = 1"
        )
        if stored_since is not None:
            query += " AND a.fetched_at >= ?"
            keys_list.append(stored_since)  # type: ignore[arg-type]
        try:
            rows = self._db.execute(query + " ORDER BY a.id", keys_list).fetchall()
        except sqlite3.DatabaseError as exc:
            raise StoreError(
                f"the cold near-duplicate index in {self.path} cannot be read: {exc}; restore the "
                "store from a backup, or run `sqlite3 articles.sqlite3 'DROP TABLE bands'` to have "
                "the next run rebuild it from the stored signatures"
            ) from exc
        return IndexRows.from_rows(rows, self.layout.num_perm)

    def identity(self) -> str:
        self._db.execute(
            "INSERT INTO settings (name, value) VALUES ('store_id', ?) ON CONFLICT (name) DO NOTHING",
            (uuid.uuid4().hex,),
        )
        return str(self._db.execute("SELECT value FROM settings WHERE name = 'store_id'").fetchone()[0])

    def last_article_id(self) -> int:
        return int(self._db.execute("SELECT COALESCE(MAX(id), 0) FROM articles").fetchone()[0])

    def signatures_after(self, after: int) -> Iterator[tuple[list[int], np.ndarray]]:
        return self._signature_slices(self._db.cursor(), after)

    def last_fetched_at(self) -> str | None:
        row = self._db.execute("SELECT fetched_at FROM articles ORDER BY id DESC LIMIT 1").fetchone()
        return row[0] if row else None

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
        if self._checkpointer is not None:
            self._checkpointer.stop()
        self._db.close()


class _Checkpointer:
    """Copies the write-ahead log back into the database from a thread of its own, every second.

    SQLite does it in the writing connection once the log passes 1000 pages, and an article's
    64 band rows dirty dozens of pages all over the band table: the write that triggers it would
    wait tens of milliseconds. A passive checkpoint beside the writer never blocks it.
    """

    def __init__(self, path: Path, every_seconds: float = 1.0) -> None:
        self._db = sqlite3.connect(path, check_same_thread=False, isolation_level=None)
        self._db.execute("PRAGMA busy_timeout=10000")
        self._every = every_seconds
        self._stopped = threading.Event()
        self._thread = threading.Thread(target=self._run, name="store-checkpoint", daemon=True)
        self._thread.start()

    def _run(self) -> None:
        while not self._stopped.wait(self._every):
            try:
                self._db.execute("PRAGMA wal_checkpoint(PASSIVE)")
            except sqlite3.Error as exc:  # a busy or full disk: the log waits for the next try
                logger.debug("WAL checkpoint skipped: %s", exc)

    def stop(self) -> None:
        self._stopped.set()
        self._thread.join()
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


def open_store(
    config: StoreConfig, signature_scheme: str, create: bool = True, layout: BandLayout | None = None
) -> ArticleStore:
    """Open the article store of *config* (creating it unless *create* is off).

    Only a store opened with the band *layout* writes articles and looks up candidates; opening
    it so also builds its band table if it has none yet, or one of another layout.
    """
    if config.backend == "sqlite":
        return SQLiteArticleStore(
            Path(config.data_dir) / "articles.sqlite3", signature_scheme, create, layout
        )
    if config.backend == "postgres":
        from .postgres import PostgresArticleStore

        return PostgresArticleStore(
            config.postgres_dsn, config.postgres_schema, signature_scheme, create, layout=layout
        )
    raise StoreError(f"unknown STORAGE_BACKEND {config.backend!r}; use 'sqlite' or 'postgres'")
