"""Item pipeline stages, one module each; pure logic lives in pipelines.core."""

from __future__ import annotations

from scrapy.exceptions import NotConfigured
from scrapy.settings import BaseSettings


def require_asyncio(settings: BaseSettings, stage: str) -> None:
    """The stages await thread and process pools through asyncio: refuse any other reactor."""
    reactor = settings.get("TWISTED_REACTOR") or ""
    if settings.getbool("TWISTED_REACTOR_ENABLED", True) and "asyncio" not in reactor:
        raise NotConfigured(
            f"the {stage} stage needs the asyncio reactor; set TWISTED_REACTOR to "
            "twisted.internet.asyncioreactor.AsyncioSelectorReactor"
        )
