"""Tests for the learned check-worthiness model: arrays on disk, numpy inference, deterministic
training on a slice of ClaimBuster, the shipped model on the seed article."""

from __future__ import annotations

import json
from pathlib import Path

import numpy as np
import pytest

from workbench.embed import HashingEmbedder
from workbench.errors import WorkbenchError
from workbench.extract.checkworthy import (
    RULE_FEATURES,
    LearnedScorer,
    load_model,
    rule_matrix,
    rule_vector,
    save_model,
)
from workbench.extract.training import (
    HeadRecipe,
    cross_validate,
    head_from_estimator,
    train_model,
)

# Small slices and few iterations: an unconverged fit is still a deterministic one.
pytestmark = pytest.mark.filterwarnings("ignore:Stochastic Optimizer")
SLICE = Path(__file__).parent / "fixtures" / "claimbuster-slice.jsonl"
SEED = Path(__file__).parent / "fixtures" / "sotchi-poutine-pompeo.fr.txt"
# Fast recipes over features that need no model: hashed words stand in for an embedding.
RECIPES = (
    HeadRecipe("hash+rules", ("use", "rules"), None, "mlp",
               {"hidden_layer_sizes": (16,), "alpha": 1.0, "early_stopping": False}, seeds=2),
    HeadRecipe("rules-en", ("rules",), ("en",), "lr", {"C": 1.0}),
)  # fmt: skip


@pytest.fixture(scope="module")
def data() -> tuple[list[str], np.ndarray, dict[str, np.ndarray]]:
    records = [json.loads(line) for line in SLICE.read_text(encoding="utf-8").splitlines()]
    texts = [r["text"] for r in records]
    labels = np.array([r["label"] for r in records])
    features = {"use": HashingEmbedder(64).encode(texts), "rules": rule_matrix(texts, "en")}
    return texts, labels, features


def test_rule_vector_has_the_model_columns() -> None:
    row = rule_vector("Unemployment fell to 3.6 percent in April 2019, the ministry said.", "en")
    assert len(row) == len(RULE_FEATURES) + 3
    named = dict(zip(RULE_FEATURES, row, strict=False))
    assert named["contains a date"] == named["contains a number"] == 1.0
    assert named["contains a quantity or comparison"] == 1.0
    assert named["hope or wish"] == 0.0
    rejected = rule_vector("Is this true?", "en")
    assert rejected[-2] == 1.0 and rejected[-3] == 0.0  # filtered, score 0


def test_numpy_inference_equals_scikit_learn(data) -> None:
    from sklearn.linear_model import LogisticRegression
    from sklearn.neural_network import MLPClassifier

    _texts, labels, features = data
    x = np.hstack([features["use"], features["rules"]]).astype(np.float32)
    mean, scale = x.mean(axis=0), x.std(axis=0) + 1e-3
    z = (x - mean) / scale
    recipe = HeadRecipe("h", ("use", "rules"))
    for estimator in (
        MLPClassifier(hidden_layer_sizes=(16, 8), alpha=1.0, random_state=5, max_iter=300),
        LogisticRegression(C=0.5, max_iter=2000),
    ):
        estimator.fit(z, labels)
        head = head_from_estimator("h", recipe, mean, scale, estimator)
        expected = estimator.predict_proba(z)[:, 1]
        assert np.allclose(head.predict(x), expected, atol=1e-5)


def test_training_is_deterministic_and_round_trips_through_plain_arrays(
    data, tmp_path: Path
) -> None:
    _texts, labels, features = data
    first = train_model(RECIPES, features, labels, meta={"threshold": 0.5})
    second = train_model(RECIPES, features, labels, meta={"threshold": 0.5})
    for a, b in zip(first.heads, second.heads, strict=True):
        for (wa, ba), (wb, bb) in zip(a.layers, b.layers, strict=True):
            assert np.array_equal(wa, wb) and np.array_equal(ba, bb)
    save_model(first, tmp_path)
    with np.load(tmp_path / "checkworthy.npz", allow_pickle=False) as arrays:
        assert all(arrays[key].dtype == np.float32 for key in arrays.files)
    loaded = load_model(tmp_path)
    assert [h.name for h in loaded.heads] == ["hash+rules#0", "hash+rules#1", "rules-en"]
    for lang in ("en", "fr"):
        assert np.allclose(first.predict(features, lang), loaded.predict(features, lang))
    # French gets only the multilingual heads; English the mean of both recipes.
    assert not np.allclose(loaded.predict(features, "en"), loaded.predict(features, "fr"))


def test_cross_validation_learns_something_on_the_slice(data) -> None:
    _texts, labels, features = data
    result = cross_validate(RECIPES[1:], features, labels, lang="en")
    assert 0.4 < result["f1"] <= 1.0 and 0.5 < result["macro_f1"] <= 1.0
    assert result["oof"].shape == labels.shape


def test_a_damaged_or_foreign_model_is_a_clear_error(data, tmp_path: Path) -> None:
    with pytest.raises(WorkbenchError, match="cannot read the check-worthiness model"):
        load_model(tmp_path)
    _texts, labels, features = data
    save_model(train_model(RECIPES[1:], features, labels), tmp_path)
    meta = json.loads((tmp_path / "checkworthy.json").read_text())
    meta["rule_features"] = ["something else"]
    (tmp_path / "checkworthy.json").write_text(json.dumps(meta))
    with pytest.raises(WorkbenchError, match="other rule features"):
        load_model(tmp_path)


def test_scorer_uses_handed_in_embedders(data, tmp_path: Path) -> None:
    _texts, labels, features = data
    save_model(train_model(RECIPES, features, labels, meta={"min_score": 0.3}), tmp_path)
    scorer = LearnedScorer(load_model(tmp_path), embedders={"use": HashingEmbedder(64)})
    assert scorer.min_score == 0.3
    scores = scorer.score(["Unemployment fell to 3.6 percent in April.", "I hope so."], "en")
    assert len(scores) == 2 and all(0.0 <= s <= 1.0 for s in scores)
    assert scorer.score([], "fr") == []


@pytest.mark.slow
def test_shipped_model_scores_the_seed_key_claims_check_worthy_and_the_hope_not() -> None:
    # The queue lists claims in reading order, so what counts is which side of the threshold
    # a claim falls (since the rules for dated and public statements joined the model's
    # inputs, the Sochi claim is 7th of 11 by score, at 0.69: check-worthy all the same).
    from workbench.extract.pipeline import extract_article

    text = SEED.read_text(encoding="utf-8")
    scorer = LearnedScorer()
    claims = extract_article(text, published="2019-05-15", scorer=scorer, min_score=0.0)
    hope = next(c for c in claims if "J'espère" in c.text)
    first_person = next(c for c in claims if "Pour notre part" in c.text)
    for fragment in ("du 3 mai", "absence de toute collusion", "G20 à Osaka", "mardi à Sotchi"):
        key = next(c for c in claims if fragment in c.text)
        assert key.score >= scorer.model.threshold > hope.score, (fragment, key.score)
    assert max(hope.score, first_person.score) < scorer.min_score
