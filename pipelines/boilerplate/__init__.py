"""Boilerplate stage: what a site repeats around its stories, learned and removed.

stage.py     the item pipeline: cold-start hold, removal, re-cleaning of stored pages
segments.py  per-site segment statistics and what they make boilerplate
"""

from .stage import BoilerplatePipeline

__all__ = ["BoilerplatePipeline"]
