"""Provides fake embedders for fast tests: concepts as one-hot axes, across languages."""

from __future__ import annotations

import re
import time
import unicodedata
from collections.abc import Sequence

import numpy as np

# Each concept is one axis; French and English words for it share the axis, so the fake
# behaves like a (very small) multilingual model.
CONCEPTS = {
    "putin": ("putin", "poutine"),
    "pompeo": ("pompeo",),
    "sochi": ("sochi", "sotchi"),
    "call": ("call", "phone", "telephonique", "appel"),
    "mueller": ("mueller", "special", "counsel", "procureur"),
    "collusion": ("collusion", "conspiracy", "coordinated"),
    "osaka": ("osaka", "g20"),
    "june": ("june", "juin"),
    "helsinki": ("helsinki",),
    "may": ("may", "mai"),
}


def _fold(text: str) -> str:
    text = unicodedata.normalize("NFKD", text.lower())
    return "".join(c for c in text if not unicodedata.combining(c))


class ConceptEmbedder:
    """One-hot concept axes plus a small hashed remainder; multilingual by construction."""

    name = "fake:concepts"
    languages = None

    def __init__(self) -> None:
        self.axes = {w: i for i, words in enumerate(CONCEPTS.values()) for w in words}
        self.dim = len(CONCEPTS) + 6

    def encode(self, texts: Sequence[str]) -> np.ndarray:
        out = np.zeros((len(texts), self.dim), dtype=np.float32)
        for row, text in enumerate(texts):
            for word in re.findall(r"\w+", _fold(text)):
                if word in self.axes:
                    out[row, self.axes[word]] += 1.0
            out[row, len(CONCEPTS) + len(text) % 6] += 0.1
        return out / np.linalg.norm(out, axis=1, keepdims=True)


class SlowHashEmbedder:
    """The hashing embedder, slowed down so a test can kill a process mid-ingest."""

    languages = frozenset()

    def __init__(self, delay: float = 0.3) -> None:
        from workbench.embed import HashingEmbedder

        self.inner = HashingEmbedder(64)
        self.name = self.inner.name
        self.dim = self.inner.dim
        self.delay = delay

    def encode(self, texts: Sequence[str]) -> np.ndarray:
        time.sleep(self.delay)
        return self.inner.encode(texts)
