"""What a fixture newsroom is made of: article pages with the truth about each of them."""

from __future__ import annotations

from dataclasses import dataclass, field


@dataclass(frozen=True)
class ArticlePage:
    host: str
    number: int  # the site's article number, used in some URL layouts
    story: str  # the story this page tells: every copy of one story shares it
    headline: str
    byline: str
    author: str
    published: str  # ISO 8601 date-time
    section: str
    tags: tuple[str, ...]
    paragraphs: tuple[str, ...]  # the body as published, without boilerplate
    edits: tuple[str, ...] = ()  # how this copy was edited from the original, if it is a copy
    kind: str = "story"  # "story", "brief", or "shares quotes" (a different story quoting another)
    url: str = ""


@dataclass(frozen=True)
class Page:
    status: int
    content_type: str
    body: bytes
    headers: tuple[tuple[str, str], ...] = ()
    hang: bool = False  # accept the request and never answer it


@dataclass
class Newsroom:
    """Pages by host and path, and the article pages' truth."""

    pages: dict[str, dict[str, Page]] = field(default_factory=dict)
    articles: list[ArticlePage] = field(default_factory=list)
    start_urls: list[str] = field(default_factory=list)
    boilerplate: dict[str, list[str]] = field(default_factory=dict)  # URL -> boilerplate texts on it

    def add(self, host: str, path: str, page: Page) -> None:
        self.pages.setdefault(host, {})[path] = page

    def article_by_url(self) -> dict[str, ArticlePage]:
        return {a.url: a for a in self.articles}
