"""The near-duplicate index shared by several crawler processes, in Redis.

It is datasketch's MinHashLSH with its Redis storage: the same band tables, keys and values, so a
plain `MinHashLSH(storage_config={"type": "redis", "basename": ...})` reads what the crawler
wrote. What differs is the traffic. datasketch sends each band table its own commands (64 round
trips to query, 130 to insert, and a reconnect per insertion session); here the same commands run
inside Redis as two Lua scripts, one to look candidates and their signatures up, one to insert, so
each is one command and one round trip.

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

# ARGV: key, keys hash, key's band list, meta key, signature, count, cluster, first, day, days
# sorted set, shingles key, shingles ("" for none), shingles TTL, then per band: table hash,
# band set, band value. The LSH writes are those of datasketch's MinHashLSH.insert.
_INSERT = """
local key = ARGV[1]
redis.call('HSET', ARGV[2], key, ARGV[3])
local bands = {}
for i = 14, #ARGV, 3 do
  redis.call('HSET', ARGV[i], ARGV[i + 2], ARGV[i + 1])
  redis.call('SADD', ARGV[i + 1], key)
  bands[#bands + 1] = ARGV[i + 2]
end
redis.call('DEL', ARGV[3])
redis.call('RPUSH', ARGV[3], unpack(bands))
redis.call('HSET', ARGV[4], 'signature', ARGV[5], 'count', ARGV[6], 'cluster', ARGV[7], 'first', ARGV[8], 'day', ARGV[9])
redis.call('ZADD', ARGV[10], ARGV[9], key)
if ARGV[12] ~= '' then redis.call('SET', ARGV[11], ARGV[12], 'EX', ARGV[13]) end
return 1
"""

# ARGV: meta key prefix, then the band sets to read. Returns key, signature, count, cluster and
# first copy of every distinct key found, flattened.
_LOOKUP = """
local seen, found = {}, {}
for i = 2, #ARGV do
  for _, key in ipairs(redis.call('SMEMBERS', ARGV[i])) do
    if not seen[key] then
      seen[key] = true
      local meta = redis.call('HMGET', ARGV[1] .. key, 'signature', 'count', 'cluster', 'first')
      if meta[1] then
        found[#found + 1] = key
        for _, value in ipairs(meta) do found[#found + 1] = value end
      end
    end
  end
end
return found
"""


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
        self._insert = self.client.register_script(_INSERT)
        self._lookup = self.client.register_script(_LOOKUP)

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
        if copy.signature.shingle_count:
            self._insert(args=self._insert_args(copy, day, shingles))

    def _insert_args(self, copy: IndexedCopy, day: int, shingles: np.ndarray | None) -> list:
        key = copy.url.encode()
        args: list = [
            key,
            self._keys._name,
            self._keys.redis_key(key),
            self._meta(key),
            copy.signature.to_bytes(),
            copy.signature.shingle_count,
            copy.cluster_id,
            copy.first_url,
            day,
            self._days,
            self._shingles(key),
            shingles.astype("<u4").tobytes() if shingles is not None else b"",
            SHINGLES_TTL_SECONDS,
        ]
        for table, band in zip(self._tables, self._bands(copy.signature)):
            args += [table._name, table.redis_key(band), band]
        return args

    def load(self, urls, clusters, firsts, matrix, counts, days) -> None:  # noqa: ANN001 - as SignatureIndex
        """Fill the index from the article store (after Redis lost it), 500 copies per round trip."""
        for start in range(0, len(urls), 500):
            pipe = self.client.pipeline(transaction=False)
            for row in range(start, min(start + 500, len(urls))):
                signature = Signature(matrix[row], int(counts[row]))
                if signature.shingle_count:
                    copy = IndexedCopy(urls[row], clusters[row], firsts[row], signature)
                    self._insert(args=self._insert_args(copy, int(days[row]), None), client=pipe)
            pipe.execute()

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
        sets = [table.redis_key(band) for table, band in zip(self._tables, self._bands(signature))]
        flat = self._lookup(args=[self.prefix + b"meta:", *sets])
        found = []
        for at in range(0, len(flat), 5):
            key, packed, count, cluster, first = flat[at : at + 5]
            other = Signature.from_bytes(packed, int(count))
            similarity = float(np.count_nonzero(other.hashvalues == signature.hashvalues)) / self.num_perm
            overlap = similarity * (other.shingle_count + signature.shingle_count) / (1.0 + similarity)
            contained = min(1.0, overlap / max(1, min(other.shingle_count, signature.shingle_count)))
            copy = IndexedCopy(key.decode(), cluster.decode(), first.decode(), other)
            found.append(Candidate(copy, similarity, contained))
        return found

    def recent_shingles(self, urls: list[str]) -> dict[str, np.ndarray]:
        """Exact shingle sets of copies indexed in the last minutes, maybe not yet in the store."""
        values = self.client.mget([self._shingles(url.encode()) for url in urls]) if urls else []
        return {url: shingles_from_bytes(value) for url, value in zip(urls, values) if value}

    def clear(self) -> None:
        """Remove every key of this index (tests, and rebuilding from the store)."""
        batch: list[bytes] = []
        for key in self.client.scan_iter(match=self.prefix + b"*", count=5000):
            batch.append(key)
            if len(batch) == 5000:
                self.client.unlink(*batch)
                batch = []
        if batch:
            self.client.unlink(*batch)
