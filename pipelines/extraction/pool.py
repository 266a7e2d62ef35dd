"""The extraction workers: processes that run one function call at a time, driven from the crawl's
event loop.

Each worker has a pipe in and a pipe out. The crawling process writes a call to a worker's pipe
as far as the pipe takes it and the rest when the event loop says it drained, and reads results
when the loop says they came, so no thread sits between the reactor and the workers.
concurrent.futures' process pool runs two (a queue feeder and a result manager); on the crawl
benchmark's busy 2 cores, their wake-ups and hand-offs of the interpreter lock cost the crawling
process 0.76 ms of CPU a page, where this pool's work on the event loop costs about 0.3 ms
(bench/crawl.py: the extraction stage's share fell from 1.64 to 0.76 ms a page).

A worker holds up to two calls, the one it runs and the next, so it never waits on the event
loop between pages. A worker that dies (killed, out of memory, a crash inside lxml) fails the
calls it held with WorkerDied and is replaced, unless no worker has ever started: the calls then
fail, each with the reason. A worker still on one call after *call_timeout* seconds (markup
that sends a parser into a loop) is killed: that call fails with CallTimedOut, the one queued
behind it with WorkerDied, and the crawl goes on.
"""

from __future__ import annotations

import asyncio
import contextlib
import fcntl
import logging
import multiprocessing
import os
import pickle
import signal
import struct
import sys
import time
from collections import deque
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from multiprocessing.connection import Connection
from typing import Any

logger = logging.getLogger(__name__)

_HEADER = struct.Struct("<Q")  # the length of the pickled call or result that follows
_CALLS_PER_WORKER = 2
_READY = "ready"
_READ_SIZE = 1 << 20
# The most an unprivileged process may give a pipe by default (/proc/sys/fs/pipe-max-size).
_PIPE_BYTES = 1 << 20
_JOIN_SECONDS = 5.0


class WorkerDied(Exception):
    """The worker that held a call exited before it answered."""


class CallTimedOut(WorkerDied):
    """The call ran longer than the pool allows; its worker was killed."""


class WorkerPool:
    """*size* worker processes, each started with *initializer*; `run` calls a function in one.
    *on_death* is told why, each time a worker dies; a call may run for *call_timeout* seconds
    (None: for ever)."""

    def __init__(
        self,
        size: int,
        initializer: Callable[[], None] | None = None,
        on_death: Callable[[str], None] | None = None,
        call_timeout: float | None = None,
    ) -> None:
        if size < 1:
            raise ValueError("a worker pool needs at least one worker")
        if call_timeout is not None and call_timeout <= 0:
            raise ValueError("a call timeout must be positive (or None)")
        self._loop = asyncio.get_running_loop()
        self._initializer = initializer
        self._on_death = on_death
        # Spawned, not forked: a forked copy of the crawling process would inherit the reactor and
        # its threads.
        self._context = multiprocessing.get_context("spawn")
        # calls no worker has room for yet, pickled only when one has: a page waiting here is
        # held once, not also as its pickled copy
        self._waiting: deque[tuple[tuple[Callable[..., Any], tuple[Any, ...]], asyncio.Future[Any]]] = deque()
        self._closing = False
        self._started_once = False  # some worker has answered: the workers can start
        self._broken: str | None = None  # why no worker can start, once the first could not
        self._workers = [self._spawn() for _ in range(size)]
        self._initial = [worker.ready for worker in self._workers]
        self._watch: asyncio.TimerHandle | None = None
        if call_timeout is not None:
            self._stop_overdue(call_timeout)

    async def started(self) -> None:
        """Returns once every first worker has run its initializer; raises WorkerDied if one died."""
        await asyncio.gather(*self._initial)

    async def run(self, function: Callable[..., Any], *args: Any) -> Any:
        """*function*(*args*) in a worker: its result, or the exception it raised."""
        if self._closing:
            raise RuntimeError("the worker pool is closed")
        if self._broken:
            raise WorkerDied(self._broken)
        future: asyncio.Future[Any] = self._loop.create_future()
        self._waiting.append(((function, args), future))
        self._dispatch()
        return await future

    def close(self) -> None:
        """Stop the workers, each once the call it runs is done; every call not answered yet is
        cancelled."""
        self._closing = True
        if self._watch is not None:
            self._watch.cancel()
        while self._waiting:
            self._waiting.popleft()[1].cancel()
        for worker in self._workers:
            worker.stop()
        for worker in self._workers:
            worker.join()
        self._workers = []

    def _spawn(self) -> _Worker:
        # Pipe(duplex=False) gives the reading end, then the writing end.
        worker_calls, calls = self._context.Pipe(duplex=False)
        results, worker_results = self._context.Pipe(duplex=False)
        process = self._context.Process(
            target=_serve,
            args=(worker_calls, worker_results, self._initializer),
            name="extraction",
            daemon=True,
        )
        with _main_script_hidden():
            process.start()
        worker_calls.close()
        worker_results.close()
        return _Worker(self._loop, process, calls, results, self._answered, self._died)

    def _dispatch(self) -> None:
        while self._waiting:
            worker = min(self._workers, key=lambda w: len(w.calls), default=None)
            if worker is None or len(worker.calls) >= _CALLS_PER_WORKER:
                return
            call, future = self._waiting.popleft()
            if future.cancelled():
                continue
            try:
                pickled = pickle.dumps(call, pickle.HIGHEST_PROTOCOL)
            except Exception as exc:  # noqa: BLE001 - raised where the call is awaited
                future.set_exception(exc)
                continue
            worker.send(pickled, future)

    def _stop_overdue(self, timeout: float) -> None:
        """Kill each worker whose current call has run longer than *timeout* (its pipe then
        closes: _Worker._lost), and look again a little later."""
        now = time.monotonic()
        for worker in self._workers:
            if worker.running_since is not None and now - worker.running_since > timeout:
                worker.stop_overdue(timeout)
        self._watch = self._loop.call_later(_watch_interval(timeout), self._stop_overdue, timeout)

    def _answered(self) -> None:
        self._started_once = True
        self._dispatch()

    def _died(self, worker: _Worker, reason: str, was_ready: bool) -> None:
        self._workers.remove(worker)
        if self._closing:
            return
        if self._on_death is not None:
            self._on_death(reason)
        if not was_ready and not self._started_once:
            # Not one worker has started: the next would fail as this one did (a module missing,
            # no memory), and the crawl learns why from each page instead of waiting forever.
            self._broken = reason
            while self._waiting:
                future = self._waiting.popleft()[1]
                if not future.done():
                    future.set_exception(WorkerDied(self._broken))
            return
        self._workers.append(self._spawn())
        self._dispatch()


class _Worker:
    """The crawling process's end of one worker: its pipes and the calls it holds."""

    def __init__(
        self,
        loop: asyncio.AbstractEventLoop,
        process: Any,
        calls: Connection,
        results: Connection,
        answered: Callable[[], None],
        died: Callable[[_Worker, str, bool], None],
    ) -> None:
        self.process = process
        self.calls: deque[asyncio.Future[Any]] = deque()
        self.running_since: float | None = None  # when the call at the head of `calls` began
        self._overdue: float | None = None  # the timeout it was killed for, if it was
        self.ready: asyncio.Future[None] = loop.create_future()
        self.ready.add_done_callback(_retrieved)
        self._loop = loop
        self._calls_pipe, self._results_pipe = calls, results
        self._calls_fd, self._results_fd = calls.fileno(), results.fileno()
        os.set_blocking(self._calls_fd, False)
        os.set_blocking(self._results_fd, False)
        _widen(self._calls_fd)
        self._unsent: deque[memoryview] = deque()
        self._received = bytearray()
        self._answered, self._died = answered, died
        self._alive = True
        loop.add_reader(self._results_fd, self._read)

    def send(self, call: bytes, future: asyncio.Future[Any]) -> None:
        self.calls.append(future)
        if len(self.calls) == 1 and self.ready.done():
            self.running_since = time.monotonic()
        self._unsent.append(memoryview(_HEADER.pack(len(call)) + call))
        if len(self._unsent) == 1:
            self._write()

    def _write(self) -> None:
        while self._unsent:
            try:
                written = os.write(self._calls_fd, self._unsent[0])
            except BlockingIOError:
                break
            except OSError:  # the worker closed its end: it is exiting, and _read will see it
                self._unsent.clear()
                break
            if written == len(self._unsent[0]):
                self._unsent.popleft()
            else:
                self._unsent[0] = self._unsent[0][written:]
        if self._unsent:
            self._loop.add_writer(self._calls_fd, self._write)
        else:
            self._loop.remove_writer(self._calls_fd)

    def _read(self) -> None:
        try:
            data = os.read(self._results_fd, _READ_SIZE)
        except BlockingIOError:
            return
        except OSError:
            data = b""
        if not data:
            self._lost()
            return
        self._received += data
        while len(self._received) >= _HEADER.size:
            (size,) = _HEADER.unpack_from(self._received)
            if len(self._received) < _HEADER.size + size:
                break
            # The bytes come from our own worker processes, over a pipe only they hold.
            answer = pickle.loads(memoryview(self._received)[_HEADER.size : _HEADER.size + size])  # noqa: S301
            del self._received[: _HEADER.size + size]
            self._settle(answer)
        self._answered()

    def _settle(self, answer: tuple[str, Any]) -> None:
        kind, value = answer
        if kind == _READY:
            self.ready.set_result(None)
            self.running_since = time.monotonic() if self.calls else None
            return
        future = self.calls.popleft()
        self.running_since = time.monotonic() if self.calls else None
        if future.done():  # cancelled while the worker ran it
            return
        if kind == "result":
            future.set_result(value)
        else:
            future.set_exception(value)

    def _lost(self) -> None:
        """The worker's end of the results pipe closed: it exited."""
        self._release()
        reason = f"an extraction worker exited (exit code {self.join()})"
        was_ready = self.ready.done()
        if not was_ready:
            reason += " before it had started"
            self.ready.set_exception(WorkerDied(reason))
        # killed for its overdue call, unless it answered that call just before it died
        if self._overdue is not None and self.calls:
            reason = f"an extraction worker was stopped after {self._overdue:g} s on one call"
            overdue = self.calls.popleft()
            if not overdue.done():
                overdue.set_exception(CallTimedOut(reason))
        while self.calls:
            future = self.calls.popleft()
            if not future.done():
                future.set_exception(WorkerDied(reason))
        self._died(self, reason, was_ready)

    def stop_overdue(self, timeout: float) -> None:
        if self._overdue is None:
            self._overdue = timeout
            self.process.kill()

    def stop(self) -> None:
        """Close the worker's pipes: it exits once the call it runs, if any, is done."""
        self._release()
        self.ready.cancel()
        for future in self.calls:
            future.cancel()
        self.calls.clear()

    def join(self) -> int | None:
        """Wait for the worker to exit, killing it if it has not within _JOIN_SECONDS; its exit
        code. Its process's resources are released."""
        self.process.join(_JOIN_SECONDS)
        if self.process.is_alive():
            logger.warning("an extraction worker did not stop in %.0f s; killing it", _JOIN_SECONDS)
            self.process.kill()
            self.process.join()
        code: int | None = self.process.exitcode
        self.process.close()
        return code

    def _release(self) -> None:
        if not self._alive:
            return
        self._alive = False
        self._loop.remove_reader(self._results_fd)
        self._loop.remove_writer(self._calls_fd)
        self._calls_pipe.close()
        self._results_pipe.close()


def _watch_interval(timeout: float) -> float:
    """How often calls are checked against *timeout*: a call is stopped at most a quarter late."""
    return max(0.05, min(1.0, timeout / 4))


def _widen(fd: int) -> None:
    """Let the pipe hold a page or two at once (Linux): a pipe holds 64 KiB by default, and the
    event loop would write a 100 KB page in several parts, each after a wake-up."""
    # On another system, or with a lower limit, the page goes in parts.
    with contextlib.suppress(AttributeError, OSError):
        fcntl.fcntl(fd, fcntl.F_SETPIPE_SZ, _PIPE_BYTES)


def _retrieved(future: asyncio.Future[Any]) -> None:
    # A worker that dies before it is ready says so to started(), if anyone awaits it; marked
    # retrieved so that asyncio does not also log it as never retrieved.
    if not future.cancelled():
        future.exception()


def _serve(calls: Connection, results: Connection, initializer: Callable[[], None] | None) -> None:
    """A worker's life: the initializer, then one call at a time until its pipe in closes."""
    # Ctrl-C reaches the whole process group; the crawl stops its workers itself, once the pages
    # they hold are done.
    signal.signal(signal.SIGINT, signal.SIG_IGN)
    if initializer is not None:
        initializer()
    calls_fd, results_fd = calls.fileno(), results.fileno()
    try:
        _answer(results_fd, (_READY, os.getpid()))
        while (call := _read_frame(calls_fd)) is not None:
            function, args = pickle.loads(call)  # noqa: S301 - from the crawling process that started us
            try:
                answer: tuple[str, Any] = ("result", function(*args))
            except Exception as exc:  # noqa: BLE001 - whatever it is, the crawl decides what it means
                answer = ("error", exc)
            _answer(results_fd, answer)
    except BrokenPipeError:  # the crawl closed the pool, or ended, without waiting for this answer
        return


def _answer(fd: int, answer: tuple[str, Any]) -> None:
    try:
        data = pickle.dumps(answer, pickle.HIGHEST_PROTOCOL)
    except Exception as exc:  # noqa: BLE001 - a result or an exception that cannot be pickled: its description
        data = pickle.dumps(("error", RuntimeError(f"{answer[1]!r:.2000} ({exc})")))
    view = memoryview(_HEADER.pack(len(data)) + data)
    while view:
        view = view[os.write(fd, view) :]


def _read_frame(fd: int) -> bytes | None:
    header = _read_exactly(fd, _HEADER.size)
    if header is None:
        return None
    return _read_exactly(fd, _HEADER.unpack(header)[0])


def _read_exactly(fd: int, size: int) -> bytes | None:
    parts, missing = [], size
    while missing:
        part = os.read(fd, min(missing, _READ_SIZE))
        if not part:
            return None
        parts.append(part)
        missing -= len(part)
    return b"".join(parts)


@contextmanager
def _main_script_hidden() -> Iterator[None]:
    """While a worker process is spawned, the program's main script is not named to it.

    A spawned process runs the parent's main script again (multiprocessing does, so that
    functions defined there can be unpickled), and the `scrapy` script imports Scrapy, Twisted
    and the crawl command: a third of a second and about 30 MB in every worker, which only ever
    runs pipelines.extraction.worker's functions. (`python -m scrapy` names a package's
    __main__, which multiprocessing leaves alone.)
    """
    main = sys.modules["__main__"]
    path = getattr(main, "__file__", None)
    if path is None or getattr(main, "__spec__", None) is not None:
        yield
        return
    del main.__file__
    try:
        yield
    finally:
        main.__file__ = path
