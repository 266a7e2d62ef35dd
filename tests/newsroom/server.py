"""Serves a fixture newsroom on loopback as an HTTP proxy, so one local port answers for every
publisher host and host-based logic in the crawler sees the real host names.

    python -m tests.newsroom.server [--seed N]   # prints "READY http://127.0.0.1:PORT", serves until killed
"""

from __future__ import annotations

import argparse
import hashlib
import threading
from collections import Counter
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from urllib.parse import urlsplit

from .model import Newsroom, Page

NOT_FOUND = Page(404, "text/html; charset=utf-8", b"<html><body><h1>Not found</h1></body></html>")


class _QuietServer(ThreadingHTTPServer):
    def handle_error(self, request: object, client_address: object) -> None:
        # A crawler hanging up on a page it will not read (too large, a bomb) is expected here.
        pass


class NewsroomServer:
    """A running newsroom; use as a context manager. `proxy_url` goes into http_proxy."""

    def __init__(self, newsroom: Newsroom, latency: float = 0.0) -> None:
        self.newsroom = newsroom
        self.latency = latency  # seconds before each answer, like a publisher across the internet
        self.requests: Counter[str] = Counter()  # URL -> times requested
        self.not_modified: Counter[str] = Counter()  # URL -> times answered 304
        self._lock = threading.Lock()
        self._closing = threading.Event()
        self._server = _QuietServer(("127.0.0.1", 0), self._handler_class())
        self._server.daemon_threads = True
        self._thread = threading.Thread(target=self._server.serve_forever, name="newsroom", daemon=True)

    @property
    def proxy_url(self) -> str:
        host, port = self._server.server_address[:2]
        return f"http://{host}:{port}"

    def proxy_env(self) -> dict[str, str]:
        """Environment variables that send a crawler's HTTP requests here."""
        return {"http_proxy": self.proxy_url, "HTTP_PROXY": self.proxy_url, "no_proxy": "", "NO_PROXY": ""}

    def __enter__(self) -> NewsroomServer:
        self._thread.start()
        return self

    def __exit__(self, *exc: object) -> None:
        self._closing.set()
        self._server.shutdown()
        self._server.server_close()

    def page(self, url: str) -> Page:
        parts = urlsplit(url)
        path = parts.path + (f"?{parts.query}" if parts.query else "")
        with self._lock:
            self.requests[url] += 1
        return self.newsroom.pages.get(parts.hostname or "", {}).get(path, NOT_FOUND)

    def _handler_class(self) -> type[BaseHTTPRequestHandler]:
        server = self

        class Handler(BaseHTTPRequestHandler):
            protocol_version = "HTTP/1.1"

            def do_GET(self) -> None:
                self._respond(send_body=True)

            def do_HEAD(self) -> None:
                self._respond(send_body=False)

            def _respond(self, send_body: bool) -> None:
                # A proxy request carries the absolute URL; a direct one only the path and Host.
                url = (
                    self.path
                    if self.path.startswith("http")
                    else f"http://{self.headers.get('Host')}{self.path}"
                )
                page = server.page(url)
                if server.latency:
                    server._closing.wait(server.latency)
                if page.hang:
                    server._closing.wait(120)
                    self.close_connection = True
                    return
                if callable(page.body):  # a page that is different on every request
                    page = page.body(self.path)
                # Validators like a real CMS: conditional requests get 304 Not Modified.
                etag = f'"{hashlib.sha1(page.body).hexdigest()[:16]}"'
                if page.status == 200 and self.headers.get("If-None-Match") == etag:
                    with server._lock:
                        server.not_modified[url] += 1
                    self.send_response(304)
                    self.send_header("ETag", etag)
                    self.send_header("Content-Length", "0")
                    self.end_headers()
                    return
                self.send_response(page.status)
                self.send_header("Content-Type", page.content_type)
                self.send_header("Content-Length", str(len(page.body)))
                if page.status == 200:
                    self.send_header("ETag", etag)
                for name, value in page.headers:
                    self.send_header(name, value)
                self.end_headers()
                if send_body:
                    self.wfile.write(page.body)

            def log_message(self, format: str, *args: object) -> None:
                pass  # the crawler logs what it fetched

        return Handler


def main() -> None:
    from .build import build_newsroom

    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--seed", type=int, default=7)
    args = parser.parse_args()
    newsroom = build_newsroom(args.seed)
    with NewsroomServer(newsroom) as server:
        print(f"READY {server.proxy_url}", flush=True)
        print("START " + ",".join(newsroom.start_urls), flush=True)
        threading.Event().wait()


if __name__ == "__main__":
    main()
