"""Provides the queue filter: which claims the queue shows, and how the header names it."""

from __future__ import annotations

from dataclasses import dataclass, replace
from typing import Any

from workbench.verdicts import verdict_label


@dataclass(frozen=True)
class QueueFilter:
    """Arguments of `workbench.queue.list_queue`; a verdict implies reviewed claims. `mine`:
    only the reviewer's own queue (`list_queue(queue_of=...)`: assigned to them, or still
    needing their review), the default for a reviewer who has assignments. `low`: the claims
    under their check-worthiness threshold shown too (hidden by default, one key away)."""

    status: str = "all"
    verdict: str = ""
    article: str = ""
    search: str = ""
    mine: bool = False
    low: bool = False

    def query(self) -> dict[str, Any]:
        """The filters `list_queue` and `count_low` share (`low` is passed apart)."""
        return {
            "status": self.status,
            "verdict": self.verdict or None,
            "article": self.article or None,
            "search": self.search or None,
        }

    def describe(self) -> str:
        parts = [verdict_label(self.verdict) if self.verdict else f"{self.status} claims"]
        if self.mine:
            parts[0] += " (mine)"
        if self.article:
            parts.append(f"in {self.article}")
        if self.search:
            parts.append(f"matching {self.search!r}")
        return " ".join(parts)

    def with_low(self, low: bool) -> QueueFilter:
        return replace(self, low=low)

    def with_status(self, status: str) -> QueueFilter:
        return replace(self, status=status, verdict="")

    def with_verdict(self, verdict: str) -> QueueFilter:
        return replace(self, status="all", verdict=verdict)
