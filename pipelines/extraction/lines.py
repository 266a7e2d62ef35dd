"""The page's short text lines that extraction left out, for the boilerplate stage to learn from.

The boilerplate stage learns a site's template from the paragraphs that recur in the extracted
texts of its stories. trafilatura does not extract the same lines on every page, though: on a
brief, too short for its main algorithm, it falls back to one that keeps more of the page, and the
caption, promo and share lines it dropped on every long story of the site come back. Seen only on
briefs, they would never recur often enough to be learned. So each page also shows the stage its
other short lines (a line ends wherever a block, a cell, a list item or a <br> does), outside
navigation, headers, footers and asides, and not made mostly of link text (teasers and related
headlines are links). They count towards what the site repeats; they are never stored.
"""

from __future__ import annotations

import numpy as np
from lxml import etree
from lxml.html import HtmlElement

from pipelines.text import word_hashes, word_units, words

# Template lines are short; a longer line is somebody's story.
MAX_WORDS = 40
MIN_WORDS = 2
# At most this many lines a page, so a page of many short lines costs no more than a story.
MAX_LINES = 200
_BREAKS = frozenset(
    [
        "p",
        "div",
        "li",
        "td",
        "th",
        "dd",
        "dt",
        "figcaption",
        "caption",
        "blockquote",
        "h1",
        "h2",
        "h3",
        "h4",
        "h5",
        "h6",
        "section",
        "article",
        "table",
        "tr",
        "ul",
        "ol",
        "dl",
        "figure",
        "center",
        "main",
        "pre",
        "address",
        "br",
        "hr",
    ]
)
_LEFT_OUT = (
    "script",
    "style",
    "noscript",
    "template",
    "nav",
    "header",
    "footer",
    "aside",
    "form",
    "select",
    "svg",
)


def template_line_hashes(tree: HtmlElement, extracted: list[str]) -> list[np.ndarray]:
    """Word hashes of the page's short lines that are not among the *extracted* paragraphs.

    Takes the tree apart: call it last.
    """
    body = tree.find("body")
    if body is None:
        return []
    etree.strip_elements(body, *_LEFT_OUT, with_tail=False)
    kept = {" ".join(words(paragraph)) for paragraph in extracted}
    seen: set[str] = set()
    hashes = []
    for line in _short_lines(body):
        key = " ".join(words(line))
        if key in kept or key in seen:
            continue
        seen.add(key)
        hashes.append(word_hashes(line))
        if len(hashes) >= MAX_LINES:
            break
    return hashes


def _short_lines(body: HtmlElement) -> list[str]:
    lines: list[str] = []
    parts: list[str] = []
    linked = 0  # characters of the current line inside <a>
    in_link = 0

    def end_line() -> None:
        nonlocal linked
        text = " ".join("".join(parts).split())
        parts.clear()
        if text and MIN_WORDS <= word_units(text) <= MAX_WORDS and 2 * linked < len(text):
            lines.append(text)
        linked = 0

    def add(text: str | None) -> None:
        nonlocal linked
        if text:
            parts.append(text)
            if in_link:
                linked += len(text.strip())

    # Comments and processing instructions come as events of their own (not "start" and "end"):
    # only their tail is text ("Subscribe to our<!-- -->newsletter").
    for event, element in etree.iterwalk(body, events=("start", "end", "comment", "pi")):
        tag = element.tag
        if event in ("comment", "pi"):
            add(element.tail)
            continue
        if event == "start":
            if tag in _BREAKS:
                end_line()
            in_link += tag == "a"
            add(element.text)
        else:
            in_link -= tag == "a"
            if tag in _BREAKS:
                end_line()
            add(element.tail)
    end_line()
    return lines
