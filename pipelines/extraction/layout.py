"""Tables that lay a page out, turned into plain blocks before extraction.

Older templates, and some republishers' still, put the whole story in one cell of a layout table.
trafilatura reads a table as data: it writes each row as one line, so a story's paragraphs, its
caption and the site's promos inside that cell become one "paragraph", and the boilerplate stage,
which learns what a site repeats paragraph by paragraph, could never learn them apart. A table
with a cell of running text (paragraphs, other tables or lines broken by <br>, and more words than
a data cell holds) is a layout, not data: its rows and cells become <div>s, so each paragraph
inside is a paragraph again. A cell of inline markup alone (a lead set in <font> and <strong>
with line breaks) becomes a <p>: as a <div> of inline text, trafilatura drops it. Comparison
tables, whose cells often wrap a few words in <p>, stay tables: unwrapped, their cells would be
lost as short lines.
"""

from __future__ import annotations

from lxml.html import HtmlElement

# A cell holding one of these is laid out, not a datum.
_BLOCKS = frozenset(
    {
        "p",
        "div",
        "table",
        "ul",
        "ol",
        "dl",
        "h1",
        "h2",
        "h3",
        "h4",
        "h5",
        "h6",
        "blockquote",
        "section",
        "article",
        "pre",
    }
)
# Line breaks in one cell that make it running text rather than a datum.
_BREAKS_FOR_TEXT = 2
# Words in one laid-out cell that make it a page's text rather than a datum (the longest cells of
# real comparison tables hold about 25).
_WORDS_FOR_TEXT = 60
_TABLE_PARTS = frozenset({"table", "thead", "tbody", "tfoot", "tr", "td", "th", "caption"})
_FIND_LAYOUT = ".//td[p or div or table or ul or ol or blockquote or h1 or h2 or h3 or count(br) >= 2]"


def has_layout_tables(tree: HtmlElement) -> bool:
    """Whether *tree* may have a layout table: a cell laid out with blocks (one XPath query)."""
    return bool(tree.xpath(_FIND_LAYOUT + "[1]"))


def unwrap_layout_tables(tree: HtmlElement) -> int:
    """Turn every layout table of *tree* into <div>s, in place; returns how many there were."""
    unwrapped = 0
    for table in list(tree.iter("table")):
        parts = _own_parts(table)
        if not any(_is_running_text(part) for part in parts if part.tag in ("td", "th")):
            continue
        for element in [table, *parts]:
            element.tag = "p" if _is_inline_cell(element) else "div"
            for attribute in ("width", "height", "align", "valign", "colspan", "rowspan"):
                element.attrib.pop(attribute, None)
        unwrapped += 1
    return unwrapped


def _own_parts(table: HtmlElement) -> list[HtmlElement]:
    """The table's rows, row groups and cells, not those of tables nested in its cells."""
    parts = []
    stack = list(table)
    while stack:
        element = stack.pop()
        if element.tag in _TABLE_PARTS and element.tag != "table":
            parts.append(element)
            if element.tag not in ("td", "th", "caption"):
                stack.extend(element)
    return parts


def _is_inline_cell(element: HtmlElement) -> bool:
    if element.tag not in ("td", "th"):
        return False
    # The markup first: a laid-out cell's first block ends the look, before its whole text is read.
    if any(descendant.tag in _BLOCKS for descendant in element.iterdescendants()):
        return False
    return bool(element.text_content().strip())


def _is_running_text(cell: HtmlElement) -> bool:
    children = [child.tag for child in cell if isinstance(child.tag, str)]
    laid_out = any(tag in _BLOCKS for tag in children) or children.count("br") >= _BREAKS_FOR_TEXT
    return laid_out and len(cell.text_content().split()) >= _WORDS_FOR_TEXT
