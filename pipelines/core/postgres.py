"""The PostgreSQL article store and boilerplate statistics, shared by several crawler processes.

Settings: STORAGE_BACKEND = "postgres", STORAGE_POSTGRES_DSN, STORAGE_POSTGRES_SCHEMA,
STORAGE_RETRY_SECONDS. Every crawler process opens its own connections; the schema is created on
first use. A connection lost mid-crawl (PostgreSQL restarted, a network blip) is reopened and the
operation retried for up to STORAGE_RETRY_SECONDS; writes are idempotent (a unique key on
(url, version)), so a retried write never stores an article twice.
"""

from __future__ import annotations

import json
import logging
import re
import time
import uuid
from collections.abc import Callable, Iterator
from typing import Any, TypeVar

import numpy as np
import psycopg
from psycopg import sql

from .index import BandLayout
from .signatures import Signature, shingles_from_bytes
from .store import (
    ADDED_COLUMNS,
    ARTICLE_COLUMNS,
    REBUILD_SLICE,
    ArticleStore,
    ClusterMember,
    IndexRows,
    PageFetch,
    PageState,
    SegmentStatsStore,
    StoreError,
    bands_match,
    rebuild_bands,
    story_day,
)

logger = logging.getLogger(__name__)
T = TypeVar("T")
_SCHEMA_NAME = re.compile(r"^[a-z_][a-z0-9_]{0,62}$")
_PASSWORD_KEYWORD = re.compile(r"password=\S+")
_PASSWORD_IN_URL = re.compile(r"(//[^:/@]+):[^@/]+@")

SCHEMA = """
    CREATE TABLE IF NOT EXISTS articles (
        id BIGSERIAL PRIMARY KEY,
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
        similarity DOUBLE PRECISION,
        version INTEGER NOT NULL DEFAULT 1,
        previous_id BIGINT REFERENCES articles (id),
        text_hash TEXT,
        current BOOLEAN NOT NULL DEFAULT TRUE,
        warc_file TEXT,
        warc_offset BIGINT,
        UNIQUE (url, version)
    );
    CREATE INDEX IF NOT EXISTS articles_cluster ON articles (cluster_id);
    DROP INDEX IF EXISTS articles_site;
    CREATE TABLE IF NOT EXISTS signatures (
        article_id BIGINT PRIMARY KEY REFERENCES articles (id) ON DELETE CASCADE,
        minhash BYTEA NOT NULL,
        shingle_count INTEGER NOT NULL,
        shingles BYTEA NOT NULL,
        window_day INTEGER NOT NULL
    );
    DROP INDEX IF EXISTS signatures_window;
    CREATE TABLE IF NOT EXISTS bands (
        band BIGINT NOT NULL,
        article_id BIGINT NOT NULL,
        PRIMARY KEY (band, article_id)
    );
    CREATE TABLE IF NOT EXISTS pages (
        page_key TEXT PRIMARY KEY,
        article_id BIGINT REFERENCES articles (id),
        etag TEXT,
        last_modified TEXT,
        fetched_at TEXT NOT NULL,
        payload_digest TEXT
    );
    CREATE TABLE IF NOT EXISTS settings (name TEXT PRIMARY KEY, value TEXT NOT NULL);
    CREATE TABLE IF NOT EXISTS site_segments (
        site TEXT PRIMARY KEY, state TEXT NOT NULL, updated_at TIMESTAMPTZ NOT NULL DEFAULT now()
    );
    CREATE TABLE IF NOT EXISTS runs (
        id BIGSERIAL PRIMARY KEY, run TEXT NOT NULL, worker TEXT NOT NULL, started TEXT NOT NULL,
        summary TEXT NOT NULL
    );
"""


def prepare_schema(conn: psycopg.Connection) -> None:
    """Create the tables; workers starting together take turns (IF NOT EXISTS is not atomic)."""
    with conn.transaction():
        conn.execute("SELECT pg_advisory_xact_lock(hashtext(current_schema()))")
        conn.execute(SCHEMA)
        for table, column, kind in ADDED_COLUMNS:  # stores made by earlier versions of the crawler
            conn.execute(f"ALTER TABLE {table} ADD COLUMN IF NOT EXISTS {column} {kind}")


class _Connection:
    """One connection to the schema, reopened when PostgreSQL goes away."""

    def __init__(self, dsn: str, schema: str, retry_seconds: float = 30.0) -> None:
        if not _SCHEMA_NAME.match(schema):
            raise StoreError(f"STORAGE_POSTGRES_SCHEMA {schema!r} must be a lower-case SQL name")
        self.dsn = dsn
        self.schema = schema
        self.retry_seconds = retry_seconds
        self._conn: psycopg.Connection | None = None
        self._connect()

    def _connect(self) -> psycopg.Connection:
        try:
            conn = psycopg.connect(self.dsn, autocommit=True, connect_timeout=10)
            try:
                conn.execute(sql.SQL("CREATE SCHEMA IF NOT EXISTS {}").format(sql.Identifier(self.schema)))
            except psycopg.errors.UniqueViolation:
                pass  # another worker created it at the same moment: IF NOT EXISTS is not atomic
            conn.execute(sql.SQL("SET search_path TO {}").format(sql.Identifier(self.schema)))
        except psycopg.Error as exc:
            raise StoreError(
                f"cannot open the PostgreSQL store ({self._where()}): {exc}; "
                "check STORAGE_POSTGRES_DSN and that PostgreSQL is running"
            ) from exc
        self._conn = conn
        return conn

    def _where(self) -> str:
        dsn = _PASSWORD_IN_URL.sub(r"\1:***@", _PASSWORD_KEYWORD.sub("password=***", self.dsn))
        return f"schema {self.schema} at {dsn}"

    def run(self, operation: Callable[[psycopg.Connection], T]) -> T:
        """Run *operation*; on a lost connection, reconnect and run it again, for a while."""
        deadline = time.monotonic() + self.retry_seconds
        delay = 0.2
        while True:
            try:
                conn = self._conn if self._conn is not None and not self._conn.closed else self._connect()
                return operation(conn)
            except (psycopg.OperationalError, psycopg.InterfaceError, StoreError) as exc:
                self.close()
                if time.monotonic() + delay > deadline:
                    raise StoreError(f"the PostgreSQL store ({self._where()}) is unavailable: {exc}") from exc
                logger.warning("PostgreSQL connection lost (%s); reconnecting in %.1f s", exc, delay)
                time.sleep(delay)
                delay = min(delay * 2, 5.0)

    def close(self) -> None:
        if self._conn is not None:
            try:
                self._conn.close()
            except psycopg.Error:
                pass
            self._conn = None


class PostgresArticleStore(ArticleStore):
    """Articles, signatures and page records in PostgreSQL; the same tables as the SQLite store."""

    def __init__(
        self,
        dsn: str,
        schema: str,
        signature_scheme: str,
        create: bool = True,
        retry_seconds: float = 30.0,
        layout: BandLayout | None = None,
    ):
        if not dsn:
            raise StoreError("STORAGE_BACKEND is 'postgres' but STORAGE_POSTGRES_DSN is empty")
        self.layout = layout
        self._db = _Connection(dsn, schema, retry_seconds)
        self._db.run(lambda conn: self._prepare(conn, signature_scheme, create))
        if layout is not None:
            self._db.run(lambda conn: self._prepare_bands(conn, layout))

    def _prepare_bands(self, conn: psycopg.Connection, layout: BandLayout) -> None:
        """Make the band table match *layout* (as the SQLite store does); workers
        starting together wait for the one that builds it."""
        if bands_match(conn, layout):
            return
        with conn.transaction():
            conn.execute("SELECT pg_advisory_xact_lock(hashtext(current_schema() || ':bands'))")
            if bands_match(conn, layout):
                return
            current = conn.execute("SELECT value FROM settings WHERE name = 'band_layout'").fetchone()
            conn.execute("DELETE FROM bands")
            rebuild_bands(
                f"schema {self._db.schema}",
                layout,
                current[0] if current else None,
                self._signature_slices(conn),
                lambda ids, keys: self._insert_bands(conn, ids, keys),
            )
            conn.execute(
                "INSERT INTO settings (name, value) VALUES ('band_layout', %s) "
                "ON CONFLICT (name) DO UPDATE SET value = excluded.value",
                (layout.name,),
            )

    @staticmethod
    def _signature_slices(conn: psycopg.Connection, after: int = 0) -> Iterator[tuple[list[int], np.ndarray]]:
        while rows := conn.execute(
            "SELECT article_id, minhash FROM signatures WHERE article_id > %s ORDER BY article_id LIMIT %s",
            (after, REBUILD_SLICE),
        ).fetchall():
            after = rows[-1][0]
            yield (
                [r[0] for r in rows],
                np.frombuffer(b"".join(bytes(r[1]) for r in rows), dtype="<u4").reshape(len(rows), -1),
            )

    @staticmethod
    def _insert_bands(conn: psycopg.Connection, ids: list[int], keys: np.ndarray) -> None:
        conn.execute(
            "INSERT INTO bands (band, article_id) SELECT * FROM unnest(%s::bigint[], %s::bigint[]) "
            "ON CONFLICT DO NOTHING",
            (keys.ravel().astype(np.int64).tolist(), np.repeat(ids, keys.shape[1]).tolist()),
        )

    def _prepare(self, conn: psycopg.Connection, scheme: str, create: bool) -> None:
        exists = conn.execute("SELECT to_regclass('articles') IS NOT NULL").fetchone()[0]
        if not exists and not create:
            raise StoreError(
                f"there is no article store in schema {self._db.schema}; check STORAGE_POSTGRES_SCHEMA"
            )
        prepare_schema(conn)
        conn.execute(
            "INSERT INTO settings (name, value) VALUES ('signature_scheme', %s) ON CONFLICT DO NOTHING",
            (scheme,),
        )
        stored = conn.execute("SELECT value FROM settings WHERE name = 'signature_scheme'").fetchone()[0]
        if stored != scheme:
            raise StoreError(
                f"the store in schema {self._db.schema} holds signatures built as {stored!r}, but the settings ask "
                f"for {scheme!r}; restore NEARDUP_NUM_PERM and NEARDUP_SHINGLE_SIZE or use a new schema"
            )

    def add(self, article: dict[str, Any], signature: Signature, page: PageFetch) -> bool:
        assert self.layout is not None, "the store was opened without a band layout"
        keys = self.layout.keys(signature.hashvalues[np.newaxis, :])
        values = [article.get(column) for column in ARTICLE_COLUMNS]
        values[ARTICLE_COLUMNS.index("authors")] = json.dumps(article.get("authors") or [])
        values[ARTICLE_COLUMNS.index("version")] = article.get("version") or 1

        def write(conn: psycopg.Connection) -> bool:
            with conn.transaction():
                row = conn.execute(
                    f"INSERT INTO articles ({', '.join(ARTICLE_COLUMNS)}) "
                    f"VALUES ({', '.join(['%s'] * len(ARTICLE_COLUMNS))}) "
                    "ON CONFLICT (url, version) DO NOTHING RETURNING id",
                    values,
                ).fetchone()
                if row is None:
                    return False
                conn.execute(
                    "INSERT INTO signatures (article_id, minhash, shingle_count, shingles, window_day) "
                    "VALUES (%s, %s, %s, %s, %s)",
                    (
                        row[0],
                        signature.to_bytes(),
                        signature.shingle_count,
                        signature.shingles_to_bytes(),
                        story_day(article.get("published"), article["fetched_at"]),
                    ),
                )
                self._insert_bands(conn, [row[0]], keys)
                if article.get("previous_id"):
                    conn.execute(
                        "UPDATE articles SET current = FALSE WHERE id = %s", (article["previous_id"],)
                    )
                self._record_fetch(conn, page, row[0])
                return True

        return self._db.run(write)

    @staticmethod
    def _record_fetch(conn: psycopg.Connection, page: PageFetch, article_id: int | None) -> None:
        if article_id is None:  # a fetch that stored nothing: new URLs join the page's article
            row = conn.execute(
                "SELECT article_id FROM pages WHERE page_key = ANY(%s) AND article_id IS NOT NULL LIMIT 1",
                (page.keys,),
            ).fetchone()
            article_id = row[0] if row else None
        for key in page.keys:
            conn.execute(
                "INSERT INTO pages (page_key, article_id, etag, last_modified, fetched_at, payload_digest) "
                "VALUES (%s, %s, %s, %s, %s, %s) "
                "ON CONFLICT (page_key) DO UPDATE SET article_id = COALESCE(excluded.article_id, pages.article_id), "
                "etag = COALESCE(excluded.etag, pages.etag), "
                "last_modified = COALESCE(excluded.last_modified, pages.last_modified), "
                "fetched_at = excluded.fetched_at, "
                "payload_digest = COALESCE(excluded.payload_digest, pages.payload_digest)",
                (key, article_id, page.etag, page.last_modified, page.fetched_at, page.payload_digest),
            )

    _PAGE_QUERY = (
        "SELECT p.page_key, p.article_id, a.url, a.version, a.text_hash, a.cluster_id, a.duplicate_of, "
        "a.similarity, p.etag, p.last_modified, p.fetched_at, p.payload_digest "
        "FROM pages p LEFT JOIN articles a ON a.id = p.article_id WHERE p.page_key = ANY(%s)"
    )
    _CANDIDATES_QUERY = (
        "SELECT a.id, a.url, a.cluster_id, a.duplicate_of, s.minhash, s.shingle_count "
        "FROM articles a JOIN signatures s ON s.article_id = a.id "
        "WHERE a.id IN (SELECT article_id FROM bands WHERE band = ANY(%s)) AND a.current"
    )

    @staticmethod
    def _page_state(keys: list[str], rows: list[tuple]) -> PageState | None:
        # The first key known wins, as the keys are ordered.
        known = {row[0]: row[1:] for row in rows}
        for key in keys:
            if key in known:
                row = known[key]
                return PageState(row[0], row[1], row[2] or 0, *row[3:])
        return None

    def _candidates_query(self, keys: np.ndarray, stored_since: str | None) -> tuple[str, list[Any]]:
        query = self._CANDIDATES_QUERY
        params: list[Any] = [np.asarray(keys).ravel().astype(np.int64).tolist()]
        if stored_since is not None:
            query += " AND a.fetched_at >= %s"
            params.append(stored_since)
        return query + " ORDER BY a.id", params

    def page(self, keys: list[str]) -> PageState | None:
        rows = self._db.run(lambda conn: conn.execute(self._PAGE_QUERY, (keys,)).fetchall())
        return self._page_state(keys, rows)

    def page_and_candidates(
        self, page_keys: list[str], band_keys: np.ndarray, stored_since: str | None = None
    ) -> tuple[PageState | None, IndexRows | None]:
        """page() and candidates() in one round trip."""
        layout = self.layout
        assert layout is not None, "the store was opened without a band layout"
        query, params = self._candidates_query(band_keys, stored_since)

        def read(conn: psycopg.Connection) -> tuple[list[tuple], list[tuple] | None]:
            with conn.pipeline():
                pages = conn.execute(self._PAGE_QUERY, (page_keys,))
                found = conn.execute(query, params) if len(band_keys) else None
            return pages.fetchall(), found.fetchall() if found is not None else None

        pages, rows = self._db.run(read)
        state = self._page_state(page_keys, pages)
        return state, IndexRows.from_rows(rows, layout.num_perm) if rows is not None else None

    def touch_page(self, page: PageFetch) -> None:
        def write(conn: psycopg.Connection) -> None:
            with conn.transaction():
                self._record_fetch(conn, page, None)

        self._db.run(write)

    def update_text(self, url: str, text: str, word_count: int, signature: Signature) -> bool:
        layout = self.layout
        assert layout is not None, "the store was opened without a band layout"

        def write(conn: psycopg.Connection) -> bool:
            with conn.transaction():
                row = conn.execute(
                    "UPDATE articles SET text = %s, word_count = %s WHERE url = %s AND current RETURNING id",
                    (text, word_count, url),
                ).fetchone()
                if row is None:
                    return False
                conn.execute(
                    "DELETE FROM bands WHERE article_id = %s AND band = ANY(%s)",
                    (row[0], self._keys_of(conn, row[0])),
                )
                conn.execute(
                    "UPDATE signatures SET minhash = %s, shingle_count = %s, shingles = %s WHERE article_id = %s",
                    (signature.to_bytes(), signature.shingle_count, signature.shingles_to_bytes(), row[0]),
                )
                self._insert_bands(conn, [row[0]], layout.keys(signature.hashvalues[np.newaxis, :]))
                return True

        return self._db.run(write)

    def _keys_of(self, conn: psycopg.Connection, article_id: int) -> list[int]:
        """The band keys of a stored article's current signature."""
        assert self.layout is not None
        (minhash,) = conn.execute(
            "SELECT minhash FROM signatures WHERE article_id = %s", (article_id,)
        ).fetchone()
        matrix = np.frombuffer(bytes(minhash), dtype="<u4")[np.newaxis, :].astype(np.uint32)
        return self.layout.keys(matrix).ravel().astype(np.int64).tolist()

    def candidates(self, keys: np.ndarray, stored_since: str | None = None) -> IndexRows:
        layout = self.layout
        assert layout is not None, "the store was opened without a band layout"
        query, params = self._candidates_query(keys, stored_since)
        rows = self._db.run(lambda conn: conn.execute(query, params).fetchall())
        return IndexRows.from_rows(rows, layout.num_perm)

    def identity(self) -> str:
        def read(conn: psycopg.Connection) -> str:
            conn.execute(
                "INSERT INTO settings (name, value) VALUES ('store_id', %s) ON CONFLICT (name) DO NOTHING",
                (uuid.uuid4().hex,),
            )
            return str(conn.execute("SELECT value FROM settings WHERE name = 'store_id'").fetchone()[0])

        return self._db.run(read)

    def last_article_id(self) -> int:
        return int(
            self._db.run(lambda conn: conn.execute("SELECT COALESCE(MAX(id), 0) FROM articles").fetchone()[0])
        )

    def signatures_after(self, after: int) -> Iterator[tuple[list[int], np.ndarray]]:
        while True:
            rows = self._db.run(
                lambda conn, after=after: conn.execute(
                    "SELECT article_id, minhash FROM signatures WHERE article_id > %s "
                    "ORDER BY article_id LIMIT %s",
                    (after, REBUILD_SLICE),
                ).fetchall()
            )
            if not rows:
                return
            after = rows[-1][0]
            yield (
                [r[0] for r in rows],
                np.frombuffer(b"".join(bytes(r[1]) for r in rows), dtype="<u4").reshape(len(rows), -1),
            )

    def last_fetched_at(self) -> str | None:
        row = self._db.run(
            lambda conn: conn.execute("SELECT fetched_at FROM articles ORDER BY id DESC LIMIT 1").fetchone()
        )
        return row[0] if row else None

    def shingles(self, urls: list[str]) -> dict[str, np.ndarray]:
        def read(conn: psycopg.Connection) -> dict[str, np.ndarray]:
            rows = conn.execute(
                "SELECT a.url, s.shingles FROM articles a JOIN signatures s ON s.article_id = a.id "
                "WHERE a.url = ANY(%s) AND a.current",
                (urls,),
            ).fetchall()
            return {url: shingles_from_bytes(bytes(data)) for url, data in rows}

        return self._db.run(read)

    def articles(self) -> Iterator[dict[str, Any]]:
        # A server-side cursor, so an export of millions of articles streams instead of filling
        # memory; it needs a transaction, hence a connection of its own (the shared one autocommits).
        try:
            with psycopg.connect(self._db.dsn) as conn:
                conn.execute(sql.SQL("SET search_path TO {}").format(sql.Identifier(self._db.schema)))
                with conn.cursor(name="articles") as cursor:
                    cursor.itersize = 2000
                    cursor.execute(f"SELECT {', '.join(ARTICLE_COLUMNS)}, current FROM articles ORDER BY id")
                    for row in cursor:
                        article = dict(zip((*ARTICLE_COLUMNS, "current"), row))
                        article["authors"] = json.loads(article["authors"])
                        yield article
        except psycopg.Error as exc:
            raise StoreError(
                f"reading the articles from PostgreSQL ({self._db._where()}) failed: {exc}"
            ) from exc

    def cluster_members(self) -> Iterator[ClusterMember]:
        rows = self._db.run(
            lambda conn: conn.execute(
                "SELECT url, site, title, cluster_id, duplicate_of, similarity FROM articles ORDER BY id"
            ).fetchall()
        )
        for row in rows:
            yield ClusterMember(*row)

    def close(self) -> None:
        self._db.close()


class PostgresSegmentStatsStore(SegmentStatsStore):
    """Boilerplate statistics shared by the workers, one row per site."""

    def __init__(self, dsn: str, schema: str, retry_seconds: float = 30.0) -> None:
        if not dsn:
            raise StoreError("STORAGE_BACKEND is 'postgres' but STORAGE_POSTGRES_DSN is empty")
        self._db = _Connection(dsn, schema, retry_seconds)

        self._db.run(prepare_schema)

    def load(self, site: str) -> dict[str, Any] | None:
        row = self._db.run(
            lambda conn: conn.execute("SELECT state FROM site_segments WHERE site = %s", (site,)).fetchone()
        )
        return json.loads(row[0]) if row else None

    def save(self, states: dict[str, dict[str, Any]]) -> None:
        def write(conn: psycopg.Connection) -> None:
            with conn.transaction():
                for site, state in states.items():
                    conn.execute(
                        "INSERT INTO site_segments (site, state, updated_at) VALUES (%s, %s, now()) "
                        "ON CONFLICT (site) DO UPDATE SET state = excluded.state, updated_at = excluded.updated_at",
                        (site, json.dumps(state, separators=(",", ":"))),
                    )

        self._db.run(write)

    def close(self) -> None:
        self._db.close()
