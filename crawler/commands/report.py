"""`scrapy report`: what the near-duplicate stage found in the article store under DATA_DIR.

    scrapy report [--top 10] [--json]

Prints cluster sizes, the largest clusters with their members and similarities, each one's
elected origin (the copy the story most likely started from, the evidence that decided, its
confidence) and the wire agency its copies credit, and per-site duplicate rates (the share of a
site's stored articles that are later copies of a story).
"""

from __future__ import annotations

import argparse
import json
import sys
from collections import Counter, defaultdict
from typing import Any, ClassVar

from scrapy.commands import ScrapyCommand
from scrapy.exceptions import UsageError

from pipelines.state import StoreError, open_backend
from pipelines.state.interfaces import ClusterMember


def summarise(members: list[ClusterMember], top: int) -> dict[str, Any]:
    clusters: dict[str, list[ClusterMember]] = defaultdict(list)
    for member in members:
        clusters[member.cluster_id].append(member)
    sizes = Counter(len(m) for m in clusters.values())
    sites: dict[str, Counter[str]] = defaultdict(Counter)
    for member in members:
        sites[member.site]["articles"] += 1
        if member.duplicate_of:
            sites[member.site]["later_copies"] += 1
    largest = sorted(clusters.values(), key=lambda m: (-len(m), m[0].url))[:top]
    return {
        "articles": len(members),
        "clusters": len(clusters),
        "cluster_sizes": {str(size): count for size, count in sorted(sizes.items())},
        "largest": [
            {
                "cluster_id": m[0].cluster_id,
                "title": m[0].title,
                "origin": _origin(m),
                "wire": _wire(m),
                "members": [
                    {"url": x.url, "site": x.site, "duplicate_of": x.duplicate_of, "similarity": x.similarity}
                    for x in m
                ],
            }
            for m in largest
            if len(m) > 1
        ],
        "sites": {
            site: {
                "articles": c["articles"],
                "later_copies": c["later_copies"],
                "duplicate_rate": round(c["later_copies"] / c["articles"], 4),
            }
            for site, c in sorted(sites.items())
        },
    }


def _origin(members: list[ClusterMember]) -> dict[str, Any]:
    """The story's elected origin, as its newest copy holds it (every copy does, once elected)."""
    newest = members[-1]
    return {"url": newest.origin_url, "reason": newest.origin_reason, "confidence": newest.origin_confidence}


def _wire(members: list[ClusterMember]) -> str | None:
    """The agency most of the story's crediting copies name."""
    credited = Counter(m.wire for m in members if m.wire)
    return credited.most_common(1)[0][0] if credited else None


def print_summary(summary: dict[str, Any]) -> None:
    print(f"{summary['articles']} stored articles in {summary['clusters']} stories")
    print(
        "cluster sizes: " + ", ".join(f"{size} copies: {n}" for size, n in summary["cluster_sizes"].items())
    )
    for cluster in summary["largest"]:
        print(f"\ncluster {cluster['cluster_id']} ({len(cluster['members'])} copies): {cluster['title']}")
        origin = cluster["origin"]
        if origin["url"]:
            print(f"  origin: {origin['url']} ({origin['reason']}, confidence {origin['confidence']:.2f})")
        print(f"  agency: {cluster['wire'] or 'none credited'}")
        for member in cluster["members"]:
            role = (
                "first copy" if member["duplicate_of"] is None else f"similarity {member['similarity']:.2f}"
            )
            print(f"  {member['site']:30s} {role:16s} {member['url']}")
    print("\nper site:")
    for site, figures in summary["sites"].items():
        print(
            f"  {site:30s} {figures['articles']:6d} articles  {figures['later_copies']:6d} later copies"
            f"  ({figures['duplicate_rate']:.1%})"
        )


class Command(ScrapyCommand):
    requires_project = True
    default_settings: ClassVar[dict[str, Any]] = {"LOG_ENABLED": False}

    def syntax(self) -> str:
        return "[--top N] [--json]"

    def short_desc(self) -> str:
        return "Report near-duplicate clusters and per-site duplicate rates of the article store"

    def add_options(self, parser: argparse.ArgumentParser) -> None:
        super().add_options(parser)
        parser.add_argument("--top", type=int, default=10, help="how many of the largest clusters to list")
        parser.add_argument("--json", action="store_true", help="print the report as JSON")

    def run(self, args: list[str], opts: argparse.Namespace) -> None:
        if args:
            raise UsageError("scrapy report takes no arguments; use -s DATA_DIR=... to pick the store")
        if self.settings is None:  # Scrapy sets it before run()
            raise UsageError("this command runs inside the project")
        try:
            backend = open_backend(self.settings)
            store = backend.open_store(None, None, create=False)
        except StoreError as exc:
            print(f"error: {exc}", file=sys.stderr)
            self.exitcode = 1
            return
        try:
            summary = summarise(list(store.cluster_members()), opts.top)
        finally:
            backend.close()
        if opts.json:
            print(json.dumps(summary, indent=2))
        else:
            print_summary(summary)
