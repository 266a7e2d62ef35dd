"""Scrapy's remote control: an HTTP endpoint that runs code sent to it, off unless enabled."""

from __future__ import annotations

import pytest
from scrapy.exceptions import NotConfigured

from crawler.extensions import RemoteControl
from settings import base
from tests.fixtures.components import project_crawler


def test_the_remote_control_is_off_and_not_even_imported_unless_enabled():
    assert not any("remote_control" in name for name in base.EXTENSIONS_BASE)
    with pytest.raises(NotConfigured) as disabled:
        RemoteControl.from_crawler(project_crawler())
    assert not disabled.value.args  # off by default: nothing for Scrapy to warn about


def test_an_enabled_remote_control_is_scrapys():
    from scrapy.extensions.remote_control import RemoteControl as ScrapyRemoteControl

    extension = RemoteControl.from_crawler(project_crawler(REMOTE_CONTROL_ENABLED=True))
    assert isinstance(extension, ScrapyRemoteControl)
