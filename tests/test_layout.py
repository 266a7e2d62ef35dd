"""The top-level packages must be this repository's, not same-named installed modules.

Scrapy appends the scrapy.cfg folder to the end of sys.path, so an installed package called
`settings`, `pipelines` or `crawler` would shadow ours.
"""

from __future__ import annotations

import ast
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


def project_imports() -> dict[str, set[str]]:
    """Every module of crawler/ and pipelines/ and the project modules it imports, wherever in
    the module the import statement is."""
    graph: dict[str, set[str]] = {}
    for path in sorted([*ROOT.glob("crawler/**/*.py"), *ROOT.glob("pipelines/**/*.py")]):
        parts = path.relative_to(ROOT).with_suffix("").parts
        name = ".".join(parts[:-1] if parts[-1] == "__init__" else parts)
        package = name if parts[-1] == "__init__" else name.rpartition(".")[0]
        imported: set[str] = set()
        for node in ast.walk(ast.parse(path.read_text(encoding="utf-8"))):
            if isinstance(node, ast.Import):
                imported.update(alias.name for alias in node.names)
            elif isinstance(node, ast.ImportFrom):
                base = node.module or ""
                if node.level:
                    anchor = package.split(".")[: len(package.split(".")) - node.level + 1]
                    base = ".".join([*anchor, base] if base else anchor)
                imported.add(base)
                imported.update(f"{base}.{alias.name}" for alias in node.names)
        graph[name] = imported
    return {name: {i for i in imported if i in graph and i != name} for name, imported in graph.items()}


STAGES = (
    "pipelines.extraction",
    "pipelines.boilerplate",
    "pipelines.versioning",
    "pipelines.neardup",
    "pipelines.storage",
)


def _within(module: str, package: str) -> bool:
    return module == package or module.startswith(package + ".")


def test_pipelines_never_import_the_crawler_and_stages_never_import_each_other():
    for module, imported in project_imports().items():
        if module.startswith("pipelines"):
            assert not [i for i in imported if _within(i, "crawler")], module
        for stage in STAGES:
            if _within(module, stage):
                others = [i for i in imported for other in STAGES if other != stage and _within(i, other)]
                assert not others, (module, others)
        if _within(module, "pipelines.state"):
            assert not [i for i in imported for stage in STAGES if _within(i, stage)], module


def test_there_is_no_import_cycle():
    graph = project_imports()
    done: set[str] = set()

    def visit(module: str, path: list[str]) -> None:
        if module in path:
            raise AssertionError("import cycle: " + " -> ".join([*path[path.index(module) :], module]))
        if module in done:
            return
        for imported in graph[module]:
            visit(imported, [*path, module])
        done.add(module)

    for module in graph:
        visit(module, [])


def imported_of(program: str, modules: tuple[str, ...]) -> list[str]:
    """Which of *modules* a fresh interpreter has imported once it has run *program*."""
    program += f"import sys\nprint(*[m for m in {modules!r} if m in sys.modules])\n"
    result = subprocess.run([sys.executable, "-c", program], cwd=ROOT, capture_output=True, text=True)
    assert result.returncode == 0, result.stderr
    return result.stdout.split()


def test_the_crawling_process_does_not_import_the_extraction_libraries():
    # trafilatura and htmldate run in the extraction workers; imported by the crawling process too,
    # they cost every crawl a tenth of a second of start-up and memory it never uses.
    program = (
        "from scrapy.utils.misc import load_object\n"
        "from settings import base\n"
        "names = ('ITEM_PIPELINES', 'DOWNLOADER_MIDDLEWARES', 'SPIDER_MIDDLEWARES', 'EXTENSIONS')\n"
        "paths = [p for n in names for p in getattr(base, n, {})] + list(base.DOWNLOAD_HANDLERS.values())\n"
        "paths += [base.STATS_CLASS, base.LOG_FORMATTER]\n"
        "for path in paths:\n"
        "    if path.split('.')[0] in ('crawler', 'pipelines'):\n"
        "        load_object(path)\n"
        "import crawler.spiders.news\n"
    )
    assert imported_of(program, ("trafilatura", "htmldate", "justext")) == []


def test_the_extraction_workers_do_not_import_scrapy():
    # A worker imports pipelines.extraction.worker, hence the packages above it; had they imported
    # Scrapy, each worker would spend a third of a second and 30 MB of memory on it.
    program = "from pipelines.extraction.worker import start\nstart()\n"
    assert imported_of(program, ("scrapy", "twisted", "itemadapter")) == []
