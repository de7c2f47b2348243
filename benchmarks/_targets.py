"""Judging benchmark figures against an issue's targets (shared by every benchmark)."""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any


def judge(
    figures: Mapping[str, Any], targets: Mapping[str, float], at_most: frozenset[str]
) -> dict[str, bool | None]:
    """Whether each target is met: at least the target, or at most it for ``at_most`` keys.

    None where the figure was not measured.
    """
    verdicts: dict[str, bool | None] = {}
    for key, target in targets.items():
        value = figures.get(key)
        if not isinstance(value, int | float):
            verdicts[key] = None
        elif key in at_most:
            verdicts[key] = value <= target
        else:
            verdicts[key] = value >= target
    return verdicts
