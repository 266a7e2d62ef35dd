"""Fault injection, for the crash test: a crawl that reaches a named point for the Nth time dies
there at once (SIGKILL, as a power cut or the OOM killer would), so a test can kill it at exactly
the moments that matter instead of at moments guessed from a clock.

    NEWSDEDUP_FAULT=store.committed:3      die the third time an article's transaction commits

Points: store.committing (a write transaction about to commit), store.committed (just after),
neardup.decided (an article decided and in the hot index, not yet stored), warc.written (a WARC
record written), filter.saving (the band filter's new file written, not yet in place),
extract.page (an extraction worker given a page: each worker counts its own).
Without the variable, reaching a point costs a comparison.
"""

from __future__ import annotations

import os
import signal
import threading

ENVIRONMENT = "NEWSDEDUP_FAULT"


def _target() -> tuple[str, int] | None:
    value = os.environ.get(ENVIRONMENT, "")
    point, _, count = value.rpartition(":")
    if not point or not count.isdigit() or int(count) < 1:
        return None
    return point, int(count)


_TARGET = _target()
_reached = 0
_lock = threading.Lock()


def reached(point: str) -> None:
    """Note that *point* was reached; the Nth time, when it is the one named, die."""
    global _reached
    if _TARGET is None or point != _TARGET[0]:
        return
    with _lock:
        _reached += 1
        if _reached == _TARGET[1]:
            os.kill(os.getpid(), signal.SIGKILL)
