"""The near-duplicate index shared by several crawler processes, in Redis.

It is datasketch's MinHashLSH with its Redis storage: the same band tables, keys and values, so a
plain `MinHashLSH(storage_config={"type": "redis", "basename": ...})` reads what the crawler
wrote. What differs is the traffic. datasketch sends each band table its own commands (64 round
trips to query, 130 to insert, and a reconnect per insertion session); here a query is one
pipelined round trip, fetching the candidates' signatures a second, and an insert one more.

Beside the LSH tables, each indexed copy has a small hash of what a match needs (signature,
shingle count, cluster, first copy, window day), a sorted set orders copies by window day for
expiry, and the exact shingle set is kept for a few minutes, until the storage stage has written
it to the article store.

Decisions across processes are serialised by a Redis lock (`claim`): two workers handling two
copies of one new story cannot both make theirs the first copy.

Settings: NEARDUP_BACKEND = "redis", NEARDUP_REDIS_URL, NEARDUP_REDIS_PREFIX.
"""

from __future__ import annotations

import logging
from collections.abc import Iterator
from contextlib import contextmanager

import numpy as np
import redis
from datasketch import MinHashLSH
from redis.backoff import ExponentialBackoff
from redis.retry import Retry

from .index import Candidate, IndexedCopy, MatchRule
from .signatures import Signature, shingles_from_bytes

logger = logging.getLogger(__name__)

# How long an exact shingle set stays in Redis: until the article store surely has it.
SHINGLES_TTL_SECONDS = 900


class IndexUnavailable(RuntimeError):
    """Redis cannot be reached; the message says where."""


def redis_client(url: str) -> redis.Redis:
    """A client that rides out a Redis restart: commands are retried for about half a minute."""
    retry = Retry(ExponentialBackoff(cap=5.0, base=0.2), retries=10)
    return redis.Redis.from_url(
        url,
        retry=retry,
        retry_on_error=[redis.ConnectionError, redis.TimeoutError],
        socket_timeout=30,
        health_check_interval=15,
    )


class RedisSignatureIndex:
    """The shared index; the same methods as pipelines.core.index.SignatureIndex."""

    remote = True

    def __init__(
        self,
        url: str,
        prefix: str,
        num_perm: int = 128,
        bands: int = 64,
        rows: int = 2,
        rule: MatchRule | None = None,
    ) -> None:
        self.num_perm, self.bands, self.rows, self.rule = num_perm, bands, rows, rule or MatchRule()
        self.prefix = prefix.encode()
        self.client = redis_client(url)
        self._url = url
        try:
            self.client.ping()
        except redis.RedisError as exc:
            raise IndexUnavailable(f"cannot reach Redis at {url}: {exc}; check NEARDUP_REDIS_URL") from exc
        # datasketch lays the tables out; its storage objects name the keys, this client sends the commands.
        self.lsh = MinHashLSH(
            num_perm=num_perm,
            params=(bands, rows),
            storage_config={"type": "redis", "basename": self.prefix + b"lsh", "redis": {"host": "unused"}},
            prepickle=False,
        )
        self._tables = self.lsh.hashtables
        self._keys = self.lsh.keys
        self._days = self.prefix + b"days"
        self._ready = self.prefix + b"loaded"

    # --- keys --------------------------------------------------------------------------------

    def _meta(self, url: bytes) -> bytes:
        return self.prefix + b"meta:" + url

    def _shingles(self, url: bytes) -> bytes:
        return self.prefix + b"shingles:" + url

    def _bands(self, signature: Signature) -> list[bytes]:
        values = signature.hashvalues.astype(np.uint32)
        return [bytes(values[i * self.rows : (i + 1) * self.rows].byteswap().data) for i in range(self.bands)]

    # --- state -------------------------------------------------------------------------------

    @property
    def loaded(self) -> bool:
        """Whether the index holds the store's signatures (Redis keeps nothing across a restart)."""
        return bool(self.client.exists(self._ready))

    def mark_loaded(self) -> None:
        self.client.set(self._ready, b"1")

    @contextmanager
    def claim(self) -> Iterator[None]:
        """Serialise decisions across every crawler process using this index."""
        lock = self.client.lock(self.prefix + b"decide", timeout=60, blocking_timeout=120)
        if not lock.acquire():
            raise IndexUnavailable("waited two minutes for another crawler's near-duplicate decision")
        try:
            yield
        finally:
            try:
                lock.release()
            except redis.exceptions.LockError:
                pass  # it expired: the next claim starts clean

    def __len__(self) -> int:
        return int(self.client.zcard(self._days))

    def __contains__(self, url: str) -> bool:
        return bool(self.client.exists(self._meta(url.encode())))

    # --- changes -------------------------------------------------------------------------------

    def add(self, copy: IndexedCopy, day: int = 0, shingles: np.ndarray | None = None) -> None:
        if copy.signature.shingle_count == 0:
            return
        key = copy.url.encode()
        bands = self._bands(copy.signature)
        pipe = self.client.pipeline(transaction=True)
        # the commands datasketch's MinHashLSH.insert sends, in one round trip
        pipe.hset(self._keys._name, key, self._keys.redis_key(key))
        pipe.rpush(self._keys.redis_key(key), *bands)
        for table, band in zip(self._tables, bands):
            pipe.hset(table._name, band, table.redis_key(band))
            pipe.sadd(table.redis_key(band), key)
        pipe.hset(
            self._meta(key),
            mapping={
                "signature": copy.signature.to_bytes(),
                "count": copy.signature.shingle_count,
                "cluster": copy.cluster_id,
                "first": copy.first_url,
                "day": day,
            },
        )
        pipe.zadd(self._days, {key: day})
        if shingles is not None:
            pipe.set(self._shingles(key), shingles.astype("<u4").tobytes(), ex=SHINGLES_TTL_SECONDS)
        pipe.execute()

    def load(self, urls, clusters, firsts, matrix, counts, days) -> None:  # noqa: ANN001 - as SignatureIndex
        """Fill the index from the article store (after Redis lost it), in batches."""
        for row, url in enumerate(urls):
            self.add(
                IndexedCopy(url, clusters[row], firsts[row], Signature(matrix[row], int(counts[row]))),
                int(days[row]),
            )

    def remove(self, url: str) -> None:
        key = url.encode()
        bands = self.client.lrange(self._keys.redis_key(key), 0, -1)
        pipe = self.client.pipeline(transaction=True)
        for table, band in zip(self._tables, bands):
            pipe.srem(table.redis_key(band), key)
        pipe.hdel(self._keys._name, key)
        pipe.delete(self._keys.redis_key(key), self._meta(key), self._shingles(key))
        pipe.zrem(self._days, key)
        pipe.execute()

    def expire(self, before_day: int) -> int:
        old = self.client.zrangebyscore(self._days, "-inf", before_day - 1)
        for key in old:
            self.remove(key.decode())
        return len(old)

    def update_signature(self, url: str, signature: Signature) -> None:
        meta = self.client.hgetall(self._meta(url.encode()))
        if meta:
            self.remove(url)
            copy = IndexedCopy(url, meta[b"cluster"].decode(), meta[b"first"].decode(), signature)
            self.add(copy, int(meta[b"day"]))

    # --- looking up ----------------------------------------------------------------------------

    def candidates(self, signature: Signature) -> list[Candidate]:
        if signature.shingle_count == 0:
            return []
        pipe = self.client.pipeline(transaction=False)
        for table, band in zip(self._tables, self._bands(signature)):
            pipe.smembers(table.redis_key(band))
        keys = sorted(set().union(*pipe.execute()))
        if not keys:
            return []
        pipe = self.client.pipeline(transaction=False)
        for key in keys:
            pipe.hgetall(self._meta(key))
        found = []
        for key, meta in zip(keys, pipe.execute()):
            if not meta:
                continue  # removed since the band tables were read
            other = Signature.from_bytes(meta[b"signature"], int(meta[b"count"]))
            similarity = float(np.count_nonzero(other.hashvalues == signature.hashvalues)) / self.num_perm
            overlap = similarity * (other.shingle_count + signature.shingle_count) / (1.0 + similarity)
            contained = min(1.0, overlap / max(1, min(other.shingle_count, signature.shingle_count)))
            copy = IndexedCopy(key.decode(), meta[b"cluster"].decode(), meta[b"first"].decode(), other)
            found.append(Candidate(copy, similarity, contained))
        return found

    def recent_shingles(self, urls: list[str]) -> dict[str, np.ndarray]:
        """Exact shingle sets of copies indexed in the last minutes, maybe not yet in the store."""
        values = self.client.mget([self._shingles(url.encode()) for url in urls]) if urls else []
        return {url: shingles_from_bytes(value) for url, value in zip(urls, values) if value}

    def clear(self) -> None:
        """Remove every key of this index (tests, and rebuilding from the store)."""
        for key in self.client.scan_iter(match=self.prefix + b"*", count=1000):
            self.client.delete(key)
