"""The WARC archive and the dataset export, on a real crawl of the fixture newsroom."""

from __future__ import annotations

import gzip
import json
import os
import shutil
import subprocess
import sys
from urllib.parse import urlsplit

import pandas
import pyarrow.dataset
import pytest
from warcio.archiveiterator import ArchiveIterator

from pipelines.extraction.page import extract_article
from tests.fixtures.crawls import ROOT, run_crawl, stored_articles
from tests.fixtures.newsroom.demo import crawl
from tests.fixtures.newsroom.model import Newsroom, Page
from tests.fixtures.newsroom.server import NewsroomServer
from tests.fixtures.scaleout import Namespace, start_worker

pytestmark = pytest.mark.crawl


def records(data_dir, subdirectory="warc"):
    for path in sorted((data_dir / subdirectory).glob("*.warc.gz")):
        with path.open("rb") as handle:
            yield from ((path.name, record) for record in ArchiveIterator(handle))


def test_every_response_is_archived_with_its_request(first_crawl, newsroom_server):
    kinds = {}
    for _, record in records(first_crawl):
        kinds.setdefault(record.rec_type, set()).add(record.rec_headers.get_header("WARC-Target-URI"))
        if record.rec_type == "response":
            assert record.rec_headers.get_header("WARC-Payload-Digest").startswith("sha1:")
            assert record.http_headers.get_statuscode()
    assert kinds["response"] == kinds["request"]
    # warcio's own checker recomputes every block and payload digest
    files = sorted(str(path) for path in (first_crawl / "warc").glob("*.warc.gz"))
    check = subprocess.run(
        [sys.executable, "-m", "warcio.cli", "check", *files], capture_output=True, text=True
    )
    assert check.returncode == 0, check.stdout + check.stderr
    fetched = {url for url in newsroom_server.requests if "/search" not in url}
    assert {url for url in fetched if url.startswith("http://www.meridianherald.test")} <= kinds["response"]


def test_an_article_is_re_extracted_from_its_record(first_crawl, newsroom):
    stored = stored_articles(first_crawl)
    for article in newsroom.articles[:8]:
        row = stored[article.url]
        with (first_crawl / "warc" / row["warc_file"]).open("rb") as handle:
            handle.seek(row["warc_offset"])
            record = next(iter(ArchiveIterator(handle)))
        assert record.rec_type == "response"
        assert record.rec_headers.get_header("WARC-Target-URI") == article.url
        html = record.content_stream().read().decode("utf-8")
        again = extract_article(html, article.url)["text"].split("\n\n")
        assert all(paragraph in again for paragraph in row["text"].split("\n\n"))


def test_the_body_is_archived_as_it_came_over_the_wire(newsroom, tmp_path):
    # a publisher that gzips its pages: the archive keeps the gzip bytes and the header
    zipped = type(newsroom)()
    zipped.pages = {host: dict(pages) for host, pages in newsroom.pages.items()}
    target = newsroom.articles[0]
    path = target.url.split(target.host, 1)[1]
    page = newsroom.pages[target.host][path]
    zipped.pages[target.host][path] = Page(
        200, page.content_type, gzip.compress(page.body), (("Content-Encoding", "gzip"),)
    )
    with NewsroomServer(zipped) as server:
        run_crawl(server, tmp_path, start_urls=[target.url])
    # a record's body can be read only while the iterator is on it
    bodies = [
        (record.http_headers.get_header("Content-Encoding"), record.raw_stream.read())
        for _, record in records(tmp_path)
        if record.rec_type == "response" and record.rec_headers.get_header("WARC-Target-URI") == target.url
    ]
    assert len(bodies) == 1
    [(encoding, raw)] = bodies
    assert encoding == "gzip"
    assert raw[:2] == b"\x1f\x8b"
    assert gzip.decompress(raw) == page.body
    assert target.url in stored_articles(tmp_path)


def test_unchanged_refetches_are_revisit_records(first_crawl, newsroom, tmp_path):
    data_dir = tmp_path / "data"
    shutil.copytree(first_crawl, data_dir)
    with NewsroomServer(newsroom) as server:
        run_crawl(server, data_dir, "-s", "INCREMENTAL_REVISIT_HOURS=0")
    revisits = [r for _, r in records(data_dir) if r.rec_type == "revisit"]
    assert len(revisits) == len(newsroom.articles)
    assert {r.rec_headers.get_header("WARC-Profile") for r in revisits} == {
        "http://netpreserve.org/warc/1.1/revisit/server-not-modified"
    }
    assert all(r.rec_headers.get_header("WARC-Refers-To-Target-URI") for r in revisits)


def run_export(out, *options, env=None) -> subprocess.CompletedProcess:
    """`scrapy export --out OUT OPTIONS`, from the repository root, as users run it."""
    return subprocess.run(
        [sys.executable, "-m", "scrapy", "export", "--out", str(out), *options],
        cwd=ROOT,
        env={**os.environ, **(env or {})},
        capture_output=True,
        text=True,
    )


def export(data_dir, out, *options):
    result = run_export(out, "-s", f"DATA_DIR={data_dir}", *options)
    assert result.returncode == 0, result.stderr
    return result.stdout


def jsonl_rows(directory):
    return [json.loads(line) for path in directory.rglob("*.jsonl") for line in path.read_text().splitlines()]


def test_export_loads_with_pyarrow_pandas_and_datasets(first_crawl, newsroom, tmp_path):
    message = export(first_crawl, tmp_path / "out")
    assert f"exported {len(newsroom.articles)} articles" in message
    table = pyarrow.dataset.dataset(tmp_path / "out" / "parquet", format="parquet").to_table()
    assert table.num_rows == len(newsroom.articles)
    assert set(table.column("url").to_pylist()) == {a.url for a in newsroom.articles}
    frame = pandas.read_parquet(tmp_path / "out" / "parquet")
    assert len(frame) == len(newsroom.articles)
    assert frame["first_copy"].sum() == frame["cluster_id"].nunique()
    # partitions by publication date, every file complete on its own
    for path in (tmp_path / "out" / "parquet").glob("*/*.parquet"):
        day = path.parent.name
        assert set(pandas.read_parquet(path)["published_date"]) == {day}
    lines = jsonl_rows(tmp_path / "out" / "jsonl")
    assert len(lines) == len(newsroom.articles)
    assert isinstance(lines[0]["authors"], list)
    os.environ.setdefault("HF_DATASETS_OFFLINE", "1")
    os.environ.setdefault("HF_HUB_OFFLINE", "1")
    import datasets

    loaded = datasets.load_dataset(
        "parquet",
        data_files=str(tmp_path / "out" / "parquet" / "**" / "*.parquet"),
        cache_dir=str(tmp_path / "hf-cache"),
        split="train",
    )
    assert loaded.num_rows == len(newsroom.articles)
    assert {"url", "text", "cluster_id", "published_date", "warc_file"} <= set(loaded.column_names)


def test_export_options(first_crawl, newsroom, tmp_path):
    export(first_crawl, tmp_path / "firsts", "--format", "parquet")
    # a second export to the same directory replaces the first as a whole
    export(first_crawl, tmp_path / "firsts", "--first-copies", "--format", "parquet")
    firsts = pandas.read_parquet(tmp_path / "firsts" / "parquet")
    assert firsts["duplicate_of"].isna().all()
    assert firsts["cluster_id"].is_unique
    assert len(firsts) < len(newsroom.articles)
    assert [p.name for p in (tmp_path / "firsts").iterdir()] == ["parquet"]
    assert not (tmp_path / "firsts" / "jsonl").exists()
    export(first_crawl, tmp_path / "origins", "--origins-only", "--format", "jsonl")
    origins = jsonl_rows(tmp_path / "origins")
    assert {row["cluster_id"] for row in origins} == set(firsts["cluster_id"])
    assert all(row["is_origin"] and row["origin_url"] == row["url"] for row in origins)
    assert {row["origin_reason"] for row in origins} > {"alone"}
    export(first_crawl, tmp_path / "long", "--min-words", "300", "--format", "jsonl")
    long_rows = jsonl_rows(tmp_path / "long")
    assert long_rows
    assert all(row["word_count"] >= 300 for row in long_rows)
    days = sorted({a.published[:10] for a in newsroom.articles})
    export(first_crawl, tmp_path / "range", "--since", days[1], "--until", days[-2])
    in_range = pandas.read_parquet(tmp_path / "range" / "parquet")
    assert set(in_range["published_date"]) <= set(days[1:-1])
    assert len(in_range) > 0


def test_export_refuses_bad_options(first_crawl, tmp_path):
    result = run_export(tmp_path, "--format", "csv", "-s", f"DATA_DIR={first_crawl}")
    assert result.returncode == 1
    assert "unknown export format" in result.stderr
    result = run_export(tmp_path, "--first-copies", "--origins-only", "-s", f"DATA_DIR={first_crawl}")
    assert result.returncode == 1
    assert "choose --first-copies or --origins-only" in result.stderr


@pytest.mark.services
def test_a_redirect_with_an_archived_response_goes_through_the_shared_queue(newsroom, tmp_path):
    # The 301 is archived, and its pending record travels in the meta of the redirected request,
    # which the scale-out settings queue in Redis (pickled): a real worker on the real services.
    home = newsroom.start_urls[0]
    host = urlsplit(home).hostname
    moved = Newsroom(pages={h: dict(pages) for h, pages in newsroom.pages.items()})
    moved.add(host, "/moved", Page(301, "text/html", b"", (("Location", home),)))
    moved.start_urls = [f"http://{host}/moved"]
    namespace = Namespace()
    try:
        with NewsroomServer(moved) as server:
            status, log = start_worker(server, namespace, tmp_path / "worker").wait()
        assert status == 0, log[-3000:]
        rows = namespace.query("SELECT url, warc_file, warc_offset FROM articles")
        assert {url for url, _, _ in rows} == {a.url for a in newsroom.articles if a.host == host}
        assert all(file and offset is not None for _, file, offset in rows)
        # and the export reads the shared PostgreSQL store as it reads the embedded one
        exported = run_export(tmp_path / "out", "--format", "parquet", env=namespace.env())
        assert exported.returncode == 0, exported.stderr
        table = pandas.read_parquet(tmp_path / "out" / "parquet")
        assert sorted(table["url"]) == sorted(url for url, _, _ in rows)
    finally:
        namespace.clean()
    assert "/moved" in {
        urlsplit(r.rec_headers.get_header("WARC-Target-URI")).path
        for _, r in records(tmp_path / "worker")
        if r.rec_type == "response"
    }


def test_a_warc_directory_that_cannot_be_written_stops_the_run_before_it_fetches(newsroom_server, tmp_path):
    (tmp_path / "taken").write_text("a file where the WARC directory should be")
    result = crawl(
        newsroom_server.newsroom.start_urls[:1],
        tmp_path / "data",
        newsroom_server.proxy_env(),
        "-s",
        f"WARC_DIR={tmp_path / 'taken'}",
    )
    assert result.returncode == 1
    assert "cannot create the WARC directory" in result.stderr
    assert "set WARC_DIR" in result.stderr
    assert not (tmp_path / "data" / "articles.sqlite3").exists() or not stored_articles(tmp_path / "data")
