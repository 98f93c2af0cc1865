"""Tests for the dense models each language's re-ranker reads: a French claim is never encoded
by an English-only model that neither the fusion nor the re-ranker would read."""

from __future__ import annotations

import json
from collections.abc import Sequence
from pathlib import Path

import numpy as np
from fakes import ConceptEmbedder
from reviewdata import MINI_EVIDENCE

from workbench.embed import HashingEmbedder, canonical_ref
from workbench.index import store
from workbench.ingest import ingest
from workbench.match import compute_matches, store_matches
from workbench.models import Hit
from workbench.rerank import Inputs, Model, Reranker, feature_names, load_reranker, save_reranker
from workbench.retrieve import FusionConfig, Retriever
from workbench.workspace import Workspace

FRENCH = "Poutine et Pompeo se sont rencontrés à Sotchi le 14 mai 2019."
CONCEPTS = canonical_ref(ConceptEmbedder.name)
ENGLISH = "Pompeo met Putin in Sochi on 14 May 2019."


class EnglishOnly:
    """The hashing embedder declared English-only (as MiniLM is), recording what it reads."""

    languages = frozenset({"en"})

    def __init__(self) -> None:
        self.inner = HashingEmbedder(32)
        self.name, self.dim = self.inner.name, self.inner.dim
        self.read: list[str] = []

    def encode(self, texts: Sequence[str]) -> np.ndarray:
        self.read += list(texts)
        return self.inner.encode(texts)


def _reranker(sources: Sequence[str], french_reads: tuple[str, ...] | None) -> Reranker:
    dense = ("hash:32", CONCEPTS)
    n = len(feature_names(sources, dense))
    models = {
        lang: Model(
            np.zeros(n),
            np.ones(n),
            np.linspace(-1, 1, n),
            0.0,
            np.eye(dim, dtype=np.float32),
            adapter,
            reads,
        )
        for lang, dim, adapter, reads in (
            ("en", 32, "hash:32", None),
            ("fr", ConceptEmbedder().dim, CONCEPTS, french_reads),
        )
    }
    return Reranker(tuple(sources), dense, models, 500, 20, 30, {})


def _retriever(ws: Workspace, english: EnglishOnly, french_reads) -> Retriever:
    embedders = [english, ConceptEmbedder()]
    base = Retriever(embedders, store.load(ws, ws.get_meta("models")))
    reranker = _reranker([s.name for s in base.sources], french_reads)
    retriever = Retriever(embedders, base.indexes, FusionConfig(), ws.passage_index_texts, reranker)
    assert retriever.reranker is reranker
    return retriever


def _workspace(tmp_path: Path) -> Workspace:
    evidence = tmp_path / "evidence.jsonl"
    evidence.write_text("".join(json.dumps(r) + "\n" for r in MINI_EVIDENCE))
    ws = Workspace.open(tmp_path / "ws", create=True)
    ingest(ws, [evidence], [EnglishOnly(), ConceptEmbedder()])
    return ws


def test_a_french_claim_is_not_encoded_by_an_english_model_nobody_reads(tmp_path: Path) -> None:
    with _workspace(tmp_path) as ws:
        english = EnglishOnly()
        retriever = _retriever(ws, english, (CONCEPTS,))
        vectors: dict[str, np.ndarray] = {}
        hits = retriever.search([FRENCH, ENGLISH], ["fr", "en"], 5, vectors)
        assert english.read == [ENGLISH]
        assert np.isnan(vectors["hash:32"][0]).all() and np.isfinite(vectors["hash:32"][1]).all()
        assert all(hits) and any("rerank" in h.signals for h in hits[0])
        # The same claim with a re-ranker that reads the English model's cosine: encoded.
        english = EnglishOnly()
        _retriever(ws, english, None).search([FRENCH], ["fr"], 5)
        assert english.read == [FRENCH]
        # A claim of unknown language: encoded (the fusion may give the model a vote).
        english = EnglishOnly()
        _retriever(ws, english, (CONCEPTS,)).search([FRENCH], [""], 5)
        assert english.read == [FRENCH]


def test_claims_go_through_a_model_s_claim_encoder_where_it_has_one(tmp_path: Path) -> None:
    class WithClaimEncoder(EnglishOnly):
        def encode_query(self, texts: Sequence[str]) -> np.ndarray:
            self.read += [f"claim: {t}" for t in texts]
            return self.inner.encode(texts)

    with _workspace(tmp_path) as ws:
        english = WithClaimEncoder()
        _retriever(ws, english, (CONCEPTS,)).search([ENGLISH], ["en"], 5)
        assert english.read == [f"claim: {ENGLISH}"]


def test_passages_of_unknown_language_keep_every_model_reading(tmp_path: Path) -> None:
    # Every model votes on a passage whose language is unknown: skipping one would sink it.
    with _workspace(tmp_path) as ws:
        ws.conn.execute("UPDATE passages SET lang = '' WHERE id = (SELECT MIN(id) FROM passages)")
        ws.conn.commit()
        english = EnglishOnly()
        _retriever(ws, english, (CONCEPTS,)).search([FRENCH], ["fr"], 5)
        assert english.read == [FRENCH]


def test_the_ranking_is_the_same_whether_or_not_the_unread_vector_exists(tmp_path: Path) -> None:
    with _workspace(tmp_path) as ws:
        skipping = _retriever(ws, EnglishOnly(), (CONCEPTS,))
        found = skipping.search([FRENCH], ["fr"], 5)[0]
        # Force the encoding (a re-ranker reading it), then score with the same French model:
        # the unread model's cosines are zeros either way.
        reading = _retriever(ws, EnglishOnly(), None)
        reading.reranker = skipping.reranker
        assert reading.search([FRENCH], ["fr"], 5)[0] == found


def test_no_vector_is_kept_for_a_claim_the_model_did_not_read(tmp_path: Path) -> None:
    from workbench.match import add_claim_records

    with _workspace(tmp_path) as ws:
        ids = add_claim_records(
            ws, [{"text": FRENCH, "lang": "fr"}, {"text": ENGLISH, "lang": "en"}], "claims"
        )
        # A vector of an older wording must not stay behind either.
        ws.save_claim_vectors("hash:32", [ids[0]], np.ones((1, 32), dtype=np.float32))
        retriever = _retriever(ws, EnglishOnly(), (CONCEPTS,))
        store_matches(ws, compute_matches(ws, retriever, ids, 3))
        assert set(ws.claim_vectors("hash:32")) == {ids[1]}
        assert set(ws.claim_vectors(CONCEPTS)) == set(ids)


def test_what_a_model_reads_survives_saving_and_loading(tmp_path: Path) -> None:
    reranker = _reranker(("a", "b"), (CONCEPTS,))
    save_reranker(reranker, tmp_path)
    loaded = load_reranker(tmp_path)
    assert loaded.models["fr"].reads == (CONCEPTS,) and loaded.models["en"].reads is None
    assert loaded.reads("fr", CONCEPTS) and not loaded.reads("fr", "hash:32")
    assert loaded.reads("en", "hash:32") and not loaded.reads("de", "hash:32")


def test_unread_cosines_are_zero_features() -> None:
    reranker = _reranker(("a",), (CONCEPTS,))
    dim = ConceptEmbedder().dim
    hits = [Hit(1, 0.9, {"a": 1.0, "a_rank": 1}), Hit(2, 0.8, {"a": 0.5, "a_rank": 2})]
    vectors = {"hash:32": np.eye(32, dtype=np.float32), CONCEPTS: np.eye(dim)}
    inputs = Inputs(
        {CONCEPTS: np.eye(dim, dtype=np.float32)[0]},  # no English vector at all
        lambda model, ids: vectors[model][[i - 1 for i in ids]],
        lambda token: 1,
        10,
    )
    x = reranker.features("q", reranker.models["fr"], hits, {1: "a", 2: "b"}, inputs)
    names = feature_names(("a",), reranker.dense_models)
    cos = [names.index(f"hash:32:{part}") for part in ("cos", "cos_gap", "cos_top")]
    assert not x[:, cos].any()
    assert x[0, names.index(f"{CONCEPTS}:cos")] == 1.0


def test_a_multilingual_model_reads_claims_and_focus_clauses_in_one_call(tmp_path: Path) -> None:
    # USE-m3 has no claim encoder: a second call for the focus clauses cost it a third more.
    class Recording(ConceptEmbedder):
        def __init__(self) -> None:
            super().__init__()
            self.calls: list[list[str]] = []

        def encode(self, texts: Sequence[str]) -> np.ndarray:
            self.calls.append(list(texts))
            return super().encode(texts)

    reported = "Le Kremlin a affirmé que Poutine et Pompeo se sont rencontrés à Sotchi."
    with _workspace(tmp_path) as ws:
        concepts = Recording()
        base = Retriever([EnglishOnly(), concepts], store.load(ws, ws.get_meta("models")))
        assert CONCEPTS + ":focus" in base.active
        lists = base.ranked_lists([reported, FRENCH], ["fr", "fr"], 10)
        clause = "Poutine et Pompeo se sont rencontrés à Sotchi."
        assert concepts.calls == [[reported, FRENCH, clause]]
        # Each list is what searching that text alone gives.
        alone = base.ranked_lists([clause], ["fr"], 10)[0][CONCEPTS]
        assert lists[0][CONCEPTS + ":focus"] == alone
        assert lists[1][CONCEPTS + ":focus"] == lists[1][CONCEPTS]  # no clause: itself
