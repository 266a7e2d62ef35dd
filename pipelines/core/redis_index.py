"""The hot near-duplicate index shared by several crawler processes, in Redis.

It holds the signatures added recently by every worker (at most NEARDUP_HOT_SIGNATURES, the oldest
added leave first): the articles other workers have decided on but may not have written to the
shared article store yet. Every stored signature is also in the store's cold index (PostgreSQL),
which each worker asks as well, so nothing is forgotten when a copy leaves Redis or Redis restarts.

The layout is compact, about 2 KB of Redis memory per signature (datasketch's MinHashLSH Redis
layout takes 27 KB: a set and a list entry per band and document):

    <prefix>urls          hash: URL -> copy number
    <prefix>d:<number>    string: number, shingle count and signature (uint32 each), then URL,
                          cluster id and first copy's URL separated by NUL bytes
    <prefix>h:<bucket>    hash: band key (5 bytes) -> the numbers of the copies with that band
                          (uint32 each); band keys are spread over buckets so that each hash stays
                          small enough for Redis's compact listpack encoding
    <prefix>order         list of copy numbers in the order added, for eviction
    <prefix>s:<URL>       the exact shingle set of a copy added in the last minutes
    <prefix>layout        the bucket count, fixed when the index is first used

Looking up, adding and removing are each one Lua script, so one round trip. Decisions across
processes are serialised by a Redis lock (`claim`): two workers handling two copies of one new
story cannot both make theirs the first copy.

Settings: NEARDUP_BACKEND = "redis", NEARDUP_REDIS_URL, NEARDUP_REDIS_PREFIX, NEARDUP_HOT_SIGNATURES.
"""

from __future__ import annotations

import logging
import struct
from collections.abc import Iterator
from contextlib import contextmanager

import numpy as np
import redis
from redis.backoff import ExponentialBackoff
from redis.retry import Retry

from .index import BandLayout, Candidate, IndexedCopy, MatchRule, estimates
from .signatures import Signature, shingles_from_bytes

logger = logging.getLogger(__name__)

# How long an exact shingle set stays in Redis: until the article store surely has it.
SHINGLES_TTL_SECONDS = 900
# Band entries per bucket hash, on average; Redis keeps a hash of up to 128 small entries as a listpack.
_ENTRIES_PER_BUCKET = 64
# Evicting costs a round trip per batch, so the index may run this far over its capacity.
_EVICT_BATCH = 256

# ARGV: prefix, URL, meta, shingles ("" for none), shingles TTL, then per band: bucket, band key.
# Returns the number of copies held, or -1 when the URL was already there.
_INSERT = """
local p = ARGV[1]
if redis.call('HEXISTS', p .. 'urls', ARGV[2]) == 1 then return -1 end
local number = redis.call('INCR', p .. 'seq')
local packed = struct.pack('<I4', number)
redis.call('HSET', p .. 'urls', ARGV[2], number)
redis.call('SET', p .. 'd:' .. number, packed .. ARGV[3])
for i = 6, #ARGV, 2 do
  local bucket = p .. 'h:' .. ARGV[i]
  local held = redis.call('HGET', bucket, ARGV[i + 1])
  redis.call('HSET', bucket, ARGV[i + 1], (held or '') .. packed)
end
redis.call('RPUSH', p .. 'order', number)
if ARGV[4] ~= '' then redis.call('SET', p .. 's:' .. ARGV[2], ARGV[4], 'EX', ARGV[5]) end
return redis.call('HLEN', p .. 'urls')
"""

# ARGV: prefix, then per band: bucket, band key. Returns first whether the index was lost (Redis
# restarted since it was marked), then the meta string of every distinct copy found.
_LOOKUP = """
local p = ARGV[1]
local lost = 0
if redis.call('EXISTS', p .. 'loaded') == 0 then
  lost = 1
  redis.call('SET', p .. 'loaded', '1')
end
local seen, found = {}, {lost}
for i = 2, #ARGV, 2 do
  local numbers = redis.call('HGET', p .. 'h:' .. ARGV[i], ARGV[i + 1])
  if numbers then
    for at = 1, #numbers, 4 do
      local number = struct.unpack('<I4', numbers, at)
      if not seen[number] then
        seen[number] = true
        local meta = redis.call('GET', p .. 'd:' .. number)
        if meta then found[#found + 1] = meta end
      end
    end
  end
end
return found
"""

# ARGV: prefix, copy number, URL, then per band: bucket, band key.
_REMOVE = """
local p = ARGV[1]
local packed = struct.pack('<I4', tonumber(ARGV[2]))
for i = 4, #ARGV, 2 do
  local bucket = p .. 'h:' .. ARGV[i]
  local numbers = redis.call('HGET', bucket, ARGV[i + 1])
  if numbers then
    local kept = {}
    for at = 1, #numbers, 4 do
      local one = string.sub(numbers, at, at + 3)
      if one ~= packed then kept[#kept + 1] = one end
    end
    if #kept == 0 then redis.call('HDEL', bucket, ARGV[i + 1])
    else redis.call('HSET', bucket, ARGV[i + 1], table.concat(kept)) end
  end
end
redis.call('DEL', p .. 'd:' .. ARGV[2], p .. 's:' .. ARGV[3])
if redis.call('HGET', p .. 'urls', ARGV[3]) == ARGV[2] then redis.call('HDEL', p .. 'urls', ARGV[3]) end
return 1
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
    """The shared hot index; the same lookups as pipelines.core.index.SignatureIndex."""

    def __init__(
        self,
        url: str,
        prefix: str,
        layout: BandLayout | None = None,
        rule: MatchRule | None = None,
        capacity: int = 20_000,
    ) -> None:
        if capacity < 1000:
            raise ValueError("NEARDUP_HOT_SIGNATURES must be at least 1000")
        layout = layout or BandLayout()
        self.layout, self.rule, self.capacity = layout, rule or MatchRule(), capacity
        self.num_perm = layout.num_perm
        self.prefix = prefix.encode()
        self.client = redis_client(url)
        self.evicted = 0
        self.lost = 0  # times Redis was found to have restarted empty
        try:
            self.client.ping()
            wanted = max(1024, capacity * layout.bands // _ENTRIES_PER_BUCKET)
            self.client.set(self.prefix + b"layout", wanted, nx=True)  # the first user fixes it
            self.buckets = int(self.client.get(self.prefix + b"layout") or wanted)
        except redis.RedisError as exc:
            raise IndexUnavailable(f"cannot reach Redis at {url}: {exc}; check NEARDUP_REDIS_URL") from exc
        self._insert = self.client.register_script(_INSERT)
        self._lookup = self.client.register_script(_LOOKUP)
        self._remove = self.client.register_script(_REMOVE)

    # --- layout ------------------------------------------------------------------------------

    def _band_args(self, keys: np.ndarray) -> list[bytes | int]:
        args: list[bytes | int] = []
        for key in keys.tolist():
            args += [key % self.buckets, key.to_bytes(5, "little")]
        return args

    def _keys(self, signature: Signature) -> np.ndarray:
        return self.layout.keys(signature.hashvalues[np.newaxis, :])[0]

    @staticmethod
    def _meta(copy: IndexedCopy) -> bytes:
        text = "\0".join((copy.url, copy.cluster_id, copy.first_url)).encode()
        return struct.pack("<I", copy.signature.shingle_count) + copy.signature.to_bytes() + text

    def _parse(self, meta: bytes) -> tuple[int, IndexedCopy]:
        number, count = struct.unpack_from("<II", meta)
        end = 8 + 4 * self.num_perm
        url, cluster, first = meta[end:].decode().split("\0")
        return number, IndexedCopy(url, cluster, first, Signature.from_bytes(meta[8:end], count))

    def _number(self, url: str) -> tuple[int, IndexedCopy] | None:
        number = self.client.hget(self.prefix + b"urls", url.encode())
        meta = self.client.get(self.prefix + b"d:" + number) if number else None
        return self._parse(meta) if meta else None

    # --- state -------------------------------------------------------------------------------

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

    def mark_loaded(self) -> None:
        """Mark the index as this Redis's: a lookup that finds the mark gone knows Redis restarted."""
        self.client.set(self.prefix + b"loaded", b"1")

    def __len__(self) -> int:
        return int(self.client.hlen(self.prefix + b"urls"))

    def __contains__(self, url: str) -> bool:
        return bool(self.client.hexists(self.prefix + b"urls", url.encode()))

    # --- changes -------------------------------------------------------------------------------

    def add(self, copy: IndexedCopy, shingles: np.ndarray | None = None) -> None:
        """Index *copy* (with its exact *shingles* for the next minutes); past the capacity, the
        copies added first leave."""
        if not copy.signature.shingle_count:
            return
        held = self._insert(
            args=[
                self.prefix,
                copy.url.encode(),
                self._meta(copy),
                shingles.astype("<u4").tobytes() if shingles is not None else b"",
                SHINGLES_TTL_SECONDS,
                *self._band_args(self._keys(copy.signature)),
            ]
        )
        if held > self.capacity + _EVICT_BATCH:
            self._evict(int(held) - self.capacity)

    def _evict(self, count: int) -> None:
        numbers = self.client.lpop(self.prefix + b"order", count) or []
        metas = self.client.mget([self.prefix + b"d:" + n for n in numbers]) if numbers else []
        pipe = self.client.pipeline(transaction=False)
        for meta in metas:
            if meta:  # not removed already
                number, copy = self._parse(meta)
                self._remove(args=self._remove_args(number, copy), client=pipe)
                self.evicted += 1
        pipe.execute()

    def _remove_args(self, number: int, copy: IndexedCopy) -> list:
        return [self.prefix, number, copy.url.encode(), *self._band_args(self._keys(copy.signature))]

    def remove(self, url: str) -> None:
        found = self._number(url)
        if found is not None:
            self._remove(args=self._remove_args(*found))

    def update_signature(self, url: str, signature: Signature) -> None:
        found = self._number(url)
        if found is not None:
            _, copy = found
            self._remove(args=self._remove_args(*found))
            self.add(IndexedCopy(url, copy.cluster_id, copy.first_url, signature))

    # --- looking up ----------------------------------------------------------------------------

    def candidates(self, signature: Signature, keys: np.ndarray | None = None) -> list[Candidate]:
        """Copies sharing a band with *signature*, oldest first, with their estimates."""
        if signature.shingle_count == 0:
            return []
        if keys is None:
            keys = self._keys(signature)
        lost, *metas = self._lookup(args=[self.prefix, *self._band_args(keys)])
        if lost:
            self.lost += 1
        if not metas:
            return []
        copies = sorted(self._parse(meta) for meta in metas)
        matrix = np.stack([copy.signature.hashvalues for _, copy in copies])
        counts = np.array([copy.signature.shingle_count for _, copy in copies])
        similarity, containment = estimates(matrix, counts, signature)
        return [
            Candidate(copy, float(s), float(c))
            for (_, copy), s, c in zip(copies, similarity.tolist(), containment.tolist())
        ]

    def recent_shingles(self, urls: list[str]) -> dict[str, np.ndarray]:
        """Exact shingle sets of copies indexed in the last minutes, maybe not yet in the store."""
        values = self.client.mget([self.prefix + b"s:" + url.encode() for url in urls]) if urls else []
        return {url: shingles_from_bytes(value) for url, value in zip(urls, values) if value}

    def clear(self) -> None:
        """Remove every key of this index (tests, benchmarks)."""
        batch: list[bytes] = []
        for key in self.client.scan_iter(match=self.prefix + b"*", count=5000):
            batch.append(key)
            if len(batch) == 5000:
                self.client.unlink(*batch)
                batch = []
        if batch:
            self.client.unlink(*batch)
