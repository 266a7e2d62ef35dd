"""The item pipeline: stages, the state they keep between runs, and what they share.

Stages, in order (ITEM_PIPELINES): extraction/ -> boilerplate/ -> versioning -> neardup/ ->
storage. State: state/ (article store, page history, boilerplate statistics, run log, one
interface each, SQLite and PostgreSQL backends). Shared by the stages and the crawler: items,
drops, signals, clock, urls, text, signatures, rules. Stages never import each other.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

if TYPE_CHECKING:
    from scrapy.settings import BaseSettings


def require_asyncio(settings: BaseSettings, stage: str) -> None:
    """The stages await thread and process pools through asyncio: refuse any other reactor."""
    # Imported here: the extraction workers import this package too, and never use Scrapy.
    from scrapy.exceptions import NotConfigured

    reactor = settings.get("TWISTED_REACTOR") or ""
    if settings.getbool("TWISTED_REACTOR_ENABLED", True) and "asyncio" not in reactor:
        raise NotConfigured(
            f"the {stage} stage needs the asyncio reactor; set TWISTED_REACTOR to "
            "twisted.internet.asyncioreactor.AsyncioSelectorReactor"
        )
