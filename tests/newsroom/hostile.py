"""A publisher that serves everything a crawler meets on the open web, and a host that never
answers: malformed markup, missing and lying charsets, binary content labelled as HTML, pages over
the size limit, a decompression bomb, an endless redirect chain, 404/500/503 (with Retry-After),
an endless calendar and session ids in links. Between them, real articles that must be stored."""

from __future__ import annotations

import gzip
import html
import random

from .model import Newsroom, Page
from .stories import Story

HOST = "www.hostile.test"
SILENT = "silent.test"
HTML = "text/html; charset=utf-8"


def article_page(story: Story, title: str, charset_meta: str = "") -> str:
    body = "".join(f"<p>{html.escape(p)}</p>" for p in story.paragraphs)
    return (
        f"<html><head>{charset_meta}<title>{html.escape(title)}</title>"
        f'<meta property="og:type" content="article"></head>'
        f"<body><article><h1>{html.escape(title)}</h1>{body}</article></body></html>"
    )


def add_hostile_host(newsroom: Newsroom, stories: list[Story], huge_bytes: int) -> dict[str, str]:
    """Add the hostile hosts to *newsroom*; returns the URLs of its three good articles by kind."""
    pages: dict[str, Page] = {}
    malformed = article_page(stories[0], "Malformed markup").replace("</p>", "</span></b>", 4)
    malformed = malformed.replace("<article>", "<article><div><table><tr><td>").replace(
        "</article>", "</p></i>"
    )
    pages["/2026/11/20/malformed-story"] = Page(200, HTML, malformed.encode())
    accented = Story(stories[1].story_id, "", (*stories[1].paragraphs, "Le café de la gare a rouvert."))
    pages["/2026/11/20/undeclared-charset"] = Page(
        200, "text/html", article_page(accented, "Undeclared charset").encode("cp1252", errors="replace")
    )
    lying = Story(stories[2].story_id, "", (*stories[2].paragraphs, "Über die Brücke kam niemand."))
    pages["/2026/11/20/lying-charset"] = Page(
        200, "text/html; charset=iso-8859-1", article_page(lying, "Lying charset").encode("utf-8")
    )
    pages["/2026/11/20/picture"] = Page(
        200, HTML, b"\x89PNG\r\n\x1a\n\x00\x00\x00\rIHDR" + bytes(range(256)) * 40
    )
    pages["/2026/11/20/huge"] = Page(
        200, HTML, b"<html><body><p>" + b"word " * (huge_bytes // 5) + b"</p></body></html>"
    )
    bomb = gzip.compress(b"<html><body>" + b"\x00" * (huge_bytes * 20) + b"</body></html>")
    pages["/2026/11/20/bomb"] = Page(200, HTML, bomb, (("Content-Encoding", "gzip"),))
    for step in range(1, 30):
        pages[f"/loop?n={step}"] = Page(302, HTML, b"", (("Location", f"/loop?n={step + 1}"),))
    pages["/2026/11/20/missing"] = Page(404, HTML, b"<html><body>Not found</body></html>")
    pages["/2026/11/20/broken"] = Page(500, HTML, b"<html><body>Internal error</body></html>")
    pages["/2026/11/20/busy"] = Page(503, HTML, b"busy", (("Retry-After", "1"),))
    pages["/2026/11/20/busy-for-an-hour"] = Page(503, HTML, b"busy", (("Retry-After", "3600"),))
    for year in (2025, 2026, 2027):
        for month in range(1, 13):
            previous = f"/calendar/{year - (month == 1)}/{12 if month == 1 else month - 1}"
            following = f"/calendar/{year + (month == 12)}/{1 if month == 12 else month + 1}"
            links = f'<a href="{previous}">previous month</a> <a href="{following}">next month</a>'
            pages[f"/calendar/{year}/{month}"] = Page(
                200, HTML, f"<html><body>{links}</body></html>".encode()
            )
    rng = random.Random(5)
    session = "".join(rng.choice("abcdef0123456789") for _ in range(24))
    links = [
        "/2026/11/20/malformed-story",
        "/2026/11/20/undeclared-charset",
        "/2026/11/20/lying-charset",
        "/2026/11/20/picture",
        "/2026/11/20/huge",
        "/2026/11/20/bomb",
        "/loop?n=1",
        "/2026/11/20/missing",
        "/2026/11/20/broken",
        "/2026/11/20/busy",
        "/2026/11/20/busy-for-an-hour",
        "/calendar/2026/11",
        f"/2026/11/20/malformed-story;jsessionid={session}",
        f"/2026/11/20/lying-charset?sid={session}",
    ]
    front = "".join(f'<li><a href="{link}">link</a></li>' for link in links)
    pages["/"] = Page(200, HTML, f"<html><body><ul>{front}</ul></body></html>".encode())
    pages["/robots.txt"] = Page(200, "text/plain", b"User-agent: *\nAllow: /\n")
    for path, page in pages.items():
        newsroom.add(HOST, path, page)
    newsroom.add(SILENT, "/robots.txt", Page(200, "text/plain", b"", hang=True))
    newsroom.add(SILENT, "/", Page(200, HTML, b"", hang=True))
    newsroom.start_urls += [f"http://{HOST}/", f"http://{SILENT}/"]
    return {
        "malformed": f"http://{HOST}/2026/11/20/malformed-story",
        "undeclared": f"http://{HOST}/2026/11/20/undeclared-charset",
        "lying": f"http://{HOST}/2026/11/20/lying-charset",
    }
