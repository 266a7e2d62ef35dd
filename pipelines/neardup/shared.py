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
    <prefix>words         how its signatures read words (pipelines.signatures.WORDS)

Looking up, adding and removing are each one Lua script, so one round trip. Decisions across
processes are serialised without a lock: an insert adds its copy only if no copy sharing a band
with it was added since the decision looked (`insert`), so two workers handling two copies of one
new story cannot both make theirs the first copy.

Settings: NEARDUP_BACKEND = "redis", NEARDUP_REDIS_URL, NEARDUP_REDIS_PREFIX, NEARDUP_HOT_SIGNATURES.
"""

from __future__ import annotations

import logging
import struct
from typing import Any, cast

import numpy as np
import redis

from pipelines.signatures import WORDS, BandLayout, Signature, estimates, shingles_from_bytes
from pipelines.state.redisclient import redis_client

from .matching import Candidate, HotView, IndexedCopy, MatchRule

logger = logging.getLogger(__name__)

# How long an exact shingle set stays in Redis: until the article store surely has it.
SHINGLES_TTL_SECONDS = 900
# Band entries per bucket hash, on average; Redis keeps a hash of up to 128 small entries as a listpack.
_ENTRIES_PER_BUCKET = 64
# Evicting costs a round trip per batch, so the index may run this far over its capacity.
_EVICT_BATCH = 256

# Scripts get a copy's bands as one string of 9-byte entries (see _band_blob): the bucket (uint32)
# and the 5-byte band key. One argument instead of 128 halves the cost of sending and reading them.
_EACH_BAND = """
  for at = 1, #bands, 9 do
    local bucket = p .. 'h:' .. struct.unpack('<I4', bands, at)
    local key = string.sub(bands, at + 4, at + 8)
"""

# ARGV: prefix, URL, meta, shingles ("" for none), shingles TTL, the number of the last copy the
# decision saw (-1: add whatever was added since), bands.
# Returns, after whether the index was lost (Redis restarted since it was marked): {-1, lost} when
# the URL was already there; {0, lost, the number of the copy added last, meta...} when copies
# sharing a band were added after the decision looked (it must be taken again with them), adding
# nothing; else {1, lost, the number of copies held}.
_INSERT = (
    """
local p, bands = ARGV[1], ARGV[7]
local lost = 0
if redis.call('EXISTS', p .. 'loaded') == 0 then
  lost = 1
  redis.call('SET', p .. 'loaded', '1')
end
if redis.call('HEXISTS', p .. 'urls', ARGV[2]) == 1 then return {-1, lost} end
local seen = tonumber(ARGV[6])
local held, newer, listed = {}, {0, lost, tonumber(redis.call('GET', p .. 'seq') or '0')}, {}
"""
    + _EACH_BAND
    + """
    local numbers = redis.call('HGET', bucket, key)
    held[at] = numbers or ''
    if numbers and seen >= 0 then
      for n = 1, #numbers, 4 do
        local number = struct.unpack('<I4', numbers, n)
        if number > seen and not listed[number] then
          listed[number] = true
          local meta = redis.call('GET', p .. 'd:' .. number)
          if meta then newer[#newer + 1] = meta end
        end
      end
    end
  end
if #newer > 3 then return newer end
local number = redis.call('INCR', p .. 'seq')
local packed = struct.pack('<I4', number)
redis.call('HSET', p .. 'urls', ARGV[2], number)
redis.call('SET', p .. 'd:' .. number, packed .. ARGV[3])
"""
    + _EACH_BAND
    + """
    redis.call('HSET', bucket, key, held[at] .. packed)
  end
redis.call('RPUSH', p .. 'order', number)
if ARGV[4] ~= '' then redis.call('SET', p .. 's:' .. ARGV[2], ARGV[4], 'EX', ARGV[5]) end
return {1, lost, redis.call('HLEN', p .. 'urls')}
"""
)

# ARGV: prefix, URL, bands. Returns whether the index was lost (Redis restarted since it was
# marked), whether it holds the URL, the number of the copy added last, then the meta string of
# every distinct copy found.
_LOOKUP = (
    """
local p, bands = ARGV[1], ARGV[3]
local lost = 0
if redis.call('EXISTS', p .. 'loaded') == 0 then
  lost = 1
  redis.call('SET', p .. 'loaded', '1')
end
local seen = {}
local found = {lost, redis.call('HEXISTS', p .. 'urls', ARGV[2]), tonumber(redis.call('GET', p .. 'seq') or '0')}
"""
    + _EACH_BAND
    + """
    local numbers = redis.call('HGET', bucket, key)
    if numbers then
      for n = 1, #numbers, 4 do
        local number = struct.unpack('<I4', numbers, n)
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
)

# ARGV: prefix, copy number, URL, bands.
_REMOVE = (
    """
local p, bands = ARGV[1], ARGV[4]
local packed = struct.pack('<I4', tonumber(ARGV[2]))
"""
    + _EACH_BAND
    + """
    local numbers = redis.call('HGET', bucket, key)
    if numbers then
      local kept = {}
      for n = 1, #numbers, 4 do
        local one = string.sub(numbers, n, n + 3)
        if one ~= packed then kept[#kept + 1] = one end
      end
      if #kept == 0 then redis.call('HDEL', bucket, key)
      else redis.call('HSET', bucket, key, table.concat(kept)) end
    end
  end
redis.call('DEL', p .. 'd:' .. ARGV[2], p .. 's:' .. ARGV[3])
if redis.call('HGET', p .. 'urls', ARGV[3]) == ARGV[2] then redis.call('HDEL', p .. 'urls', ARGV[3]) end
return 1
"""
)


class IndexUnavailable(RuntimeError):
    """Redis cannot be reached; the message says where."""


class RedisIndex:
    """The shared hot index (see pipelines.neardup.matching.SignatureIndex)."""

    shared = True  # a round trip away, and written by other processes too

    @classmethod
    def from_settings(cls, settings: Any, layout: BandLayout, rule: MatchRule) -> RedisIndex:
        return cls(
            settings.get("NEARDUP_REDIS_URL"),
            settings.get("NEARDUP_REDIS_PREFIX"),
            layout,
            rule,
            settings.getint("NEARDUP_HOT_SIGNATURES"),
        )

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
            self._forget_other_words()
            wanted = max(1024, capacity * layout.bands // _ENTRIES_PER_BUCKET)
            self.client.set(self.prefix + b"layout", wanted, nx=True)  # the first user fixes it
            self.buckets = int(self.client.get(self.prefix + b"layout") or wanted)
        except redis.RedisError as exc:
            raise IndexUnavailable(f"cannot reach Redis at {url}: {exc}; check NEARDUP_REDIS_URL") from exc
        self._insert = self.client.register_script(_INSERT)
        self._lookup = self.client.register_script(_LOOKUP)
        self._remove = self.client.register_script(_REMOVE)

    def _forget_other_words(self) -> None:
        """Signatures made by an earlier way of reading words (pipelines.signatures.WORDS) cannot
        be compared with new ones: the index is emptied, and the store's cold index, signed
        again when opened, answers for them."""
        words = self.client.get(self.prefix + b"words")
        if words == WORDS.encode():
            return
        if words is not None or self.client.exists(self.prefix + b"urls"):
            logger.warning(
                "the shared hot index at %s holds signatures of another way of reading words; emptied",
                self.prefix.decode(),
            )
            self.clear()
        self.client.set(self.prefix + b"words", WORDS)

    # --- layout ------------------------------------------------------------------------------

    def _band_blob(self, keys: np.ndarray) -> bytes:
        """The bands of a copy as the scripts read them: per band, its bucket (uint32) and its
        5-byte key, little-endian."""
        entries = np.empty((len(keys), 9), dtype=np.uint8)
        entries[:, :4] = (keys % np.uint64(self.buckets)).astype("<u4").view(np.uint8).reshape(-1, 4)
        entries[:, 4:] = keys.astype("<u8").view(np.uint8).reshape(-1, 8)[:, :5]
        return entries.tobytes()

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
        number = cast("bytes | None", self.client.hget(self.prefix + b"urls", url.encode()))
        meta = cast("bytes | None", self.client.get(self.prefix + b"d:" + number) if number else None)
        return self._parse(meta) if meta else None

    # --- state -------------------------------------------------------------------------------

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
        self.insert(copy, shingles)

    def insert(
        self, copy: IndexedCopy, shingles: np.ndarray | None = None, seen: HotView | None = None
    ) -> HotView | None:
        """Index *copy*, decided on what the view *seen* showed, and return None; but if copies
        sharing a band with it were added after that view (by another process), or its URL is
        held, add nothing and return the view of those copies, for the decision to be taken again
        with them. With *seen* None, add it whatever was added; with ALONE, only if no copy
        shares a band with it.

        This is what serialises decisions across processes: two workers deciding on two copies of
        one new story cannot both make theirs the first copy, and no lock is held meanwhile.
        """
        if not copy.signature.shingle_count:
            return None
        keys = self._keys(copy.signature)
        outcome, *rest = self._insert(
            args=[
                self.prefix,
                copy.url.encode(),
                self._meta(copy),
                shingles.astype("<u4").tobytes() if shingles is not None else b"",
                SHINGLES_TTL_SECONDS,
                -1 if seen is None else seen.last_added,
                self._band_blob(keys),
            ]
        )
        lost, *rest = rest
        if lost:
            self.lost += 1
        if outcome == -1:
            return HotView([], True, 0)
        if outcome == 0:
            last_added, *metas = rest
            return HotView(self._candidates(metas, copy.signature), False, int(last_added))
        if rest[0] > self.capacity + _EVICT_BATCH:
            self._evict(int(rest[0]) - self.capacity)
        return None

    def _evict(self, count: int) -> None:
        numbers = cast("list[bytes]", self.client.lpop(self.prefix + b"order", count) or [])
        metas = cast(
            "list[bytes | None]",
            self.client.mget([self.prefix + b"d:" + n for n in numbers]) if numbers else [],
        )
        pipe = self.client.pipeline(transaction=False)
        for meta in metas:
            if meta:  # not removed already
                number, copy = self._parse(meta)
                self._remove(args=self._remove_args(number, copy), client=pipe)
                self.evicted += 1
        pipe.execute()

    def _remove_args(self, number: int, copy: IndexedCopy) -> list:
        return [self.prefix, number, copy.url.encode(), self._band_blob(self._keys(copy.signature))]

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
        return self.lookup(signature, keys).candidates

    def lookup(self, signature: Signature, keys: np.ndarray | None = None, url: str = "") -> HotView:
        """The copies sharing a band with *signature* (oldest first, with their estimates),
        whether *url* is held, and the last copy added: in one round trip."""
        if keys is None:
            keys = self._keys(signature)
        bands = self._band_blob(keys) if signature.shingle_count else b""
        lost, has_url, last_added, *metas = self._lookup(args=[self.prefix, url.encode(), bands])
        if lost:
            self.lost += 1
        return HotView(self._candidates(metas, signature), bool(has_url), int(last_added))

    def _candidates(self, metas: list[bytes], signature: Signature) -> list[Candidate]:
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

    def close(self) -> None:
        self.client.close()

    def recent_shingles(self, urls: list[str]) -> dict[str, np.ndarray]:
        """Exact shingle sets of copies indexed in the last minutes, maybe not yet in the store."""
        values = cast(
            "list[bytes | None]",
            self.client.mget([self.prefix + b"s:" + url.encode() for url in urls]) if urls else [],
        )
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
