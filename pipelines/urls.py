"""URL identity: which URLs are one page, and which parts of a URL only identify a session.

Plain functions, shared by the spider (links to follow), the incremental middleware (pages seen
before) and the store (one page, however it was reached).
"""

from __future__ import annotations

import functools
import re
from urllib.parse import parse_qsl, urlencode, urlsplit, urlunsplit

from w3lib.url import canonicalize_url

# Query parameters that name a session or a campaign, never a page.
_SESSION_PARAMETERS = {
    "jsessionid",
    "phpsessid",
    "aspsessionid",
    "sid",
    "sessionid",
    "session_id",
    "session",
    "sess",
    "cfid",
    "cftoken",
    "zenid",
    "oscsid",
    "osCsid",
}
_TRACKING_PREFIXES = ("utm_", "fbclid", "gclid", "mc_cid", "mc_eid", "_hsenc", "_hsmi", "ocid")
_PATH_SESSION = re.compile(r";(?:jsessionid|phpsessid|sid|sessionid)=[^/?#]*", re.IGNORECASE)


def without_session(url: str) -> tuple[str, bool]:
    """*url* without session ids and campaign parameters; the flag says whether any were removed."""
    parts = urlsplit(url)
    path = _PATH_SESSION.sub("", parts.path)
    query = [
        (name, value)
        for name, value in parse_qsl(parts.query, keep_blank_values=True)
        if name.lower() not in _SESSION_PARAMETERS and not name.lower().startswith(_TRACKING_PREFIXES)
    ]
    new_query = (
        urlencode(query) if len(query) != len(parse_qsl(parts.query, keep_blank_values=True)) else parts.query
    )
    cleaned = urlunsplit((parts.scheme, parts.netloc, path, new_query, parts.fragment))
    return cleaned, cleaned != url


# A request's key is asked for by the duplicate filter, the incremental middleware and the stages.
@functools.lru_cache(maxsize=4096)
def page_key(url: str) -> str:
    """The identity of a page: http and https, default ports, parameter order, fragments,
    session ids and campaign parameters do not make another page."""
    cleaned, _ = without_session(url)
    canonical = canonicalize_url(cleaned, keep_fragments=False)
    parts = urlsplit(canonical)
    host = (parts.hostname or "").lower()
    port = f":{parts.port}" if parts.port and parts.port not in (80, 443) else ""
    return f"{host}{port}{parts.path or '/'}" + (f"?{parts.query}" if parts.query else "")


def page_keys(url: str, request_url: str | None = None) -> list[str]:
    """The keys a fetched page is known under: its final URL's, and the requested URL's if it
    was redirected."""
    keys = [page_key(url)]
    if request_url:
        requested = page_key(request_url)
        if requested != keys[0]:
            keys.append(requested)
    return keys


_DIGITS = re.compile(r"\d+")


def path_template(url: str) -> str:
    """The shape of a URL: host, path and parameter names with every run of digits as one #."""
    parts = urlsplit(url)
    names = sorted({name for name, _ in parse_qsl(parts.query, keep_blank_values=True)})
    return f"{parts.hostname}{_DIGITS.sub('#', parts.path)}?{'&'.join(names)}"
