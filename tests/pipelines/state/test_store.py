"""The article store and page history: one contract, the same tests on every backend (SQLite,
and the real PostgreSQL of this machine)."""

from __future__ import annotations

import re
import sqlite3
from datetime import timedelta

import numpy as np
import pytest
import xxhash
from scrapy.settings import Settings

from pipelines import clock
from pipelines.signatures import WORDS, BandLayout, Signature, Signer
from pipelines.state import StoreError, open_backend
from pipelines.state.interfaces import PageFetch
from pipelines.urls import page_keys
from settings import base

SCHEME = Signer().scheme
LAYOUT = BandLayout()
DAY_AGO = (clock.now() - timedelta(days=1)).isoformat(timespec="seconds")


class Backend:
    """One backend's store, opened again and again over the same data, and raw SQL on it."""

    def __init__(self, settings: Settings, sql) -> None:
        self.settings = settings
        self.sql = sql
        self._opened: list = []

    def open(self, layout: BandLayout | None = LAYOUT, scheme: str | None = SCHEME, sign=None):
        backend = open_backend(self.settings)
        self._opened.append(backend)
        return backend.open_store(scheme, layout, sign=sign)

    def segments(self):
        backend = open_backend(self.settings)
        self._opened.append(backend)
        return backend.open_segments()

    def close(self) -> None:
        while self._opened:
            self._opened.pop().close()


def project_settings(**values) -> Settings:
    settings = Settings()
    settings.setmodule(base)
    settings.setdict(values)
    return settings


@pytest.fixture(params=["sqlite", pytest.param("postgres", marks=pytest.mark.services)])
def backend(request, tmp_path):
    if request.param == "sqlite":

        def sql(statement: str) -> None:
            db = sqlite3.connect(tmp_path / "articles.sqlite3")
            db.execute(statement)
            db.commit()
            db.close()

        opened = Backend(project_settings(DATA_DIR=str(tmp_path)), sql)
        yield opened
        opened.close()
        return
    import psycopg

    from tests.fixtures.scaleout import POSTGRES_DSN, Namespace

    namespace = Namespace()

    def sql(statement: str) -> None:
        with psycopg.connect(POSTGRES_DSN, autocommit=True) as conn:
            conn.execute(f"SET search_path TO {namespace.name}")
            conn.execute(statement)

    settings = project_settings(
        STORAGE_BACKEND="postgres", STORAGE_POSTGRES_DSN=POSTGRES_DSN, STORAGE_POSTGRES_SCHEMA=namespace.name
    )
    opened = Backend(settings, sql)
    yield opened
    opened.close()
    namespace.clean()


def keys(signature: Signature):
    return LAYOUT.keys(signature.hashvalues[np.newaxis, :])[0]


def fetch(url: str, etag: str | None = None) -> PageFetch:
    return PageFetch(page_keys(url), DAY_AGO, etag)


def article(url: str, text: str = "Some story text about the news of the day.") -> dict:
    return {
        "url": url,
        "canonical_url": url,
        "site": "example.test",
        "title": "Title",
        "authors": ["A B"],
        "published": DAY_AGO[:10],
        "language": "en",
        "text": text,
        "word_count": 9,
        "fetched_at": DAY_AGO,
        "cluster_id": "c1",
        "duplicate_of": None,
        "similarity": None,
    }


def test_add_is_idempotent_on_url_and_keeps_the_signature(backend):
    signer = Signer()
    store = backend.open()
    signature = signer.sign("Some story text about the news of the day.")
    assert store.add(article("http://a/1"), signature, fetch("http://a/1")) is True
    assert store.add(article("http://a/1", "changed"), signature, fetch("http://a/1")) is False
    rows = store.candidates(keys(signature))
    assert rows.urls == ["http://a/1"]
    assert rows.first_urls == ["http://a/1"]
    assert np.array_equal(rows.matrix[0], signature.hashvalues)
    assert store.candidates(keys(signer.sign("an unrelated text of other words entirely"))).urls == []
    # forgetting is opt-in, by the time a story was stored
    assert store.candidates(keys(signature), stored_since=clock.now_iso()).urls == []
    assert np.array_equal(store.shingles(["http://a/1", "http://a/2"])["http://a/1"], signature.shingles)
    [stored] = list(store.articles())
    assert stored["text"].startswith("Some story")
    assert stored["authors"] == ["A B"]
    backend.close()


def test_data_survives_reopening_and_update_text(backend):
    signer = Signer()
    store = backend.open()
    store.add(article("http://a/1"), signer.sign("first text of the story here"), fetch("http://a/1"))
    backend.close()
    store = backend.open()
    new = signer.sign("cleaned text")
    assert store.update_text("http://a/1", "cleaned text", 2, new) == "c1"  # its story
    assert store.update_text("http://a/none", "x", 1, new) is None
    assert np.array_equal(store.candidates(keys(new)).matrix[0], new.hashvalues)
    assert store.candidates(keys(signer.sign("first text of the story here"))).urls == []
    assert next(store.articles())["text"] == "cleaned text"
    backend.close()


def test_a_failed_write_leaves_nothing_half_stored(backend):
    store = backend.open()
    broken = Signer().sign("text")
    object.__setattr__(broken, "shingles", None)  # the signature row cannot be written
    with pytest.raises(ValueError, match="shingle set"):
        store.add(article("http://a/1"), broken, fetch("http://a/1"))
    assert list(store.articles()) == []
    backend.close()


def test_signatures_of_other_settings_are_refused(backend):
    backend.open()
    backend.close()
    with pytest.raises(StoreError, match="NEARDUP_NUM_PERM"):
        backend.open(None, Signer(num_perm=64).scheme)


def test_signatures_of_an_earlier_way_of_reading_words_are_made_again(backend):
    signer = Signer()
    store = backend.open()
    texts = {
        "http://a/1": "新華社北京電 國務院總理今天在人民大會堂會見了來訪的代表團，雙方就合作交換了意見。",
        "http://a/2": "a story in English, whose words are read as they always were, and stay the same",
    }
    old = {url: signer.sign(text) for url, text in texts.items()}
    # the Chinese text as an earlier version signed it, runs of \w as words, under its earlier
    # scheme name
    runs = re.findall(r"\w+", texts["http://a/1"].casefold())
    old["http://a/1"] = signer.sign_words(
        np.array([xxhash.xxh32_intdigest(run.encode()) for run in runs], dtype=np.uint64)
    )
    for url, text in texts.items():
        store.add(article(url, text), old[url], fetch(url))
    backend.close()
    earlier = SCHEME.replace(WORDS, "words")
    identity = backend.open().identity()
    backend.close()
    backend.sql(f"UPDATE settings SET value = '{earlier}' WHERE name = 'signature_scheme'")
    with pytest.raises(StoreError, match="holds signatures built as"):
        backend.open()  # without a way to sign, the store is refused, never mixed
    store = backend.open(sign=signer.sign)
    for url, text in texts.items():
        new = signer.sign(text)
        assert store.candidates(keys(new)).urls == [url]
        assert np.array_equal(store.shingles([url])[url], new.shingles)
    assert store.candidates(keys(old["http://a/1"])).urls == []
    assert store.identity() != identity  # so the cold index's filter of the old keys is not used
    backend.close()
    backend.open()  # the store now holds the current scheme
    backend.close()


def test_an_unusable_data_dir_is_a_clear_error(tmp_path):
    blocker = tmp_path / "file"
    blocker.write_text("not a directory")
    with pytest.raises(StoreError, match="set DATA_DIR to a writable directory"):
        open_backend(project_settings(DATA_DIR=str(blocker / "data"))).open_store(SCHEME, LAYOUT)
    with pytest.raises(StoreError, match="unknown STORAGE_BACKEND"):
        open_backend(project_settings(DATA_DIR=str(tmp_path), STORAGE_BACKEND="mongodb"))


def test_segment_stats_store_round_trip(backend):
    store = backend.segments()
    assert store.load("example.test") is None
    store.save({"example.test": {"stories": 3}, "other.test": {"stories": 1}})
    store.save({"example.test": {"stories": 4}})
    assert store.load("example.test") == {"stories": 4}
    assert store.load("other.test") == {"stories": 1}
    backend.close()


def test_versions_of_a_page_and_its_fetches(backend):
    signer = Signer()
    store = backend.open()
    first = article("http://a/1")
    store.add({**first, "text_hash": "h1"}, signer.sign(first["text"]), fetch("http://a/1", '"v1"'))
    state = store.page(page_keys("https://a/1"))  # http and https are one page
    assert state.version == 1
    assert state.text_hash == "h1"
    assert state.etag == '"v1"'
    second = {
        **first,
        "text": "A changed story text.",
        "text_hash": "h2",
        "version": 2,
        "previous_id": state.article_id,
    }
    assert store.add(second, signer.sign(second["text"]), fetch("http://a/1", '"v2"'))
    state = store.page(page_keys("http://a/1"))
    assert state.version == 2
    assert state.etag == '"v2"'
    # only the current version is matched against
    assert store.candidates(keys(signer.sign(first["text"]))).urls == []
    assert store.candidates(keys(signer.sign(second["text"]))).urls == ["http://a/1"]
    assert [a["version"] for a in store.articles()] == [1, 2]
    store.touch_page(PageFetch(page_keys("http://a/1"), clock.now_iso()))
    assert store.page(page_keys("http://a/1")).fetched_at > DAY_AGO
    assert store.page(page_keys("http://a/2")) is None
    backend.close()


def test_a_store_from_before_the_band_table_is_indexed_on_opening(backend):
    signer = Signer()
    store = backend.open()
    texts = [
        f"story number {n} about the harbour, the council and the weather of the week" for n in range(30)
    ]
    for n, text in enumerate(texts):
        store.add(article(f"http://a/{n}", text), signer.sign(text), fetch(f"http://a/{n}"))
    backend.close()
    # as the previous release left it: signatures, no band table, no layout recorded
    backend.sql("DROP TABLE bands")
    backend.sql("DELETE FROM settings WHERE name = 'band_layout'")
    store = backend.open()
    for n, text in enumerate(texts):
        assert f"http://a/{n}" in store.candidates(keys(signer.sign(text))).urls
    assert len(list(store.articles())) == 30
    backend.close()


def test_another_band_layout_rebuilds_the_band_table(backend):
    signer = Signer()
    store = backend.open()
    text = "a story told once and looked up with another band layout later on"
    store.add(article("http://a/1"), signer.sign(text), fetch("http://a/1"))
    backend.close()
    other = BandLayout(128, 32, 4)
    store = backend.open(other)
    found = store.candidates(other.keys(signer.sign(text).hashvalues[np.newaxis, :])[0])
    assert found.urls == ["http://a/1"]
    backend.close()


def test_a_recleaned_text_is_found_by_its_new_bands_only(backend):
    signer = Signer()
    store = backend.open()
    before, after = (
        "the first text of the story, with a promo line",
        "the story's text once cleaned of the promo",
    )
    store.add(article("http://a/1", before), signer.sign(before), fetch("http://a/1"))
    assert store.update_text("http://a/1", after, 7, signer.sign(after))
    assert store.candidates(keys(signer.sign(after))).urls == ["http://a/1"]
    assert store.candidates(keys(signer.sign(before))).urls == []
    backend.close()


def test_a_lost_band_table_is_rebuilt_on_opening(backend):
    signer = Signer()
    store = backend.open()
    text = "a story whose cold index entries were lost with the band table"
    store.add(article("http://a/1"), signer.sign(text), fetch("http://a/1"))
    backend.close()
    backend.sql("DELETE FROM bands")
    store = backend.open()
    assert store.candidates(keys(signer.sign(text))).urls == ["http://a/1"]
    backend.close()


def test_an_election_rewrites_the_story_s_rows_that_changed_and_no_other(backend):
    from pipelines.origin.election import elect

    signer = Signer()
    store = backend.open()
    text = "Some story text about the news of the day."
    week_ago = (clock.now() - timedelta(days=7)).date().isoformat()
    stories = [
        ("http://a/1", "c1", {"published": DAY_AGO[:10]}),
        ("http://b/1", "c1", {"published": week_ago}),
        ("http://other/1", "c2", {}),
    ]
    for url, cluster, evidence in stories:
        row = {**article(url, text), "cluster_id": cluster, "origin_url": url, "origin_reason": "alone"}
        store.add({**row, **evidence}, signer.sign(text), fetch(url))
    origin, rewritten = store.elect_origin("c1", elect)
    assert (origin.url, origin.reason, rewritten) == ("http://b/1", "earliest", 2)
    assert store.elect_origin("c1", elect)[1] == 0  # nothing changed: nothing written
    # a later copy declares the first one canonical: the story's origin moves, on every copy
    late = {**article("http://c/1", text), "canonical_url": "http://a/1", "duplicate_of": "http://b/1"}
    store.add(late, signer.sign(text), fetch("http://c/1"))
    origin, rewritten = store.elect_origin("c1", elect)
    assert (origin.url, origin.reason, rewritten) == ("http://a/1", "canonical", 3)
    rows = {a["url"]: a for a in store.articles()}
    assert {rows[u]["origin_url"] for u in ("http://a/1", "http://b/1", "http://c/1")} == {"http://a/1"}
    assert rows["http://other/1"]["origin_url"] == "http://other/1"
    assert store.elect_origin("no such story", elect) is None
    backend.close()


def test_an_article_is_stored_and_its_story_elected_in_one_transaction(backend):
    from pipelines.origin.election import elect

    signer = Signer()
    store = backend.open()
    text = "Some story text about the news of the day."
    week_ago = (clock.now() - timedelta(days=7)).date().isoformat()
    first = {**article("http://a/1", text), "origin_url": "http://a/1", "origin_reason": "alone"}
    origin, rewritten = store.add_and_elect(first, signer.sign(text), fetch("http://a/1"), elect)
    assert (origin.url, origin.reason) == ("http://a/1", "alone")
    earlier = {**article("http://b/1", text), "published": week_ago, "origin_url": "http://b/1"}
    origin, rewritten = store.add_and_elect(earlier, signer.sign(text), fetch("http://b/1"), elect)
    # the earlier copy moves the origin of both rows, its own provisional one included
    assert (origin.url, origin.reason, rewritten) == ("http://b/1", "earliest", 2)
    assert {a["url"]: a["origin_url"] for a in store.articles()} == {
        "http://a/1": "http://b/1",
        "http://b/1": "http://b/1",
    }
    # a version already stored: nothing stored, nothing elected
    assert store.add_and_elect(earlier, signer.sign(text), fetch("http://b/1"), elect) is None
    assert len(list(store.articles())) == 2

    def broken(copies):
        raise RuntimeError("the election failed")

    # an election that fails takes the article's rows with it: nothing is left half stored
    with pytest.raises(RuntimeError):
        store.add_and_elect(article("http://c/1", text), signer.sign(text), fetch("http://c/1"), broken)
    assert "http://c/1" not in {a["url"] for a in store.articles()}
    backend.close()
