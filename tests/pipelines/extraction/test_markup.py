"""The body's text as the judge and the date reader see it: the same as the XPath it replaces."""

from __future__ import annotations

import pytest
from lxml.html import document_fromstring

from pipelines.extraction.markup import body_text

SCRIPTS = frozenset({"script", "style"})


@pytest.mark.parametrize(
    "html",
    [
        "<html><head><title>Title</title></head><body><p>One <b>two</b> three</p></body></html>",
        "<p>before<!-- a comment -->after<script>var x = 1;</script>tail<style>p {}</style>end</p>",
        "<div><script>if (a < b) { c(); }</script><p>text</p>after the script</div>",
        "<body><p>outer</p><body><p>nested body</p></body></body>",
        "<p>a<?php echo 1; ?>b</p><noscript><img src=x>no script</noscript>",
        "<html><head><title>only a head</title></head></html>",
    ],
)
def test_body_text_is_what_the_xpath_gives(html):
    tree = document_fromstring(html)
    xpath = " ".join(tree.xpath("//body//text()[not(ancestor::script) and not(ancestor::style)]"))
    assert body_text(tree, " ", SCRIPTS) == xpath


def test_hidden_elements_hide_their_text_but_not_what_follows_them():
    tree = document_fromstring("<p>shown<noscript><p>hidden</p></noscript>shown too</p>")
    assert body_text(tree, "|", frozenset({"noscript"})) == "shown|shown too"
