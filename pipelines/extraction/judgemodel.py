"""The article judge's learned model: boosted decision trees over a page's features
(pipelines.extraction.pagefeatures), read from judge_model.json and evaluated in plain Python.

The file is written by bench/train_judge.py. A tree is four parallel lists (feature index or -1
for a leaf, threshold, left child, right child) and the leaves' values; a page goes left when
its feature, in single precision, is at most the threshold. The log-odds of "article" are the bias plus one leaf value
per tree.
"""

from __future__ import annotations

import functools
import json
import math
from collections.abc import Mapping
from dataclasses import dataclass
from pathlib import Path

import numpy as np

MODEL_FILE = Path(__file__).with_name("judge_model.json")


@dataclass(frozen=True)
class Tree:
    feature: tuple[int, ...]
    threshold: tuple[float, ...]
    left: tuple[int, ...]
    right: tuple[int, ...]
    value: tuple[float, ...]

    def leaf_value(self, row: list[float]) -> float:
        node = 0
        while (index := self.feature[node]) >= 0:
            node = self.left[node] if row[index] <= self.threshold[node] else self.right[node]
        return self.value[node]


@dataclass(frozen=True)
class JudgeModel:
    features: tuple[str, ...]
    bias: float
    trees: tuple[Tree, ...]

    def probability(self, features: Mapping[str, float]) -> float:
        """The probability that a page with these features is an article; a feature the page
        does not have counts as 0."""
        # Rounded to single precision, as the trees were trained: a value at a threshold goes
        # the same way here as in training.
        row = np.array([features.get(name, 0.0) for name in self.features], dtype=np.float32).tolist()
        log_odds = self.bias + sum(tree.leaf_value(row) for tree in self.trees)
        return 1.0 / (1.0 + math.exp(-log_odds))

    @classmethod
    def from_dict(cls, data: Mapping) -> JudgeModel:
        trees = tuple(
            Tree(*(tuple(tree[key]) for key in ("feature", "threshold", "left", "right", "value")))
            for tree in data["trees"]
        )
        return cls(tuple(data["features"]), float(data["bias"]), trees)

    def to_dict(self) -> dict:
        return {
            "features": list(self.features),
            "bias": self.bias,
            "trees": [
                {key: list(getattr(tree, key)) for key in ("feature", "threshold", "left", "right", "value")}
                for tree in self.trees
            ],
        }


@functools.lru_cache(maxsize=1)
def shipped_model() -> JudgeModel:
    """The model in MODEL_FILE, read once per worker process."""
    return JudgeModel.from_dict(json.loads(MODEL_FILE.read_text(encoding="utf-8")))
