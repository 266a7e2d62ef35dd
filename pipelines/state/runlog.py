"""Where run summaries go, and what earlier runs yielded per source (for the empty-source alarm).

One crawler process per DATA_DIR (the default): each run is one JSON file under DATA_DIR/runs/.
Several processes per run (settings/prod.py): every worker's summary is a row in PostgreSQL,
tagged with the run's name (RUN_NAME); a run's yield is the sum over its workers, and only the
last worker of a run to finish (counted in Redis) judges it, when every worker's figures are in.
"""

from __future__ import annotations

import json
import logging
import os
from pathlib import Path
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    from .sql import Database

logger = logging.getLogger(__name__)

RUNS_SCHEMA = (
    "CREATE TABLE IF NOT EXISTS runs (id BIGSERIAL PRIMARY KEY, run TEXT NOT NULL, worker TEXT NOT NULL, "
    "started TEXT NOT NULL, summary TEXT NOT NULL)"
)


class FileRunLog:
    """DATA_DIR/runs/<start>-<pid>.json, one file per run."""

    def __init__(self, runs_dir: Path, name: str) -> None:
        self.runs_dir = runs_dir
        self.name = name
        self._summary: dict[str, Any] = {}

    def started(self) -> None:
        pass

    def finish(self, summary: dict[str, Any]) -> bool:
        self._summary = summary
        return True

    def save(self) -> None:
        try:
            self.runs_dir.mkdir(parents=True, exist_ok=True)
            partial = self.runs_dir / f".{self.name}.partial"
            partial.write_text(json.dumps(self._summary, indent=2) + "\n", encoding="utf-8")
            partial.replace(self.runs_dir / f"{self.name}.json")  # a reader never sees half a file
        except OSError as exc:
            logger.error("could not write the run summary under %s: %s", self.runs_dir, exc)

    def yields(self) -> dict[str, int]:
        return {name: counts.get("articles", 0) for name, counts in self._summary.get("sources", {}).items()}

    def previous_yield(self, source: str) -> tuple[str, int] | None:
        if not self.runs_dir.is_dir():
            return None
        for path in sorted(self.runs_dir.glob("*.json"), reverse=True):
            if path.stem == self.name:
                continue
            try:
                run = json.loads(path.read_text(encoding="utf-8"))
            except (OSError, ValueError):
                continue  # a damaged summary is no reason to fail a run
            if source in run.get("sources", {}):
                return run["started"], run["sources"][source].get("articles", 0)
        return None


class SharedRunLog:
    """Summaries of every worker in PostgreSQL; the workers of a run counted in Redis."""

    def __init__(self, db: Database, redis_url: str, prefix: str, run: str) -> None:
        from .redisclient import redis_client

        self.run = run
        self._db = db
        self._redis = redis_client(redis_url)
        self._workers = f"{prefix}runs:{run}:workers"

    def started(self) -> None:
        self._redis.incr(self._workers)
        self._redis.expire(self._workers, 7 * 86400)

    def finish(self, summary: dict[str, Any]) -> bool:
        worker = f"{os.uname().nodename}:{os.getpid()}"
        self._db.write(
            lambda db: db.execute(
                "INSERT INTO runs (run, worker, started, summary) VALUES (%s, %s, %s, %s)",
                (self.run, worker, summary["started"], json.dumps(summary)),
            )
        )
        return int(self._redis.decr(self._workers)) <= 0

    def _summaries(self, condition: str, value: str) -> list[tuple[str, str, dict]]:
        rows = self._db.read(
            lambda db: db.execute(
                f"SELECT run, started, summary FROM runs WHERE run {condition} %s ORDER BY id", (value,)
            ).fetchall()
        )
        return [(run, started, json.loads(summary)) for run, started, summary in rows]

    def yields(self) -> dict[str, int]:
        total: dict[str, int] = {}
        for _, _, summary in self._summaries("=", self.run):
            for name, counts in summary.get("sources", {}).items():
                total[name] = total.get(name, 0) + counts.get("articles", 0)
        return total

    def previous_yield(self, source: str) -> tuple[str, int] | None:
        per_run: dict[str, tuple[str, int]] = {}
        for run, started, summary in self._summaries("<>", self.run):
            if source in summary.get("sources", {}):
                when, articles = per_run.get(run, (started, 0))
                per_run[run] = (min(when, started), articles + summary["sources"][source].get("articles", 0))
        return max(per_run.values(), default=None)

    def save(self) -> None:
        pass  # written in finish()
