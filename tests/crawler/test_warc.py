"""The WARC archive's files: rotation by size, and revisit records."""

from __future__ import annotations

import os

from warcio.archiveiterator import ArchiveIterator

from crawler.warc import PreviousCapture, WarcArchive


def records(directory):
    for path in sorted(directory.glob("*.warc.gz")):
        with path.open("rb") as handle:
            yield from ((path.name, record) for record in ArchiveIterator(handle))


def test_archive_files_rotate_by_size(tmp_path):
    archive = WarcArchive(tmp_path, "test", max_size=1_000_000)
    body = os.urandom(400_000)  # random bytes: gzip cannot shrink them
    locations = [
        archive.write_exchange(
            f"http://news.test/{n}", f"GET /{n} HTTP/1.1", [], "200 OK", "HTTP/1.1", [], body
        )
        for n in range(5)
    ]
    archive.close()
    files = sorted({location.file for location in locations})
    # a file is closed once it has reached the size: 3 records of 400 kB, then 2
    assert len(files) == 2
    assert all((tmp_path / name).stat().st_size < 1_000_000 + 500_000 for name in files)
    for n, location in enumerate(locations):
        with (tmp_path / location.file).open("rb") as handle:
            handle.seek(location.offset)
            record = next(iter(ArchiveIterator(handle)))
            assert record.rec_headers.get_header("WARC-Target-URI") == f"http://news.test/{n}"
            assert record.content_stream().read() == body


def test_an_identical_payload_is_a_revisit_and_a_304_without_one_is_kept(tmp_path):
    archive = WarcArchive(tmp_path)
    first = archive.write_exchange(
        "http://news.test/a", "GET /a HTTP/1.1", [], "200 OK", "HTTP/1.1", [], b"x"
    )
    previous = PreviousCapture("http://news.test/a", "2026-11-25T10:00:00Z", first.payload_digest)
    again = archive.write_exchange(
        "http://news.test/a", "GET /a HTTP/1.1", [], "200 OK", "HTTP/1.1", [], b"x", previous
    )
    unknown = PreviousCapture("http://news.test/b", "2026-11-25T10:00:00Z", None)
    kept = archive.write_exchange(
        "http://news.test/b", "GET /b HTTP/1.1", [], "304 Not Modified", "HTTP/1.1", [], b"", unknown
    )
    archive.close()
    assert again.payload_digest == first.payload_digest
    found = {}
    for _, record in records(tmp_path):
        found[record.rec_headers.get_header("WARC-Target-URI"), record.rec_type] = record.rec_headers
    revisit = found["http://news.test/a", "revisit"]
    assert revisit.get_header("WARC-Refers-To-Date") == "2026-11-25T10:00:00Z"
    assert revisit.get_header("WARC-Profile").endswith("identical-payload-digest")
    assert ("http://news.test/b", "response") in found
    assert kept.offset > again.offset
