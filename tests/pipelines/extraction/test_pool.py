"""The extraction workers' pool: calls answered from worker processes, whatever the size of what
goes in and comes out, and workers that die replaced."""

from __future__ import annotations

import asyncio
import os
import threading
import time

import pytest

from pipelines.extraction.pool import CallTimedOut, WorkerDied, WorkerPool


def _exit(status: int) -> None:
    os._exit(status)


def _fail_to_start() -> None:
    raise ImportError("a module the workers need is missing")


def _reversed(data: bytes) -> bytes:
    return data[::-1]


def _lock() -> threading.Lock:
    return threading.Lock()  # a result that cannot be pickled


def run_in_pool(size: int, calls, *, initializer=None, deaths: list[str] | None = None, call_timeout=None):
    """Run the coroutine function *calls* with a pool of *size* workers, then close the pool."""

    async def main():
        pool = WorkerPool(
            size,
            initializer=initializer,
            on_death=None if deaths is None else deaths.append,
            call_timeout=call_timeout,
        )
        try:
            return await calls(pool)
        finally:
            pool.close()

    return asyncio.run(main())


def test_calls_are_answered_by_every_worker():
    async def calls(pool):
        await pool.started()
        return await asyncio.gather(*(pool.run(os.getpid) for _ in range(8)))

    pids = run_in_pool(2, calls)
    assert len(set(pids)) == 2
    assert os.getpid() not in pids


def test_large_calls_and_results_pass_whole():
    # Larger than a pipe holds: written in parts as the pipe drains, in both directions.
    payloads = [os.urandom(3_000_000 + n) for n in range(3)]

    async def calls(pool):
        return await asyncio.gather(*(pool.run(_reversed, payload) for payload in payloads))

    assert run_in_pool(1, calls) == [payload[::-1] for payload in payloads]


def test_an_exception_in_the_call_is_raised_where_it_was_awaited():
    async def calls(pool):
        with pytest.raises(ValueError, match="invalid literal"):
            await pool.run(int, "not a number")
        with pytest.raises(RuntimeError, match="cannot pickle"):
            await pool.run(_lock)
        with pytest.raises(TypeError, match="cannot pickle"):
            await pool.run(print, threading.Lock())
        return await pool.run(int, "7")

    assert run_in_pool(1, calls) == 7


def test_a_worker_that_dies_fails_its_calls_and_is_replaced():
    deaths: list[str] = []

    async def calls(pool):
        first = await pool.run(os.getpid)
        with pytest.raises(WorkerDied, match="exit code 3"):
            await pool.run(_exit, 3)
        return first, await pool.run(os.getpid)

    first, second = run_in_pool(1, calls, deaths=deaths)
    assert first != second
    assert len(deaths) == 1
    assert "exit code 3" in deaths[0]


def test_workers_that_cannot_start_fail_every_call_with_the_reason():
    async def calls(pool):
        with pytest.raises(WorkerDied, match="before it had started"):
            await pool.started()
        with pytest.raises(WorkerDied, match="before it had started"):
            await pool.run(os.getpid)

    run_in_pool(1, calls, initializer=_fail_to_start)


def test_closing_cancels_every_call_not_answered():
    async def main():
        pool = WorkerPool(1)
        calls = [asyncio.ensure_future(pool.run(time.sleep, 0.2)) for _ in range(3)]
        await asyncio.sleep(0)  # the calls are handed out: two to the worker, one waits
        pool.close()
        return await asyncio.gather(*calls, return_exceptions=True)

    assert [type(result) for result in asyncio.run(main())] == [asyncio.CancelledError] * 3


def test_a_call_that_runs_too_long_is_stopped_and_the_pool_goes_on():
    deaths: list[str] = []

    async def calls(pool):
        await pool.started()
        stuck = asyncio.ensure_future(pool.run(time.sleep, 60))
        behind = asyncio.ensure_future(pool.run(os.getpid))  # queued in the same worker
        with pytest.raises(CallTimedOut, match=r"stopped after 0\.5 s"):
            await stuck
        with pytest.raises(WorkerDied) as died:
            await behind
        assert not isinstance(died.value, CallTimedOut)
        return await pool.run(int, "5")

    assert run_in_pool(1, calls, deaths=deaths, call_timeout=0.5) == 5
    assert len(deaths) == 1
