"""Provides the cross-language ranking stage: one order for candidates of both languages.

The learned re-ranker (`rerank.py`) reorders only the candidates in the claim's language; a
French claim's English passages keep the places the fusion gave them, so a French near miss
(the same words, another date or person) could stay above the English passage that states
the claim's fact. This stage orders the top of the list whatever each passage's language,
on features that mean the same in both: the multilingual model's similarity (the sentence
and its focus clause), the position the earlier stages gave, and how many of the claim's
facts the passage holds after normalisation (bridge tokens: dates, months, years, numbers,
places, names), with a mark for a fact of the same kind that differs (a near miss's changed
date). No feature says which language a passage is in.

It applies where the top of the list holds a passage in another language than the claim's:
a list that mixes languages, or a French claim's list of English passages only (there the
re-ranker, made for same-language pairs, leaves the fusion's order). A list in the claim's
language (English fact-checks for English tweets, French claims for French posts) keeps the
order of the earlier stages. The weights are a logistic model trained by
`bench/train_crossrank.py` on the frozen cross-lingual development set
(`bench/data/xling-dev`), shipped as JSON (`workbench/model/crossrank.json`).
"""

from __future__ import annotations

import json
import math
import re
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, replace
from functools import lru_cache
from pathlib import Path
from typing import Any

from workbench.errors import WorkbenchError
from workbench.models import Hit

MODEL_PATH = Path(__file__).parent / "model" / "crossrank.json"
_POSSESSIVE = re.compile(r"['’]s$")
# Kinds of bridge token, by their prefix (see `index.bridge.bridge_tokens`); the rest are
# names and places.
KINDS = {"d": "date", "m": "month", "y": "year", "n": "number", "@": "place"}
FACT_KINDS = ("date", "month", "year", "number", "place", "name")
FEATURES = [
    "position_rr",
    "dense",
    "dense_gap",
    "focus",
    "focus_gap",
    *(f"{kind}_cover" for kind in FACT_KINDS),
    *(f"{kind}_differs" for kind in ("date", "month", "year", "number")),
    "facts_cover",
    "facts_missing",
]


def _kind(token: str) -> str:
    head = token[:1]
    if head in KINDS and (head == "@" or token[1:2].isdigit()):
        return KINDS[head]
    return "name"


@lru_cache(maxsize=50_000)
def facts(text: str, lang: str) -> dict[str, frozenset[str]]:
    """A text's bridge tokens by kind (memoised: passages recur across claims)."""
    from workbench.index.bridge import bridge_tokens

    out: dict[str, set[str]] = {kind: set() for kind in FACT_KINDS}
    for token in bridge_tokens(text, lang):
        # "Mueller's team" names Mueller: the index keeps the possessive in its token, a
        # fact is the name.
        token = _POSSESSIVE.sub("", token)
        out[_kind(token)].add(token)
    return {kind: frozenset(tokens) for kind, tokens in out.items()}


def features(
    claim: str,
    claim_lang: str,
    hits: Sequence[Hit],
    texts: Mapping[int, str],
    langs: Mapping[int, str],
    dense: str,
) -> list[list[float]]:
    """One row of FEATURES per hit, in the hits' order (`dense`: the multilingual model's
    source name; its focus source is `dense:focus`)."""
    wanted = facts(claim, claim_lang)
    scores = [float(h.signals.get(dense, 0.0)) for h in hits]
    focus = [float(h.signals.get(f"{dense}:focus", 0.0)) for h in hits]
    best, best_focus = max(scores, default=0.0), max(focus, default=0.0)
    asked = sum(len(tokens) for tokens in wanted.values())
    rows = []
    for position, hit in enumerate(hits):
        held = facts(texts.get(hit.passage_id, ""), langs.get(hit.passage_id, ""))
        row = [
            1.0 / (position + 1),
            scores[position],
            scores[position] - best,
            focus[position],
            focus[position] - best_focus,
        ]
        found = 0
        for kind in FACT_KINDS:
            mine = wanted[kind]
            shared = len(mine & held[kind])
            found += shared
            # A kind the claim does not name says nothing: neutral 0.5, not a miss.
            row.append(shared / len(mine) if mine else 0.5)
        for kind in ("date", "month", "year", "number"):
            mine, theirs = wanted[kind], held[kind]
            # The passage names facts of this kind, and none of the claim's: a changed date
            # or figure, what a near miss looks like.
            row.append(float(bool(mine) and bool(theirs) and not (mine & theirs)))
        row.append(found / asked if asked else 0.5)
        row.append(float(asked - found))
        rows.append(row)
    return rows


@dataclass(frozen=True)
class CrossRanker:
    """A logistic model over FEATURES (standardised), applied to the top `depth` hits."""

    mean: tuple[float, ...]
    scale: tuple[float, ...]
    weights: tuple[float, ...]
    bias: float
    depth: int
    meta: dict[str, Any]

    def score(self, rows: Sequence[Sequence[float]]) -> list[float]:
        out = []
        for row in rows:
            z = sum(
                w * (x - m) / s
                for w, x, m, s in zip(self.weights, row, self.mean, self.scale, strict=True)
            )
            out.append(1.0 / (1.0 + math.exp(-(z + self.bias))))
        return out

    def applies(self, claim_lang: str, hits: Sequence[Hit], langs: Mapping[int, str]) -> bool:
        """Only for claims in a language it was trained on (`meta["languages"]`: French; an
        English claim over a mixed corpus is a case no figure covers yet), and only where the
        top of the list holds a passage in another language than the claim's (see module
        doc): a list in the claim's language is left to the stages made for one language."""
        trained = self.meta.get("languages")
        if trained and claim_lang not in trained:
            return False
        return any(langs.get(h.passage_id, "") != claim_lang for h in hits[: self.depth])

    def rerank(
        self,
        claim: str,
        claim_lang: str,
        hits: Sequence[Hit],
        texts: Mapping[int, str],
        langs: Mapping[int, str],
        dense: str,
    ) -> list[Hit]:
        """`hits` with its top `depth` in this stage's order; the rest as they were. Each
        slot keeps its score (scores still decrease); the stage's probability goes to the
        hit's signals as `crossrank`."""
        if not self.applies(claim_lang, hits, langs):
            return list(hits)
        top = list(hits[: self.depth])
        probs = self.score(features(claim, claim_lang, top, texts, langs, dense))
        order = sorted(range(len(top)), key=lambda i: -probs[i])
        placed = [
            replace(
                top[index],
                score=top[slot].score,
                signals={**top[index].signals, "crossrank": round(probs[index], 6)},
            )
            for slot, index in enumerate(order)
        ]
        return placed + list(hits[self.depth :])


def train(
    rows: Sequence[Sequence[float]], labels: Sequence[int], c: float = 1.0
) -> tuple[list[float], list[float], list[float], float]:
    """(mean, scale, weights, bias) of an L2 logistic regression on standardised features
    (scikit-learn's, for the bench script; inference needs only the numbers)."""
    import numpy as np
    from sklearn.linear_model import LogisticRegression

    x = np.asarray(rows, dtype=np.float64)
    mean, scale = x.mean(axis=0), x.std(axis=0)
    scale[scale < 1e-9] = 1.0
    model = LogisticRegression(C=c, max_iter=1000, class_weight="balanced")
    model.fit((x - mean) / scale, np.asarray(labels))
    return mean.tolist(), scale.tolist(), model.coef_[0].tolist(), float(model.intercept_[0])


def save(ranker: CrossRanker, path: Path = MODEL_PATH) -> None:
    data = {
        **ranker.meta,
        "features": FEATURES,
        "mean": [round(v, 8) for v in ranker.mean],
        "scale": [round(v, 8) for v in ranker.scale],
        "weights": [round(v, 8) for v in ranker.weights],
        "bias": round(ranker.bias, 8),
        "depth": ranker.depth,
    }
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(json.dumps(data, indent=2, ensure_ascii=False) + "\n", encoding="utf-8")


@lru_cache(maxsize=1)
def load(path: Path = MODEL_PATH) -> CrossRanker | None:
    """The shipped model, None when none is shipped; a damaged file is a clear error."""
    if not path.exists():
        return None
    try:
        data = json.loads(path.read_text(encoding="utf-8"))
        if data["features"] != FEATURES:
            raise WorkbenchError(f"{path} holds a model for other features; retrain it")
        meta = {k: v for k, v in data.items() if k not in ("mean", "scale", "weights", "bias")}
        return CrossRanker(
            tuple(map(float, data["mean"])),
            tuple(map(float, data["scale"])),
            tuple(map(float, data["weights"])),
            float(data["bias"]),
            int(data["depth"]),
            meta,
        )
    except (OSError, ValueError, KeyError, TypeError) as exc:
        raise WorkbenchError(f"cannot read the cross-language ranker {path}: {exc}") from exc
