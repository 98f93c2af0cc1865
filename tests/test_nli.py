"""Tests of the pluggable NLI model: tiny models built here, loading, label mapping, batching."""

from __future__ import annotations

import json
import shutil
import subprocess
import sys
from pathlib import Path

import numpy as np
import pytest

from workbench.errors import InputError
from workbench.hints import nli
from workbench.hints.nli import (
    CONTRADICTION,
    ENTAILMENT,
    NEUTRAL,
    NLI_LABELS,
    NO_MODEL_WARNING,
    label_columns,
    load_nli,
    nli_model_name,
    open_nli,
    softmax,
)
from workbench.settings import Settings, load_settings

WORDS = [
    *("[PAD]", "[UNK]", "[CLS]", "[SEP]", "[MASK]"),
    *("the", "claim", "is", "true", "false", "yes", "no", "evidence", "says", "report"),
    *("found", "rain", "fell", "in", "june", "paris"),
]
# Output order of the tiny 3-class models, deliberately not NLI_LABELS' order.
ORDER = {0: "contradiction", 1: "entailment", 2: "neutral"}
BIAS = [0.0, 2.0, 1.0]

PAIRS = [
    ("the report found rain in june", "rain fell in june"),
    ("the evidence says no", "the claim is true"),
    ("paris", "yes"),
    ("the claim is false", "the claim is true"),
    ("rain fell in paris in june", "the report says rain fell"),
]


def _save(folder: Path, id2label: dict[int, str], bias: list[float], weight_std: float) -> Path:
    import torch
    from transformers import BertConfig, BertForSequenceClassification, BertTokenizerFast

    folder.mkdir(parents=True)
    vocab = folder / "vocab.txt"
    vocab.write_text("\n".join(WORDS) + "\n", encoding="utf-8")
    config = BertConfig(
        vocab_size=len(WORDS),
        hidden_size=16,
        num_hidden_layers=1,
        num_attention_heads=2,
        intermediate_size=32,
        max_position_embeddings=64,  # small, so a long pair must be truncated to run at all
        initializer_range=0.5,  # wide enough that different texts get different outputs
        num_labels=len(id2label),
        id2label=id2label,
        label2id={label: i for i, label in id2label.items()},
    )
    torch.manual_seed(13)
    model = BertForSequenceClassification(config).eval()
    with torch.no_grad():
        # Zero weights and a bias: every pair gets the same, known logits. With weights,
        # the logits depend on the text (for the batching test).
        model.classifier.weight.normal_(0.0, weight_std)
        model.classifier.bias.copy_(torch.tensor(bias))
    model.save_pretrained(folder)
    BertTokenizerFast(vocab_file=str(vocab)).save_pretrained(folder)
    return folder


@pytest.fixture(scope="session")
def models(tmp_path_factory: pytest.TempPathFactory) -> dict[str, Path]:
    root = tmp_path_factory.mktemp("nli-models")
    fixed = _save(root / "fixed", ORDER, BIAS, 0.0)
    # The same weights under a config that does not name its labels.
    generic = root / "generic"
    shutil.copytree(fixed, generic)
    config = json.loads((generic / "config.json").read_text(encoding="utf-8"))
    config["id2label"] = {str(i): f"LABEL_{i}" for i in range(3)}
    config["label2id"] = {f"LABEL_{i}": i for i in range(3)}
    (generic / "config.json").write_text(json.dumps(config), encoding="utf-8")
    return {
        "fixed": fixed,
        "generic": generic,
        "varied": _save(root / "varied", ORDER, BIAS, 3.0),
        "two-class": _save(root / "two", {0: "ENTAILMENT", 1: "NOT_ENTAILMENT"}, [1.0, 0.0], 0.0),
    }


def _expected_fixed() -> np.ndarray:
    # Logits per label: contradiction 0, entailment 2, neutral 1, in NLI_LABELS' order.
    return softmax(np.array([[2.0, 1.0, 0.0]]))[0]


# ----- label mapping (no model) ------------------------------------------------------------


def test_constants_fix_the_column_order() -> None:
    assert NLI_LABELS == (ENTAILMENT, NEUTRAL, CONTRADICTION)
    assert NLI_LABELS == ("entailment", "neutral", "contradiction")


@pytest.mark.parametrize(
    ("labels", "columns"),
    [
        ({0: "contradiction", 1: "entailment", 2: "neutral"}, [2, 0, 1]),
        ({0: "ENTAILMENT", 1: "NEUTRAL", 2: "CONTRADICTION"}, [0, 1, 2]),
        ({0: "Entails", 1: "Contradict", 2: "Neutral"}, [0, 2, 1]),
        ({0: "SUPPORTS", 1: "REFUTES", 2: "NOT ENOUGH INFO"}, [0, 2, 1]),
        ({0: "supports", 1: "nei", 2: "refutes"}, [0, 1, 2]),
        ({0: "entailment", 1: "not_entailment"}, [0, 1]),
        ({0: "not-entailment", 1: "entailment"}, [1, 0]),
        (["contradiction", "neutral", "entailment"], [2, 1, 0]),
    ],
)
def test_label_mapping_variants(labels, columns: list[int]) -> None:
    assert label_columns(labels) == columns


def test_label_override_and_unusable_labels() -> None:
    generic = {0: "LABEL_0", 1: "LABEL_1", 2: "LABEL_2"}
    assert label_columns(generic, "contradiction, entailment, neutral") == [2, 0, 1]
    with pytest.raises(InputError, match=r"LABEL_0, LABEL_1, LABEL_2.*nli_labels"):
        label_columns(generic)
    with pytest.raises(InputError, match="name 2 outputs, but the model has 3"):
        label_columns(generic, "entailment,neutral")
    with pytest.raises(InputError, match="unknown maybe"):
        label_columns(generic, "entailment,neutral,maybe")
    with pytest.raises(InputError, match="same label"):
        label_columns({0: "entailment", 1: "supports", 2: "neutral"})
    with pytest.raises(InputError, match="no entailment"):
        label_columns({0: "neutral", 1: "contradiction"})
    with pytest.raises(InputError, match="no entailment"):
        label_columns({0: "entailment"})


# ----- the tiny models ---------------------------------------------------------------------


def test_load_by_path_maps_labels_to_the_fixed_order(models: dict[str, Path]) -> None:
    model = load_nli(str(models["fixed"]))
    probs = model.predict(PAIRS[:2])
    assert probs.shape == (2, 3)
    np.testing.assert_allclose(probs, [_expected_fixed()] * 2, atol=1e-6)
    assert probs[0].argmax() == NLI_LABELS.index(ENTAILMENT)
    np.testing.assert_allclose(probs.sum(axis=1), 1.0, atol=1e-9)
    assert model.predict([]).shape == (0, 3)


def test_override_for_a_config_without_label_names(models: dict[str, Path]) -> None:
    with pytest.raises(InputError, match="LABEL_0, LABEL_1, LABEL_2"):
        load_nli(str(models["generic"]))
    model = load_nli(str(models["generic"]), labels="contradiction,entailment,neutral")
    np.testing.assert_allclose(model.predict(PAIRS[:1])[0], _expected_fixed(), atol=1e-6)
    # Another order moves the same outputs to other columns.
    other = load_nli(str(models["generic"]), labels="entailment,contradiction,neutral")
    np.testing.assert_allclose(
        other.predict(PAIRS[:1])[0], softmax(np.array([[0.0, 1.0, 2.0]]))[0], atol=1e-6
    )


def test_two_class_model_never_says_contradiction(models: dict[str, Path]) -> None:
    probs = load_nli(str(models["two-class"])).predict(PAIRS[:3])
    expected = softmax(np.array([[1.0, 0.0]]))[0]
    np.testing.assert_allclose(probs, [[expected[0], expected[1], 0.0]] * 3, atol=1e-6)


def test_batches_give_the_same_probabilities_as_one_by_one(models: dict[str, Path]) -> None:
    model = load_nli(str(models["varied"]), batch_size=2)
    batched = model.predict(PAIRS)
    single = np.vstack([model.predict([pair]) for pair in PAIRS])
    np.testing.assert_allclose(batched, single, atol=1e-5)
    np.testing.assert_allclose(batched.sum(axis=1), 1.0, atol=1e-9)
    # The weights read the text: the pairs do not all get the same probabilities.
    assert np.ptp(batched[:, 0]) > 0.01


def test_long_texts_are_truncated(models: dict[str, Path]) -> None:
    model = load_nli(str(models["varied"]))
    assert model.model.tokenizer.model_max_length == 64
    long = " ".join(["the report found rain"] * 100)
    probs = model.predict([(long, long), PAIRS[0]])
    assert probs.shape == (2, 3)
    np.testing.assert_allclose(probs.sum(axis=1), 1.0, atol=1e-9)


def test_max_length_falls_back_to_the_positions_then_512() -> None:
    from types import SimpleNamespace as NS

    unlimited = 10**30  # what transformers reports for a tokenizer saved without a limit
    model = NS(tokenizer=NS(model_max_length=unlimited), config=NS(max_position_embeddings=128))
    assert nli._cap_max_length(model) == 128 and model.tokenizer.model_max_length == 128
    model = NS(tokenizer=NS(model_max_length=unlimited), config=NS())
    assert nli._cap_max_length(model) == 512 and model.tokenizer.model_max_length == 512
    model = NS(tokenizer=NS(model_max_length=256), config=NS(max_position_embeddings=514))
    assert nli._cap_max_length(model) == 256


def test_missing_model_is_a_one_line_error(tmp_path: Path) -> None:
    with pytest.raises(InputError, match=r"^NLI model '.*nope' not found locally: ") as info:
        load_nli(str(tmp_path / "nope"))
    assert "\n" not in info.value.message
    # A hub name that is not in the local cache: no download is attempted.
    with pytest.raises(InputError, match="not found locally"):
        load_nli("no-such-org/no-such-nli-model")
    # A folder that is not a model.
    (tmp_path / "empty").mkdir()
    with pytest.raises(InputError, match="cannot be loaded"):
        load_nli(str(tmp_path / "empty"))


# ----- configuration -----------------------------------------------------------------------


def test_model_name_precedence(monkeypatch: pytest.MonkeyPatch) -> None:
    settings = Settings(nli_model="from-config")
    monkeypatch.delenv("WORKBENCH_NLI_MODEL", raising=False)
    assert nli_model_name(None, Settings()) is None
    assert nli_model_name(None, settings) == "from-config"
    monkeypatch.setenv("WORKBENCH_NLI_MODEL", "from-env")
    assert nli_model_name(None, settings) == "from-env"
    assert nli_model_name("explicit", settings) == "explicit"


def test_hints_table_in_config(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("XDG_CONFIG_HOME", str(tmp_path / "xdg"))
    config = tmp_path / "config.toml"
    monkeypatch.setenv("WORKBENCH_CONFIG", str(config))
    config.write_text('[hints]\nnli_model = "/m/nli"\nnli_labels = "a,b,c"\n', encoding="utf-8")
    settings = load_settings()
    assert (settings.nli_model, settings.nli_labels) == ("/m/nli", "a,b,c")
    config.write_text("[hints]\nnli_model = 3\n", encoding="utf-8")
    with pytest.raises(InputError, match=r"hints\.nli_model must be a string"):
        load_settings()


def test_open_nli_warns_once_without_a_model(
    models: dict[str, Path], monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.delenv("WORKBENCH_NLI_MODEL", raising=False)
    monkeypatch.setattr(nli, "_warned_no_model", False)
    warnings: list[str] = []
    assert open_nli(None, Settings(), warnings.append) is None
    assert open_nli(None, Settings(), warnings.append) is None
    assert warnings == [NO_MODEL_WARNING]
    assert "no NLI model configured" in NO_MODEL_WARNING
    settings = Settings(
        nli_model=str(models["generic"]), nli_labels="contradiction,entailment,neutral"
    )
    model = open_nli(None, settings, warnings.append)
    assert model is not None and model.columns == [2, 0, 1]
    assert warnings == [NO_MODEL_WARNING]


def test_importing_the_module_does_not_import_torch() -> None:
    code = "import sys, workbench.hints.nli; print('torch' in sys.modules)"
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True)
    assert out.stdout.strip() == "False"
