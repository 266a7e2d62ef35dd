"""Near-duplicate stage: a syndicated copy tagged with its story's cluster.

stage.py       the item pipeline: one decision at a time, against the hot and the cold index
matching.py    when two texts are one story; what a hot index answers (SignatureIndex)
memory.py      the hot index in this process's memory
shared.py      the hot index in Redis, shared by several crawler processes
coldfilter.py  the Bloom filter in front of the store's cold index
"""

from .stage import NearDuplicatePipeline

__all__ = ["NearDuplicatePipeline"]
