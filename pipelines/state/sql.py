"""The article store, page history and boilerplate statistics in SQL, written once for SQLite and
PostgreSQL; what differs between the two is in `Dialect` and in each backend's `Database`.

Every stored signature's LSH band keys sit in the table `bands` behind a B-tree, written in the
same transaction as the article: the cold near-duplicate index. A lookup reads only the rows of
the looked-up keys, so neither the crawler's memory nor its start-up grows with the archive.
"""

from __future__ import annotations

import functools
import json
import logging
import uuid
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from typing import Any, Protocol, TypeVar

import numpy as np

from pipelines import clock
from pipelines.origin.election import CopyEvidence, Origin
from pipelines.signatures import BandLayout, Signature, shingles_from_bytes

from .interfaces import ARTICLE_COLUMNS, ClusterMember, IndexRows, PageFetch, PageState, StoreError

logger = logging.getLogger(__name__)
T = TypeVar("T")

# Band keys are rebuilt from the stored signatures this many at a time (upgrades, layout changes).
REBUILD_SLICE = 20_000


@dataclass(frozen=True)
class Dialect:
    """What SQLite and PostgreSQL spell differently. Queries are written with `?` placeholders."""

    name: str
    placeholder: str
    serial_key: str  # an auto-numbered primary key
    integer: str  # a 64-bit integer (SQLite's INTEGER primary key is its row id: no extra index)
    blob: str
    real: str
    boolean: str
    without_rowid: str  # a table that is its own primary-key B-tree
    # Takes a named lock until the transaction ends (None: a write transaction is exclusive already).
    transaction_lock: str | None
    # Sends a list of integers as one array (PostgreSQL), not as a placeholder each (SQLite).
    integer_arrays: bool = False

    def insert_ignoring_duplicates(self, insert: str) -> str:
        """*insert* ("INSERT INTO ... VALUES ...") made to skip rows already there. SQLite's own
        INSERT OR IGNORE costs a third of its ON CONFLICT DO NOTHING on the band rows."""
        if self.name == "sqlite":
            return insert.replace("INSERT INTO", "INSERT OR IGNORE INTO", 1)
        return insert + " ON CONFLICT DO NOTHING"

    def any_integer(self, column: str, values: list[int]) -> tuple[str, list[Any]]:
        """`column` is one of `values`: the SQL (with `?` placeholders) and its parameters."""
        if self.integer_arrays:
            return f"{column} = ANY(?)", [values]
        return _in_list(column, len(values)), values

    def sql(self, text: str) -> str:
        return text if self.placeholder == "?" else text.replace("?", self.placeholder)

    def schema(self) -> str:
        return SCHEMA.format(
            serial=self.serial_key,
            integer=self.integer,
            blob=self.blob,
            real=self.real,
            boolean=self.boolean,
            without_rowid=self.without_rowid,
        )


SQLITE = Dialect(
    "sqlite", "?", "INTEGER PRIMARY KEY", "INTEGER", "BLOB", "REAL", "INTEGER", " WITHOUT ROWID", None
)
POSTGRES = Dialect(
    "postgres",
    "%s",
    "BIGSERIAL PRIMARY KEY",
    "BIGINT",
    "BYTEA",
    "DOUBLE PRECISION",
    "BOOLEAN",
    "",
    "SELECT pg_advisory_xact_lock(hashtext(current_schema() || ?))",
    integer_arrays=True,
)

SCHEMA = """
CREATE TABLE IF NOT EXISTS articles (
    id {serial},
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
    similarity {real},
    origin_url TEXT,
    origin_reason TEXT,
    origin_confidence {real},
    wire TEXT,
    site_name TEXT,
    credited TEXT,
    version INTEGER NOT NULL DEFAULT 1,
    previous_id {integer} REFERENCES articles (id),
    text_hash TEXT,
    current {boolean} NOT NULL DEFAULT TRUE,
    warc_file TEXT,
    warc_offset {integer},
    UNIQUE (url, version)
);
CREATE INDEX IF NOT EXISTS articles_cluster ON articles (cluster_id);
DROP INDEX IF EXISTS articles_site;
CREATE TABLE IF NOT EXISTS signatures (
    article_id {integer} PRIMARY KEY REFERENCES articles (id) ON DELETE CASCADE,
    minhash {blob} NOT NULL,
    shingle_count INTEGER NOT NULL,
    shingles {blob} NOT NULL,
    window_day INTEGER NOT NULL
);
DROP INDEX IF EXISTS signatures_window;
CREATE TABLE IF NOT EXISTS bands (
    band {integer} NOT NULL,
    article_id {integer} NOT NULL,
    PRIMARY KEY (band, article_id)
){without_rowid};
CREATE TABLE IF NOT EXISTS pages (
    page_key TEXT PRIMARY KEY,
    article_id {integer} REFERENCES articles (id),
    etag TEXT,
    last_modified TEXT,
    fetched_at TEXT NOT NULL,
    payload_digest TEXT
);
CREATE TABLE IF NOT EXISTS settings (name TEXT PRIMARY KEY, value TEXT NOT NULL);
"""

# Columns added after the first release of the schema: (table, column, SQL type).
ADDED_COLUMNS = (
    ("articles", "warc_file", "TEXT"),
    ("articles", "warc_offset", "BIGINT"),
    ("pages", "payload_digest", "TEXT"),
    ("articles", "origin_url", "TEXT"),
    ("articles", "origin_reason", "TEXT"),
    ("articles", "origin_confidence", "DOUBLE PRECISION"),
    ("articles", "wire", "TEXT"),
    ("articles", "site_name", "TEXT"),
    ("articles", "credited", "TEXT"),
)

SEGMENTS_SCHEMA = (
    "CREATE TABLE IF NOT EXISTS site_segments ("
    " site TEXT PRIMARY KEY, state TEXT NOT NULL, updated_at TEXT NOT NULL)"
)


class Cursor(Protocol):
    """What a backend hands an operation: sqlite3's cursor and psycopg's connection both are."""

    def execute(self, query: Any, params: Any = ...) -> Any: ...


class Database(Protocol):
    """A backend's connections: operations run on the calling thread's own connection."""

    dialect: Dialect
    where: str  # names the database in messages, without secrets

    def read(self, operation: Callable[[Cursor], T]) -> T:
        """Run *operation* outside a transaction."""
        ...

    def write(self, operation: Callable[[Cursor], T]) -> T:
        """Run *operation* in one transaction, committed if it returns, rolled back if it raises."""
        ...

    def read_pair(self, first: tuple[str, Any], second: tuple[str, Any]) -> tuple[list[tuple], list[tuple]]:
        """The rows of two (query, params) reads, in one round trip where the backend can."""
        ...

    def stream(self, query: str, params: tuple = ()) -> Iterator[tuple]:
        """The rows of a long query, without holding them all."""
        ...


def _in_list(column: str, count: int) -> str:
    return f"{column} IN ({', '.join('?' * count)})"


class SQLStore:
    """ArticleStore and PageHistory over a backend's Database (see pipelines.state.interfaces)."""

    def __init__(
        self,
        db: Database,
        signature_scheme: str | None,
        layout: BandLayout | None,
        sign: Callable[[str], Signature] | None = None,
    ) -> None:
        self.db = db
        self.layout = layout
        self.num_perm = layout.num_perm if layout is not None else 0
        self._check_signature_scheme(signature_scheme, sign)
        if layout is not None:
            self._prepare_bands(layout)

    def _sql(self, text: str) -> str:
        return self.db.dialect.sql(text)

    # --- opening ------------------------------------------------------------------------------

    def _check_signature_scheme(self, scheme: str | None, sign: Callable[[str], Signature] | None) -> None:
        """Signatures made with other permutations or shingles cannot be compared with new ones;
        signatures made by an earlier way of reading words are made again from the stored texts
        (with *sign*), so old and new ones are never mixed."""
        if scheme is None:  # reading only (reports, exports)
            return

        def check(db: Cursor) -> str:
            db.execute(
                self._sql(
                    "INSERT INTO settings (name, value) VALUES ('signature_scheme', ?) ON CONFLICT DO NOTHING"
                ),
                (scheme,),
            )
            return str(db.execute("SELECT value FROM settings WHERE name = 'signature_scheme'").fetchone()[0])

        stored = self.db.write(check)
        if stored == scheme:
            return
        if sign is not None and stored.partition("/")[2] == scheme.partition("/")[2]:
            self._resign(stored, scheme, sign)
            return
        raise StoreError(
            f"the store ({self.db.where}) holds signatures built as {stored!r}, but the settings "
            f"ask for {scheme!r}; restore NEARDUP_NUM_PERM and NEARDUP_SHINGLE_SIZE or use a new store"
        )

    def _resign(self, stored: str, scheme: str, sign: Callable[[str], Signature]) -> None:
        """Sign every stored text again, in one transaction, empty the band table (rebuilt next,
        see `_prepare_bands`) and give the store a new identity (see `identity`)."""
        select = self._sql(
            "SELECT s.article_id, a.text FROM signatures s JOIN articles a ON a.id = s.article_id "
            "WHERE s.article_id > ? ORDER BY s.article_id LIMIT ?"
        )
        update = self._sql(
            "UPDATE signatures SET minhash = ?, shingle_count = ?, shingles = ? WHERE article_id = ?"
        )

        def resign(db: Cursor) -> int:
            if self.db.dialect.transaction_lock:  # workers starting together wait for one of them
                db.execute(self._sql(self.db.dialect.transaction_lock), (":signatures",))
            if (
                db.execute("SELECT value FROM settings WHERE name = 'signature_scheme'").fetchone()[0]
                == scheme
            ):
                return 0  # another process did it meanwhile
            done, after = 0, 0
            while rows := db.execute(select, (after, REBUILD_SLICE)).fetchall():
                after = rows[-1][0]
                for article_id, text in rows:
                    signature = sign(text)
                    db.execute(
                        update,
                        (
                            signature.to_bytes(),
                            signature.shingle_count,
                            signature.shingles_to_bytes(),
                            article_id,
                        ),
                    )
                done += len(rows)
                logger.info("signatures made again: %d", done)
            db.execute("DELETE FROM bands")
            # files derived from the store's keys (the cold index's filter) are made anew
            db.execute("DELETE FROM settings WHERE name = 'store_id'")
            db.execute(self._sql("UPDATE settings SET value = ? WHERE name = 'signature_scheme'"), (scheme,))
            return done

        logger.warning(
            "the store (%s) holds signatures built as %r; making them again as %r from the stored "
            "texts, once",
            self.db.where,
            stored,
            scheme,
        )
        done = self.db.write(resign)
        logger.warning("signatures of %s made again: %d", self.db.where, done)

    def _prepare_bands(self, layout: BandLayout) -> None:
        """Make the band table match *layout*: a store written before it existed, or with another
        layout, has its band keys rebuilt from the stored signatures, in one transaction."""
        if self.db.read(lambda db: bands_match(db, layout)):
            return

        def rebuild(db: Cursor) -> None:
            if self.db.dialect.transaction_lock:  # workers starting together wait for one of them
                db.execute(self._sql(self.db.dialect.transaction_lock), (":bands",))
            if bands_match(db, layout):  # another process did it meanwhile
                return
            row = db.execute("SELECT value FROM settings WHERE name = 'band_layout'").fetchone()
            db.execute("DELETE FROM bands")
            rebuild_bands(
                self.db.where,
                layout,
                row[0] if row else None,
                self._signature_slices(db, 0),
                lambda ids, keys: self._insert_bands(db, ids, keys),
            )
            db.execute(
                self._sql(
                    "INSERT INTO settings (name, value) VALUES ('band_layout', ?) "
                    "ON CONFLICT (name) DO UPDATE SET value = excluded.value"
                ),
                (layout.name,),
            )

        self.db.write(rebuild)

    def _signature_slices(self, db: Cursor, after: int) -> Iterator[tuple[list[int], np.ndarray]]:
        while rows := db.execute(
            self._sql(
                "SELECT article_id, minhash FROM signatures WHERE article_id > ? ORDER BY article_id LIMIT ?"
            ),
            (after, REBUILD_SLICE),
        ).fetchall():
            after = rows[-1][0]
            yield (
                [r[0] for r in rows],
                np.frombuffer(b"".join(bytes(r[1]) for r in rows), dtype="<u4").reshape(len(rows), -1),
            )

    def _insert_bands(self, db: Cursor, ids: list[int], keys: np.ndarray) -> None:
        """The rows of up to a few hundred articles go in one statement: a statement per row
        costs three times as much."""
        per_article = keys.shape[1]
        batch = max(1, 512 // per_article)
        for start in range(0, len(ids), batch):
            chunk = keys[start : start + batch]
            values = np.empty((chunk.size, 2), dtype=np.int64)
            values[:, 0] = chunk.ravel().astype(np.int64)
            values[:, 1] = np.repeat(ids[start : start + batch], per_article)
            insert = f"INSERT INTO bands (band, article_id) VALUES {', '.join(['(?, ?)'] * len(values))}"
            db.execute(self._sql(self.db.dialect.insert_ignoring_duplicates(insert)), values.ravel().tolist())

    # --- articles -----------------------------------------------------------------------------

    def add(self, article: dict[str, Any], signature: Signature, page: PageFetch) -> bool:
        layout = self._layout()
        return self.db.write(lambda db: self._add_rows(db, article, signature, page, layout))

    def add_and_elect(
        self,
        article: dict[str, Any],
        signature: Signature,
        page: PageFetch,
        elect: Callable[[list[CopyEvidence]], Origin],
    ) -> tuple[Origin, int] | None:
        layout = self._layout()

        def write(db: Cursor) -> tuple[Origin, int] | None:
            # The story's lock first: an election elsewhere that rewrites a row this one updates
            # (a previous version's) then never waits on this transaction while holding the lock.
            self._lock_story(db, article["cluster_id"])
            if not self._add_rows(db, article, signature, page, layout):
                return None
            return self._elect_rows(db, article["cluster_id"], elect)

        return self.db.write(write)

    def _add_rows(
        self, db: Cursor, article: dict[str, Any], signature: Signature, page: PageFetch, layout: BandLayout
    ) -> bool:
        values = [article.get(column) for column in ARTICLE_COLUMNS]
        values[ARTICLE_COLUMNS.index("authors")] = json.dumps(article.get("authors") or [])
        values[ARTICLE_COLUMNS.index("version")] = article.get("version") or 1
        insert_article = self._sql(
            f"INSERT INTO articles ({', '.join(ARTICLE_COLUMNS)}) "
            f"VALUES ({', '.join('?' * len(ARTICLE_COLUMNS))}) ON CONFLICT (url, version) DO NOTHING RETURNING id"
        )
        row = db.execute(insert_article, values).fetchone()
        if row is None:
            return False
        article_id = row[0]
        db.execute(
            self._sql(
                "INSERT INTO signatures (article_id, minhash, shingle_count, shingles, window_day) "
                "VALUES (?, ?, ?, ?, ?)"
            ),
            (
                article_id,
                signature.to_bytes(),
                signature.shingle_count,
                signature.shingles_to_bytes(),
                story_day(article.get("published"), article["fetched_at"]),
            ),
        )
        self._insert_bands(db, [article_id], layout.keys(signature.hashvalues[np.newaxis, :]))
        if article.get("previous_id"):
            db.execute(
                self._sql("UPDATE articles SET current = FALSE WHERE id = ?"), (article["previous_id"],)
            )
        self._record_fetch(db, page, article_id)
        return True

    def update_text(self, url: str, text: str, word_count: int, signature: Signature) -> str | None:
        layout = self._layout()

        def write(db: Cursor) -> str | None:
            row = db.execute(
                self._sql(
                    "SELECT a.id, s.minhash, a.cluster_id FROM articles a "
                    "JOIN signatures s ON s.article_id = a.id WHERE a.url = ? AND a.current"
                ),
                (url,),
            ).fetchone()
            if row is None:
                return None
            article_id, old, cluster_id = row
            db.execute(
                self._sql("UPDATE articles SET text = ?, word_count = ? WHERE id = ?"),
                (text, word_count, article_id),
            )
            db.execute(
                self._sql(
                    "UPDATE signatures SET minhash = ?, shingle_count = ?, shingles = ? WHERE article_id = ?"
                ),
                (signature.to_bytes(), signature.shingle_count, signature.shingles_to_bytes(), article_id),
            )
            old_keys = layout.keys(np.frombuffer(bytes(old), dtype="<u4")[np.newaxis, :].astype(np.uint32))
            db.execute(
                self._sql(f"DELETE FROM bands WHERE article_id = ? AND {_in_list('band', old_keys.size)}"),
                [article_id, *old_keys.ravel().astype(np.int64).tolist()],
            )
            self._insert_bands(db, [article_id], layout.keys(signature.hashvalues[np.newaxis, :]))
            return str(cluster_id)

        return self.db.write(write)

    def _layout(self) -> BandLayout:
        if self.layout is None:
            raise StoreError("this store was opened for reading only (no band layout)")
        return self.layout

    # --- origins -------------------------------------------------------------------------------

    def elect_origin(
        self, cluster_id: str, elect: Callable[[list[CopyEvidence]], Origin]
    ) -> tuple[Origin, int] | None:
        def write(db: Cursor) -> tuple[Origin, int] | None:
            self._lock_story(db, cluster_id)
            return self._elect_rows(db, cluster_id, elect)

        return self.db.write(write)

    def _lock_story(self, db: Cursor, cluster_id: str) -> None:
        """One election of a story at a time, until the transaction ends (SQLite has one writer)."""
        if self.db.dialect.transaction_lock:
            db.execute(self._sql(self.db.dialect.transaction_lock), (f":origin:{cluster_id}",))

    def _elect_rows(
        self, db: Cursor, cluster_id: str, elect: Callable[[list[CopyEvidence]], Origin]
    ) -> tuple[Origin, int] | None:
        rows = db.execute(
            self._sql(
                "SELECT a.id, a.url, a.site, a.fetched_at, a.published, a.canonical_url, a.credited, "
                "a.site_name, s.minhash, s.shingle_count, a.origin_url, a.origin_reason, "
                "a.origin_confidence FROM articles a JOIN signatures s ON s.article_id = a.id "
                "WHERE a.cluster_id = ? AND a.current ORDER BY a.id"
            ),
            (cluster_id,),
        ).fetchall()
        if not rows:
            return None
        origin = elect(
            [
                CopyEvidence(
                    url=row[1],
                    site=row[2],
                    fetched_at=row[3],
                    published=row[4],
                    canonical_url=row[5],
                    credited=row[6],
                    site_name=row[7],
                    minhash=np.frombuffer(bytes(row[8]), dtype="<u4").astype(np.uint32),
                    shingle_count=int(row[9]),
                )
                for row in rows
            ]
        )
        stale = [
            row[0] for row in rows if tuple(row[10:13]) != (origin.url, origin.reason, origin.confidence)
        ]
        update = self._sql(
            "UPDATE articles SET origin_url = ?, origin_reason = ?, origin_confidence = ? WHERE id = ?"
        )
        for article_id in stale:
            db.execute(update, (origin.url, origin.reason, origin.confidence, article_id))
        return origin, len(stale)

    # --- the cold index -----------------------------------------------------------------------

    def _candidates_query(self, keys: np.ndarray, stored_since: str | None) -> tuple[str, list[Any]]:
        bands, params = self.db.dialect.any_integer(
            "band", np.asarray(keys).ravel().astype(np.int64).tolist()
        )
        query = (
            "SELECT a.id, a.url, a.cluster_id, a.duplicate_of, s.minhash, s.shingle_count "
            "FROM articles a JOIN signatures s ON s.article_id = a.id "
            f"WHERE a.id IN (SELECT article_id FROM bands WHERE {bands}) AND a.current"
        )
        if stored_since is not None:
            query += " AND a.fetched_at >= ?"
            params = [*params, stored_since]
        return self._sql(query + " ORDER BY a.id"), params

    def candidates(self, keys: np.ndarray, stored_since: str | None = None) -> IndexRows:
        layout = self._layout()
        query, params = self._candidates_query(keys, stored_since)
        rows = self.db.read(lambda db: db.execute(query, params).fetchall())
        return IndexRows.from_rows(rows, layout.num_perm)

    def page_and_candidates(
        self, page_keys: list[str], band_keys: np.ndarray, stored_since: str | None = None
    ) -> tuple[PageState | None, IndexRows | None]:
        layout = self._layout()
        page_query = self._page_query(len(page_keys))
        if not len(band_keys):
            return self._page_state(
                page_keys, self.db.read(lambda db: db.execute(page_query, page_keys).fetchall())
            ), None
        query, params = self._candidates_query(band_keys, stored_since)
        pages, rows = self.db.read_pair((page_query, page_keys), (query, params))
        return self._page_state(page_keys, pages), IndexRows.from_rows(rows, layout.num_perm)

    def shingles(self, urls: list[str]) -> dict[str, np.ndarray]:
        if not urls:
            return {}
        query = self._sql(
            "SELECT a.url, s.shingles FROM articles a JOIN signatures s ON s.article_id = a.id "
            f"WHERE {_in_list('a.url', len(urls))} AND a.current"
        )
        rows = self.db.read(lambda db: db.execute(query, urls).fetchall())
        return {url: shingles_from_bytes(bytes(data)) for url, data in rows}

    def identity(self) -> str:
        def make(db: Cursor) -> str:
            db.execute(
                self._sql("INSERT INTO settings (name, value) VALUES ('store_id', ?) ON CONFLICT DO NOTHING"),
                (uuid.uuid4().hex,),
            )
            return str(db.execute("SELECT value FROM settings WHERE name = 'store_id'").fetchone()[0])

        return self.db.write(make)

    def last_article_id(self) -> int:
        return int(
            self.db.read(lambda db: db.execute("SELECT COALESCE(MAX(id), 0) FROM articles").fetchone()[0])
        )

    def signatures_after(self, after: int) -> Iterator[tuple[list[int], np.ndarray]]:
        def first_slice(db: Cursor, after: int) -> tuple[list[int], np.ndarray] | None:
            return next(self._signature_slices(db, after), None)

        while (found := self.db.read(functools.partial(first_slice, after=after))) is not None:
            yield found
            after = found[0][-1]

    def last_fetched_at(self) -> str | None:
        row = self.db.read(
            lambda db: db.execute("SELECT fetched_at FROM articles ORDER BY id DESC LIMIT 1").fetchone()
        )
        return row[0] if row else None

    def articles(self) -> Iterator[dict[str, Any]]:
        names = (*ARTICLE_COLUMNS, "current")
        for row in self.db.stream(f"SELECT {', '.join(names)} FROM articles ORDER BY id"):
            article = dict(zip(names, row, strict=True))
            article["authors"] = json.loads(article["authors"])
            article["current"] = bool(article["current"])
            yield article

    def cluster_members(self) -> Iterator[ClusterMember]:
        for row in self.db.stream(
            "SELECT url, site, title, cluster_id, duplicate_of, similarity, origin_url, origin_reason, "
            "origin_confidence, wire FROM articles WHERE current ORDER BY id"
        ):
            yield ClusterMember(*row)

    # --- page history -------------------------------------------------------------------------

    def _page_query(self, count: int) -> str:
        return self._sql(
            "SELECT p.page_key, p.article_id, a.url, a.version, a.text_hash, a.cluster_id, a.duplicate_of, "
            "a.similarity, p.etag, p.last_modified, p.fetched_at, p.payload_digest "
            f"FROM pages p LEFT JOIN articles a ON a.id = p.article_id WHERE {_in_list('p.page_key', count)}"
        )

    @staticmethod
    def _page_state(keys: list[str], rows: list[tuple]) -> PageState | None:
        known = {row[0]: row[1:] for row in rows}
        for key in keys:  # the first key known wins: the keys come in order
            if key in known:
                row = known[key]
                return PageState(row[0], row[1], row[2] or 0, *row[3:])
        return None

    def page(self, keys: list[str]) -> PageState | None:
        query = self._page_query(len(keys))
        return self._page_state(keys, self.db.read(lambda db: db.execute(query, keys).fetchall()))

    def touch_page(self, page: PageFetch) -> None:
        self.db.write(lambda db: self._record_fetch(db, page, None))

    def _record_fetch(self, db: Cursor, page: PageFetch, article_id: int | None) -> None:
        if article_id is None:  # a fetch that stored nothing: new URLs join the page's article
            row = db.execute(
                self._sql(
                    f"SELECT article_id FROM pages WHERE {_in_list('page_key', len(page.keys))} "
                    "AND article_id IS NOT NULL LIMIT 1"
                ),
                page.keys,
            ).fetchone()
            article_id = row[0] if row else None
        upsert = self._sql(
            "INSERT INTO pages (page_key, article_id, etag, last_modified, fetched_at, payload_digest) "
            "VALUES (?, ?, ?, ?, ?, ?) "
            "ON CONFLICT (page_key) DO UPDATE SET article_id = COALESCE(excluded.article_id, pages.article_id), "
            "etag = COALESCE(excluded.etag, pages.etag), "
            "last_modified = COALESCE(excluded.last_modified, pages.last_modified), "
            "fetched_at = excluded.fetched_at, "
            "payload_digest = COALESCE(excluded.payload_digest, pages.payload_digest)"
        )
        for key in page.keys:
            db.execute(
                upsert, (key, article_id, page.etag, page.last_modified, page.fetched_at, page.payload_digest)
            )


class SQLSegmentStats:
    """SegmentStats over a backend's Database: one row per site."""

    def __init__(self, db: Database) -> None:
        self.db = db
        db.write(lambda cursor: cursor.execute(SEGMENTS_SCHEMA))

    def load(self, site: str) -> dict[str, Any] | None:
        query = self.db.dialect.sql("SELECT state FROM site_segments WHERE site = ?")
        row = self.db.read(lambda db: db.execute(query, (site,)).fetchone())
        return json.loads(row[0]) if row else None

    def save(self, states: dict[str, dict[str, Any]]) -> None:
        upsert = self.db.dialect.sql(
            "INSERT INTO site_segments (site, state, updated_at) VALUES (?, ?, ?) "
            "ON CONFLICT (site) DO UPDATE SET state = excluded.state, updated_at = excluded.updated_at"
        )
        now = clock.now_iso()

        def write(db: Cursor) -> None:
            for site, state in states.items():
                db.execute(upsert, (site, json.dumps(state, separators=(",", ":")), now))

        self.db.write(write)


def rebuild_bands(
    where: str,
    layout: BandLayout,
    previous: str | None,
    slices: Iterator[tuple[list[int], np.ndarray]],
    insert: Callable[[list[int], np.ndarray], None],
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


def bands_match(db: Cursor, layout: BandLayout) -> bool:
    """Whether the band table holds the stored signatures' keys in *layout*: the layout is
    recorded, and the table is not empty while signatures exist (it was dropped or lost)."""
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
