from lxml.html import document_fromstring

from pipelines.extraction.layout import has_layout_tables, unwrap_layout_tables
from pipelines.extraction.page import ExtractOptions, extract_article

STORY = [
    f"Paragraph {n} of the story tells the reader what the council decided on Tuesday night, and why "
    f"the vote on the new bridge over the river was delayed for the {n}th time this year."
    for n in range(1, 7)
]
PROMO = "Subscribe to The Valley Gazette: home delivery and the e-edition from $3.99 a month."


def page(cell: str) -> str:
    return (
        "<html><body><table width='100%'><tr><td width='150'><a href='/'>Home</a><br><a href='/local/'>Local</a>"
        f"</td><td class='main'><h1>Council delays the bridge vote</h1>{cell}</td></tr></table></body></html>"
    )


def test_a_story_in_a_layout_cell_keeps_its_paragraphs_apart():
    cell = (
        "".join(f"<p>{p}</p>" for p in STORY[:3])
        + f"<p><b>{PROMO}</b></p>"
        + "".join(f"<p>{p}</p>" for p in STORY[3:])
    )
    text = extract_article(page(cell), "http://www.valleygazette.test/story?id=1", options=ExtractOptions())[
        "text"
    ]
    assert text.split("\n\n") == [*STORY[:3], PROMO, *STORY[3:]]
    assert "|" not in text


def test_lines_broken_by_br_in_a_cell_stay_lines():
    cell = "<br><br>".join([*STORY, PROMO])
    text = extract_article(page(cell), "http://www.valleygazette.test/story?id=2", options=ExtractOptions())[
        "text"
    ]
    assert text.split("\n\n") == [*STORY, PROMO]


def test_a_lead_in_a_cell_of_inline_markup_is_kept():
    # Older templates set the lead in <font> and <strong> with line breaks, in a cell next to the
    # site's column; the story goes on in the next row.
    lead = (
        "<font size='2'><strong>The council put off its vote on the new bridge once more.<br></strong><br>"
        "Residents had waited since spring for a decision, and the delay leaves the ferry as the only way "
        "across the river for another winter, the mayor told reporters on Tuesday night.<br></font>"
    )
    story = "".join(f"<p>{p}</p>" for p in STORY)
    html = (
        "<html><body><table><tr><td><div><a href='/'>Home</a><br><a href='/local/'>Local</a></div></td>"
        f"<td>{lead}</td></tr><tr><td colspan='2'><div>{story}</div></td></tr></table></body></html>"
    )
    text = extract_article(html, "http://www.valleygazette.test/story?id=3", options=ExtractOptions())["text"]
    assert "The council put off its vote" in text
    assert "the ferry as the only way across the river" in text
    assert STORY[-1] in text


def test_a_data_table_stays_a_table():
    tree = document_fromstring(
        "<html><body><table><tr><th>Team</th><th>Points</th></tr><tr><td>Rovers</td><td>31</td></tr>"
        "<tr><td>United</td><td>28</td></tr></table></body></html>"
    )
    assert not has_layout_tables(tree)
    assert unwrap_layout_tables(tree) == 0
    assert len(tree.xpath("//td")) == 4


def test_layout_tables_become_divs_and_nested_tables_stay():
    story = "".join(f"<p>{p}</p>" for p in STORY)
    tree = document_fromstring(
        f"<html><body><table><tr><td>{story}<table><tr><td>Rovers</td><td>31</td></tr></table>"
        "<table class='box'><tr><td>A promo in a box.</td></tr></table></td><td>Sidebar</td></tr></table>"
        "</body></html>"
    )
    assert has_layout_tables(tree)
    assert unwrap_layout_tables(tree) == 1
    assert len(tree.xpath("//table")) == 2
    assert tree.xpath("//table//td/text()") == ["Rovers", "31", "A promo in a box."]


def test_a_comparison_table_with_paragraphs_in_its_cells_stays_a_table():
    rows = "".join(
        f"<tr><td><p>Plan {n}</p></td><td><p>Unlimited users</p><p>Email support</p></td><td><p>${n}9</p></td></tr>"
        for n in range(1, 6)
    )
    tree = document_fromstring(f"<html><body><table>{rows}</table></body></html>")
    assert unwrap_layout_tables(tree) == 0
    assert len(tree.xpath("//td")) == 15


def test_a_page_shows_its_short_lines_that_extraction_left_out():
    from pipelines.extraction.lines import template_line_hashes
    from pipelines.text import word_hashes

    html = (
        "<html><body><nav><p>Home News Sport</p></nav><div class='story'>"
        + "".join(f"<p>{p}</p>" for p in STORY)
        + "<div class='sidebox'><span>Share this story</span> <span>with a friend.</span></div>"
        + "<p><a href='/other'>A related headline that is only a link</a></p>"
        + "</div><footer><p>Copyright 2026 The Valley Gazette</p></footer></body></html>"
    )
    tree = document_fromstring(html)
    lines = template_line_hashes(tree, STORY)
    assert [list(h) for h in lines] == [list(word_hashes("Share this story with a friend."))]


def test_a_short_line_goes_on_past_a_comment_in_it():
    # frameworks set empty comments between the pieces of one line ("Sign up<!-- --> for...")
    from pipelines.extraction.lines import template_line_hashes
    from pipelines.text import word_hashes

    html = (
        "<html><body><div class='story'>"
        + "".join(f"<p>{p}</p>" for p in STORY)
        + "<p>Sign up<!-- --> for our morning newsletter<?pi x?> today.</p></div></body></html>"
    )
    lines = template_line_hashes(document_fromstring(html), STORY)
    assert [list(h) for h in lines] == [list(word_hashes("Sign up for our morning newsletter today."))]
