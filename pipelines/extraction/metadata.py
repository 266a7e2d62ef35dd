"""What a page says about itself: headline, authors, publication date, language, canonical URL,
read from its JSON-LD, Open Graph and link elements, with trafilatura's metadata search as the
fallback. Runs in the extraction workers.
"""

from __future__ import annotations

import difflib
import functools
import re
import unicodedata
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import UTC, datetime
from html import unescape
from typing import Any
from urllib.parse import unquote, urljoin, urlsplit

from lxml.html import HtmlElement

from pipelines.text import word_units

from .markup import ARTICLE_TYPES, json_ld_objects, types_of

_ORGANIZATION_TYPES = {
    "organization",
    "newsmediaorganization",
    "corporation",
    "localbusiness",
    "educationalorganization",
    "governmentorganization",
    "website",
}
# Placeholders that stand where a byline would name a person, in the languages most often met,
# and what templates leave there unfilled ("The Author", "Name", "undefined") or misplaced (a link
# to the front page or the privacy policy).
_NOT_A_PERSON = {
    "the", "news", "web", "site", "staff", "team", "admin", "administrator", "newsroom", "editor", "editors", "editorial",
    "redaktion", "rédaction", "redacción", "redazione", "redactie", "redação", "anonymous",
    "author", "authors", "name", "undefined", "null", "none", "unknown", "guest", "user", "webmaster", "home",
    "privacy", "policy", "terms", "conditions", "cookies",
}  # fmt: skip
# A company's legal form ends its name, and a copyright sign marks a rights holder: not a person.
_COMPANY = re.compile(r"(?:\b(?:inc|llc|llp|ltd|plc|gmbh|corp|corporation)\.?$|©|\(c\))", re.I)
# Words that begin or end a person's role, which bylines set after the name ("Jane Doe Senior
# Reporter", "John Roe, CEO").
_ROLE_WORDS = {
    "former", "senior", "sr", "chief", "head", "lead", "staff", "contributing", "tech", "founder", "co-founder",
    "cofounder", "ceo", "cto", "cfo", "coo", "writer", "reporter", "editor", "contributor", "consultant", "expert",
    "attorney", "reviewer", "correspondent", "columnist", "journalist", "analyst", "specialist", "researcher",
    "director", "manager", "president", "officer",
}  # fmt: skip
_BYLINE_PREFIX = re.compile(
    r"^(?:.*?\b(?:by|von|par|por|di|door|av|af)(?:\s+|$)|(?:author|autor|auteur)\s*:?(?:\s+|$)"
    r"|(?:read\s+)?more\s+(?:about|from)\s+|about\s+(?:the\s+author\s*:?\s*)?)",  # an author box's heading
    re.I,
)
# What bylines carry after the name: "Jane Doe • Updated March 3", "Jane Doe December 2".
_MONTH = (
    r"(?:jan(?:uary)?|feb(?:ruary)?|mar(?:ch)?|apr(?:il)?|may|june?|july?|aug(?:ust)?"
    r"|sep(?:t(?:ember)?)?|oct(?:ober)?|nov(?:ember)?|dec(?:ember)?)\.?"
)
# A month alone ends a byline only if it cannot be a name ("Theresa May", "Avery August").
_NAMELESS_MONTH = r"(?:january|february|september|october|november|december|jan|feb|sept?|oct|nov|dec)\.?"
_DAY = r"\s+\d{1,2}(?:st|nd|rd|th)?(?:,?\s+\d{4})?"
_BYLINE_DATE = re.compile(
    rf"(?:\s*[•|·]\s*{_MONTH}(?:{_DAY})?|\s+{_MONTH}{_DAY}|\s+{_NAMELESS_MONTH}(?:\s+\d{{4}})?)\s*$", re.I
)
# A date before the name ("Dec. 19, 2025 · Niko Matsakis ..."), and whom the author writes for after
# it ("... on behalf of the Vision Doc group").
_BYLINE_DATE_FIRST = re.compile(rf"^{_MONTH}{_DAY}\s*[•|·\u2013\u2014-]\s*", re.I)
# A date, or a separator, in an element of its own before a byline's name.
_BYLINE_DATE_PIECE = re.compile(
    rf"{_MONTH}{_DAY}|\d{{1,2}}\s+{_MONTH}(?:,?\s+\d{{4}})?|\d{{4}}-\d{{2}}-\d{{2}}"
    rf"|\d{{1,2}}[./]\d{{1,2}}[./]\d{{2,4}}|[•|·\u2013\u2014-]",
    re.I,
)
_BYLINE_BEHALF = re.compile(r"\s+on behalf of\b.*$", re.I)
_BYLINE_UPDATED = re.compile(r"\s*(?:[•|·-]\s*)?(?:last\s+)?(?:updated|posted|published)\b.*$", re.I)
# in any case: "postAuthor", "dateAndAuthorContainer"
_CLASS_LOWERED = "translate(@class,'ABEHILNORTUY','abehilnortuy')"


def _outside(axis: str, *more: str) -> str:
    """An XPath test: no element on *axis* is a comment, a related-story box, a footer of the
    page's (an <article>'s own <footer> is where HTML puts who wrote it) or one of *more*. <body>
    and <html> never count: their classes name the page's every widget area
    ("genesis-footer-widgets-visible")."""
    kinds = " or ".join(
        (
            "self::footer[not(ancestor::article)]",
            "contains(@class,'comment')",
            "contains(@class,'footer')",
            "contains(@class,'related')",
            *more,
        )
    )
    return f"not({axis}::*[not(self::body or self::html) and ({kinds})])"


_BYLINE_XPATH = (
    f"//*[(contains({_CLASS_LOWERED},'author') or contains({_CLASS_LOWERED},'byline') or contains(@id,'author')"
    f" or @itemprop='author' or contains(@rel,'author')) and {_outside('ancestor-or-self')}]"
)
_BYLINE_MAX_WORDS = 6
# Links to a site's page of one of its writers, outside footers, navigation, comments and
# related-story boxes; _AUTHOR_PAGE reads the writer's part of the address.
_AUTHOR_LINK_XPATH = (
    "//body//a[contains(@href,'/author') or contains(@href,'/writer') or contains(@href,'/contributor')"
    " or contains(@href,'/people/') or contains(@href,'/staff/') or contains(@href,'/journalist')]"
    f"[{_outside('ancestor', 'self::nav')}]"
)
_AUTHOR_PAGE = re.compile(
    r"/(?:authors?|writers?|contributors?|people|staff|journalists?)/(?:@)?([^/?#]+)/?(?:$|[?#])", re.I
)
# The post's meta line, where a template sets it inside the <h1> after the headline.
_BYLINE_TAIL = re.compile(r"\s*(?:[|•·-]\s*)?(?:posted|published|updated|written|by)\b", re.I)
# "By Jane Doe" written in plain markup: the element's own text has the word in its first words.
_WRITTEN_BYLINE_XPATH = (
    "//body//*[not(self::script or self::style or self::a or self::title) and contains(substring("
    "translate(normalize-space(text()), 'BY', 'by'), 1, 24), 'by')"
    f" and {_outside('ancestor-or-self', 'self::nav', 'self::aside')}]"
)
_WRITTEN_BYLINE_WORDS = 16
_BYLINE_WORDS = r"(?i:(?:(?:posted|written|article written|words|article)\s+)?by)"
_BYLINE_WORDS_ONLY = re.compile(rf"{_BYLINE_WORDS}\s*:?")
_NAME = rf"(?!(?i:{_MONTH})\b)[A-Z][\w'’.-]*(?:\s+(?:(?!(?i:{_MONTH})\b)[A-Z][\w'’.-]*|de|van|von|da|del|bin)){{1,3}}"
_WRITTEN_NAME = re.compile(
    # at the start, or after a date or a separator ("May 3, 2017 By ...", "5 min read · By ...")
    rf"(?:^|(?<=[·|•⋅–—\d)-]\s)|(?<=[·|•⋅–—\d)-])){_BYLINE_WORDS}(?::\s*|\s+)(?P<names>{_NAME}(?:\s*(?:,|and|&)\s+{_NAME})*)"
    rf"(?=$|\s*[,|•·⋅–—-]|\s+(?:on|in|at|for|updated|posted|published|\d|(?i:{_MONTH})\b))"
)
_NAME_ONLY = re.compile(_NAME)
_SINGLE_NAME = re.compile(r"[A-Z][^\W\d_]+")
_CREDIT_SEPARATOR = re.compile(r"\s+[-\u2013\u2014|]\s+")
_MONTH_ONLY = re.compile(_MONTH, re.I)
_NAME_LIST = re.compile(r"\s*(?:,|\band\b|&)\s*")
# An <h1> this unlike the declared headline, and this short, names the site or a section.
_SAME_TITLE, _SHORT_HEADLINE = 0.4, 4
# A one-word label an <h1> sets before the headline ("Blog: ").
_LABEL_BEFORE = re.compile(r"\s*\w+\s*:\s*")
# An <h1> longer than this is a paragraph; one in capitals this like the declared title is it.
_LONG_HEADLINE, _SAME_CASED = 30, 0.8
# A headline this long may have been cut at a plugin's limit (110 characters is common).
_CUT_HEADLINE = 100
# Characters a title's part may have beyond the host's name and still name the site (".com").
_SITE_EXTRA = 4
# The part before a title's " | " that is the headline has this many words; shorter, a section's.
_BAR_MIN_WORDS = 3
_TITLE_SEPARATORS = re.compile(r"\s+[|\-\u2013\u2014:\u00b7\u2022/\\\u00bb@]+\s+")
_HOME_PATH = re.compile(r"/?(?:index\.\w+)?")
# A piece of a title that is only a day ("Headline | DW | 28.04.2023") is the page's date.
_DATE_PIECE = re.compile(r"\d{1,4}([./-])\d{1,2}\1\d{1,4}")
# How host names write the letters a site's name may spell with diacritics: umlauts written out
# ("Börsen-Zeitung", boersen-zeitung.de), other marks dropped ("El País", elpais.com).
_WRITTEN_OUT = str.maketrans({"ä": "ae", "ö": "oe", "ü": "ue"})
_GLUED_SITE = re.compile(r"^(?P<first>[\w.]+)[|\-\u2013\u2014:](?P<rest>\S.*)$")
# "Headline-Site": a site name glued to the end of the headline (see _GLUED_SITE)
_GLUED_SUFFIX = re.compile(r"^(?P<rest>.*\S)[|\-\u2013\u2014](?P<last>[^\s|\-\u2013\u2014]+)$")
_DOMAIN = r"[\w-]+(?:\.[\w-]+)*\.[^\W\d_]{2,}"  # ending in a top-level domain
# trafilatura's guess of a site name from the <title> longer than this is a headline's part
_SITE_NAME_WORDS = 4
# "davidbau.com Vibe Coding": a domain name beside the headline needs no separator to be the site's.
_DOMAIN_BESIDE = (
    re.compile(rf"^(?P<site>{_DOMAIN})\s+(?P<rest>\S.*)$"),
    re.compile(rf"^(?P<rest>.*\S)\s+(?P<site>{_DOMAIN})$"),
)
# "?" or the replacement character where a site lost characters converting a headline; at most
# this many runs of them are matched against the declared headline (a headline all marks is lost).
_LOST, _LOST_RUNS = re.compile("([?\ufffd]+)"), 4
_LANGUAGE_CODE = re.compile(r"^([a-zA-Z]{2})(?:[-_][a-zA-Z0-9]+)*$")
# Below this the detector's guess is weaker than what the page declares.
_CONFIDENT_DETECTION = 0.9
# A declared language this unlikely on this many characters of text is the template's, not the text's.
_CONTRADICTED, _CONTRADICTION_CHARS = 0.01, 200


@dataclass
class PageMetadata:
    """What a page declares about itself in JSON-LD, Open Graph and link elements."""

    headline: str | None = None
    site_name: str | None = None
    authors: list[str] | None = None
    published: str | None = None
    language: str | None = None
    canonical_url: str | None = None
    h1: str | None = None
    headlines: tuple[str, ...] = ()  # the page's visible <h1> texts
    document_title: str | None = None  # its <title>
    card_title: str | None = None  # its twitter:title
    meta_authors: list[str] = field(default_factory=list)  # its <meta name="author">, not its host's name
    organizations: tuple[str, ...] = ()  # names the JSON-LD gives organizations: never an author
    persons: tuple[str, ...] = ()  # names the JSON-LD types Person
    _tree: HtmlElement | None = field(default=None, repr=False)  # for what is read only when asked
    url: str = ""  # the page's own address

    @classmethod
    def read(cls, tree: HtmlElement, url: str) -> PageMetadata:
        meta = cls()
        meta.headlines = tuple(text for h1 in tree.xpath("//h1") if (text := _headline_text(h1, url)))
        meta.document_title = _unescaped(" ".join((tree.findtext(".//title") or "").split())) or None
        meta.h1 = meta.headlines[0] if meta.headlines else None
        organizations: list[str] = []
        personal_sites: list[str] = []  # nodes typed both Person and Organization
        people: list[str] = []  # nodes and authors typed Person
        work_authors: list[str] | None = None
        for node in json_ld_objects(tree):
            types = types_of(node)
            name = _string(node.get("name"))
            if name and "person" in types:
                people.append(name)
            if name and types & _ORGANIZATION_TYPES:
                # One node both: the site says it is a person's (a personal blog), not a company's.
                (personal_sites if "person" in types else organizations).append(name)
            if not types & ARTICLE_TYPES and node.get("datePublished"):
                # A dated work of another type ("WebPage") whose author it types a Person: the
                # page's author, if no article node names one.
                work_authors = work_authors or _people(node.get("author"))
            if types & ARTICLE_TYPES:
                meta.headline = meta.headline or _string(node.get("headline"))
                meta.published = meta.published or iso_datetime(_string(node.get("datePublished")))
                meta.authors = meta.authors or _json_ld_names(node.get("author"), organizations, people)
                publisher = node.get("publisher")
                if isinstance(publisher, dict):
                    meta.site_name = meta.site_name or _string(publisher.get("name"))
                    organizations.extend(filter(None, [_string(publisher.get("name"))]))
        meta.authors = meta.authors or work_authors
        # A personal site publishes under its author's name, which its publisher node then repeats.
        meta.organizations = tuple(name for name in organizations if name not in personal_sites)
        meta.persons = tuple(people)
        metas = _meta_contents(tree)
        meta.site_name = meta.site_name or metas.get("og:site_name")
        meta.headline = meta.headline or metas.get("og:title")
        meta.card_title = _unescaped(metas.get("twitter:title") or "") or None
        meta_author = metas.get("author")
        if meta_author and not _names_host(_squash(meta_author), url):
            meta.meta_authors = [meta_author]
        meta.published = meta.published or iso_datetime(metas.get("article:published_time"))
        equivalent = metas.get("http-equiv content-language")
        meta.language = _first_language(
            tree.get("lang"),
            tree.get("xml:lang"),
            metas.get("og:locale"),
            equivalent and (equivalent.split(",")[0].strip() or None),
        )
        meta.canonical_url = valid_url(_link_href(tree, "canonical"), url) or valid_url(
            metas.get("og:url"), url
        )
        meta._tree, meta.url = tree, url
        return meta

    @functools.cached_property
    def headline_lines(self) -> frozenset[str]:
        """The texts of the elements inside the page's <h1>, read when a title asks for them."""
        if self._tree is None:
            return frozenset()
        return frozenset(
            " ".join(element.text_content().split())
            for h1 in self._tree.iter("h1")
            for element in h1.iterdescendants()
            if isinstance(element.tag, str)
        )

    def site_name_beside(self, guessed: str | None) -> str | None:
        """trafilatura's site name, unless it guessed it from the <title> (a part of it with a dot
        in it: "Headline - Example.com") and the part has a headline's length: its dots are then
        initials or abbreviations ("Love is War - Sehnsucht von R. K. Lilley")."""
        if not guessed or "." not in guessed or word_units(guessed) <= _SITE_NAME_WORDS:
            return guessed
        return None if guessed in (self.document_title or "") else guessed

    def links_home_as(self, name: str) -> bool:
        """Whether a link to the site's front page is named *name*, by its text or its image's
        alt text: where a template names the site ("新华网 > 正文", a logo)."""
        key = _squash(name)
        if self._tree is None or not key:
            return False
        links = self._tree.xpath(
            "//a[@href][contains(., $name) or .//img[contains(@alt, $name)]]", name=name.strip()
        )
        return any(
            _leads_home(link.get("href"), self.url)
            and any(_squash(text) == key for text in (link.text_content(), *link.xpath(".//img/@alt")))
            for link in links
        )

    @functools.cached_property
    def headings(self) -> frozenset[str]:
        """The texts of the page's <h2> and <h3>, read when a title asks for them."""
        if self._tree is None:
            return frozenset()
        return frozenset(" ".join(h.text_content().split()) for h in self._tree.iter("h2", "h3"))


def clean_title(title: str, site_names: list[str], url: str) -> str | None:
    """Strip a site-name prefix or suffix ("Headline | Site", "Site - Headline")."""
    title = " ".join(title.split())
    if not title:
        return None

    # parts and the separators between them, alternately: [part, separator, part, ...]
    pieces = re.split(f"({_TITLE_SEPARATORS.pattern})", title)
    if len(pieces) < 3:
        # "PressTV-Headline": a site name glued to the headline by a separator without spaces
        glued = _GLUED_SITE.match(title)
        # the glued part as a whole is the site's name: a word that only occurs in that name is
        # the headline's own ("Reise-ABC Singapur" on singapur-reiseinfo.de)
        if glued and _names_site(glued["first"], site_names, url):
            return glued["rest"]
        for pattern in _DOMAIN_BESIDE:
            beside = pattern.match(title)
            if beside and _is_site_name(beside["site"], site_names, url):
                return beside["rest"]
        return title

    while len(pieces) > 1 and _is_site_name_or_day(pieces[-1], site_names, url):
        del pieces[-2:]
    while len(pieces) > 1 and _is_site_name_or_day(pieces[0], site_names, url):
        del pieces[:2]
    # "Headline : Site | Tagline | Founded 2005": what follows the site's name is the site's too.
    for index in range(2, len(pieces), 2):
        if _is_site_name(pieces[index], site_names, url):
            del pieces[index - 1 :]
            break
    return "".join(pieces).strip() or title


def _is_site_name_or_day(part: str, site_names: list[str], url: str) -> bool:
    return bool(_DATE_PIECE.fullmatch(part.strip())) or _is_site_name(part, site_names, url)


def _is_site_name(part: str, site_names: list[str], url: str) -> bool:
    """Whether a title's *part* names the site rather than the story."""
    key = _squash(part)
    if not key:
        return False
    for name in map(_squash, site_names):
        # "Site", "Site - Official site", or a long enough part of the name ("Reuters")
        if name and (key == name or name in key or (len(key) >= 5 and key in name)):
            return True
    return _names_host(key, url)


def _names_host(key: str, url: str) -> bool:
    """Whether *key* (squashed) is a name of *url*'s host's, and not much else: "Reuters.com",
    "Ultima Hora Mallorca", "Bridgestone Tires" (tires.bridgestone.com), "El País" (elpais.com)."""
    first, labels = _host_label(url), _host_labels(url)
    return any(
        spelling == first
        or any(label in spelling and len(spelling) <= 2 * len(label) + _SITE_EXTRA for label in labels)
        for spelling in _host_spellings(key)
    )


def _host_spellings(key: str) -> set[str]:
    """*key* as it is, and as a host name may write it (see _WRITTEN_OUT)."""
    if key.isascii():
        return {key}
    return {key, *(_without_marks(form) for form in (key, key.translate(_WRITTEN_OUT)))}


def _without_marks(text: str) -> str:
    return "".join(c for c in unicodedata.normalize("NFKD", text) if not unicodedata.combining(c))


def clean_authors(names: list[str]) -> list[str]:
    """Strip "By" prefixes and blanks from author names, keeping their order, without repeats."""
    cleaned: list[str] = []
    for name in names:
        name = _BYLINE_PREFIX.sub("", " ".join(unescape(name).split()))
        name = _BYLINE_UPDATED.sub("", _BYLINE_DATE.sub("", name)).strip(" ,;|•·-")
        name = _without_role(_before_credit(name))
        if name and name not in cleaned:
            cleaned.append(name)
    return cleaned


def _before_credit(name: str) -> str:
    """*name* up to a spaced dash or bar after a person's name: what follows is a team's or a
    role's ("David Jackson - FullStack Editorial Team", "Jane Doe | Contributor")."""
    first, *rest = _CREDIT_SEPARATOR.split(name, maxsplit=1)
    return first if rest and _NAME_ONLY.fullmatch(first) else name


def _without_role(name: str) -> str:
    """*name* without the role a byline sets after it ("Liz Kenny Former McKinsey Consultant"),
    or nothing if it is a role alone ("CEO", "Lead Reviewer"), as a piece of "Jane Doe, CEO" is."""
    words = name.split()
    roles = [word.casefold().strip(".,") in _ROLE_WORDS for word in words]
    if all(roles):
        return ""
    cut = next((i for i in range(2, len(words)) if roles[i]), len(words))
    return " ".join(words[:cut]).rstrip(" ,;|-\u2013\u2014")


def choose_title(page: PageMetadata, declared: str | None, site_names: list[str], url: str) -> str | None:
    """The headline, before any " | " left in it (see _before_bar)."""
    return _before_bar(_without_home_name(_chosen_title(page, declared, site_names, url), page))


def _without_home_name(title: str | None, page: PageMetadata) -> str | None:
    """*title* without a last part that a link to the site's front page names ("Headline-新华网"
    where the template links "新华网" home): a site name the page declares nowhere else."""
    if not title:
        return title
    pieces = re.split(f"({_TITLE_SEPARATORS.pattern})", title)
    if len(pieces) >= 3 and page.links_home_as(pieces[-1]):
        return "".join(pieces[:-2]).strip() or title
    glued = _GLUED_SUFFIX.match(title)
    if glued and page.links_home_as(glued["last"]):
        return glued["rest"]
    return title


def _chosen_title(page: PageMetadata, declared: str | None, site_names: list[str], url: str) -> str | None:
    """The headline: the page's visible <h1> when it is the story's, else the declared one.

    *declared* is the title the page's metadata gives (JSON-LD, Open Graph, <title>). A page
    with several <h1> uses the one closest to it; an <h1> of a few words quite unlike it is the
    site's or the section's name.
    """
    headline = _unescaped(page.headline or declared or "")
    if page.document_title and (
        _cut_short(headline, page.document_title)
        or _names_only_the_site(headline, page, site_names, url)
        or _guessed_unlike_the_title(page, headline, site_names, url)
    ):
        headline = page.document_title
    reference = clean_title(headline, site_names, url)
    if not page.headlines:
        return reference
    best = max(page.headlines, key=lambda h1: _similarity(h1, reference or ""))
    unlike = bool(reference) and _similarity(best, reference or "") < _SAME_TITLE
    label = word_units(best) <= _SHORT_HEADLINE < word_units(reference or "")
    if unlike and (label or _names_site(best, site_names, url)):
        return reference
    # An <h1> quite unlike the declared headline, where the page shows that headline, or another
    # title it declares (Twitter's card), as a heading of its own, is a section's heading or a
    # box's ("A message from our founder").
    if unlike and (shown := _shown_declared_title(page, reference, site_names, url)):
        return shown
    # An <h1> of a paragraph's length is the page's lead, not its headline; one in capitals is
    # the declared headline styled, which keeps its words' case.
    if reference and (
        word_units(best) > _LONG_HEADLINE
        or (best.isupper() and not reference.isupper() and _similarity(best, reference) >= _SAME_CASED)
    ):
        return reference
    # An <h1> that sets a line of its own beside the declared headline, in an element of its own:
    # a kicker before it ("<span>Avoiding bad debts</span> Retention of title: ...") or a
    # subtitle after it.
    if reference and _beside_a_line_of_its_own(best, reference, page):
        return reference
    # An <h1> of two lines in elements of their own, the first of which begins the declared
    # headline, which goes on with a note the <h1> leaves out: the first line is the headline,
    # the second the byline or a subtitle ("<span>Headline</span><br><span>Editor Nakazawa</span>"
    # beside "Headline (Photo: Reuters)").
    if reference and (first := _first_line_beginning(best, reference, page)):
        return first
    # An <h1> that is the declared headline after a one-word label of its own ("Blog: ...",
    # "Title:..."); two words or more before the colon may be the headline's own.
    if (
        reference
        and best.casefold().endswith(reference.casefold())
        and _LABEL_BEFORE.fullmatch(best[: len(best) - len(reference)])
    ):
        return reference
    # A short <h1> that is the first or last part of the declared "Headline | Site" (or of the
    # <title>), whose other part is longer, names the site.
    if word_units(best) <= _SHORT_HEADLINE:
        for declared_title in filter(None, (headline, page.document_title)):
            parts = _TITLE_SEPARATORS.split(declared_title.strip(" :|"))
            keys = [_squash(part) for part in parts]
            if len(parts) != 2 or _squash(best) not in keys:
                continue
            other = parts[1 - keys.index(_squash(best))]
            # unless that longer part names the host ("Electrical Safety | Mine Safety ... (MSHA)")
            if word_units(other) > 2 * word_units(best) and not any(
                label in _squash(other) for label in _host_labels(url)
            ):
                return clean_title(declared_title, [*site_names, best], url)
    # An <h1> that is the declared headline with characters lost to "?" on the site's way from
    # one charset to another ("Beginner? Guide" for "Beginner's Guide").
    if reference and _lost_characters(best, reference):
        return reference
    # An <h1> that goes on from the declared headline into the post's byline ("... Posted on by
    # infuy"): the template set its meta line inside the headline.
    if (
        reference
        and best.casefold().startswith(reference.casefold())
        and _BYLINE_TAIL.match(best[len(reference) :])
    ):
        return reference
    return clean_title(best, site_names, url)


def _shown_declared_title(
    page: PageMetadata, reference: str | None, site_names: list[str], url: str
) -> str | None:
    """The first of the page's declared titles that it shows as an <h2> or <h3>."""
    other = clean_title(page.card_title or "", site_names, url)
    return next((title for title in (reference, other) if title and title in page.headings), None)


def _lost_characters(headline: str, reference: str) -> bool:
    """Whether *headline* is *reference* but for characters lost where a "?" (or the replacement
    character) stands instead, one or two for each mark."""
    pieces = _LOST.split(headline)  # text, a run of marks, text, ...
    if len(pieces) == 1 or len(pieces) > 2 * _LOST_RUNS + 1 or headline == reference:
        return False
    # a run of k marks stands for k to 2k characters; the text between runs anchors the match
    pattern = "".join(
        re.escape(piece) if i % 2 == 0 else f".{{{len(piece)},{2 * len(piece)}}}"
        for i, piece in enumerate(pieces)
    )
    return re.fullmatch(pattern, reference, re.I | re.S) is not None


def _beside_a_line_of_its_own(headline: str, reference: str, page: PageMetadata) -> bool:
    """Whether *headline* is *reference* and more before or after it, one of them set apart in an
    element of the page's <h1>: the rest, or the reference ("<span>Headline</span>
    <a>(latimes.com)</a> <a>87</a>")."""
    if headline.casefold().endswith(reference.casefold()):
        rest = headline[: len(headline) - len(reference)]
    elif headline.casefold().startswith(reference.casefold()):
        rest = headline[len(reference) :]
    else:
        return False
    rest = " ".join(rest.strip(" :|-\u2013\u2014").split())
    return bool(rest) and (rest in page.headline_lines or reference in page.headline_lines)


def _first_line_beginning(headline: str, reference: str, page: PageMetadata) -> str | None:
    """The line of the <h1> *headline* that both it and the declared *reference* begin with, the
    <h1> going on with a line of its own; None if there is none. The longest such line is taken,
    so the answer does not hang on the order of a set."""
    for line in sorted(page.headline_lines, key=len, reverse=True):
        if len(line) * 2 < len(reference) or line == headline:
            continue
        if reference.startswith(line) and headline.startswith(line):
            rest = headline[len(line) :].strip()
            if rest in page.headline_lines:
                return line
    return None


def _names_only_the_site(headline: str, page: PageMetadata, site_names: list[str], url: str) -> bool:
    """Whether the declared *headline* is only the site's name where the page's <title> says more
    (trafilatura's title falls back on a blog's name in its <h1>). The site's name is here the one
    the page declares, or its host's: trafilatura's guess of it is at times the headline itself."""
    if not _names_site(headline, [page.site_name] if page.site_name else [], url):
        return False
    title = clean_title(page.document_title or "", site_names, url) or ""
    return not _is_site_name(title, site_names, url)


def _guessed_unlike_the_title(page: PageMetadata, headline: str, site_names: list[str], url: str) -> bool:
    """Whether *headline* is trafilatura's guess, on a page that declares no headline and shows
    no <h1>, and is quite unlike the page's <title>: a heading it took for the title by its class
    ("comment-reply-title": "Write a Reply or Comment"). The <title> is the page's own word, unless
    it is only the site's name."""
    if page.headline or page.headlines or not headline:
        return False
    title = clean_title(page.document_title or "", site_names, url) or ""
    return _similarity(headline, title) < _SAME_TITLE and not _is_site_name(title, site_names, url)


def _before_bar(title: str | None) -> str | None:
    """*title* up to a " | " that is still in it once the site's name is gone: prose has no use
    for the bar, so what follows it is a subtitle or a section ("... in NYC 2025 | Top 19
    Companies", "... physical health | Opinion"). A first part of a word or two is the section's
    name itself ("Opinion | ..."), and stays."""
    if not title or " | " not in title:
        return title
    first = title.split(" | ", 1)[0]
    return first if word_units(first) >= _BAR_MIN_WORDS else title


def _headline_text(h1: HtmlElement, url: str) -> str:
    """The text of an <h1> as the headline it shows: without ruby readings (furigana), the date a
    <time> element sets beside it, or links to the site's home page or naming the site (a logo),
    its lines broken by <br> parted by a space."""
    skipped = set(h1.iter("rt", "rp", "time"))
    for link in h1.iter("a"):
        href = link.get("href")
        if (href and _leads_home(href, url)) or _names_host(_squash(link.text_content()), url):
            skipped.add(link)
    texts: list[str] = []
    for text in h1.xpath(".//text()"):
        owner = text.getparent()
        # A line break parts words ("WEEKEND<br>CODING"); other markup may split one word, but
        # not between a small letter and a capital: that is two lines set in elements of their
        # own ("Best Notion Alternatives<span>Top Note-taking Tools</span>").
        broken = (text.is_tail and owner.tag == "br") or bool(
            texts and texts[-1][-1:].islower() and text[:1].isupper()
        )
        if text.is_tail:
            owner = owner.getparent()
        if not any(element in skipped for element in _up_to(owner, h1)):
            texts.append(f" {text}" if broken else text)
    return _unescaped(" ".join("".join(texts).split()))


def _up_to(element: HtmlElement | None, top: HtmlElement) -> list[HtmlElement]:
    chain = []
    while element is not None:
        chain.append(element)
        if element is top:
            break
        element = element.getparent()
    return chain


def _leads_home(href: str, url: str) -> bool:
    """Whether the link *href* on the page at *url* leads to the front page of its site."""
    try:
        target, page = urlsplit(urljoin(url, href)), urlsplit(url)
    except ValueError:  # a link no browser could follow ("http://[broken")
        return False
    same_site = (target.hostname or "").removeprefix("www.") == (page.hostname or "").removeprefix("www.")
    return same_site and _HOME_PATH.fullmatch(target.path) is not None


def _unescaped(text: str) -> str:
    """*text* with HTML entities read, also those escaped twice ("&amp;quot;")."""
    for _ in range(2):
        if "&" not in text:
            break
        text = unescape(text)
    return text


def _cut_short(headline: str, title: str) -> bool:
    """Whether *headline* is *title* cut short: where a quotation mark begins (a <meta> attribute
    that the page forgot to escape ends at the headline's first quote), or at a length limit
    without a separator after it (SEO plugins cut JSON-LD headlines at 110 characters)."""
    rest = title[len(headline) :].lstrip() if headline and title.startswith(headline) else ""
    if not rest:
        return False
    quote = rest[0] in ('"', "'", "\u201c", "\u00ab")
    return quote or (len(headline) >= _CUT_HEADLINE and not _TITLE_SEPARATORS.match(f" {rest}"))


def not_authors(page: PageMetadata, bylines: list[str]) -> list[str]:
    """The names the page declares an organization's, but for one its byline credits that it also
    types a Person (a one-person site named after its author: "Kristian Larsen", publisher and
    author; an outlet signing its own posts: "By Block Renovation"), or that has a person's name
    and is not the site's (an author typed Organization by mistake: "By Randy Thompson")."""
    credited = {_squash(_BYLINE_PREFIX.sub("", text)) for text in bylines}
    people = {_squash(name) for name in page.persons}

    def signed(name: str) -> bool:
        key = _squash(name)
        if not any(text.startswith(key) for text in credited):
            return False
        # the JSON-LD may type an author Organization whose name is a person's ("Randy Thompson")
        return key in people or (
            bool(_NAME_ONLY.fullmatch(name))
            and not _names_site(name, [page.site_name] if page.site_name else [], page.url)
        )

    return [name for name in page.organizations if not signed(name)]


def choose_authors(candidates: list[list[str]], not_authors: list[str]) -> list[str]:
    """The first source's names that can be people's: not a site or organization, not "Staff",
    not a date or a URL. Sources come most specific first."""
    for names in candidates:
        kept = [name for name in clean_authors(names) if _could_be_person(name, not_authors)]
        if kept:
            return kept
    return []


def choose_published(
    declared: str | None,
    found: str | None,
    confirmed: Callable[[], str | None],
    fetched_on: str,
    local: Callable[[], str | None] = lambda: None,
    shown: Callable[[str], bool] = lambda day: True,
    written: Callable[[], set[str]] = set,
) -> str | None:
    """The publication date.

    *found* is htmldate's extensive search for the original date. At its widest it reads any
    date-like string in the page, a file name's digits included ("photo_20251208.jpg"), and a
    bare year (a copyright line) as January 1st. So its day counts if the page declares it
    (*declared*, whose time of day is then kept; the declared date-time also stands where htmldate
    read that moment in UTC, on another day), if the quick search of the page's metadata,
    date elements and URL (*confirmed*, a millisecond where *shown* may take several) finds the
    same day, or if the page's text shows it (*shown*), a January 1st excepted; failing all
    three, the quick search's own day, if it found one. Nothing after the fetch is a publication
    date. Without a date from htmldate, a date written the local way (*local*, see localdates)
    is the page's date.

    A numeric date whose first two numbers could both be the month ("03-09-2026") may have been
    read the wrong way round: where the page writes the other reading in words, or in an ISO
    <time datetime>, and never this one (*written*, the days it writes so), the other it is.
    """
    day = found if found and found <= fetched_on else None
    if declared and day and (declared[:10] == day or _utc_day(declared) == day):
        # the same day, or the same moment read in UTC elsewhere on the page: the page's own
        # date and time, in its own zone, is the one its readers see
        return declared
    if day and (quick := confirmed()) != day and (day.endswith("-01-01") or not shown(day)):
        day = quick  # what the quick search found instead, if anything
    if day and (other := _month_and_day_swapped(day)) and other <= fetched_on:
        days = written()
        if other in days and day not in days:
            day = other
    return day or local()


def _utc_day(moment: str) -> str | None:
    """The day (YYYY-MM-DD) a date-time with a UTC offset falls on in UTC; None for a date alone."""
    try:
        parsed = datetime.fromisoformat(moment)
    except ValueError:
        return None
    if parsed.tzinfo is None:
        return None
    return parsed.astimezone(UTC).date().isoformat()


def _month_and_day_swapped(day: str) -> str | None:
    """*day* (YYYY-MM-DD) with its month and day of the month the other way round, where that is
    a date too and another one."""
    year, month, day_of_month = day[:10].split("-")
    if month == day_of_month or int(day_of_month) > 12:
        return None
    return f"{year}-{day_of_month}-{month}"


def byline_elements(tree: HtmlElement) -> list[HtmlElement]:
    """The elements the template marks as the author's (class or id "author" or "byline",
    itemprop or rel "author"), outside comments, the page's footers and related-story boxes (an
    <article>'s own <footer> is where HTML puts who wrote it). One pass over the tree, a
    millisecond on a large page: the readers below share it."""
    return tree.xpath(_BYLINE_XPATH)


def names_apart(bylines: list[HtmlElement], authors: list[str]) -> list[str]:
    """*authors*, each without the role or initials its byline sets beside it.

    A byline element often sets the name apart from the person's role or an avatar's initials
    (<span>Rachel MacDonald</span> <span>Writer</span>, <i>CM</i> Craig McCarthy), and its text
    reads as one longer name. Where an author is the text of such an element's first pieces (the
    rest being, say, "Last updated ..."), the first of those pieces that is a name on its own is
    the author."""
    pieces_of: dict[str, list[str]] = {}
    # No longer run of pieces can be an author: an element the template calls "author-box" may
    # hold a whole biography, and its every prefix would be joined.
    longest = max(map(len, authors), default=0)
    for element in bylines if authors else []:
        pieces = [" ".join(piece.split()) for piece in element.itertext()]
        pieces = [piece for piece in pieces if piece]
        for count in range(2, len(pieces) + 1):
            first = pieces[:count]
            if sum(map(len, first)) > longest:
                break
            pieces_of.setdefault(" ".join(first), first)
            pieces_of.setdefault("".join(first), first)
    apart: list[str] = []
    for name in authors:
        pieces = pieces_of.get(name, [])
        name = next((piece for piece in pieces if _NAME_ONLY.fullmatch(piece)), name)
        if name not in apart:
            apart.append(name)
    return apart


def byline_names(bylines: list[HtmlElement]) -> list[str]:
    """The first short text of the page's byline elements (see byline_elements)."""
    for element in bylines:
        names = element.xpath(".//*[@itemprop='name']")
        pieces = [" ".join(piece.split()) for piece in (names[0] if names else element).itertext()]
        pieces = [piece for piece in pieces if piece]
        # the date set in an element of its own before the name: "<span>Dec 17, 2025</span><span>Julian..."
        dated_apart = False
        while len(pieces) > 1 and _BYLINE_DATE_PIECE.fullmatch(pieces[0]):
            pieces.pop(0)
            dated_apart = True
        text = " ".join(pieces)
        if dated_apart:
            text = _BYLINE_BEHALF.sub("", text)
            if not _NAME_ONLY.fullmatch(text):
                continue  # after a date, a name only, as below
        if dated := _BYLINE_DATE_FIRST.match(text):
            # after a date, a name only: a post's category comes there too ("March 20 | Wellness")
            text = _BYLINE_BEHALF.sub("", text[dated.end() :])
            if not _NAME_ONLY.fullmatch(text):
                continue
        if len(text) > 2 and len(text.split()) <= _BYLINE_MAX_WORDS:
            return [text]
    return []


def author_page_links(tree: HtmlElement) -> list[str]:
    """The name a link to a writer's page on the site shows, where the page's address spells the
    same name: "<a href="/blog/authors/emmanuel-oyibo">Emmanuel Oyibo</a>", a byline in markup
    that does not say it is one. The first such link's name; its text, else its label or title."""
    for link in tree.xpath(_AUTHOR_LINK_XPATH):
        match = _AUTHOR_PAGE.search(link.get("href") or "")
        if match is None:
            continue
        slug = _squash(_without_marks(unquote(match[1])))  # addresses spell "Kovács" "kovacs"
        for shown in (link.text_content(), link.get("aria-label") or "", link.get("title") or ""):
            name = " ".join(shown.split())
            if _NAME_ONLY.fullmatch(name) and _squash(_without_marks(name)) == slug:
                return [name]
    return []


def written_byline(tree: HtmlElement) -> list[str]:
    """The names after the first "By ...", "Posted by ...", "Written by: ..." a page writes outside
    comments, the page's footers, navigation and related-story boxes, in markup that does not say
    it is a byline ("<p>By Jane Doe · 5 min read</p>", "<span>Written by</span> <a>Jane Doe</a>"):
    two to four capitalised words each."""
    for element in tree.xpath(_WRITTEN_BYLINE_XPATH):
        own = " ".join((element.text or "").split())
        # the names sit in the next element, or (after a framework's "<!-- -->") in this one's text
        following = _next_element(element) if _BYLINE_WORDS_ONLY.fullmatch(own) else None
        if following is not None:
            names = _NAME_LIST.split(" ".join(" ".join(following.itertext()).split()))
            if all(_NAME_ONLY.fullmatch(name) for name in names) or _authors_page_link(following, names):
                return names
            continue
        text = " ".join(" ".join(element.itertext()).split())
        if len(text.split()) <= _WRITTEN_BYLINE_WORDS and (match := _WRITTEN_NAME.search(text)):
            return _NAME_LIST.split(match["names"])
    return []


def _authors_page_link(element: HtmlElement, names: list[str]) -> bool:
    """Whether *element* is a link to an author's page ("/author/amanda/") showing one capitalised
    word: a first name or a pen name, which bylines give alone, but not the name in the link's
    host (a company's own account: "CottageCare" on cottagecare.com)."""
    href = element.get("href") or ""
    if (
        element.tag != "a"
        or "/author/" not in href
        or len(names) != 1
        or not _SINGLE_NAME.fullmatch(names[0])
    ):
        return False
    try:
        host = urlsplit(href).hostname or ""
    except ValueError:  # a malformed link ("http://[broken/author/x")
        return False
    return _squash(names[0]) not in _squash(host)


def _next_element(element: HtmlElement) -> HtmlElement | None:
    """The element with text after *element*'s own: among its children, else its next siblings.
    Comments (a framework's "<!-- -->") and elements without text (an avatar) are passed over."""
    candidates = element.iterchildren() if len(element) else element.itersiblings()
    return next((e for e in candidates if isinstance(e.tag, str) and e.text_content().strip()), None)


def _could_be_person(name: str, not_authors: list[str]) -> bool:
    words = name.casefold().split()
    if not any(c.isalpha() for c in name) or len(words) > 6 or "://" in name or "@" in name:
        return False
    if any(c in name for c in "{}<>="):  # a byline element's own <style> or markup, read as text
        return False
    if _COMPANY.search(name.strip()):
        return False
    if all(word.strip(".,") in _NOT_A_PERSON for word in words):
        return False
    if sum(c.isdigit() for c in name) >= 2 or not _BYLINE_DATE.sub("", f" {name}"):  # a date
        return False
    if _MONTH_ONLY.fullmatch(name.strip()):  # a date's month, the rest of it lost ("August")
        return False
    # Declared names only: a personal site is often named after its author.
    return not any(_squash(name) == _squash(other) for other in not_authors)


def _names_site(text: str, site_names: list[str], url: str) -> bool:
    """Whether *text* as a whole is the site's name: one of *site_names*, or its host's name and
    not much else ("Gullnotes's Blog" on blog.gullnotes.com)."""
    key = _squash(text)
    host = (urlsplit(url).hostname or "").removeprefix("www.")
    return bool(key) and (
        key == _squash(host) or any(key == _squash(name) for name in site_names) or _names_host(key, url)
    )


def _similarity(a: str, b: str) -> float:
    return difflib.SequenceMatcher(None, a.casefold(), b.casefold(), autojunk=False).ratio()


def choose_language(text: str, declared: list[str | None]) -> str | None:
    """Pick an ISO 639-1 code: a confident detection on the text, else the page's declaration
    unless the text contradicts it, else a likely detection."""
    declaration = _first_language(*declared)
    ranking = language_ranking(text)
    detected, probability = ranking[0] if ranking else (None, 0.0)
    if detected and probability >= _CONFIDENT_DETECTION:
        return detected
    if declaration and _contradicts(text, declaration, dict(ranking)):
        declaration = None
    return declaration or (detected if probability >= 0.5 else None)


def _contradicts(text: str, language: str, probabilities: dict[str, float]) -> bool:
    """Whether *text*, long enough to tell, is almost surely not in *language* (*probabilities*:
    the detector's, by language): templates declare "en" over text in any language, one the
    identifier may not know (Papiamento)."""
    return (
        len(text) >= _CONTRADICTION_CHARS
        and language in probabilities
        and probabilities[language] < _CONTRADICTED
    )


def language_ranking(text: str) -> list[tuple[str, float]]:
    """The detector's probability of each language for *text*, the likeliest first; none for a
    text too short to tell."""
    if len(text) < 20:
        return []
    # 1,500 characters decide the language as well as the whole text, at a third of the cost
    return [(language, float(p)) for language, p in _language_identifier().rank(text[:1500])]


@functools.lru_cache(maxsize=1)
def _language_identifier() -> Any:
    # Loaded once per worker process; the model takes a moment to unpickle.
    from py3langid.langid import MODEL_FILE, LanguageIdentifier

    return LanguageIdentifier.from_model_file(MODEL_FILE, norm_probs=True)


def valid_url(candidate: str | None, base: str) -> str | None:
    """Resolve *candidate* against *base*; keep it only if it is an absolute http(s) URL."""
    if not candidate:
        return None
    try:
        resolved = urljoin(base, candidate.strip())
        parts = urlsplit(resolved)
    except ValueError:  # "http://[broken": no address at all
        return None
    if parts.scheme not in ("http", "https") or not parts.hostname:
        return None
    return resolved


def iso_datetime(value: str | None) -> str | None:
    """Return *value* as an ISO 8601 date or date-time if it parses as one."""
    if not value:
        return None
    value = value.strip()
    try:
        parsed = datetime.fromisoformat(value.replace("Z", "+00:00"))
    except ValueError:
        return None
    if len(value) <= 10:
        return parsed.date().isoformat()
    return parsed.isoformat()


def _first_language(*values: str | None) -> str | None:
    for value in values:
        if value and (match := _LANGUAGE_CODE.match(value.strip())):
            return match[1].lower()
    return None


def _meta_contents(tree: HtmlElement) -> dict[str, str]:
    """The content of each <meta> by its property and by its name, the first non-empty one's, and
    by "http-equiv <name>" the first such one's, in one pass over the page."""
    contents: dict[str, str] = {}
    for node in tree.iter("meta"):
        if equivalent := node.get("http-equiv"):
            contents.setdefault(f"http-equiv {equivalent.lower()}", node.get("content") or "")
        content = (node.get("content") or "").strip()
        if not content:
            continue
        for key in (node.get("property"), node.get("name")):
            if key:
                contents.setdefault(key, content)
    return contents


def _link_href(tree: HtmlElement, rel: str) -> str | None:
    for node in tree.xpath("//link[@href]"):
        if rel in (node.get("rel") or "").lower().split():
            return node.get("href")
    return None


def _json_ld_names(value: Any, organizations: list[str], persons: list[str]) -> list[str] | None:
    """The names of a JSON-LD author value; an organization named as the author is not one. The
    names of entries typed Person join *persons*, those of organizations *organizations*."""
    values = value if isinstance(value, list) else [value]
    names = []
    for entry in values:
        types = types_of(entry) if isinstance(entry, dict) else set()
        if types & _ORGANIZATION_TYPES and "person" not in types:
            organizations.extend(filter(None, [_string(entry.get("name"))]))
            continue
        if "person" in types:
            persons.extend(filter(None, [_string(entry.get("name"))]))
        name = entry.get("name") if isinstance(entry, dict) else entry
        if isinstance(name, str) and name.strip() and name.strip() not in names:
            names.append(name.strip())
    return names or None


def _people(value: Any) -> list[str] | None:
    """The names of the entries of a JSON-LD author value that are typed Person."""
    values = value if isinstance(value, list) else [value]
    names = [
        name
        for entry in values
        if isinstance(entry, dict) and "person" in types_of(entry) and (name := _string(entry.get("name")))
    ]
    return names or None


def _string(value: Any) -> str | None:
    if isinstance(value, list):
        value = value[0] if value else None
    return value.strip() if isinstance(value, str) and value.strip() else None


def _squash(text: str) -> str:
    return re.sub(r"[\W_]+", "", text.casefold())


def _host_labels(url: str) -> list[str]:
    """The names in *url*'s host but its top-level domain and "www": ["tires", "bridgestone"]; an
    IP address has none."""
    labels = [_squash(label) for label in (urlsplit(url).hostname or "").split(".")[:-1]]
    return [label for label in labels if len(label) >= 3 and label != "www" and not label.isdigit()]


def _host_label(url: str) -> str:
    host = (urlsplit(url).hostname or "").removeprefix("www.")
    return _squash(host.split(".")[0]) if host else ""
