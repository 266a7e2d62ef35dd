"""Per-site boilerplate rules, for sites whose boilerplate is known in advance.

    [[site]]
    hosts = ["presstv.ir"]             # the host or any parent domain of it
    prune_xpath = ["//div[@class='pic']"]   # removed from the page before extraction
    drop_patterns = ["^Press TV News Roku$"]  # paragraphs (regular expressions) removed after

Setting: BOILERPLATE_RULES_FILE.
"""

from __future__ import annotations

import re
import tomllib
from dataclasses import dataclass, field
from pathlib import Path

from lxml import etree


class RulesError(ValueError):
    """The rules file is unusable; the message says where and what to fix."""


@dataclass(frozen=True)
class SiteRules:
    prune_xpath: tuple[str, ...] = ()
    drop_patterns: tuple[re.Pattern[str], ...] = ()

    def drops(self, paragraph: str) -> bool:
        return any(pattern.search(paragraph) for pattern in self.drop_patterns)


NO_RULES = SiteRules()


@dataclass
class Rules:
    by_domain: dict[str, SiteRules] = field(default_factory=dict)

    def for_host(self, host: str) -> SiteRules:
        """The rules of *host* or of its nearest parent domain that has rules."""
        labels = (host or "").lower().rstrip(".").split(".")
        for start in range(len(labels) - 1):
            rules = self.by_domain.get(".".join(labels[start:]))
            if rules is not None:
                return rules
        return NO_RULES


def load_rules(path: str | Path | None) -> Rules:
    """Read a rules file; no path means no rules. Every XPath and pattern is checked up front."""
    if not path:
        return Rules()
    path = Path(path)
    try:
        data = tomllib.loads(path.read_text(encoding="utf-8"))
    except OSError as exc:
        raise RulesError(f"cannot read BOILERPLATE_RULES_FILE {path}: {exc.strerror}") from exc
    except tomllib.TOMLDecodeError as exc:
        raise RulesError(f"BOILERPLATE_RULES_FILE {path} is not valid TOML: {exc}") from exc
    rules = Rules()
    for number, entry in enumerate(data.get("site", []), start=1):
        where = f"{path}, [[site]] {number}"
        hosts = entry.get("hosts")
        if not isinstance(hosts, list) or not hosts or not all(isinstance(h, str) for h in hosts):
            raise RulesError(f"{where}: hosts must be a list of host names")
        for xpath in entry.get("prune_xpath", []):
            try:
                etree.XPath(xpath)
            except etree.XPathSyntaxError as exc:
                raise RulesError(f"{where}: prune_xpath {xpath!r} is not a valid XPath: {exc}") from exc
        try:
            patterns = tuple(re.compile(p) for p in entry.get("drop_patterns", []))
        except re.error as exc:
            raise RulesError(
                f"{where}: drop pattern {exc.pattern!r} is not a valid regular expression: {exc}"
            ) from exc
        site = SiteRules(tuple(entry.get("prune_xpath", [])), patterns)
        for host in hosts:
            rules.by_domain[host.lower().removeprefix("www.")] = site
    return rules
