"""The shared backend: PostgreSQL for the article store, page history, boilerplate statistics and
run summaries of several crawler processes (settings/prod.py), with Redis counting a run's
workers.

Every thread that uses it opens its own connection; the schema is created on first use. A
connection lost mid-crawl (PostgreSQL restarted, a network blip) is reopened and the operation
retried for up to STORAGE_RETRY_SECONDS; writes are idempotent (a unique key on (url, version)),
so a retried write never stores an article twice.

Settings: STORAGE_BACKEND = "postgres", STORAGE_POSTGRES_DSN, STORAGE_POSTGRES_SCHEMA,
STORAGE_RETRY_SECONDS, and for the run log RUN_NAME, NEARDUP_REDIS_URL, NEARDUP_REDIS_PREFIX.
"""

from __future__ import annotations

import contextlib
import logging
import re
import threading
import time
from collections.abc import Callable, Iterator
from typing import Any, TypeVar

import psycopg
from psycopg import sql

from pipelines.signatures import BandLayout, Signature

from .interfaces import StoreError
from .runlog import RUNS_SCHEMA, SharedRunLog
from .sql import ADDED_COLUMNS, POSTGRES, SEGMENTS_SCHEMA, SQLSegmentStats, SQLStore

logger = logging.getLogger(__name__)
T = TypeVar("T")
_SCHEMA_NAME = re.compile(r"^[a-z_][a-z0-9_]{0,62}$")
_PASSWORD_KEYWORD = re.compile(r"password=\S+")
_PASSWORD_IN_URL = re.compile(r"(//[^:/@]+):[^@/]+@")


class PostgresDatabase:
    """One PostgreSQL schema, a connection per thread, reopened when PostgreSQL goes away; see
    pipelines.state.sql.Database."""

    dialect = POSTGRES

    def __init__(self, dsn: str, schema: str, retry_seconds: float = 30.0, create: bool = True) -> None:
        if not dsn:
            raise StoreError("STORAGE_BACKEND is 'postgres' but STORAGE_POSTGRES_DSN is empty")
        if not _SCHEMA_NAME.match(schema):
            raise StoreError(f"STORAGE_POSTGRES_SCHEMA {schema!r} must be a lower-case SQL name")
        self.dsn = dsn
        self.schema = schema
        self.retry_seconds = retry_seconds
        hidden = _PASSWORD_IN_URL.sub(r"\1:***@", _PASSWORD_KEYWORD.sub("password=***", dsn))
        self.where = f"schema {schema} at {hidden}"
        self._local = threading.local()
        self._connections: list[psycopg.Connection] = []
        self._lock = threading.Lock()
        self._run(lambda conn: self._prepare(conn, create))

    def _prepare(self, conn: psycopg.Connection, create: bool) -> None:
        """Create the tables; workers starting together take turns (IF NOT EXISTS is not atomic)."""
        exists = conn.execute("SELECT to_regclass('articles') IS NOT NULL").fetchone()[0]  # type: ignore[index]
        if not exists and not create:
            raise StoreError(f"there is no article store in {self.where}; check STORAGE_POSTGRES_SCHEMA")
        with conn.transaction():
            conn.execute("SELECT pg_advisory_xact_lock(hashtext(current_schema()))")
            conn.execute(POSTGRES.schema())
            conn.execute(SEGMENTS_SCHEMA)
            conn.execute(RUNS_SCHEMA)
            for table, column, kind in ADDED_COLUMNS:  # stores made by earlier versions of the crawler
                conn.execute(f"ALTER TABLE {table} ADD COLUMN IF NOT EXISTS {column} {kind}")

    def _connection(self) -> psycopg.Connection:
        conn: psycopg.Connection | None = getattr(self._local, "connection", None)
        if conn is not None and not conn.closed:
            return conn
        try:
            conn = psycopg.connect(self.dsn, autocommit=True, connect_timeout=10)
            # Another worker may create it at the same moment: IF NOT EXISTS is not atomic.
            with contextlib.suppress(psycopg.errors.UniqueViolation):
                conn.execute(sql.SQL("CREATE SCHEMA IF NOT EXISTS {}").format(sql.Identifier(self.schema)))
            conn.execute(sql.SQL("SET search_path TO {}").format(sql.Identifier(self.schema)))
        except psycopg.Error as exc:
            raise StoreError(
                f"cannot open the PostgreSQL store ({self.where}): {exc}; "
                "check STORAGE_POSTGRES_DSN and that PostgreSQL is running"
            ) from exc
        self._local.connection = conn
        with self._lock:
            self._connections.append(conn)
        return conn

    def _drop_connection(self) -> None:
        conn = getattr(self._local, "connection", None)
        self._local.connection = None
        if conn is not None:
            with contextlib.suppress(psycopg.Error):
                conn.close()

    def _run(self, operation: Callable[[psycopg.Connection], T]) -> T:
        """Run *operation*; on a lost connection, reconnect and run it again, for a while."""
        deadline = time.monotonic() + self.retry_seconds
        delay = 0.2
        while True:
            try:
                return operation(self._connection())
            except (psycopg.OperationalError, psycopg.InterfaceError, StoreError) as exc:
                self._drop_connection()
                if time.monotonic() + delay > deadline:
                    raise StoreError(f"the PostgreSQL store ({self.where}) is unavailable: {exc}") from exc
                logger.warning("PostgreSQL connection lost (%s); reconnecting in %.1f s", exc, delay)
                time.sleep(delay)
                delay = min(delay * 2, 5.0)

    def read(self, operation: Callable[[Any], T]) -> T:
        return self._run(operation)

    def write(self, operation: Callable[[Any], T]) -> T:
        def transaction(conn: psycopg.Connection) -> T:
            with conn.transaction():
                return operation(conn)

        return self._run(transaction)

    def read_pair(self, first: tuple[str, Any], second: tuple[str, Any]) -> tuple[list[tuple], list[tuple]]:
        def both(conn: psycopg.Connection) -> tuple[list[tuple], list[tuple]]:
            with conn.pipeline():  # both queries go out before either answer is read
                one = conn.execute(*first)
                two = conn.execute(*second)
            return one.fetchall(), two.fetchall()

        return self._run(both)

    def stream(self, query: str, params: tuple = ()) -> Iterator[tuple]:
        # A server-side cursor streams millions of rows; it needs a transaction, hence a
        # connection of its own (the others autocommit).
        try:
            with psycopg.connect(self.dsn) as conn:
                conn.execute(sql.SQL("SET search_path TO {}").format(sql.Identifier(self.schema)))
                with conn.cursor(name="stream") as cursor:
                    cursor.itersize = 2000
                    cursor.execute(query, params)
                    yield from cursor
        except psycopg.Error as exc:
            raise StoreError(f"reading from PostgreSQL ({self.where}) failed: {exc}") from exc

    def close(self) -> None:
        with self._lock:
            for conn in self._connections:
                with contextlib.suppress(psycopg.Error):
                    conn.close()
            self._connections.clear()
        self._local = threading.local()


class PostgresBackend:
    """State in one PostgreSQL schema (STORAGE_BACKEND = "postgres")."""

    def __init__(
        self,
        dsn: str,
        schema: str,
        retry_seconds: float = 30.0,
        redis_url: str = "",
        redis_prefix: str = "",
        run_name: str = "run",
    ) -> None:
        self.dsn = dsn
        self.schema = schema
        self.retry_seconds = retry_seconds
        self.redis_url = redis_url
        self.redis_prefix = redis_prefix
        self.run_name = run_name
        self._databases: list[PostgresDatabase] = []

    @classmethod
    def from_settings(cls, settings: Any) -> PostgresBackend:
        return cls(
            settings.get("STORAGE_POSTGRES_DSN"),
            settings.get("STORAGE_POSTGRES_SCHEMA"),
            settings.getfloat("STORAGE_RETRY_SECONDS"),
            settings.get("NEARDUP_REDIS_URL"),
            settings.get("NEARDUP_REDIS_PREFIX"),
            settings.get("RUN_NAME") or "run",
        )

    def _open(self, create: bool = True) -> PostgresDatabase:
        database = PostgresDatabase(self.dsn, self.schema, self.retry_seconds, create)
        self._databases.append(database)
        return database

    def open_store(
        self,
        signature_scheme: str | None,
        layout: BandLayout | None,
        create: bool = True,
        sign: Callable[[str], Signature] | None = None,
    ) -> SQLStore:
        """The article store and page history; with a *layout*, it writes and looks up band keys;
        with *sign*, it makes again signatures made by an earlier way of reading words."""
        database = self._open(create)
        try:
            return SQLStore(database, signature_scheme, layout, sign)
        except BaseException:
            database.close()
            raise

    def open_segments(self) -> SQLSegmentStats:
        return SQLSegmentStats(self._open())

    def open_run_log(self, name: str) -> SharedRunLog:
        return SharedRunLog(self._open(), self.redis_url, self.redis_prefix, self.run_name)

    def close(self) -> None:
        for database in self._databases:
            database.close()
        self._databases.clear()
