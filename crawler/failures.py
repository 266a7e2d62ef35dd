"""Why a request failed, as one short name for stats (news/failed/<name>) and logs."""

from __future__ import annotations

from scrapy.exceptions import (
    CannotResolveHostError,
    DownloadCancelledError,
    DownloadConnectionRefusedError,
    DownloadFailedError,
    DownloadTimeoutError,
    IgnoreRequest,
    ResponseDataLossError,
)
from scrapy.spidermiddlewares.httperror import HttpError
from twisted.internet import error as net
from twisted.internet.defer import TimeoutError as DeferredTimeout
from twisted.python.failure import Failure
from twisted.web._newclient import ResponseNeverReceived


def failure_kind(failure: Failure) -> str | None:
    """The kind of a failed request, or None for requests the crawler chose not to make."""
    exception = failure.value
    if isinstance(exception, HttpError):
        return f"http_{exception.response.status}"
    if isinstance(exception, DownloadCancelledError):
        return "too_large"  # over DOWNLOAD_MAXSIZE
    if isinstance(exception, IgnoreRequest):
        message = str(exception)
        if "decompression" in message:
            return "decompression_bomb"  # inflates past DOWNLOAD_MAXSIZE
        if "max redirections" in message:
            return "redirect_loop"
        return None  # robots.txt, incremental skips, 304s: decisions, counted where they are made
    if isinstance(exception, (DownloadTimeoutError, net.TimeoutError, DeferredTimeout, net.TCPTimedOutError)):
        return "timeout"
    if isinstance(
        exception,
        (
            CannotResolveHostError,
            DownloadConnectionRefusedError,
            net.DNSLookupError,
            net.ConnectionRefusedError,
            net.NoRouteError,
        ),
    ):
        return "unreachable"
    if isinstance(
        exception,
        (
            DownloadFailedError,
            ResponseDataLossError,
            ResponseNeverReceived,
            net.ConnectionLost,
            net.ConnectionDone,
        ),
    ):
        return "connection_lost"
    return type(exception).__name__.lower()
