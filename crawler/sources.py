"""Where a crawl starts: URLs from `-a start_urls=` and/or a TOML sources file.

# sources.toml
[[sources]]
url = "https://www.example-news.com/world/"   # home or section page, feed, or sitemap
name = "Example News"                          # optional, shown in run summaries
depth = 2                                      # optional, links followed within the host
"""

from __future__ import annotations

import tomllib
from dataclasses import dataclass
from pathlib import Path
from urllib.parse import urlsplit


@dataclass(frozen=True)
class Source:
    url: str
    name: str
    depth: int


class SourcesError(ValueError):
    """The start URLs or the sources file are unusable; the message says what to fix."""


def load_sources(start_urls: str | None, sources_file: str | None, default_depth: int) -> list[Source]:
    """Return the sources named on the command line and in the sources file, without repeats."""
    sources: list[Source] = []
    for url in (start_urls or "").split(","):
        if url.strip():
            sources.append(Source(_checked_url(url.strip(), "start_urls"), _host(url), default_depth))
    if sources_file:
        sources.extend(_read_sources_file(Path(sources_file), default_depth))
    if not sources:
        raise SourcesError("nothing to crawl: pass -a start_urls=URL[,URL...] or -a sources=FILE.toml")
    unique: dict[str, Source] = {}
    for source in sources:
        unique.setdefault(source.url, source)
    return list(unique.values())


def _read_sources_file(path: Path, default_depth: int) -> list[Source]:
    try:
        data = tomllib.loads(path.read_text(encoding="utf-8"))
    except OSError as exc:
        raise SourcesError(f"cannot read the sources file {path}: {exc.strerror}") from exc
    except tomllib.TOMLDecodeError as exc:
        raise SourcesError(f"the sources file {path} is not valid TOML: {exc}") from exc
    entries = data.get("sources")
    if not isinstance(entries, list) or not entries:
        raise SourcesError(f"the sources file {path} needs at least one [[sources]] table with a url")
    sources = []
    for number, entry in enumerate(entries, start=1):
        where = f"{path}, source {number}"
        if not isinstance(entry, dict) or not isinstance(entry.get("url"), str):
            raise SourcesError(f'{where}: each [[sources]] table needs url = "https://..."')
        depth = entry.get("depth", default_depth)
        if not isinstance(depth, int) or depth < 0:
            raise SourcesError(f"{where}: depth must be a whole number of 0 or more, got {depth!r}")
        url = _checked_url(entry["url"], where)
        sources.append(Source(url, str(entry.get("name") or _host(url)), depth))
    return sources


def _checked_url(url: str, where: str) -> str:
    parts = urlsplit(url)
    if parts.scheme not in ("http", "https") or not parts.hostname:
        raise SourcesError(f"{where}: {url!r} is not an http(s) URL")
    return url


def _host(url: str) -> str:
    return urlsplit(url).hostname or url
