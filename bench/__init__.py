"""Benchmarks: each prints its figures and ends with one JSON line of them."""

from __future__ import annotations

from typing import Any


def rounded(value: Any, digits: int) -> Any:
    """*value* (a figure, or a dict of them, nested) with its floats rounded for the JSON line."""
    if isinstance(value, dict):
        return {key: rounded(item, digits) for key, item in value.items()}
    return round(value, digits) if isinstance(value, float) else value
