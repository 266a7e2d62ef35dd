"""The embedded backend: SQLite files under DATA_DIR, for one crawler process per DATA_DIR.

    DATA_DIR/articles.sqlite3      articles, signatures, band table (cold index), page history
    DATA_DIR/boilerplate.sqlite3   boilerplate statistics, so saving them never waits on articles
    DATA_DIR/runs/                 one JSON summary per run

Each thread that uses a database gets its own connection (SQLite connections must not be shared
by threads in a transaction); WAL mode lets readers go on while the writer writes, and a crash
loses at most the transaction under way, never one already committed.

Setting: STORAGE_BACKEND = "sqlite", DATA_DIR.
"""

from __future__ import annotations

import logging
import sqlite3
import threading
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any, TypeVar

from pipelines import faults
from pipelines.signatures import BandLayout, Signature

from .interfaces import StoreError
from .runlog import FileRunLog
from .sql import ADDED_COLUMNS, SQLITE, SQLSegmentStats, SQLStore

logger = logging.getLogger(__name__)
T = TypeVar("T")

# SQLite's page cache per connection, in KiB.
CACHE_KIB = 65536
# Page size of a new store (an existing one keeps its own): an article's 64 band rows land on 64
# pages of the band table, each written whole at commit, and 1 KiB pages halve what a commit writes.
PAGE_BYTES = 1024


class SQLiteDatabase:
    """One SQLite file, a connection per thread; see pipelines.state.sql.Database."""

    dialect = SQLITE

    def __init__(
        self, path: Path, create: bool = True, schema: str | None = None, what: str = "store"
    ) -> None:
        self.path = Path(path)
        self.where = str(self.path)
        if not create and not self.path.exists():
            raise StoreError(f"there is no {what} at {self.path}; check DATA_DIR")
        self._local = threading.local()
        self._connections: list[sqlite3.Connection] = []
        self._lock = threading.Lock()
        self._checkpointer: _Checkpointer | None = None
        try:
            self.path.parent.mkdir(parents=True, exist_ok=True)
            connection = self._connection()
            if schema is not None:
                connection.executescript(schema)
                self._add_missing_columns(connection)
        except (OSError, sqlite3.Error) as exc:
            raise StoreError(f"cannot open {self.path}: {exc}; set DATA_DIR to a writable directory") from exc

    def _connection(self) -> sqlite3.Connection:
        connection: sqlite3.Connection | None = getattr(self._local, "connection", None)
        if connection is None:
            connection = sqlite3.connect(self.path, check_same_thread=False, isolation_level=None)
            connection.execute(f"PRAGMA page_size={PAGE_BYTES}")  # a new file only
            connection.execute("PRAGMA journal_mode=WAL")
            connection.execute("PRAGMA synchronous=NORMAL")
            connection.execute("PRAGMA busy_timeout=10000")
            connection.execute("PRAGMA foreign_keys=ON")
            # Band lookups and inserts touch pages all over the band table's B-tree.
            connection.execute(f"PRAGMA cache_size=-{CACHE_KIB}")
            # The log is copied back by the checkpointer thread a write starts (see _Checkpointer).
            connection.execute("PRAGMA wal_autocheckpoint=0")
            self._local.connection = connection
            with self._lock:
                self._connections.append(connection)
        return connection

    @staticmethod
    def _add_missing_columns(connection: sqlite3.Connection) -> None:
        # Stores made by earlier versions of the crawler get the columns added since.
        for table, column, kind in ADDED_COLUMNS:
            present = {row[1] for row in connection.execute(f"PRAGMA table_info({table})")}
            if column not in present:
                connection.execute(f"ALTER TABLE {table} ADD COLUMN {column} {kind}")

    def _failed(self, exc: sqlite3.Error) -> StoreError:
        return StoreError(
            f"the store {self.path} failed: {exc}; if it is damaged, restore it from a backup (a lost "
            "band table is rebuilt from the stored signatures: `sqlite3 articles.sqlite3 'DROP TABLE "
            "bands'`)"
        )

    def read(self, operation: Callable[[Any], T]) -> T:
        try:
            return operation(self._connection().cursor())
        except sqlite3.Error as exc:
            raise self._failed(exc) from exc

    def write(self, operation: Callable[[Any], T]) -> T:
        if self._checkpointer is None:
            with self._lock:
                if self._checkpointer is None:
                    self._checkpointer = _Checkpointer(self.path)
        cursor = self._connection().cursor()
        try:
            cursor.execute("BEGIN IMMEDIATE")
        except sqlite3.Error as exc:
            raise self._failed(exc) from exc
        try:
            result = operation(cursor)
            faults.reached("store.committing")
            cursor.execute("COMMIT")
        except BaseException as exc:
            cursor.execute("ROLLBACK")
            if isinstance(exc, sqlite3.Error):
                raise self._failed(exc) from exc
            raise
        faults.reached("store.committed")
        return result

    def read_pair(self, first: tuple[str, Any], second: tuple[str, Any]) -> tuple[list[tuple], list[tuple]]:
        return (
            self.read(lambda db: db.execute(*first).fetchall()),
            self.read(lambda db: db.execute(*second).fetchall()),
        )

    def stream(self, query: str, params: tuple = ()) -> Iterator[tuple]:
        try:
            yield from self._connection().execute(query, params)
        except sqlite3.Error as exc:
            raise self._failed(exc) from exc

    def close(self) -> None:
        if self._checkpointer is not None:
            self._checkpointer.stop()
            self._checkpointer = None
        with self._lock:
            for connection in self._connections:
                connection.close()
            self._connections.clear()
        self._local = threading.local()


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


class SQLiteBackend:
    """State under DATA_DIR (STORAGE_BACKEND = "sqlite")."""

    def __init__(self, data_dir: Path) -> None:
        self.data_dir = Path(data_dir)
        self._databases: list[SQLiteDatabase] = []

    @classmethod
    def from_settings(cls, settings: Any) -> SQLiteBackend:
        return cls(Path(settings.get("DATA_DIR")))

    def _open(self, name: str, create: bool, schema: str | None, what: str) -> SQLiteDatabase:
        database = SQLiteDatabase(self.data_dir / name, create, schema, what)
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
        database = self._open("articles.sqlite3", create, SQLITE.schema(), "article store")
        try:
            return SQLStore(database, signature_scheme, layout, sign)
        except BaseException:
            database.close()
            raise

    def open_segments(self) -> SQLSegmentStats:
        return SQLSegmentStats(self._open("boilerplate.sqlite3", True, None, "boilerplate statistics store"))

    def open_run_log(self, name: str) -> FileRunLog:
        return FileRunLog(self.data_dir / "runs", name)

    def close(self) -> None:
        for database in self._databases:
            database.close()
        self._databases.clear()
