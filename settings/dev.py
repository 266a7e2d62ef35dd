"""Default environment: the embedded store under DATA_DIR, polite crawling of real sites."""

from .base import *  # noqa: F403
