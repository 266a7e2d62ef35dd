"""Per-site statistics of text segments, and the boilerplate they reveal.

A segment is one paragraph of extracted text, identified by its normalised words with years
folded (pipelines.text.segment_keys), so that "© 2025 Example Media." and "© 2026 Example Media"
are one segment. A segment is boilerplate for a
site once it has appeared in enough *different stories* of that site, and in a large enough share
of the stories the site published since it first appeared: a template's footer is on nearly every
page, a quotation reused in two follow-up stories is not.

Stories are told apart by their segments: a page whose own (non-boilerplate) segments mostly
repeat an earlier page of the site is the same story again, so a story republished on one site
never teaches its own paragraphs as boilerplate.

Settings: BOILERPLATE_MIN_STORIES, BOILERPLATE_MIN_SHARE, BOILERPLATE_WARMUP_STORIES.
"""

from __future__ import annotations

from collections import Counter, OrderedDict
from dataclasses import dataclass, field
from typing import Any

# A page repeating this share of an earlier page's own segments is the same story again.
SAME_STORY_OVERLAP = 0.5
# How many recent stories per site are remembered for telling stories apart.
STORY_WINDOW = 1000
# A segment seen in one story only is forgotten after this many further stories of its site.
FORGET_AFTER = 300


@dataclass
class SegmentCount:
    stories: int  # distinct stories of the site it appeared in
    first_story: int  # number of the site's story it first appeared in
    last_story: int
    recent: list[int] = field(default_factory=list)  # the latest few story numbers, for telling stories apart


class SiteSegments:
    """What one site repeats around its stories."""

    RECENT = 4

    def __init__(self, min_stories: int = 4, min_share: float = 0.2, warmup_stories: int = 4) -> None:
        if min_stories < 2:
            raise ValueError("BOILERPLATE_MIN_STORIES must be at least 2")
        if not 0.0 < min_share <= 1.0:
            raise ValueError("BOILERPLATE_MIN_SHARE must be in (0.0, 1.0]")
        self.min_stories = min_stories
        self.min_share = min_share
        self.warmup_stories = warmup_stories
        self.stories = 0  # distinct stories observed
        self.pages_since_new_story = 0
        self.segments: dict[str, SegmentCount] = {}
        self._story_sizes: OrderedDict[int, int] = OrderedDict()  # story number -> own segments

    @property
    def warm(self) -> bool:
        """Enough stories seen for the site's template to be known."""
        return self.stories >= self.warmup_stories

    @property
    def stalled(self) -> bool:
        """The latest pages brought no new story: waiting for more is unlikely to help."""
        return self.pages_since_new_story >= self.warmup_stories

    def is_boilerplate(self, key: str) -> bool:
        count = self.segments.get(key)
        if count is None or count.stories < self.min_stories:
            return False
        stories_since = self.stories - count.first_story + 1
        return count.stories / stories_since >= self.min_share

    def boilerplate(self) -> set[str]:
        return {key for key in self.segments if self.is_boilerplate(key)}

    def observe(self, keys: list[str], around: list[str] | None = None) -> tuple[int, set[str]]:
        """Record one page's segments; return its story number and the segments it made boilerplate.

        *keys* are the paragraphs of the page's text, *around* its other lines, which extraction
        left out (pipelines.extraction.lines): both show the site's template, only the first
        tell which story the page is.
        """
        own = [key for key in dict.fromkeys(keys) if not self.is_boilerplate(key)]
        unique = list(dict.fromkeys([*keys, *(around or ())]))
        story = self._same_story(own)
        if story is None:
            self.stories += 1
            story = self.stories
            self.pages_since_new_story = 0
        else:
            self.pages_since_new_story += 1
        self._story_sizes[story] = max(len(own), self._story_sizes.get(story, 0))
        self._story_sizes.move_to_end(story)
        while len(self._story_sizes) > STORY_WINDOW:
            self._story_sizes.popitem(last=False)
        learned = set()
        for key in unique:
            count = self.segments.get(key)
            if count is None:
                self.segments[key] = SegmentCount(1, story, story, [story])
                continue
            if story in count.recent or story < count.last_story:
                continue  # this story was counted already
            was = self.is_boilerplate(key)
            count.stories += 1
            count.last_story = story
            count.recent = ([*count.recent, story])[-self.RECENT :]
            if not was and self.is_boilerplate(key):
                learned.add(key)
        if story == self.stories and story % 50 == 0:
            self._forget()
        return story, learned

    def _same_story(self, own: list[str]) -> int | None:
        """The earlier story this page repeats, judged by the share of its own segments it shares."""
        if not own:
            return None
        shared: Counter[int] = Counter()
        for key in own:
            count = self.segments.get(key)
            if count is not None:
                shared.update(count.recent)
        for story, overlap in shared.most_common(3):
            size = self._story_sizes.get(story)
            if size and overlap / min(len(own), size) >= SAME_STORY_OVERLAP:
                return story
        return None

    def _forget(self) -> None:
        horizon = self.stories - FORGET_AFTER
        stale = [key for key, c in self.segments.items() if c.stories == 1 and c.last_story < horizon]
        for key in stale:
            del self.segments[key]

    def to_dict(self) -> dict[str, Any]:
        return {
            "stories": self.stories,
            "segments": {
                k: [c.stories, c.first_story, c.last_story, c.recent] for k, c in self.segments.items()
            },
            "story_sizes": list(self._story_sizes.items()),
        }

    def load_dict(self, data: dict[str, Any]) -> None:
        self.stories = int(data.get("stories", 0))
        self.segments = {
            key: SegmentCount(int(v[0]), int(v[1]), int(v[2]), [int(s) for s in v[3]])
            for key, v in data.get("segments", {}).items()
        }
        self._story_sizes = OrderedDict((int(s), int(n)) for s, n in data.get("story_sizes", []))
