"""Provides the Retriever: claims in, fused dense + BM25 evidence hits out."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass

import numpy as np

from workbench import config
from workbench.embed import Embedder, canonical_ref
from workbench.errors import WorkspaceError
from workbench.index import dense, store
from workbench.index.hybrid import Source, fuse
from workbench.models import Hit
from workbench.workspace import Workspace

LEXICAL = "bm25"


@dataclass(frozen=True)
class FusionConfig:
    """How ranked lists are combined: mode 'lang' (language-aware) or 'rrf', and weights."""

    mode: str = "lang"
    weights: tuple[tuple[str, float], ...] = ()
    pool: int = 100
    use_lexical: bool = True

    def weight(self, name: str) -> float:
        return dict(self.weights).get(name, 1.0)


class Retriever:
    """Searches a workspace's indexes with its embedders and fuses the ranked lists."""

    def __init__(
        self,
        embedders: Sequence[Embedder],
        indexes: store.IndexSet,
        fusion: FusionConfig | None = None,
    ) -> None:
        self.embedders = list(embedders)
        self.indexes = indexes
        self.fusion = fusion or FusionConfig()
        self.sources = [
            Source(canonical_ref(e.name), self.fusion.weight(canonical_ref(e.name)), e.languages)
            for e in self.embedders
        ]
        if self.fusion.use_lexical:
            self.sources.append(Source(LEXICAL, self.fusion.weight(LEXICAL), frozenset()))
        self.sources = [s for s in self.sources if s.weight > 0]

    def search(self, texts: Sequence[str], langs: Sequence[str], k: int = 10) -> list[list[Hit]]:
        """Top `k` fused hits for each query text (its language in `langs`, '' if unknown)."""
        if not texts:
            return []
        active = {s.name for s in self.sources}
        ranked: list[dict[str, list[tuple[int, float]]]] = [{} for _ in texts]
        pool = max(self.fusion.pool, 5 * k)
        for embedder in self.embedders:
            name = canonical_ref(embedder.name)
            if name not in active:
                continue
            vectors = embedder.encode(list(texts))
            scores, ids = dense.search(self.indexes.dense[name], vectors, pool)
            for row in range(len(texts)):
                ranked[row][name] = [
                    (int(i), float(s)) for i, s in zip(ids[row], scores[row], strict=True) if i >= 0
                ]
        if LEXICAL in active:
            lexical = self.indexes.lexical
            for row, text in enumerate(texts):
                scores = lexical.scores(text)
                top = _top(scores, pool)
                ranked[row][LEXICAL] = [
                    (int(lexical.ids[i]), float(scores[i])) for i in top if scores[i] > 0
                ]
        return [
            fuse(ranked[row], self.sources, langs[row], self.indexes.langs, k, self.fusion.mode)
            for row in range(len(texts))
        ]


def _top(scores: np.ndarray, k: int) -> np.ndarray:
    if len(scores) <= k:
        return np.argsort(-scores, kind="stable")
    part = np.argpartition(-scores, k)[:k]
    return part[np.argsort(-scores[part], kind="stable")]


def open_retriever(
    workspace: Workspace, model_spec: str | None = None, fusion: FusionConfig | None = None
) -> Retriever:
    """Load a workspace's models (checked against it) and indexes into a Retriever."""
    names = config.model_names(workspace, model_spec)
    if workspace.get_meta("models") is None or workspace.count("passages") == 0:
        raise WorkspaceError(
            f"the workspace {workspace.root} has no evidence yet; "
            "run 'workbench ingest evidence/' first"
        )
    embedders = config.load_embedders(names)
    models = config.check_fingerprints(workspace, embedders)
    return Retriever(embedders, store.load(workspace, models), fusion)
