"""Provides the training of the check-worthiness model: recipes, fitting, cross-validation.

scikit-learn fits each head (a logistic regression or a small MLP on standardised inputs); the
fitted weights become a `CheckworthyModel` of plain arrays. Training is deterministic: fixed
seeds and one BLAS thread, so that the same data gives the same bytes on a given machine.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, field
from typing import Any

import numpy as np

from workbench.extract.checkworthy import CheckworthyModel, Head, stack_inputs

SEED = 13


@dataclass(frozen=True)
class HeadRecipe:
    """How to fit one head: its inputs, the languages it may score, the estimator."""

    name: str
    inputs: tuple[str, ...]
    languages: tuple[str, ...] | None = None
    kind: str = "mlp"  # "mlp" or "lr"
    params: dict[str, Any] = field(default_factory=dict)
    seeds: int = 1  # an MLP head fitted with this many seeds, averaged (stored as sub-heads)


# The shipped recipe: heads averaged per language. The "use" heads score every language (the
# embedding is multilingual); the MiniLM head only English, where it adds a second view.
RECIPE = (
    HeadRecipe(
        "use+rules",
        ("use", "rules"),
        None,
        "mlp",
        {"hidden_layer_sizes": (256,), "alpha": 1.0, "early_stopping": True},
        seeds=3,
    ),
    HeadRecipe(
        "minilm+rules",
        ("minilm", "rules"),
        ("en",),
        "mlp",
        {"hidden_layer_sizes": (256,), "alpha": 1.0, "early_stopping": True},
        seeds=3,
    ),
)


def _estimator(recipe: HeadRecipe, seed: int) -> Any:
    from sklearn.linear_model import LogisticRegression
    from sklearn.neural_network import MLPClassifier

    if recipe.kind == "lr":
        return LogisticRegression(max_iter=4000, **recipe.params)
    if recipe.kind == "mlp":
        params = {"hidden_layer_sizes": (256,), "alpha": 1e-2, "early_stopping": True}
        return MLPClassifier(random_state=seed, max_iter=300, **{**params, **recipe.params})
    raise ValueError(f"unknown head kind {recipe.kind!r}")


def fit_head(recipe: HeadRecipe, x: np.ndarray, y: np.ndarray, seed: int = SEED) -> list[Head]:
    """Fit one recipe on inputs `x` (its inputs stacked) and labels `y`; several seeds give
    several heads whose mean is the recipe's prediction."""
    from threadpoolctl import threadpool_limits

    mean = x.mean(axis=0)
    scale = x.std(axis=0)
    scale[scale == 0] = 1.0
    z = (x - mean) / scale
    heads = []
    with threadpool_limits(1):
        for offset in range(recipe.seeds if recipe.kind == "mlp" else 1):
            estimator = _estimator(recipe, seed + offset)
            estimator.fit(z, y)
            name = recipe.name if recipe.seeds == 1 else f"{recipe.name}#{offset}"
            heads.append(head_from_estimator(name, recipe, mean, scale, estimator))
    return heads


def head_from_estimator(
    name: str, recipe: HeadRecipe, mean: np.ndarray, scale: np.ndarray, estimator: Any
) -> Head:
    """A fitted LogisticRegression or MLPClassifier (on standardised inputs) as plain arrays."""
    if hasattr(estimator, "coefs_"):
        layers = list(zip(estimator.coefs_, estimator.intercepts_, strict=True))
    else:
        layers = [(estimator.coef_.T, estimator.intercept_)]
    return Head(
        name,
        recipe.inputs,
        frozenset(recipe.languages) if recipe.languages is not None else None,
        mean.astype(np.float32),
        scale.astype(np.float32),
        tuple((w.astype(np.float32), b.astype(np.float32)) for w, b in layers),
    )


def train_model(
    recipes: Sequence[HeadRecipe],
    features: dict[str, np.ndarray],
    labels: np.ndarray,
    meta: dict[str, Any] | None = None,
    seed: int = SEED,
) -> CheckworthyModel:
    """Fit every recipe on all rows; the model predicts the mean over heads for a language.

    Heads from a multi-seed recipe are weighted so that each recipe counts once."""
    heads: list[Head] = []
    for recipe in recipes:
        heads.extend(fit_head(recipe, stack_inputs(features, recipe.inputs), labels, seed))
    return CheckworthyModel(tuple(heads), dict(meta or {}))


def cross_validate(
    recipes: Sequence[HeadRecipe],
    features: dict[str, np.ndarray],
    labels: np.ndarray,
    lang: str = "en",
    folds: int = 4,
    seed: int = SEED,
) -> dict[str, float]:
    """Stratified k-fold F1 (check-worthy class) and macro-F1 at the 0.5 threshold, the
    out-of-fold probabilities (`oof`) and each fold's test rows (`folds`), so that a variant
    of the scoring (`fold_f1`) is measured on the same fits."""
    from sklearn.metrics import f1_score
    from sklearn.model_selection import StratifiedKFold

    splitter = StratifiedKFold(n_splits=folds, shuffle=True, random_state=seed)
    oof = np.zeros(len(labels), dtype=np.float64)
    f1s, macros, folds = [], [], []
    for train, test in splitter.split(np.zeros(len(labels)), labels):
        folds.append(test)
        part = {k: v[train] for k, v in features.items()}
        model = train_model(recipes, part, labels[train], seed=seed)
        probs = model.predict({k: v[test] for k, v in features.items()}, lang)
        oof[test] = probs
        predicted = (probs >= 0.5).astype(int)
        f1s.append(f1_score(labels[test], predicted))
        macros.append(f1_score(labels[test], predicted, average="macro"))
    return {
        "f1": float(np.mean(f1s)),
        "macro_f1": float(np.mean(macros)),
        "oof": oof,
        "folds": folds,
    }


def fold_f1(
    probs: np.ndarray, labels: np.ndarray, folds: Sequence[np.ndarray], threshold: float = 0.5
) -> dict[str, float]:
    """F1 and macro-F1 of out-of-fold probabilities, averaged over folds as `cross_validate`."""
    from sklearn.metrics import f1_score

    f1s, macros = [], []
    for test in folds:
        predicted = (probs[test] >= threshold).astype(int)
        f1s.append(f1_score(labels[test], predicted))
        macros.append(f1_score(labels[test], predicted, average="macro"))
    return {"f1": float(np.mean(f1s)), "macro_f1": float(np.mean(macros))}
