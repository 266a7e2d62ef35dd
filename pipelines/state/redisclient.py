"""A Redis client that rides out a restart, shared by the shared hot index and the run log."""

from __future__ import annotations

import redis
from redis.backoff import ExponentialBackoff
from redis.retry import Retry


def redis_client(url: str) -> redis.Redis:
    """A client whose commands are retried for about half a minute when Redis goes away."""
    retry = Retry(ExponentialBackoff(cap=5.0, base=0.2), retries=10)
    return redis.Redis.from_url(
        url,
        retry=retry,
        retry_on_error=[redis.ConnectionError, redis.TimeoutError],
        socket_timeout=30,
        health_check_interval=15,
    )
