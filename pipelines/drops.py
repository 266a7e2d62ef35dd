"""Why an item is dropped: one DropItem subclass per reason, for every stage.

Every drop is an expected outcome, counted in stats by the stage that decides it, and logged at
DEBUG (crawler.logformatter). The run summary counts drops by these classes, and `STILL_LISTED`
are the drops of articles a source still lists (known ones): they keep the source from the
empty-source alarm.
"""

from __future__ import annotations

from scrapy.exceptions import DropItem


class NotAnArticle(DropItem):
    """The page lists articles (a front, section, tag or search page) or is not news at all."""


class NoArticleText(DropItem):
    """No article text (or too little) was found on the page."""


class ExtractionFailed(DropItem):
    """The page could not be parsed, or the extraction raised an error."""


class OnlyBoilerplate(DropItem):
    """Every paragraph of the page is the site's boilerplate: there is no story on it."""


class Unchanged(DropItem):
    """The page's text is the same as its stored version's (or it was fetched again before its
    revisit was due): the fetch is recorded, nothing is stored."""


class AlreadyStored(DropItem):
    """This very page (same URL) is already stored, or was reached twice in this run."""


class LaterCopy(DropItem):
    """A later copy of a stored story, dropped because NEARDUP_DROP_DUPLICATES is on."""


STILL_LISTED = (Unchanged, AlreadyStored, LaterCopy)
