"""The top-level packages must be this repository's, not same-named installed modules.

Scrapy appends the scrapy.cfg folder to the end of sys.path, so an installed package called
`settings`, `pipelines` or `crawler` would shadow ours.
"""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

import crawler
import pipelines
import settings

ROOT = Path(__file__).resolve().parents[1]


def test_packages_are_imported_from_this_repository():
    for package in (crawler, pipelines, settings):
        assert Path(package.__file__).resolve().parent.parent == ROOT


def test_scrapy_run_from_the_repository_uses_its_settings():
    result = subprocess.run(
        [sys.executable, "-m", "scrapy", "settings", "--get", "BOT_NAME"],
        cwd=ROOT,
        capture_output=True,
        text=True,
        env={k: v for k, v in os.environ.items() if k != "SCRAPY_SETTINGS_MODULE"},
    )
    assert result.stdout.strip() == "newsdedup", result.stderr
    listed = subprocess.run(
        [sys.executable, "-m", "scrapy", "list"], cwd=ROOT, capture_output=True, text=True
    )
    assert listed.stdout.split() == ["news"]
