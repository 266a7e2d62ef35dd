"""Signals the stages send each other, instead of importing each other.

article_recleaned: a stored article's text was cleaned again, after boilerplate its site was
    learned later (sent by the boilerplate stage with url, site, text and word_count); the
    near-duplicate stage re-signs it for its hot index, the storage stage stores the new text and
    signature.
"""

from __future__ import annotations

article_recleaned = object()
