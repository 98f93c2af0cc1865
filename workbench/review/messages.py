"""Provides the messages the review UI's workers post back to the app (named in the past tense)."""

from __future__ import annotations

from pathlib import Path

from textual.message import Message


class ClaimRematched(Message):
    """A claim's evidence was retrieved again after an edit and stored."""

    def __init__(self, claim_id: int, count: int) -> None:
        super().__init__()
        self.claim_id = claim_id
        self.count = count


class RematchFailed(Message):
    """Re-matching an edited claim failed; the edit itself is saved."""

    def __init__(self, claim_id: int, error: str) -> None:
        super().__init__()
        self.claim_id = claim_id
        self.error = error


class ExportFinished(Message):
    """The export file was written."""

    def __init__(self, path: Path, count: int) -> None:
        super().__init__()
        self.path = path
        self.count = count


class ExportFailed(Message):
    """The export could not be written."""

    def __init__(self, path: Path, error: str) -> None:
        super().__init__()
        self.path = path
        self.error = error


class HintsReady(Message):
    """A claim's hint lines were computed (for the hint generation they were asked in)."""

    def __init__(self, claim_id: int, generation: int, lines: list[str]) -> None:
        super().__init__()
        self.claim_id = claim_id
        self.generation = generation
        self.lines = lines


class HintsFailed(Message):
    """A claim's hints could not be computed."""

    def __init__(self, claim_id: int, generation: int, error: str) -> None:
        super().__init__()
        self.claim_id = claim_id
        self.generation = generation
        self.error = error
