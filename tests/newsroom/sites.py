"""Publisher templates of the fixture newsrooms: page markup, metadata style and boilerplate.

Each site puts its boilerplate inside the article container, where trafilatura keeps it: that is
the boilerplate the pipeline has to learn and remove. `Boilerplate.text` is what a reader sees of
it, so tests can check that no stored text contains it.
"""

from __future__ import annotations

import html
import json
from collections.abc import Callable
from dataclasses import dataclass, field

from .model import ArticlePage


@dataclass(frozen=True)
class Boilerplate:
    kind: str  # what it is: newsletter, app promo, copyright, photo credit, ...
    position: str  # "top" (before the story), "middle" (after the second paragraph), "bottom"
    markup: str
    text: str  # what a reader sees of it


@dataclass(frozen=True)
class SiteTemplate:
    host: str
    name: str
    start: str  # how a crawl starts here: "home", "rss", "atom" or "sitemap"
    path: Callable[[ArticlePage], str]
    title_format: str  # "{headline} | {name}"
    metadata: str  # "jsonld", "graph", "og" or "none"
    container: tuple[str, str]
    body: tuple[str, str]
    paragraph: str  # "p" or "div"
    sections: tuple[str, ...]
    boilerplate: tuple[Boilerplate, ...]
    chrome: str = ""  # extra site chrome outside the container (sidebars, banners)
    language: str = "en"
    extra_head: str = field(default="")

    @property
    def base(self) -> str:
        return f"http://{self.host}"

    def url(self, page: ArticlePage) -> str:
        return self.base + self.path(page)

    @property
    def start_url(self) -> str:
        return (
            self.base
            + {"home": "/", "rss": "/rss.xml", "atom": "/feed.atom", "sitemap": "/sitemap.xml"}[self.start]
        )

    def boilerplate_texts(self, page: ArticlePage) -> list[str]:
        """The boilerplate a reader sees on *page*."""
        return [b.text.replace("News / Section", f"News / {page.section}") for b in self.boilerplate]


def _esc(text: str, entities: bool = False) -> str:
    escaped = html.escape(text, quote=False)
    if entities:
        # Some CMSs write typography as named or numeric character references.
        escaped = (
            escaped.replace("\u2019", "&rsquo;")
            .replace("\u2014", "&#8212;")
            .replace("\u00a0", "&nbsp;")
            .replace("\u201c", "&ldquo;")
            .replace("\u201d", "&rdquo;")
        )
    return escaped


def _slug(text: str) -> str:
    words = "".join(c.lower() if c.isalnum() else " " for c in text).split()
    return "-".join(words[:8]) or "story"


# --- The six publishers ------------------------------------------------------------------------

PRESS_TV = SiteTemplate(
    host="www.presstv.ir",
    name="Press TV",
    start="home",
    path=lambda a: (
        f"/Detail/{a.published[:4]}/{a.published[5:7]}/{a.published[8:10]}/{a.number}/{_slug(a.headline)}"
    ),
    title_format="PressTV-{headline}",
    metadata="og",
    container=('<div class="news-main">', "</div>"),
    body=('<div class="news-text">', "</div>"),
    paragraph="p",
    sections=("Afghanistan", "Middle East", "World", "Economy"),
    boilerplate=(
        Boilerplate(
            "unrelated caption",
            "top",
            '<div class="pic"><img src="/img/omar.jpg" alt=""><p>US Rep. Ilhan Omar (D-MN) (L) talks with '
            "Speaker of the House Nancy Pelosi (D-CA) during a rally with fellow Democrats before voting on "
            "H.R. 1, or the People Act, on the East Steps of the US Capitol on March 08, 2019 in Washington, "
            "DC. (AFP photo)</p></div>",
            "US Rep. Ilhan Omar (D-MN) (L) talks with Speaker of the House Nancy Pelosi (D-CA) during a rally "
            "with fellow Democrats before voting on H.R. 1, or the People Act, on the East Steps of the US "
            "Capitol on March 08, 2019 in Washington, DC. (AFP photo)",
        ),
        Boilerplate(
            "alternate addresses",
            "bottom",
            "<p>Press TV\u2019s website can also be accessed at the following alternate addresses:</p>",
            "Press TV\u2019s website can also be accessed at the following alternate addresses:",
        ),
        Boilerplate(
            "mirror list",
            "bottom",
            '<p><a href="http://www.presstv.co.uk">www.presstv.co.uk</a> <a href="http://www.presstv.tv">'
            "www.presstv.tv</a></p>",
            "www.presstv.co.uk www.presstv.tv",
        ),
        Boilerplate(
            "TV app promo",
            "bottom",
            '<p><a href="/roku"><img src="/img/roku.png" alt="Press TV News Roku">Press TV News Roku</a></p>',
            "Press TV News Roku",
        ),
        Boilerplate(
            "breadcrumb",
            "top",
            '<p class="crumb">News / Section</p>',
            "News / Section",
        ),
    ),
)

MERIDIAN_HERALD = SiteTemplate(
    host="www.meridianherald.test",
    name="The Meridian Herald",
    start="home",
    path=lambda a: f"/news/{a.published[:4]}/{a.published[5:7]}/{a.published[8:10]}/{_slug(a.headline)}/",
    title_format="{headline} | The Meridian Herald",
    metadata="jsonld",
    container=('<article class="story">', "</article>"),
    body=('<div class="story__body">', "</div>"),
    paragraph="p",
    sections=("World", "Business", "Science", "Sport"),
    boilerplate=(
        Boilerplate(
            "photo credit",
            "top",
            "<p><em>Photograph: Meridian Herald picture desk</em></p>",
            "Photograph: Meridian Herald picture desk",
        ),
        Boilerplate(
            "newsletter",
            "middle",
            "<p><strong>Sign up to The Meridian Herald\u2019s Morning Briefing: the day\u2019s top stories in your "
            "inbox every weekday.</strong></p>",
            "Sign up to The Meridian Herald\u2019s Morning Briefing: the day\u2019s top stories in your inbox every weekday.",
        ),
        Boilerplate(
            "social",
            "bottom",
            "<p>Follow The Meridian Herald on Facebook, X and Instagram for the latest updates.</p>",
            "Follow The Meridian Herald on Facebook, X and Instagram for the latest updates.",
        ),
        Boilerplate(
            "copyright",
            "bottom",
            "<p>\u00a9 2026 Meridian Herald Media Group. All rights reserved. This material may not be "
            "published, broadcast, rewritten or redistributed.</p>",
            "\u00a9 2026 Meridian Herald Media Group. All rights reserved. This material may not be published, "
            "broadcast, rewritten or redistributed.",
        ),
    ),
)

COASTAL_TIMES = SiteTemplate(
    host="www.coastaltimes.test",
    name="Coastal Times",
    start="home",
    path=lambda a: f"/story/{a.number}-{_slug(a.headline)}.html",
    title_format="{headline} - Coastal Times",
    metadata="og",
    container=('<div class="story-wrap">', "</div>"),
    body=('<div class="story-body">', "</div>"),
    paragraph="div",
    sections=("Local", "Nation", "World", "Money"),
    boilerplate=(
        Boilerplate(
            "recurring caption",
            "top",
            '<div class="para"><img src="/img/harbour.jpg" alt="">Sunset over the harbour at Port Albany. '
            "(Coastal Times file photo)</div>",
            "Sunset over the harbour at Port Albany. (Coastal Times file photo)",
        ),
        Boilerplate(
            "app promo",
            "middle",
            '<div class="para">Download the Coastal Times app for the latest news, weather and traffic '
            "alerts.</div>",
            "Download the Coastal Times app for the latest news, weather and traffic alerts.",
        ),
        Boilerplate(
            "news tips",
            "bottom",
            '<div class="para">Have a story idea? Email newsdesk@coastaltimes.test or call 555-0142.</div>',
            "Have a story idea? Email newsdesk@coastaltimes.test or call 555-0142.",
        ),
        Boilerplate(
            "copyright",
            "bottom",
            '<div class="para">Copyright 2026 Coastal Times. All rights reserved.</div>',
            "Copyright 2026 Coastal Times. All rights reserved.",
        ),
    ),
)

DAILY_LEDGER = SiteTemplate(
    host="www.dailyledger.test",
    name="The Daily Ledger",
    start="rss",
    path=lambda a: f"/{a.published[:4]}/{a.published[5:7]}/{a.published[8:10]}/{_slug(a.headline)}",
    title_format="{headline} \u2014 The Daily Ledger",
    metadata="none",
    container=('<div id="content">', "</div>"),
    body=('<div class="entry">', "</div>"),
    paragraph="p",
    sections=("Politics", "Economy", "Culture", "Tech"),
    boilerplate=(
        Boilerplate(
            "photo credit",
            "top",
            "<p>Photo credit: Ledger Staff/The Daily Ledger</p>",
            "Photo credit: Ledger Staff/The Daily Ledger",
        ),
        Boilerplate(
            "subscription",
            "middle",
            "<p>Subscribe to The Daily Ledger for unlimited digital access from just $1 a week.</p>",
            "Subscribe to The Daily Ledger for unlimited digital access from just $1 a week.",
        ),
        Boilerplate(
            "print note",
            "bottom",
            "<p><i>This article appeared in print in The Daily Ledger.</i></p>",
            "This article appeared in print in The Daily Ledger.",
        ),
        Boilerplate(
            "podcast promo",
            "bottom",
            "<p>Stay informed: listen to The Daily Ledger podcast every morning on Apple Podcasts and "
            "Spotify.</p>",
            "Stay informed: listen to The Daily Ledger podcast every morning on Apple Podcasts and Spotify.",
        ),
    ),
)

NORTHSTAR_NEWS = SiteTemplate(
    host="northstarnews.test",
    name="Northstar News",
    start="atom",
    path=lambda a: f"/{_slug(a.section)}/{_slug(a.headline)}-{a.number}",
    title_format="{headline} | Northstar News",
    metadata="graph",
    container=('<main><article class="post">', "</article></main>"),
    body=('<section class="post-content">', "</section>"),
    paragraph="p",
    sections=("Canada", "World", "Climate", "Health"),
    boilerplate=(
        Boilerplate(
            "TV promo",
            "middle",
            "<p>Watch Northstar TV live, streaming 24 hours a day on our website and smart TV apps.</p>",
            "Watch Northstar TV live, streaming 24 hours a day on our website and smart TV apps.",
        ),
        Boilerplate(
            "donation call",
            "bottom",
            "<p>Northstar News is funded by readers like you. Support independent journalism today.</p>",
            "Northstar News is funded by readers like you. Support independent journalism today.",
        ),
        Boilerplate(
            "corrections",
            "bottom",
            "<p>Spotted an error? Report a correction or typo to our standards editor.</p>",
            "Spotted an error? Report a correction or typo to our standards editor.",
        ),
        Boilerplate(
            "copyright",
            "bottom",
            "<p>All content \u00a9 Northstar News Network.</p>",
            "All content \u00a9 Northstar News Network.",
        ),
    ),
)

EVENING_POST = SiteTemplate(
    host="www.eveningpost.test",
    name="Evening Post",
    start="sitemap",
    path=lambda a: f"/news/article-{a.number}/{_slug(a.headline).title()}.html",
    title_format="{headline} | Evening Post",
    metadata="jsonld",
    container=('<div class="article" itemscope itemtype="https://schema.org/NewsArticle">', "</div>"),
    body=('<div class="article-text" itemprop="articleBody">', "</div>"),
    paragraph="p",
    sections=("News", "Showbiz", "Sport", "Money"),
    boilerplate=(
        Boilerplate(
            "recurring caption",
            "top",
            "<p><span>(Image: Evening Post)</span></p>",
            "(Image: Evening Post)",
        ),
        Boilerplate(
            "newsletter",
            "middle",
            "<p><b>Get the biggest stories of the day delivered to your inbox with our free Evening Post "
            "newsletter.</b></p>",
            "Get the biggest stories of the day delivered to your inbox with our free Evening Post newsletter.",
        ),
        Boilerplate(
            "news tips",
            "bottom",
            "<p>Got a story? Contact the Evening Post newsdesk by emailing news@eveningpost.test.</p>",
            "Got a story? Contact the Evening Post newsdesk by emailing news@eveningpost.test.",
        ),
        Boilerplate(
            "copyright",
            "bottom",
            "<p>Our journalism is protected by copyright. \u00a9 Evening Post Ltd 2026.</p>",
            "Our journalism is protected by copyright. \u00a9 Evening Post Ltd 2026.",
        ),
    ),
)

ALL_SITES = (PRESS_TV, MERIDIAN_HERALD, COASTAL_TIMES, DAILY_LEDGER, NORTHSTAR_NEWS, EVENING_POST)


# --- Rendering ---------------------------------------------------------------------------------


def render_article(site: SiteTemplate, page: ArticlePage, related: list[ArticlePage]) -> str:
    entities = "entities" in page.edits
    top = [b.markup for b in site.boilerplate if b.position == "top" and b.markup]
    middle = [b.markup for b in site.boilerplate if b.position == "middle" and b.markup]
    bottom = [b.markup for b in site.boilerplate if b.position == "bottom" and b.markup]
    top = [m.replace("News / Section", f"News / {html.escape(page.section)}") for m in top]
    paragraphs = []
    for number, text in enumerate(page.paragraphs):
        if site.paragraph == "p":
            paragraphs.append(f"<p>{_esc(text, entities)}</p>")
        else:
            paragraphs.append(f'<div class="para">{_esc(text, entities)}</div>')
        if number == 1:
            paragraphs.extend(middle)
    if len(page.paragraphs) < 2:
        paragraphs.extend(middle)
    title = site.title_format.format(headline=page.headline, name=site.name)
    url = site.url(page)
    tags = "".join(f'<a href="/tag/{_slug(t)}/">{html.escape(t)}</a> ' for t in page.tags)
    related_links = "".join(
        f'<li><h3><a href="{site.path(r)}">{html.escape(r.headline)}</a></h3></li>' for r in related
    )
    return f"""<!DOCTYPE html>
<html lang="{site.language}">
<head>
<meta charset="utf-8">
<title>{html.escape(title)}</title>
<link rel="canonical" href="{url}">
{_metadata(site, page, url)}
</head>
<body>
{_header(site)}
{site.container[0]}
<h1>{_esc(page.headline)}</h1>
<div class="byline">{_esc(page.byline)} <time datetime="{page.published}">{page.published[:10]}</time></div>
{"".join(top)}
{site.body[0]}
{"".join(paragraphs)}
{"".join(bottom)}
{site.body[1]}
<div class="tags">Tags: {tags}</div>
{site.container[1]}
<aside class="related"><h2>More stories</h2><ul>{related_links}</ul></aside>
{_footer(site)}
</body>
</html>"""


def _metadata(site: SiteTemplate, page: ArticlePage, url: str) -> str:
    og = (
        f'<meta property="og:type" content="article">\n<meta property="og:title" content="{html.escape(page.headline)}">\n'
        f'<meta property="og:site_name" content="{html.escape(site.name)}">\n<meta property="og:url" content="{url}">\n'
        f'<meta property="article:published_time" content="{page.published}">'
    )
    article = {
        "@type": "NewsArticle",
        "headline": page.headline,
        "datePublished": page.published,
        "author": [{"@type": "Person", "name": page.author}] if page.author else [],
        "publisher": {"@type": "Organization", "name": site.name},
        "mainEntityOfPage": url,
    }
    if site.metadata == "jsonld":
        return f'<script type="application/ld+json">{json.dumps({"@context": "https://schema.org", **article})}</script>\n{og}'
    if site.metadata == "graph":
        graph = {
            "@context": "https://schema.org",
            "@graph": [
                {"@type": "WebSite", "name": site.name, "url": site.base + "/"},
                {"@type": "WebPage", "url": url},
                article,
            ],
        }
        return f'<script type="application/ld+json">{json.dumps(graph)}</script>'
    if site.metadata == "og":
        return og
    return f'<meta name="author" content="{html.escape(page.author)}">' if page.author else ""


def _header(site: SiteTemplate) -> str:
    sections = "".join(f'<li><a href="/{_slug(s)}/">{html.escape(s)}</a></li>' for s in site.sections)
    return (
        f'<header><a href="/" class="logo">{html.escape(site.name)}</a><nav><ul>{sections}'
        f'<li><a href="/about/">About us</a></li><li><a href="/search?q=news">Search</a></li></ul></nav></header>'
    )


def _footer(site: SiteTemplate) -> str:
    return (
        f'<footer><p>\u00a9 {html.escape(site.name)}. <a href="/about/">About</a> | <a href="/privacy/">Privacy policy</a> '
        f'| <a href="/terms/">Terms of use</a></p></footer>'
    )


def render_listing(
    site: SiteTemplate, heading: str, pages: list[ArticlePage], og_type: str = "website"
) -> str:
    teasers = "".join(
        f'<article class="teaser"><h2><a href="{site.path(p)}">{_esc(p.headline)}</a></h2>'
        f"<p>{_esc(' '.join(p.paragraphs[0].split()[:28]))}\u2026</p><time>{p.published[:10]}</time></article>"
        for p in pages
    )
    return f"""<!DOCTYPE html>
<html lang="{site.language}"><head><meta charset="utf-8"><title>{html.escape(heading)} | {html.escape(site.name)}</title>
<meta property="og:type" content="{og_type}"><meta property="og:site_name" content="{html.escape(site.name)}"></head>
<body>{_header(site)}<main><h1>{html.escape(heading)}</h1>
<p>The latest news and analysis from {html.escape(site.name)}.</p>
<div class="river">{teasers}</div></main>{_footer(site)}</body></html>"""


def render_about(site: SiteTemplate) -> str:
    return f"""<!DOCTYPE html>
<html lang="{site.language}"><head><meta charset="utf-8"><title>About us | {html.escape(site.name)}</title>
<meta property="og:type" content="website"></head>
<body>{_header(site)}<main><h1>About {html.escape(site.name)}</h1>
<p>{html.escape(site.name)} is an independent news organisation. Our newsroom publishes news, analysis
and opinion around the clock, and our journalists follow the editorial code published on this page.</p>
<p>Contact the newsroom by email. We read every message, and we correct our mistakes promptly.</p>
</main>{_footer(site)}</body></html>"""


def render_rss(site: SiteTemplate, pages: list[ArticlePage]) -> str:
    items = "".join(
        f"<item><title>{html.escape(p.headline)}</title><link>{site.url(p)}</link>"
        f'<guid isPermaLink="true">{site.url(p)}</guid><pubDate>{p.published}</pubDate></item>'
        for p in pages
    )
    return (
        '<?xml version="1.0" encoding="UTF-8"?>\n<rss version="2.0"><channel>'
        f"<title>{html.escape(site.name)}</title><link>{site.base}/</link>{items}</channel></rss>"
    )


def render_atom(site: SiteTemplate, pages: list[ArticlePage]) -> str:
    entries = "".join(
        f'<entry><title>{html.escape(p.headline)}</title><link rel="alternate" href="{site.url(p)}"/>'
        f"<id>{site.url(p)}</id><updated>{p.published}</updated></entry>"
        for p in pages
    )
    return (
        '<?xml version="1.0" encoding="utf-8"?>\n<feed xmlns="http://www.w3.org/2005/Atom">'
        f"<title>{html.escape(site.name)}</title><id>{site.base}/</id>{entries}</feed>"
    )


def render_sitemap_index(site: SiteTemplate) -> str:
    return (
        '<?xml version="1.0" encoding="UTF-8"?>\n<sitemapindex xmlns="http://www.sitemaps.org/schemas/sitemap/0.9">'
        f"<sitemap><loc>{site.base}/sitemaps/news.xml</loc></sitemap>"
        f"<sitemap><loc>{site.base}/sitemaps/sections.xml</loc></sitemap></sitemapindex>"
    )


def render_news_sitemap(site: SiteTemplate, pages: list[ArticlePage]) -> str:
    urls = "".join(
        f"<url><loc>{site.url(p)}</loc><news:news><news:publication><news:name>{html.escape(site.name)}"
        f"</news:name><news:language>en</news:language></news:publication><news:publication_date>"
        f"{p.published}</news:publication_date><news:title>{html.escape(p.headline)}</news:title></news:news></url>"
        for p in pages
    )
    return (
        '<?xml version="1.0" encoding="UTF-8"?>\n<urlset xmlns="http://www.sitemaps.org/schemas/sitemap/0.9" '
        f'xmlns:news="http://www.google.com/schemas/sitemap-news/0.9">{urls}</urlset>'
    )


def render_sections_sitemap(site: SiteTemplate) -> str:
    urls = "".join(f"<url><loc>{site.base}/{_slug(s)}/</loc></url>" for s in site.sections)
    return (
        '<?xml version="1.0" encoding="UTF-8"?>\n<urlset xmlns="http://www.sitemaps.org/schemas/sitemap/0.9">'
        f"<url><loc>{site.base}/</loc></url>{urls}</urlset>"
    )


def render_robots(site: SiteTemplate) -> str:
    return f"User-agent: *\nDisallow: /search\nSitemap: {site.base}/sitemap.xml\n"


def slug(text: str) -> str:
    return _slug(text)
