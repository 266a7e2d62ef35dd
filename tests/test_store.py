from __future__ import annotations

import numpy as np
import pytest

from crawler.urls import page_keys
from pipelines.core.signatures import Signer
from pipelines.core.store import PageFetch, StoreConfig, StoreError, open_segment_store, open_store

SCHEME = Signer().scheme


def fetch(url: str, etag: str | None = None) -> PageFetch:
    return PageFetch(page_keys(url), "2026-11-26T00:00:00+00:00", etag)


def article(url: str, text: str = "Some story text about the news of the day.") -> dict:
    return {
        "url": url,
        "canonical_url": url,
        "site": "example.test",
        "title": "Title",
        "authors": ["A B"],
        "published": "2026-11-20",
        "language": "en",
        "text": text,
        "word_count": 9,
        "fetched_at": "2026-11-26T00:00:00+00:00",
        "cluster_id": "c1",
        "duplicate_of": None,
        "similarity": None,
    }


def test_add_is_idempotent_on_url_and_keeps_the_signature(tmp_path):
    signer = Signer()
    store = open_store(StoreConfig("sqlite", tmp_path), SCHEME)
    signature = signer.sign("Some story text about the news of the day.")
    assert store.add(article("http://a/1"), signature, 1, fetch("http://a/1")) is True
    assert store.add(article("http://a/1", "changed"), signature, 1, fetch("http://a/1")) is False
    rows = store.index_rows(0)
    assert rows.urls == ["http://a/1"] and rows.first_urls == ["http://a/1"]
    assert np.array_equal(rows.matrix[0], signature.hashvalues)
    assert store.index_rows(2).urls == []  # outside the window
    assert np.array_equal(store.shingles(["http://a/1", "http://a/2"])["http://a/1"], signature.shingles)
    [stored] = list(store.articles())
    assert stored["text"].startswith("Some story") and stored["authors"] == ["A B"]
    store.close()


def test_data_survives_reopening_and_update_text(tmp_path):
    signer = Signer()
    store = open_store(StoreConfig("sqlite", tmp_path), SCHEME)
    store.add(article("http://a/1"), signer.sign("first text of the story here"), 1, fetch("http://a/1"))
    store.close()
    store = open_store(StoreConfig("sqlite", tmp_path), SCHEME)
    new = signer.sign("cleaned text")
    assert store.update_text("http://a/1", "cleaned text", 2, new)
    assert not store.update_text("http://a/none", "x", 1, new)
    assert np.array_equal(store.index_rows(0).matrix[0], new.hashvalues)
    assert next(store.articles())["text"] == "cleaned text"
    store.close()


def test_a_failed_write_leaves_nothing_half_stored(tmp_path):
    store = open_store(StoreConfig("sqlite", tmp_path), SCHEME)
    broken = Signer().sign("text")
    object.__setattr__(broken, "shingles", None)  # the signature row cannot be written
    with pytest.raises(AssertionError):
        store.add(article("http://a/1"), broken, 1, fetch("http://a/1"))
    assert list(store.articles()) == []
    store.close()


def test_signatures_of_other_settings_are_refused(tmp_path):
    open_store(StoreConfig("sqlite", tmp_path), SCHEME).close()
    with pytest.raises(StoreError, match="NEARDUP_NUM_PERM"):
        open_store(StoreConfig("sqlite", tmp_path), Signer(num_perm=64).scheme)


def test_an_unusable_data_dir_is_a_clear_error(tmp_path):
    blocker = tmp_path / "file"
    blocker.write_text("not a directory")
    with pytest.raises(StoreError, match="set DATA_DIR to a writable directory"):
        open_store(StoreConfig("sqlite", blocker / "data"), SCHEME)
    with pytest.raises(StoreError, match="unknown STORAGE_BACKEND"):
        open_store(StoreConfig("mongodb", tmp_path), SCHEME)


def test_segment_stats_store_round_trip(tmp_path):
    store = open_segment_store(StoreConfig("sqlite", tmp_path))
    assert store.load("example.test") is None
    store.save({"example.test": {"stories": 3}, "other.test": {"stories": 1}})
    store.save({"example.test": {"stories": 4}})
    assert store.load("example.test") == {"stories": 4}
    assert store.load("other.test") == {"stories": 1}
    store.close()


def test_versions_of_a_page_and_its_fetches(tmp_path):
    signer = Signer()
    store = open_store(StoreConfig("sqlite", tmp_path), SCHEME)
    first = article("http://a/1")
    store.add({**first, "text_hash": "h1"}, signer.sign(first["text"]), 1, fetch("http://a/1", '"v1"'))
    state = store.page(page_keys("https://a/1"))  # http and https are one page
    assert state.version == 1 and state.text_hash == "h1" and state.etag == '"v1"'
    second = {
        **first,
        "text": "A changed story text.",
        "text_hash": "h2",
        "version": 2,
        "previous_id": state.article_id,
    }
    assert store.add(second, signer.sign(second["text"]), 1, fetch("http://a/1", '"v2"'))
    state = store.page(page_keys("http://a/1"))
    assert state.version == 2 and state.etag == '"v2"'
    assert store.index_rows(0).urls == ["http://a/1"]  # only the current version is matched against
    assert [a["version"] for a in store.articles()] == [1, 2]
    store.touch_page(PageFetch(page_keys("http://a/1"), "2026-12-01T00:00:00+00:00"))
    assert store.page(page_keys("http://a/1")).fetched_at.startswith("2026-12-01")
    assert store.page(page_keys("http://a/2")) is None
    store.close()
