from __future__ import annotations

import re
from datetime import timedelta

import pytest

from pipelines import clock
from pipelines.extraction.metadata import choose_language, clean_authors, clean_title, iso_datetime, valid_url
from pipelines.extraction.page import ExtractOptions, extract_article, process_page
from tests.fixtures.newsroom.sites import PRESS_TV


def page_html(newsroom, article) -> str:
    path = article.url.split(article.host, 1)[1]
    return newsroom.pages[article.host][path].body.decode("utf-8")


def test_fields_of_a_rendered_article(newsroom):
    article = next(a for a in newsroom.articles if a.host == "www.meridianherald.test" and not a.edits)
    fields = extract_article(page_html(newsroom, article), article.url)
    assert fields["title"] == article.headline
    assert fields["authors"] == [article.author]
    assert fields["published"].startswith(article.published[:10])
    assert fields["language"] == "en"
    assert fields["canonical_url"] == article.url
    assert article.paragraphs[0] in fields["text"].split("\n\n")  # boilerplate is the next stage's job
    assert fields["word_count"] > 50


def test_pruning_rules_remove_markup_before_extraction(newsroom):
    article = next(a for a in newsroom.articles if a.host == PRESS_TV.host)
    html = page_html(newsroom, article)
    caption = "US Rep. Ilhan Omar"
    assert caption in extract_article(html, article.url)["text"]
    pruned = ExtractOptions(prune_xpath=("//div[@class='pic']",))
    assert caption not in extract_article(html, article.url, options=pruned)["text"]


def test_pages_without_article_text_give_none():
    assert extract_article("<html><body><nav><a href='/'>Home</a></nav></body></html>", "http://a/") is None
    assert extract_article("", "http://a/") is None
    assert extract_article("<html><body><p>Too short.</p></body></html>", "http://a/") is None


def test_malformed_html_does_not_raise():
    broken = (
        "<html><body><div><p>"
        + "Words of a story that never closes its tags. " * 20
        + "<p><b><i></div></span>"
    )
    fields = extract_article(broken, "http://example.test/2026/01/01/story")
    assert fields is None or "Words of a story" in fields["text"]


def test_a_noscript_left_open_does_not_swallow_the_page(newsroom):
    # libxml2 keeps a <noscript> open past its end tag while a <div> opened in it is open, and
    # the whole page fell inside it; browsers end it there
    article = next(a for a in newsroom.articles if a.host == "www.meridianherald.test" and not a.edits)
    html = re.sub(
        r"(<body[^>]*>)", r'\1<noscript><div id="no-js"></noscript>', page_html(newsroom, article), count=1
    )
    result = process_page(html.encode(), "utf-8", article.url, None, ExtractOptions())
    assert result.outcome == "article", result.reasons
    assert article.paragraphs[0] in result.fields["text"]
    assert "markup_repaired" in result.notes


@pytest.mark.parametrize(
    ("title", "site", "url", "expected"),
    [
        (
            "Taliban say Panjshir captured | Press TV",
            "Press TV",
            "http://www.presstv.ir/a",
            "Taliban say Panjshir captured",
        ),
        (
            "PressTV-Taliban say Panjshir captured",
            "Press TV",
            "http://www.presstv.ir/a",
            "Taliban say Panjshir captured",
        ),
        (
            "The Meridian Herald - Rates rise again",
            "The Meridian Herald",
            "http://x.test/a",
            "Rates rise again",
        ),
        (
            "Covid-19 cases rise - Health",
            "Example",
            "http://www.example.com/a",
            "Covid-19 cases rise - Health",
        ),
        ("Storm hits coast \u2014 Coastal Times", "", "http://www.coastaltimes.test/a", "Storm hits coast"),
        # the host's name as a site's, not inside a headline's words ("... BSI und ZF ...")
        (
            "Top 127 | Council weighs the harbour plan",
            "",
            "http://127.0.0.1:8080/a",
            "Top 127 | Council weighs the harbour plan",
        ),
        (
            "Car care checklist | Bridgestone Tires",
            "",
            "https://tires.bridgestone.test/a",
            "Car care checklist",
        ),
        # the site's name again inside the part kept
        ("Coast • Coast Magazine", "Coast Magazine", "https://coastmagazine.test/a", "Coast"),
        (
            "Sicherheits-Check für KI in Autos: BSI und ZF starten Projekt",
            "Bundesamt für Sicherheit",
            "https://www.bsi.bund.test/a",
            "Sicherheits-Check für KI in Autos: BSI und ZF starten Projekt",
        ),
        # a day after the site's name, and names the host writes without their marks
        ("Bundestag stimmt ab | DW | 28.04.2023", "", "https://www.dw.test/de/a", "Bundestag stimmt ab"),
        ("Anleihen steigen | Börsen-Zeitung", "", "https://www.boersen-zeitung.test/a", "Anleihen steigen"),
        (
            "Sánchez convoca elecciones - EL PAÍS",
            "",
            "https://elpais.test/espana/a",
            "Sánchez convoca elecciones",
        ),
        # a domain name beside the headline, without a separator; a day is no domain
        ("coastnotes.test Harbour works", "", "https://coastnotes.test/2025/harbour.html", "Harbour works"),
        ("Harbour works coastnotes.test", "", "https://coastnotes.test/2025/harbour.html", "Harbour works"),
        (
            "Regatta results, 19.5.2007",
            "",
            "https://sailing-1952007.test/results",
            "Regatta results, 19.5.2007",
        ),
        # a word glued to the headline is the site's only when it is the site's whole name
        (
            "Reise-ABC Singapur mit allgemeinen Reise Tipps",
            "singapur-reiseinfo.test",
            "http://www.singapur-reiseinfo.test/Reise-ABC/reise-abc.html",
            "Reise-ABC Singapur mit allgemeinen Reise Tipps",
        ),
        # the site's tagline and founding after its name
        (
            "Das Musikvideo der Welt : Krimiblog-Archiv | Ermittlungen zum Verfall eines Genres | Gegründet 2005",
            "",
            "http://archiv.krimiblog.test/?p=2895",
            "Das Musikvideo der Welt",
        ),
    ],
)
def test_site_name_is_stripped_from_titles(title, site, url, expected):
    assert clean_title(title, [site] if site else [], url) == expected


def test_authors_are_cleaned():
    assert clean_authors(["By Jane Doe", " jane doe", "Jane Doe", "", "John  Smith"]) == [
        "Jane Doe",
        "jane doe",
        "John Smith",
    ]
    # the byline's own words, without a name after them, are no author
    assert clean_authors(["Written By", "Author", "Abby Lee"]) == ["Abby Lee"]
    # nor those of an author box's heading
    assert clean_authors(["Read more about Dana Whitfield", "About the author: Lee Kim"]) == [
        "Dana Whitfield",
        "Lee Kim",
    ]
    # nor is the role set after a name, or as a piece of its own
    assert clean_authors(["Liz Kenny Former McKinsey Consultant", "Harry Rabinowitz Tech Reporter"]) == [
        "Liz Kenny",
        "Harry Rabinowitz",
    ]
    assert clean_authors(["Mayank Gupta", "CEO", "Lead Reviewer"]) == ["Mayank Gupta"]
    assert clean_authors(["Robert Head", "Justin C. Meserole"]) == ["Robert Head", "Justin C. Meserole"]
    # a team's or a role's credit after a spaced dash or bar
    assert clean_authors(["David Jackson - FullStack Editorial Team", "Jane Doe | Contributor"]) == [
        "David Jackson",
        "Jane Doe",
    ]
    assert clean_authors(["Mary-Kate Olsen", "Smith - Jones"]) == ["Mary-Kate Olsen", "Smith - Jones"]


def test_a_template_s_unfilled_byline_is_no_author():
    from pipelines.extraction.metadata import choose_authors

    assert choose_authors([["The Author"], ["Nicole Burke"]], []) == ["Nicole Burke"]
    for placeholder in ("undefined", "Name", "Webmaster", "Home", "Privacy Policy"):
        assert choose_authors([[placeholder]], []) == [], placeholder
    assert choose_authors([["Ian Home"]], []) == ["Ian Home"]  # a name that has such a word in it
    # nor is a style sheet the byline element holds, or the comma its role leaves behind
    assert choose_authors([[".co-authors{display:inline}"]], []) == []
    assert choose_authors([["Benjamin Johnson, Sr. Director of Operations"]], []) == ["Benjamin Johnson"]
    # nor a date, or its month alone
    for date in ("March 3", "Sep. 2025", "August"):
        assert choose_authors([[date], ["Ann Lee"]], []) == ["Ann Lee"], date
    assert choose_authors([["August Wilson"]], []) == ["August Wilson"]


def test_a_company_or_a_rights_holder_is_no_author():
    from pipelines.extraction.metadata import choose_authors

    for name in ("SmartEtailing Inc", "Harbour Works LLC", "Coast Media Ltd.", "The State University ©"):
        assert choose_authors([[name], ["Ann Lee"]], []) == ["Ann Lee"], name
    assert choose_authors([["Inca Brown"]], []) == ["Inca Brown"]  # the letters alone are no legal form


def declared_authors(*nodes: dict, byline: str = "") -> list[str]:
    import json

    graph = json.dumps({"@context": "https://schema.org", "@graph": list(nodes)})
    html = (
        f"<html><head><script type='application/ld+json'>{graph}</script></head>"
        f"<body><article><h1>Council weighs the harbour plan</h1>{byline}{STORY}</article></body></html>"
    )
    fields = extract_article(html, "https://www.example.com/news/harbour-plan")
    assert fields is not None
    return fields["authors"]


def test_a_name_the_page_declares_an_organization_s_is_no_author_unless_also_a_person_s():
    article = {
        "@type": "Article",
        "headline": "Council weighs the harbour plan",
        "author": {"@id": "#writer"},
    }
    # a company's site whose writer account carries the company's name
    company = [
        {"@type": "Organization", "name": "Harbour Works"},
        {"@type": "Person", "name": "Harbour Works"},
    ]
    assert declared_authors({**article, "author": {"name": "Harbour Works"}}, *company) == []
    assert declared_authors({**article, "author": {"@type": "Organization", "name": "Harbour Works"}}) == []
    # a personal blog: one node says its publisher is a person
    blogger = {"@type": ["Person", "Organization"], "name": "Gabby Boucher"}
    assert declared_authors({**article, "author": {"name": "Gabby Boucher"}}, blogger) == ["Gabby Boucher"]
    # a person's name typed Organization, that the visible byline signs with: a person's
    mistyped = {**article, "author": {"@type": "Organization", "name": "Randy Thompson"}}
    signed = "<p class='byline'>By <a href='/author/randy/'>Randy Thompson</a></p>"
    assert declared_authors(mistyped, byline=signed) == ["Randy Thompson"]
    assert declared_authors(mistyped) == []
    # but not the site's own name, nor a name that is no person's
    site = {"@type": "WebSite", "name": "Randy Thompson"}
    assert declared_authors({**mistyped, "publisher": site | {"@type": "Organization"}}, byline=signed) == []
    works = {**article, "author": {"@type": "Organization", "name": "harbourworks.test"}}
    assert declared_authors(works, byline="<p class='byline'>By harbourworks.test</p>") == []


def test_the_person_a_dated_page_of_another_type_declares_is_its_author():
    webpage = {
        "@type": "WebPage",
        "headline": "Council weighs the harbour plan",
        "datePublished": "2025-01-02",
    }
    assert declared_authors({**webpage, "author": {"@type": "Person", "name": "Çelik Nimani"}}) == [
        "Çelik Nimani"
    ]
    # not an organization, nor a name without a type
    assert declared_authors({**webpage, "author": {"@type": "Organization", "name": "Harbour Works"}}) == []
    assert declared_authors({**webpage, "author": "Harbour Works"}) == []


def meta_authored(author: str, url: str = "https://www.example.com/news/harbour-plan") -> list[str]:
    html = (
        f'<html><head><meta name="author" content="{author}"></head>'
        f"<body><article><h1>Council weighs the harbour plan</h1>{STORY}</article></body></html>"
    )
    fields = extract_article(html, url)
    assert fields is not None
    return fields["authors"]


def test_the_meta_author_is_the_author_even_a_first_name_alone_but_not_the_sites_name():
    assert meta_authored("Zach") == ["Zach"]
    assert meta_authored("Ann Lee") == ["Ann Lee"]
    assert meta_authored("Harbourworks", "https://harbourworks.test/blog/plan") == []
    assert meta_authored("Staff") == []


def test_a_person_publishing_under_their_own_name_is_the_author_when_the_byline_says_so():
    # publisher and author share the name, the author typed Person: a one-person site, or a
    # company's writer account; the visible byline tells which credit the page gives
    article = {
        "@type": "Article",
        "headline": "Council weighs the harbour plan",
        "author": {"@type": "Person", "name": "Kristian Larsen"},
        "publisher": {"@type": "Organization", "name": "Kristian Larsen"},
    }
    signed = '<p class="author">By Kristian Larsen</p>'
    assert declared_authors(article, byline=signed) == ["Kristian Larsen"]
    assert declared_authors(article) == []
    other = '<p class="author">By Ann Lee</p>'
    assert declared_authors(article, byline=other) == ["Ann Lee"]


def test_a_name_set_apart_from_its_role_in_a_byline_is_the_author():
    from lxml.html import document_fromstring

    from pipelines.extraction.metadata import byline_elements, names_apart

    tree = document_fromstring(
        "<html><body><div class='author-box'><span>Rachel MacDonald</span> <span>Senior Writer</span></div>"
        "<p class='byline'>Jane Doe</p><div class='author'><b>Lee</b> and <b>Kim</b></div>"
        "<div class='post-author'><i>CM</i> Craig McCarthy <span>Last updated Dec 3</span></div></body></html>"
    )
    bylines = byline_elements(tree)
    assert names_apart(bylines, ["Rachel MacDonald Senior Writer"]) == ["Rachel MacDonald"]
    assert names_apart(bylines, ["CM Craig McCarthy"]) == ["Craig McCarthy"]  # the avatar's initials
    # a name alone, or a byline without a piece that is a name on its own, stays as it is
    assert names_apart(bylines, ["Jane Doe"]) == ["Jane Doe"]
    assert names_apart(bylines, ["Lee and Kim"]) == ["Lee and Kim"]


def test_a_date_before_the_name_in_a_byline_is_passed_over_when_a_name_follows():
    from lxml.html import document_fromstring

    from pipelines.extraction.metadata import byline_elements, byline_names

    def names(body: str) -> list[str]:
        return byline_names(byline_elements(document_fromstring(f"<html><body>{body}</body></html>")))

    rust = (
        "<div class='publish-date-author'>Dec. 19, 2025 · Niko Matsakis on behalf of"
        " <a href='/teams'>Vision Doc group</a></div>"
    )
    assert names(rust) == ["Niko Matsakis"]
    # a category after the date is no name: the next byline element is read
    assert names("<p class='post-author'>March 20, 2023 | Wellness &amp; Prevention</p>") == []
    assert names(
        "<p class='post-author'>March 20, 2023 | Wellness &amp; Prevention</p><p class='author'>Ann Lee</p>"
    ) == ["Ann Lee"]
    # the date in an element of its own, in a class named in camel case (CSS modules)
    apart = "<div class='styles_dateAndAuthorContainer__JAvHP'><span>Dec 17, 2025</span><span>{}</span></div>"
    assert names(apart.format("Julian K. Arni")) == ["Julian K. Arni"]
    assert names(apart.format("Wellness &amp; Prevention")) == []
    assert names(apart.format("5 min read")) == []


def test_a_byline_s_label_and_name_in_elements_of_their_own_are_read_apart():
    from lxml.html import document_fromstring

    from pipelines.extraction.metadata import byline_elements, byline_names, clean_authors

    tree = document_fromstring(
        "<html><body><div class='author-wrapper'><div><div>Author</div></div><div>Jane Doe</div>"
        "</div></body></html>"
    )
    assert clean_authors(byline_names(byline_elements(tree))) == ["Jane Doe"]


def test_a_byline_is_read_whatever_classes_the_page_s_body_carries():
    from lxml.html import document_fromstring

    from pipelines.extraction.metadata import byline_elements, byline_names, written_byline

    # WordPress themes name the page's widget areas in the <body>'s classes: the byline is no
    # footer's, though "footer" is among them
    byline = (
        "<article><header><h1>Twelve projects</h1><p class='entry-meta'><time>May 3, 2017</time> By"
        " <span class='entry-author'><a rel='author' href='/author/x/'><span>Erin Spain</span></a></span>"
        "</p></header><p>Text.</p></article>"
    )
    for classes in ("single-post genesis-footer-widgets-visible", "has-comments related-posts"):
        tree = document_fromstring(f"<html class='{classes}'><body class='{classes}'>{byline}</body></html>")
        assert byline_names(byline_elements(tree)) == ["Erin Spain"]
        assert written_byline(tree) == ["Erin Spain"]
    # a byline inside a footer or a comment still is no author of the page
    footer = "<div class='site-footer'><span class='author'>Ann Lee</span><p>By Ann Lee</p></div>"
    tree = document_fromstring(f"<html><body>{footer}</body></html>")
    assert byline_names(byline_elements(tree)) == []
    assert written_byline(tree) == []


def test_a_link_to_a_writer_s_page_that_spells_its_name_names_the_author():
    from lxml.html import document_fromstring

    from pipelines.extraction.metadata import author_page_links

    def linked(body: str) -> list[str]:
        return author_page_links(document_fromstring(f"<html><body>{body}</body></html>"))

    avatar = "<a href='/blog/authors/emmanuel-oyibo' aria-label='Emmanuel Oyibo'><img alt=''></a>"
    assert linked(avatar) == ["Emmanuel Oyibo"]
    assert linked("<a href='https://x.test/author/bence-kovacs/'>Bence Kovács</a>") == ["Bence Kovács"]
    assert linked("<a href='/people/ann-lee?ref=byline'>Ann Lee</a>") == ["Ann Lee"]
    # the address must spell the name: "all our authors", another writer's page, a section
    assert linked("<a href='/authors/'>Our Authors</a>") == []
    assert linked("<a href='/author/jdoe-42/'>Jane Doe</a>") == []
    assert linked("<a href='/author/ann-lee/feed/'>Ann Lee</a>") == []
    # nor is a writer's page linked from a related story, a comment or the footer the author
    for box in ("related-posts", "comment-list", "site-footer"):
        assert linked(f"<div class='{box}'><a href='/author/ann-lee/'>Ann Lee</a></div>") == []
    assert linked("<footer><a href='/author/ann-lee/'>Ann Lee</a></footer>") == []


def test_language_prefers_a_confident_detection_then_the_declaration():
    english = "The government announced on Monday that the new rules would take effect next year."
    assert choose_language(english, ["de"]) == "en"
    assert choose_language("Ok.", ["pt-BR"]) == "pt"
    assert choose_language("Ok.", [None, None]) is None
    german = "Die Regierung hat am Montag angekündigt, dass die neuen Regeln im nächsten Jahr gelten."
    assert choose_language(german, ["en"]) == "de"
    # a text the identifier cannot place, in a template that declares English: no language
    papiamento = (
        "Siman pasa Prome Minister tabata invita pa ta presente na International School pa e Fashion Show."
        " Na e ocasion aki e studiantenan a presenta trahenan traha di materialnan recicla haciendo uzo di"
        " nan propio imaginacion cu asistencia di diseñador local renombra."
    )
    assert choose_language(papiamento, ["en"]) is None
    assert choose_language(papiamento[:150], ["en"]) == "en"  # too short to tell


def test_urls_and_dates_are_validated():
    assert valid_url("/story/1", "http://a.test/x") == "http://a.test/story/1"
    assert valid_url("javascript:void(0)", "http://a.test/") is None
    assert valid_url("", "http://a.test/") is None
    assert valid_url("http://[broken/x", "http://a.test/") is None
    assert iso_datetime("2026-11-20T10:00:00Z") == "2026-11-20T10:00:00+00:00"
    assert iso_datetime("2026-11-20") == "2026-11-20"
    assert iso_datetime("yesterday") is None


TODAY = clock.now().date().isoformat()
STORY = "".join(
    f"<p>The council met on Tuesday to discuss the harbour plan and its costs, item {n}, at length.</p>"
    for n in range(8)
)


def titled(head: str, h1: str, url: str = "https://www.example.com/news/harbour-plan") -> str | None:
    html = f"<html><head>{head}</head><body><header>{h1}</header><article>{STORY}</article></body></html>"
    fields = extract_article(html, url)
    assert fields is not None
    return fields["title"]


def dated(body_extra: str, head: str = "") -> str | None:
    html = (
        f"<html><head>{head}</head><body><article><h1>Harbour plan</h1>{body_extra}{STORY}</article>"
        "</body></html>"
    )
    fields = extract_article(html, "https://www.example.com/news/harbour-plan", fetched_on=TODAY)
    assert fields is not None
    return fields["published"]


def test_a_date_the_page_shows_or_declares_is_its_date():
    shown = (clock.now() - timedelta(days=400)).date().replace(day=15)
    written = f"{shown:%B} {shown.day}, {shown.year}"
    assert dated(f'<div class="entry-meta">Posted {written}</div>') == shown.isoformat()
    declared = f'<meta property="article:published_time" content="{shown.isoformat()}T08:00:00+00:00">'
    assert dated("", head=declared) == f"{shown.isoformat()}T08:00:00+00:00"


def test_digits_in_a_file_name_are_no_date():
    # htmldate's widest search reads "20240508" in an image's name as a day: the page shows none.
    day = (clock.now() - timedelta(days=400)).date().replace(day=15)
    assert dated(f'<img src="/media/harbour_{day:%Y%m%d}.jpg" alt="The harbour">') is None


def test_which_evidence_keeps_a_date_htmldate_found():
    from pipelines.extraction.metadata import choose_published

    fifteenth = (clock.now() - timedelta(days=400)).date().replace(day=15)
    day = fifteenth.isoformat()
    other = (clock.now() - timedelta(days=500)).date().isoformat()
    new_year = f"{clock.now().year - 1}-01-01"
    declared = f"{day}T08:00:00+00:00"
    # the page declares that day: nothing else is asked
    assert choose_published(declared, day, lambda: pytest.fail("asked"), TODAY) == declared
    # the quick search agrees, or the page's text shows the day
    assert choose_published(None, day, lambda: day, TODAY, shown=lambda d: False) == day
    assert choose_published(None, day, lambda: None, TODAY, shown=lambda d: d == day) == day
    # neither: what the quick search found instead, else nothing
    assert choose_published(None, day, lambda: other, TODAY, shown=lambda d: False) == other
    assert choose_published(None, day, lambda: None, TODAY, shown=lambda d: False) is None
    # a bare 1 January is a guessed year, even where the text shows that day
    assert choose_published(None, new_year, lambda: None, TODAY, shown=lambda d: True) is None
    # never after the fetch
    later = (clock.now() + timedelta(days=2)).date().isoformat()
    assert choose_published(None, later, lambda: None, TODAY) is None
    # the moment the page declares in its own zone, where htmldate read it in UTC: the next day
    # for the page's readers, and so for the page
    evening = f"{day}T23:59:50+00:00"
    local = f"{fifteenth + timedelta(days=1)}T01:59:50+02:00"
    assert choose_published(local, evening[:10], lambda: pytest.fail("asked"), TODAY) == local
    # another day altogether is not that moment: the evidence decides as before
    assert choose_published(local, other, lambda: None, TODAY, shown=lambda d: False) is None


def test_a_numeric_date_read_the_wrong_way_round_is_read_as_the_page_writes_it():
    base = (clock.now() - timedelta(days=400)).date()
    day = base.replace(day=9 if base.month != 9 else 10)  # both numbers could be a month
    written = f"{day:%B} {day.day}, {day.year}"
    month_first = f'<meta name="article:published_time" content="{day:%m-%d-%Y}">'
    assert dated(f'<div class="byline">Published {written}</div>', head=month_first) == day.isoformat()
    iso = f'<time datetime="{day.isoformat()}T19:38:01Z">{day:%m/%d/%Y} 7:38:01 PM</time>'
    assert dated(f'<small class="byline">{iso}</small>') == day.isoformat()


def test_a_numeric_date_is_turned_round_only_on_the_pages_word():
    from pipelines.extraction.metadata import choose_published

    base = (clock.now() - timedelta(days=400)).date()
    day = base.replace(day=9 if base.month != 9 else 10)
    swapped = f"{day.year}-{day.day:02d}-{day.month:02d}"
    assert choose_published(None, swapped, lambda: swapped, TODAY, written=lambda: {day.isoformat()}) == (
        day.isoformat()
    )
    # the page writes both, or neither: the day read stays
    both = {day.isoformat(), swapped}
    assert choose_published(None, swapped, lambda: swapped, TODAY, written=lambda: both) == swapped
    assert choose_published(None, swapped, lambda: swapped, TODAY, written=set) == swapped
    # a day of the month over 12 has no other reading
    late = day.replace(day=15).isoformat()
    assert choose_published(None, late, lambda: late, TODAY, written=lambda: pytest.fail("asked")) == late


def test_an_h1_that_is_the_logo_linking_home_is_no_headline():
    logo = '<h1><a href="https://www.example.com/">Example, the first daily of the coast.</a></h1>'
    head = '<meta property="og:title" content="Council weighs the harbour plan and its costs">'
    assert titled(head, logo) == "Council weighs the harbour plan and its costs"


def test_a_headline_cut_at_an_unescaped_quote_is_read_whole_from_the_title():
    head = (
        '<title>Senator calls the harbour plan "reckless"</title>'
        '<meta property="og:title" content="Senator calls the harbour plan "reckless"">'
    )
    assert titled(head, "") == 'Senator calls the harbour plan "reckless"'


def test_a_headline_cut_at_a_length_limit_is_read_whole_from_the_title():
    whole = (
        "Council weighs the harbour plan and its costs, as residents of the old town ask who will pay"
        " for the new sea wall (And Why It Matters)"
    )
    head = (
        f'<title>{whole} - Coast Times</title><meta property="og:title" content="{whole[:110]}">'
        '<meta property="og:site_name" content="Coast Times">'
    )
    assert titled(head, "") == whole
    # a short declared headline that the <title> merely extends is the page's choice
    head = '<title>Harbour plan approved after a long night</title><meta property="og:title" content="Harbour plan approved">'
    assert titled(head, "") == "Harbour plan approved"


def test_a_byline_the_template_set_inside_the_h1_stays_out_of_the_headline():
    head = '<meta property="og:title" content="Council weighs the harbour plan">'
    h1 = "<h1>Council weighs the harbour plan <span>Posted on <time>May 3</time> by admin</span></h1>"
    assert titled(head, h1) == "Council weighs the harbour plan"
    # a subtitle is the page's own choice
    h1 = "<h1>Council weighs the harbour plan: what it costs</h1>"
    assert titled(head, h1) == "Council weighs the harbour plan: what it costs"


def test_ruby_readings_stay_out_of_the_headline():
    h1 = "<h1><ruby>子<rt>こ</rt></ruby>どもへの<ruby>体罰<rp>(</rp><rt>たいばつ</rt><rp>)</rp></ruby>を禁止</h1>"
    assert titled("", h1) == "子どもへの体罰を禁止"


def test_lines_of_a_headline_are_parted_by_a_space():
    h1 = "<h1> WEEKEND<br>CODING<br> <span>AGENT</span></h1>"
    assert titled("", h1) == "WEEKEND CODING AGENT"
    assert titled("", "<h1>Coun<b>cil</b> votes</h1>") == "Council votes"  # markup inside a word
    # two lines in elements of their own, a small letter against a capital
    h1 = "<h1>Harbour plan costs double<span>Council asks why</span></h1>"
    assert titled("", h1) == "Harbour plan costs double Council asks why"


def test_a_date_set_in_the_headline_is_no_part_of_it():
    h1 = "<h1><a href='/p'><time datetime='2025-12-18'>Dec 18 2025</time> Preparing a transition</a></h1>"
    assert titled("", h1) == "Preparing a transition"


def test_entities_escaped_twice_are_read():
    head = '<meta property="og:title" content="Council says &amp;quot;no&amp;quot; to the harbour plan">'
    assert titled(head, "") == 'Council says "no" to the harbour plan'


def test_a_link_in_the_h1_naming_the_site_is_no_part_of_the_headline():
    h1 = '<h1><span>Harbour plan costs double</span><a href="/coast.html">Example Coast</a></h1>'
    assert titled("<title>Harbour plan costs double</title>", h1) == "Harbour plan costs double"


def test_a_short_h1_naming_the_site_in_the_declared_title_is_no_headline():
    head = "<title>Council weighs the harbour plan and its costs :: Coast Blogs ::</title>"
    assert titled(head, "<h1>Coast Blogs</h1>") == "Council weighs the harbour plan and its costs"
    # unless the longer part is the one naming the site, by its host
    head = "<title>Harbour Safety | Coast and Harbour Safety Administration (CHSA)</title>"
    assert (
        titled(head, "<h1>Harbour Safety</h1>", "https://www.chsa.test/alerts/harbour-safety")
        == "Harbour Safety"
    )


def test_a_blog_platforms_post_at_blog_title_and_an_h1_naming_the_blog_give_the_posts_title():
    head = (
        '<meta property="og:site_name" content="Gull Bay Notes">'
        "<title>Harbour regatta in the rain (2) @ Gull Bay Notes :: Blogland ::</title>"
    )
    url = "http://gullbay.blogland.test/blog/post/39926056"
    assert titled(head, "<h1>Blogland</h1><h1>Gull Bay Notes</h1>", url) == "Harbour regatta in the rain (2)"


def test_a_comment_forms_heading_is_no_headline_where_the_page_declares_none():
    # no <h1>, no declared headline: trafilatura takes a heading by its class for the title
    form = (
        '<div id="respond"><h3 id="reply-title" class="comment-reply-title">Write a Reply or Comment'
        ' <small><a id="cancel-comment-reply-link" href="#respond">Cancel reply</a></small></h3></div>'
    )
    html = (
        "<html><head><title>Council weighs the harbour plan | Gull Bay Notes</title></head>"
        f"<body><article>{STORY}</article>{form}</body></html>"
    )
    fields = extract_article(html, "https://www.example.com/2014/05/18/harbour-plan/")
    assert fields is not None
    assert fields["title"] == "Council weighs the harbour plan"


def test_a_declared_title_that_is_only_the_blogs_name_gives_way_to_the_title():
    url = "https://blog.gullnotes.test/harbour-works-report-39"
    head = "<title>Harbour works: progress report #39</title>"
    assert titled(head, "<h1>Gullnotes's Blog</h1>", url) == "Harbour works: progress report #39"
    # trafilatura may take the headline for the site's name: that does not make it the site's
    url = "https://blog.sailing-harbour.test/2007/05/20/results"
    headline = "Results: harbour regatta, junior class, 19.5.2007"
    head = f"<title>{headline} | Gull Bay Yachting</title>"
    assert titled(head, f"<h1>{headline}</h1>", url) == headline


def test_an_h1_that_is_a_lead_paragraph_or_set_in_capitals_gives_way_to_the_declared_title():
    head = '<meta property="og:title" content="Harbour plan costs double | Coast News">'
    lead = " ".join(["The council learned on Tuesday that the harbour plan will cost twice"] * 4)
    assert titled(head, f"<h1>{lead}</h1>") == "Harbour plan costs double"
    head = '<meta property="og:title" content="Harbour plan costs double in 2026 | Coast News">'
    assert titled(head, "<h1>HARBOUR PLAN COSTS DOUBLE IN 2026</h1>") == "Harbour plan costs double in 2026"
    # a headline in capitals that the declared title does not give stays
    assert titled(head, "<h1>COUNCIL VOTES ON THE NEW SEA WALL</h1>") == "COUNCIL VOTES ON THE NEW SEA WALL"


def test_a_label_the_h1_sets_before_the_declared_headline_is_no_part_of_it():
    site = '<meta property="og:site_name" content="Coast News">'
    head = site + '<meta property="og:title" content="Harbour plan costs double | Coast News">'
    assert titled(head, "<h1>Blog: Harbour plan costs double</h1>") == "Harbour plan costs double"
    assert titled(head, "<h1>Title:Harbour plan costs double</h1>") == "Harbour plan costs double"
    # words of the headline's own before a colon stay
    head = site + '<meta property="og:title" content="costs double | Coast News">'
    assert titled(head, "<h1>Harbour plan: costs double</h1>") == "Harbour plan: costs double"


def test_a_kicker_or_subtitle_the_h1_sets_apart_is_no_part_of_the_headline():
    head = '<meta property="og:title" content="Harbour plan costs double">'
    kicker = '<h1><span class="toptitle">Council in trouble</span> Harbour plan costs double</h1>'
    assert titled(head, kicker) == "Harbour plan costs double"
    subtitle = '<h1><span>Harbour plan costs double</span> <span class="sub">The council asks why</span></h1>'
    assert titled(head, subtitle) == "Harbour plan costs double"
    # words that are not set apart are the headline's own
    assert (
        titled(head, "<h1>Harbour plan costs double, council says</h1>")
        == "Harbour plan costs double, council says"
    )


def test_an_h1_holding_the_declared_headline_in_an_element_of_its_own_gives_the_headline():
    head = '<meta property="og:title" content="Harbour plan costs double - Coast Desk">'
    h1 = (
        '<h1><span class="story-title"><a href="/p">Harbour plan costs double</a> <span>'
        '<a href="https://coastnews.test/p">(coastnews.test)</a></span></span>'
        ' <span class="comments"><a href="/p#comments">87</a></span></h1>'
    )
    assert titled(head, h1, "https://coastdesk.test/story/harbour-plan") == "Harbour plan costs double"


def test_an_h1_unlike_the_declared_headline_that_the_page_shows_as_a_heading_is_a_sections():
    head = '<meta property="og:title" content="What do sailors love about the harbour? | Coast Blog">'
    body = (
        "<h2>What do sailors love about the harbour?</h2><p>We asked them.</p>"
        "<h1>Why they keep <em>coming back</em>: the quiet mornings</h1><p>More.</p>"
    )
    url = "https://blog.coast.test/2025/what-sailors-love"
    assert titled(head, body, url) == "What do sailors love about the harbour?"
    # or another title it declares, for Twitter's card
    head = (
        '<meta property="og:title" content="How the harbour runs at scale - Coast Blog">'
        '<meta name="twitter:title" content="How the harbour is shaping the coast">'
    )
    body = (
        '<h3 class="post-title">How the harbour is shaping the coast</h3><p>We asked them.</p>'
        '<h1><span style="color: red">Letter from our editor, Jo Smith:</span></h1>'
    )
    assert titled(head, body, url) == "How the harbour is shaping the coast"
    head = '<meta property="og:title" content="What do sailors love about the harbour? | Coast Blog">'
    # one the page does not show otherwise is the headline
    assert titled(head, "<h1>Why they keep coming back: the quiet mornings</h1>", url) == (
        "Why they keep coming back: the quiet mornings"
    )


def test_an_h1_with_characters_lost_to_question_marks_gives_way_to_the_declared_headline():
    head = '<meta property="og:title" content="The Basics Of Harbour Planning: Beginner\'s Guide">'
    h1 = "<h1>The Basics Of Harbour Planning? Beginner? Guide</h1>"
    assert titled(head, h1) == "The Basics Of Harbour Planning: Beginner's Guide"
    # a run of marks stands for as many to twice as many characters; a headline with more runs
    # than a few is not matched (each run multiplies the ways to match)
    from pipelines.extraction.metadata import _lost_characters

    assert _lost_characters("Harbour ????? doubles", "Harbour 港口计划的费用 doubles")
    assert not _lost_characters("Harbour ?? doubles", "Harbour 港口计划的费用 doubles")
    assert not _lost_characters("a?b?c?d?e?f", "a-b-c-d-e-f")
    # a question the headline asks stays
    head = '<meta property="og:title" content="Harbour plan: what next">'
    assert titled(head, "<h1>Harbour plan: what next? The council decides</h1>") == (
        "Harbour plan: what next? The council decides"
    )


def test_characters_encoded_twice_are_read_once():
    head = '<meta property="og:title" content="A Sailor\u00e2\u0080\u0099s Guide to the Harbour">'
    assert titled(head, "") == "A Sailor\u2019s Guide to the Harbour"


def test_a_byline_line_of_the_h1_is_no_part_of_the_headline():
    # the declared headline goes on with a photo credit the <h1> leaves out; the <h1>'s second
    # line, an element of its own, names the writer
    head = '<meta property="og:title" content="Harbour plan costs double (Photo: Reuters)">'
    h1 = "<h1><span>Harbour plan costs double</span><br><span>Editor Jane Nakazawa</span></h1>"
    assert titled(head, h1) == "Harbour plan costs double"
    # one line that begins the declared headline and nothing of its own after it: the <h1> as is
    assert titled(head, "<h1><span>Harbour plan costs double</span></h1>") == "Harbour plan costs double"


def test_a_subtitle_or_section_after_a_bar_is_no_part_of_the_headline():
    head = "<title>Best harbour tours in 2025 | Top 19 Companies | Coast News</title>"
    assert (
        titled(head, "<h1>Best harbour tours in 2025 | Top 19 Companies</h1>") == "Best harbour tours in 2025"
    )
    head = "<title>How the harbour plan changes the coast | Opinion</title>"
    assert titled(head, "") == "How the harbour plan changes the coast"
    # a section's name before the bar stays: the part after it is the headline's own
    head = "<title>Opinion | Why the harbour plan matters</title>"
    assert (
        titled(head, "<h1>Opinion | Why the harbour plan matters</h1>")
        == "Opinion | Why the harbour plan matters"
    )


def test_a_site_name_that_only_the_link_home_gives_leaves_the_title():
    url = "http://www.harbournews.test/2020-02/17/c_1125597921.htm"
    head = "<title>武汉的声音：有英勇的你，才有英雄的城！-新华网</title>"
    home = "<div><a href='http://www.harbournews.test/'>新华网</a> &gt; 正文</div>"
    assert titled(head, home, url) == "武汉的声音：有英勇的你，才有英雄的城！"
    logo = "<a href='/index.html'><img src='logo.png' alt='Coast News'></a>"
    head = "<title>Harbour plan costs double | Coast News</title>"
    assert titled(head, logo, url) == "Harbour plan costs double"
    # a link elsewhere that names it does not make it the site's
    head = "<title>武汉的声音：有英勇的你，才有英雄的城！-新华网</title>"
    section = "<div><a href='http://www.harbournews.test/world/'>新华网</a></div>"
    assert titled(head, section, url) == "武汉的声音：有英勇的你，才有英雄的城！-新华网"
    # a link no browser could follow leads nowhere, and the page is still read
    broken = "<div><a href='http://[broken/'>新华网</a></div>"
    assert titled(head, broken, url) == "武汉的声音：有英勇的你，才有英雄的城！-新华网"


def test_a_title_part_with_initials_is_no_site_name():
    # trafilatura takes a <title> part with a dot in it for the site's name: here the dots are a
    # writer's initials, and the part is the headline's own
    head = (
        "<meta property='og:title' content='[Review] Harbour Nights - Longing by R. K. Lilley'>"
        "<title>Gull´s Reading Corner: [Review] Harbour Nights - Longing by R. K. Lilley</title>"
    )
    assert titled(head, "") == "[Review] Harbour Nights - Longing by R. K. Lilley"
    # a short name with a dot in it stays the site's
    head = "<title>Harbour plan costs double - Coast.news</title>"
    assert titled(head, "") == "Harbour plan costs double"


def test_a_byline_written_in_plain_markup_names_the_authors():
    from lxml.html import document_fromstring

    from pipelines.extraction.metadata import written_byline

    def names(body: str) -> list[str]:
        return written_byline(document_fromstring(f"<html><body>{body}</body></html>"))

    assert names("<h1>T</h1><p>By Jane Doe · 5 min read</p>") == ["Jane Doe"]
    assert names("<div><span>Written by</span><a href='/a'>Edzel Tabing</a><p>Contents</p></div>") == [
        "Edzel Tabing"
    ]
    assert names("<p>May 3, 2017 By Erin Spain 4 Comments</p>") == ["Erin Spain"]
    assert names("<p>Written by: Kate Shokurova and Moses Kim</p>") == ["Kate Shokurova", "Moses Kim"]
    assert names("<p>By Jane Doe December 2, 2025</p>") == ["Jane Doe"]
    # a framework's empty comment, or an avatar, between the words and the names
    assert names("<p>Written by<!-- --> <a href='/a'>Moses Kim and Kate Shokurova</a></p>") == [
        "Moses Kim",
        "Kate Shokurova",
    ]
    assert names(
        "<div><span>Written by:</span><picture><img src='a.jpg'></picture><span>Elise Nass</span></div>"
    ) == ["Elise Nass"]
    assert names("<span>Written by:Elise Nass</span>") == ["Elise Nass"]
    # a name of one word, where it links to the author's page, but not the site's own name
    assert names("<p>by <a href='https://books.test/author/amanda/'>Amanda</a> · Dec 20, 2025</p>") == [
        "Amanda"
    ]
    assert names("<p>By <a href='https://harbourcare.test/author/harbourcare/'>HarbourCare</a></p>") == []
    assert names("<p>By <a href='/category/news/'>Harbour</a></p>") == []
    assert names("<p>By <a href='http://[broken/author/amanda/'>Amanda</a></p>") == []
    # the names in the same element as the words, after a framework's empty comment
    assert names("<p>By <!-- -->Preetam Jinka</p>") == ["Preetam Jinka"]
    assert names("<p>by: <!-- -->Ziyi Xu<!-- -->,<!-- --> <!-- -->Dec 17, 2025</p>") == ["Ziyi Xu"]
    # an article's own footer says who wrote it
    assert names(
        "<article><p>Text.</p><footer><p>Posted by Colin Watson on 2025-12-18</p></footer></article>"
    ) == ["Colin Watson"]
    # a sentence, a heading, a comment or a footer is no byline
    assert names("<p>It was a film by Rob Reiner in 1986.</p>") == []
    assert names("<p>By Category</p><p>By the numbers, things went well.</p>") == []
    assert names("<div class='comments'><p>By Jane Doe</p></div><footer><p>By Jane Doe</p></footer>") == []
