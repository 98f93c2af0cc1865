"""Provides the Retriever: claims in, fused dense + BM25 evidence hits out."""

from __future__ import annotations

from collections.abc import Callable, Iterator, Mapping, Sequence
from contextlib import contextmanager
from dataclasses import dataclass, replace
from functools import lru_cache
from typing import TYPE_CHECKING

import numpy as np

from workbench import config
from workbench.embed import SMALL_BATCH, Embedder, canonical_ref
from workbench.errors import WorkbenchError, WorkspaceError
from workbench.index import dense, store
from workbench.index.hybrid import Source, fuse
from workbench.models import Hit
from workbench.notes import say
from workbench.query import focus_clause
from workbench.workspace import Workspace

if TYPE_CHECKING:
    from threadpoolctl import ThreadpoolController

    from workbench.crossrank import CrossRanker
    from workbench.rerank import Reranker

LEXICAL = "bm25"
BRIDGE = "bridge"
FOCUS = ":focus"  # suffix of a multilingual model's source that reads the claim's focus clause
# Fusion source name -> lexical analyzer behind it.
LEXICAL_SOURCES = {LEXICAL: "words", BRIDGE: "bridge"}


# Roles a retriever plays in the fusion; weights can be given by role or by exact name.
MULTILINGUAL = "@multilingual"  # a dense model that compares texts across languages
MONOLINGUAL = "@monolingual"  # a dense model for one language (e.g. English MiniLM)

Weights = tuple[tuple[str, float], ...]


@dataclass(frozen=True)
class FusionConfig:
    """How ranked lists are combined: mode 'lang' (language-aware) or 'rrf', and weights.

    The defaults come from training data, never from a test split: on English pairs (tuned
    on CLEF 2020 train, bench/tune_fusion.py) the English model and BM25 decide, and the
    multilingual model and the bridge tokens step back (`covered_weights`); on French and
    French-English pairs of a corpus in several languages (tuned on the bundled seed queries)
    the multilingual model reads both the claim and its focus clause, with BM25 (French
    pairs) and the bridge tokens as tie-breakers (`weights`, `cross_weights`). Where every
    candidate is in the claim's language (French posts against French fact-checks), there is
    no language bias to guard against and BM25 leads (`single_language_weights`, tuned on the
    CheckThat! 2025 French posts by cross-validation grouped by claim,
    bench/tune_french_fusion.py: the mixed-corpus weights ranked those posts below BM25 alone,
    MAP@5 0.675 vs 0.721, while the BM25-led ones push French near misses above the English
    evidence of a mixed corpus).
    """

    mode: str = "lang"
    weights: Weights = ((MULTILINGUAL, 0.5), (BRIDGE, 1.0))
    # Same-language weights where every candidate is in the claim's language; None: `weights`.
    single_language_weights: Weights | None = (
        (MULTILINGUAL, 0.5), (FOCUS, 0.25), (LEXICAL, 3.0), (BRIDGE, 0.25),
    )  # fmt: skip
    cross_weights: Weights = ((MULTILINGUAL, 0.5), (BRIDGE, 0.25))
    # BM25 keeps weight 1 beside the English model (what CLEF 2020 train chose).
    covered_weights: Weights = ((MULTILINGUAL, 0.0), (BRIDGE, 0.0), (LEXICAL, 1.0))
    focus_weight: float = 1.0
    pool: int = 100
    use_lexical: bool = True
    # Re-order the fused top candidates with the learned re-ranker (where it applies).
    rerank: bool = True
    # Then order the top of a list holding passages in another language than the claim's on
    # language-neutral evidence (`crossrank.py`; a list in the claim's language is left).
    crossrank: bool = True

    @staticmethod
    def _lookup(table: Weights, name: str, role: str, default: float | None) -> float | None:
        values = dict(table)
        return values.get(name, values.get(role, default))

    def weight(self, name: str, role: str = "", single_language: bool = False) -> float:
        """Weight on same-language pairs (0 switches the retriever off; the focus query is
        switched off by `focus_weight` alone, and `weights` may give it another weight on
        same-language pairs); `single_language`: where every candidate is in the claim's
        language (`single_language_weights`)."""
        table = self.weights
        if single_language and self.single_language_weights is not None:
            table = self.single_language_weights
        if role == FOCUS:
            return float(self._lookup(table, name, FOCUS, self.focus_weight))  # type: ignore[arg-type]
        return float(self._lookup(table, name, role, 1.0))  # type: ignore[arg-type]

    def cross_weight(self, name: str, role: str = "") -> float:
        """Weight on cross-language pairs."""
        if role == FOCUS:
            return self.focus_weight
        return float(self._lookup(self.cross_weights, name, role, 1.0))  # type: ignore[arg-type]

    def covered_weight(self, name: str, role: str = "") -> float | None:
        """Weight on same-language pairs a monolingual model also judges (None: `weight`)."""
        if role == FOCUS:
            return self._lookup(self.covered_weights, MULTILINGUAL, MULTILINGUAL, None)
        return self._lookup(self.covered_weights, name, role, None)


class Retriever:
    """Searches a workspace's indexes with its embedders and fuses the ranked lists."""

    def __init__(
        self,
        embedders: Sequence[Embedder],
        indexes: store.IndexSet,
        fusion: FusionConfig | None = None,
        passage_texts: Callable[[Sequence[int]], Mapping[int, str]] | None = None,
        reranker: Reranker | None = None,
    ) -> None:
        """`passage_texts` gives the indexed text of passages (the re-ranker reads them);
        `reranker` defaults to the shipped one when the fusion asks for re-ranking."""
        self.embedders = list(embedders)
        self.indexes = indexes
        self.fusion = fusion or FusionConfig()
        fusion = self.fusion
        languages: dict[str, frozenset[str] | None] = {
            canonical_ref(e.name): e.languages for e in self.embedders
        }
        roles = {
            name: MULTILINGUAL if langs is None else MONOLINGUAL
            for name, langs in languages.items()
        }
        if fusion.focus_weight > 0:
            for name, langs in list(languages.items()):
                if langs is None:
                    languages[name + FOCUS], roles[name + FOCUS] = None, FOCUS
        if fusion.use_lexical:
            languages[LEXICAL], roles[LEXICAL] = frozenset(), LEXICAL
            # Bridge tokens (names, places, dates, numbers) mean the same in both languages.
            languages[BRIDGE], roles[BRIDGE] = None, BRIDGE
        self.sources = [
            Source(
                name,
                fusion.weight(name, roles[name]),
                langs,
                fusion.cross_weight(name, roles[name]),
                fusion.covered_weight(name, roles[name]),
            )
            for name, langs in languages.items()
            if (fusion.focus_weight if roles[name] == FOCUS else fusion.weight(name, roles[name]))
            > 0
        ]
        # The same retrievers, weighted for a list whose candidates are all in the claim's
        # language (see FusionConfig).
        self.single_language_sources = [
            replace(source, weight=fusion.weight(source.name, roles[source.name], True))
            for source in self.sources
        ]
        self.passage_texts = passage_texts
        self.reranker = None
        if fusion.rerank and passage_texts is not None:
            if reranker is None:
                reranker = _shipped_reranker()
            if reranker is not None and reranker.applies([s.name for s in self.sources]):
                self.reranker = reranker
        # The cross-language stage reads the multilingual model's signals (its sentence and
        # focus-clause scores): with none, or without passage texts, it stands aside.
        multilingual = [name for name, role in roles.items() if role == MULTILINGUAL]
        self.dense_multilingual = multilingual[0] if multilingual else None
        self.active = {source.name for source in self.sources}
        # A passage of unknown language gets every model's vote (`hybrid.can_judge`): then no
        # model may be skipped for any claim (see `_reads`).
        self._unknown_passages = "" in indexes.langs.values()
        self.crossranker = None
        if fusion.crossrank and passage_texts is not None and self.dense_multilingual:
            self.crossranker = _shipped_crossranker()

    def search(
        self,
        texts: Sequence[str],
        langs: Sequence[str],
        k: int = 10,
        vectors: dict[str, np.ndarray] | None = None,
        depth_k: int | None = None,
    ) -> list[list[Hit]]:
        """Top `k` fused hits for each query text (its language in `langs`, '' if unknown).

        `vectors`, when given, receives each dense model's query vectors (rows as `texts`):
        verdict memory keeps them, so that they are computed once."""
        vectors = {} if vectors is None else vectors  # the re-ranker reads them too
        # Each list's depth follows `depth_k` (default k): asking for more hits to read (the
        # counter-evidence pool) must not change the lists the top k is fused from.
        depth = max(self.fusion.pool, 5 * (depth_k if depth_k is not None else k))
        ranked = self.ranked_lists(texts, langs, depth, vectors)
        if self.reranker is None or self.passage_texts is None:
            fused = [
                fuse(
                    ranked[row],
                    self._sources_for(ranked[row], langs[row]),
                    langs[row],
                    self.indexes.langs,
                    k,
                    self.fusion.mode,
                )
                for row in range(len(texts))
            ]
            return self._crossrank(texts, langs, fused)
        from workbench.rerank import index_inputs

        pool = max(k, self.reranker.pool)
        fused = [
            fuse(
                ranked[row],
                self._sources_for(ranked[row], langs[row]),
                langs[row],
                self.indexes.langs,
                pool,
                self.fusion.mode,
            )
            for row in range(len(texts))
        ]
        wanted = {h.passage_id for row in fused for h in self.reranker.candidates(row)}
        passage_texts = self.passage_texts(wanted)
        lexical = self.indexes.lexical[LEXICAL_SOURCES[LEXICAL]]
        reranked = [
            self.reranker.rerank(
                texts[row], langs[row], fused[row], passage_texts, self.indexes.langs, k,
                index_inputs({m: v[row] for m, v in vectors.items()}, self.indexes.dense, lexical),
            )
            for row in range(len(texts))
        ]  # fmt: skip
        return self._crossrank(texts, langs, reranked, passage_texts)

    def _sources_for(
        self, ranked: Mapping[str, Sequence[tuple[int, float]]], lang: str
    ) -> list[Source]:
        """The single-language weights when every passage any retriever listed is in the
        claim's (known) language, else the mixed-corpus ones."""
        langs = self.indexes.langs
        single = bool(lang) and all(
            langs.get(passage_id, "") == lang for hits in ranked.values() for passage_id, _ in hits
        )
        return self.single_language_sources if single else self.sources

    def _crossrank(
        self,
        texts: Sequence[str],
        langs: Sequence[str],
        lists: list[list[Hit]],
        passage_texts: Mapping[int, str] | None = None,
    ) -> list[list[Hit]]:
        """The cross-language stage over each list whose top holds another language."""
        ranker, dense_name = self.crossranker, self.dense_multilingual
        if ranker is None or dense_name is None or self.passage_texts is None:
            return lists
        plangs = self.indexes.langs
        mixed = [row for row in range(len(lists)) if ranker.applies(langs[row], lists[row], plangs)]
        if not mixed:
            return lists
        if passage_texts is None or any(
            h.passage_id not in passage_texts for row in mixed for h in lists[row][: ranker.depth]
        ):
            wanted = {h.passage_id for row in mixed for h in lists[row][: ranker.depth]}
            passage_texts = {**(passage_texts or {}), **self.passage_texts(wanted)}
        out = list(lists)
        for row in mixed:
            out[row] = ranker.rerank(
                texts[row], langs[row], lists[row], passage_texts, plangs, dense_name
            )
        return out

    def _reads(self, embedder: Embedder, name: str, lang: str) -> bool:
        """Whether a claim in `lang` needs `embedder`'s vector: always, unless the model is
        monolingual in other languages, the language-aware fusion gives it no vote on this
        claim's pairs (see `hybrid.can_judge`), a multilingual model ranks them instead (so
        that no passage is left to the fallback ranks) and the re-ranker does not read it.
        A French claim then costs no English MiniLM encoding (a third of its time)."""
        languages = embedder.languages
        if not lang or not languages or lang in languages or self.fusion.mode != "lang":
            return True
        if self.dense_multilingual not in self.active or self._unknown_passages:
            return True
        return self.reranker is not None and self.reranker.reads(lang, name)

    def ranked_lists(
        self,
        texts: Sequence[str],
        langs: Sequence[str],
        pool: int,
        vectors: dict[str, np.ndarray] | None = None,
    ) -> list[dict[str, list[tuple[int, float]]]]:
        """Each active retriever's top `pool` (passage id, raw score) list, per query."""
        with _single_threaded_blas(len(texts) <= SMALL_BATCH):
            return self._ranked_lists(texts, langs, pool, vectors)

    def _ranked_lists(
        self,
        texts: Sequence[str],
        langs: Sequence[str],
        pool: int,
        keep: dict[str, np.ndarray] | None = None,
    ) -> list[dict[str, list[tuple[int, float]]]]:
        active = self.active
        ranked: list[dict[str, list[tuple[int, float]]]] = [{} for _ in texts]
        if not texts:
            return ranked
        for embedder in self.embedders:
            name = canonical_ref(embedder.name)
            if name not in active:
                continue
            rows = [row for row in range(len(texts)) if self._reads(embedder, name, langs[row])]
            if not rows:
                if keep is not None:
                    keep[name] = np.full((len(texts), embedder.dim), np.nan, dtype=np.float32)
                continue
            focus = (
                {row: focus_clause(text) for row, text in enumerate(texts)}
                if name + FOCUS in active
                else {}
            )
            focus_rows = [row for row, clause in focus.items() if clause]
            if hasattr(embedder, "encode_query"):
                # A model's claim encoder where it has one (faster for claims).
                vectors = embedder.encode_query([texts[row] for row in rows])
                clauses = [focus[row] for row in focus_rows]
                focus_vectors = embedder.encode(clauses) if clauses else None
            else:
                # Claims and focus clauses in one call: a second call cost USE-m3 a third
                # more than the longer batch.
                both = embedder.encode(
                    [texts[row] for row in rows] + [focus[row] for row in focus_rows]
                )
                vectors, focus_vectors = both[: len(rows)], both[len(rows) :]
            if keep is not None:
                # A claim the model was not asked to read has a NaN row (no vector is kept).
                kept = np.full((len(texts), vectors.shape[1]), np.nan, dtype=np.float32)
                kept[rows] = vectors
                keep[name] = kept
            scores, ids = dense.search(self.indexes.dense[name], vectors, pool)
            for i, row in enumerate(rows):
                ranked[row][name] = _hits(ids[i], scores[i])
            if name + FOCUS in active:
                if focus_rows:
                    scores, ids = dense.search(self.indexes.dense[name], focus_vectors, pool)
                    for i, row in enumerate(focus_rows):
                        ranked[row][name + FOCUS] = _hits(ids[i], scores[i])
                for row in range(len(texts)):
                    # No focus clause: the sentence is its own focus.
                    ranked[row].setdefault(name + FOCUS, ranked[row][name])
        for name, analyzer in LEXICAL_SOURCES.items():
            if name not in active:
                continue
            lexical = self.indexes.lexical[analyzer]
            for row, text in enumerate(texts):
                scores = lexical.scores(text, langs[row])
                top = _top(scores, pool)
                ranked[row][name] = [
                    (int(lexical.ids[i]), float(scores[i])) for i in top if scores[i] > 0
                ]
        return ranked


@lru_cache(maxsize=1)
def _shipped_reranker() -> Reranker | None:
    """The packaged re-ranker, or None (said once on stderr) when it cannot be read."""

    from workbench.rerank import load_reranker

    try:
        return load_reranker()
    except WorkbenchError as exc:
        say(f"warning: matching without the re-ranker: {exc}")
        return None


@lru_cache(maxsize=1)
def _shipped_crossranker() -> CrossRanker | None:
    """The packaged cross-language stage, or None (said once on stderr) when unreadable."""
    from workbench.crossrank import load

    try:
        return load()
    except WorkbenchError as exc:
        say(f"warning: matching without the cross-language stage: {exc}")
        return None


@contextmanager
def _single_threaded_blas(enabled: bool) -> Iterator[None]:
    """One BLAS and FAISS thread while matching a few claims.

    On two cores, OpenBLAS and FAISS threads that spin after a small call starve torch's
    threads in the next one (a claim took 75-115 ms instead of about 30 ms); a handful of
    queries gains nothing from parallel BLAS anyway.
    """
    if not enabled:
        yield
        return
    import faiss

    before = faiss.omp_get_max_threads()
    faiss.omp_set_num_threads(1)
    try:
        with _blas_threads().limit(limits=1, user_api="blas"):
            yield
    finally:
        faiss.omp_set_num_threads(before)


@lru_cache(maxsize=1)
def _blas_threads() -> ThreadpoolController:
    """The process's BLAS libraries, found once: threadpoolctl reads /proc/self/maps to find
    them, 3 ms a claim when done on every search. Numpy's and FAISS's are loaded by the time
    a retriever first searches (its models and indexes are); a library loaded later is not
    limited, and none that `match` runs is."""
    from threadpoolctl import ThreadpoolController

    return ThreadpoolController()


def _hits(ids: np.ndarray, scores: np.ndarray) -> list[tuple[int, float]]:
    return [(int(i), float(s)) for i, s in zip(ids, scores, strict=True) if i >= 0]


def _top(scores: np.ndarray, k: int) -> np.ndarray:
    if len(scores) <= k:
        return np.argsort(-scores, kind="stable")
    part = np.argpartition(-scores, k)[:k]
    return part[np.argsort(-scores[part], kind="stable")]


def open_models(
    workspace: Workspace, model_spec: str | None = None
) -> tuple[list[str], list[Embedder], list[dict]]:
    """(model names, embedders, manifest entries) of a workspace with evidence, each model
    checked against the one that embedded it; no index is loaded."""
    names = config.model_names(workspace, model_spec)
    if workspace.get_meta("models") is None or workspace.count("passages") == 0:
        raise WorkspaceError(
            f"the workspace {workspace.root} has no evidence yet; "
            "run 'workbench ingest evidence/' first"
        )
    embedders = config.load_embedders(names)
    return names, embedders, config.check_fingerprints(workspace, embedders)


def workspace_retriever(
    workspace: Workspace,
    embedders: Sequence[Embedder],
    indexes: store.IndexSet,
    fusion: FusionConfig | None = None,
) -> Retriever:
    """The Retriever `match` searches a workspace with: its models, its indexes, and its
    passages' indexed texts, which the learned re-ranker reads. `workbench eval` builds its
    retrievers here too, so that it measures what match ships."""
    return Retriever(embedders, indexes, fusion, workspace.passage_index_texts)


def open_retriever(
    workspace: Workspace, model_spec: str | None = None, fusion: FusionConfig | None = None
) -> Retriever:
    """Load a workspace's models (checked against it) and indexes into a Retriever."""
    _, embedders, models = open_models(workspace, model_spec)
    return workspace_retriever(workspace, embedders, store.load(workspace, models), fusion)
