"""The WARC archive: every fetched response, as received, with the request that fetched it.

WarcArchive writes WARC/1.1 files of records built by warcio, one gzip member per record,
rotated at WARC_MAX_SIZE. WarcMiddleware sits next to the network (downloader middleware order 950), so it
sees each response before Scrapy decompresses it: the response record holds the status line, the
headers in the order the server sent them and the body as it came over the wire, still
content-encoded (gzip, br...). Two things cannot be kept: Twisted normalises the capitalisation of
header names and removes chunked transfer encoding (the de-chunked body is stored and the
Transfer-Encoding header left out, as warcio does). A conditional re-fetch answered 304, or a
200 with the payload already archived for that page, becomes a `revisit` record.

The storage stage records, for each article, the WARC file and offset of its response record
(item fields warc_file and warc_offset).

Settings: WARC_ENABLED, WARC_DIR (default DATA_DIR/warc), WARC_MAX_SIZE, WARC_PREFIX.
"""

from __future__ import annotations

import base64
import hashlib
import logging
import os
import socket
import threading
from concurrent.futures import Future, ThreadPoolExecutor
from dataclasses import dataclass
from datetime import UTC, datetime
from http import HTTPStatus
from io import BytesIO
from pathlib import Path
from typing import Any
from urllib.parse import urlsplit

from isal import isal_zlib
from scrapy import Request, signals
from scrapy.crawler import Crawler
from scrapy.exceptions import NotConfigured
from scrapy.http import Response
from scrapy.statscollectors import StatsCollector
from warcio.statusandheaders import StatusAndHeaders
from warcio.warcwriter import WARCWriter

from pipelines import clock, faults

logger = logging.getLogger(__name__)


# ISA-L's deflate level for the records (see WarcArchive._append).
_LEVEL = 2


class _ClockedWriter(WARCWriter):
    """warcio's writer, dating records by the project's clock (pipelines.clock), not the wall clock."""

    def curr_warc_date(self) -> str:
        return clock.now().strftime("%Y-%m-%dT%H:%M:%S.%fZ")


@dataclass(frozen=True)
class WarcLocation:
    """Where a response record sits: the file, the offset of its gzip member, its payload digest."""

    file: str
    offset: int
    payload_digest: str


@dataclass(frozen=True)
class PreviousCapture:
    """The last archived fetch of a page, from the article store: what a revisit record refers to."""

    url: str
    date: str  # WARC-Date form, 2026-11-26T06:47:55Z
    payload_digest: str | None  # None if that fetch was made with the archive off

    @classmethod
    def of(cls, state: Any, url: str) -> PreviousCapture | None:
        if state is None:
            return None
        fetched = datetime.fromisoformat(state.fetched_at).astimezone(UTC)
        return cls(state.url or url, fetched.strftime("%Y-%m-%dT%H:%M:%SZ"), state.payload_digest)


SERVER_NOT_MODIFIED = "http://netpreserve.org/warc/1.1/revisit/server-not-modified"


def payload_digest(body: bytes) -> str:
    """The WARC-Payload-Digest of a body, as warcio writes it (sha1, base32)."""
    return "sha1:" + base64.b32encode(hashlib.sha1(body, usedforsecurity=False).digest()).decode("ascii")


class PendingRecord:
    """request.meta["warc_record"]: the archive's write of this response, perhaps still under way.

    Redirects and retries copy meta into new requests, which a JOBDIR disk queue or the shared
    Redis queue pickles: a pending write pickles as an empty one (a Future cannot be pickled, and
    the new request's own response gets its own record anyway).
    """

    def __init__(self, future: Future[WarcLocation] | None = None) -> None:
        self.future = future

    def __reduce__(self) -> tuple[type, tuple]:
        return (PendingRecord, ())


class WarcArchive:
    """Appends request, response and revisit records to rotating WARC/1.1 files."""

    def __init__(self, directory: Path, prefix: str = "newsdedup", max_size: int = 1_000_000_000) -> None:
        if max_size < 1_000_000:
            raise ValueError("WARC_MAX_SIZE must be at least 1000000 bytes")
        self.directory = Path(directory)
        try:  # here, so that a crawl that could not archive does not start
            self.directory.mkdir(parents=True, exist_ok=True)
        except OSError as exc:
            raise ValueError(
                f"cannot create the WARC directory {self.directory}: {exc}; set WARC_DIR"
            ) from exc
        if not os.access(self.directory, os.W_OK):
            raise ValueError(f"the WARC directory {self.directory} is not writable; set WARC_DIR")
        self.prefix = prefix
        self.max_size = max_size
        self._file: Any = None
        self._path: Path | None = None
        self._serial = 0
        self._lock = threading.Lock()
        # warcio builds and serialises the records; they are compressed here (see _append).
        self._buffer = BytesIO()
        self._builder = _ClockedWriter(self._buffer, gzip=False, warc_version="WARC/1.1")

    def _open_next(self) -> None:
        self.close()
        self.directory.mkdir(parents=True, exist_ok=True)
        stamp = clock.now().strftime("%Y%m%d%H%M%S")
        self._serial += 1
        name = f"{self.prefix}-{stamp}-{socket.gethostname()}-{os.getpid()}-{self._serial:05d}.warc.gz"
        self._path = self.directory / name
        self._file = self._path.open("ab")
        info = {"software": "newsdedup", "format": "WARC File Format 1.1"}
        self._append(self._builder.create_warcinfo_record(name, info))

    def _append(self, record: Any) -> int:
        """Write *record* as one gzip member of the current file; returns the member's offset.

        warcio compresses at zlib level 9, which costs more CPU than the rest of archiving
        together. ISA-L's deflate at its level 2 is about seventeen times faster, at 16% larger files:
        on the crawl benchmark's pages, a third of the CPU of its level 3 (0.37 against 1.19 ms a
        page) for 3% more bytes.
        """
        self._buffer.seek(0)
        self._buffer.truncate()
        self._builder.write_record(record)
        compressor = isal_zlib.compressobj(_LEVEL, isal_zlib.DEFLATED, 16 + isal_zlib.MAX_WBITS)
        member = compressor.compress(self._buffer.getbuffer()) + compressor.flush()
        offset = self._file.tell()
        self._file.write(member)
        return offset

    def write_exchange(
        self,
        url: str,
        request_line: str,
        request_headers: list[tuple[str, str]],
        status_line: str,
        protocol: str,
        response_headers: list[tuple[str, str]],
        body: bytes,
        previous: PreviousCapture | None = None,
    ) -> WarcLocation:
        """Write a response (or revisit) record and its request record; returns where the former is.

        With the *previous* capture of this page, a 304 Not Modified becomes a revisit record of
        profile server-not-modified, and a 200 with the same payload one of identical-payload-digest.
        """
        with self._lock:
            if self._file is None or self._file.tell() >= self.max_size:
                self._open_next()
            writer = self._builder
            http_headers = StatusAndHeaders(status_line, response_headers, protocol=protocol)
            digest = payload_digest(body)
            not_modified = previous is not None and status_line.startswith("304")
            # A 304 for a page archived with the archive off has nothing to refer to: kept as is.
            if (
                previous is not None
                and previous.payload_digest
                and (not_modified or previous.payload_digest == digest)
            ):
                digest = previous.payload_digest
                record = writer.create_revisit_record(
                    url,
                    digest=digest,
                    refers_to_uri=previous.url,
                    refers_to_date=previous.date,
                    http_headers=http_headers,
                )
                if not_modified:
                    record.rec_headers.replace_header("WARC-Profile", SERVER_NOT_MODIFIED)
            else:
                # With its length and digest given, warcio hashes the block straight from memory
                # instead of copying the body to a temporary file first.
                record = writer.create_warc_record(
                    url,
                    "response",
                    payload=BytesIO(body),
                    length=len(body),
                    warc_headers_dict={"WARC-Payload-Digest": digest},
                    http_headers=http_headers,
                )
            offset = self._append(record)
            request = writer.create_warc_record(
                url,
                "request",
                http_headers=StatusAndHeaders(request_line, request_headers, is_http_request=True),
                warc_headers_dict={"WARC-Concurrent-To": record.rec_headers.get_header("WARC-Record-ID")},
            )
            self._append(request)
            self._file.flush()
            faults.reached("warc.written")
            return WarcLocation(self._path.name, offset, digest)  # type: ignore[union-attr]

    def close(self) -> None:
        if self._file is not None:
            self._file.close()
            self._file = None


class WarcMiddleware:
    """Archives every response as received; puts its PendingRecord in request.meta["warc_record"]."""

    def __init__(self, stats: StatsCollector, archive: WarcArchive) -> None:
        self.stats = stats
        self.archive = archive
        # One thread writes: the reactor thread never waits on the disk.
        self._thread = ThreadPoolExecutor(max_workers=1, thread_name_prefix="warc")

    @classmethod
    def from_crawler(cls, crawler: Crawler) -> WarcMiddleware:
        settings = crawler.settings
        if not settings.getbool("WARC_ENABLED"):
            raise NotConfigured("WARC archiving is off (WARC_ENABLED = False)")
        directory = Path(settings.get("WARC_DIR") or Path(settings.get("DATA_DIR")) / "warc")
        # A bad WARC setting stops the run before anything is fetched (exit status 1).
        archive = WarcArchive(directory, settings.get("WARC_PREFIX"), settings.getint("WARC_MAX_SIZE"))
        middleware = cls(crawler.stats, archive)
        crawler.signals.connect(middleware.spider_closed, signal=signals.spider_closed)
        return middleware

    def spider_closed(self) -> None:
        self._thread.shutdown(wait=True)
        self.archive.close()

    def process_response(self, request: Request, response: Response) -> Response:
        headers = [
            (name.decode("latin-1"), value.decode("latin-1"))
            for name, values in response.headers.items()
            if name.lower() != b"transfer-encoding"
            for value in values
        ]
        parts = urlsplit(request.url)
        target = (parts.path or "/") + (f"?{parts.query}" if parts.query else "")
        request_headers = [("Host", parts.netloc)] + [
            (name.decode("latin-1"), value.decode("latin-1"))
            for name, values in request.headers.items()
            for value in values
        ]
        protocol = response.protocol or "HTTP/1.1"
        future: Future[WarcLocation] = self._thread.submit(
            self.archive.write_exchange,
            response.url,
            f"{request.method} {target} {protocol}",
            request_headers,
            f"{response.status} {_reason(response.status)}",
            protocol,
            headers,
            response.body,
            PreviousCapture.of(request.meta.get("page_state"), request.url),
        )
        future.add_done_callback(self._report)
        request.meta["warc_record"] = PendingRecord(future)
        self.stats.inc_value("warc/records")
        return response

    def _report(self, future: Future[WarcLocation]) -> None:
        if future.exception() is not None:
            self.stats.inc_value("warc/write_failed")
            logger.error("could not write a WARC record: %s", future.exception())


def _reason(status: int) -> str:
    try:
        return HTTPStatus(status).phrase
    except ValueError:
        return ""
