"""Provides a pluggable NLI model: any local cross-encoder, its labels mapped to a fixed order."""

from __future__ import annotations

import inspect
import os
import re
from collections.abc import Callable, Mapping, Sequence
from pathlib import Path
from typing import TYPE_CHECKING, Any

import numpy as np

from workbench.errors import InputError

if TYPE_CHECKING:
    from workbench.settings import Settings

ENTAILMENT = "entailment"
NEUTRAL = "neutral"
CONTRADICTION = "contradiction"
# The column order of every probability array this module returns, whatever the model's.
NLI_LABELS = (ENTAILMENT, NEUTRAL, CONTRADICTION)

NO_MODEL_WARNING = (
    "no NLI model configured: verdict hints use the agreement signals only "
    "(set --nli-model or [hints] nli_model)"
)
# Tokenizers saved without a limit report a huge sentinel (transformers' VERY_LARGE_INTEGER).
FALLBACK_MAX_LENGTH = 512
_NO_LIMIT = 100_000

# Label spellings seen in NLI and fact-verification models, after _normal_label().
# "not_entailment" (RTE/QNLI-style two-class models) means "not shown", which is neutral
# here: such a model never says contradiction, so that column stays 0.
_SYNONYMS = {
    ENTAILMENT: {"entailment", "entailed", "entails", "entail", "supports", "support", "supported"},
    NEUTRAL: {
        "neutral",
        "nei",
        "not_enough_info",
        "not_enough_information",
        "notenoughinfo",
        "unknown",
        "undetermined",
        "not_entailment",
        "non_entailment",
        "not_entailed",
    },
    CONTRADICTION: {
        "contradiction",
        "contradictory",
        "contradicts",
        "contradict",
        "contradicted",
        "refutes",
        "refute",
        "refuted",
    },
}
_CANONICAL = {spelling: label for label, spellings in _SYNONYMS.items() for spelling in spellings}

_warned_no_model = False


def _normal_label(label: str) -> str:
    return re.sub(r"[\s\-]+", "_", str(label).strip().lower())


def label_columns(
    id2label: Mapping[int, str] | Sequence[str], override: str | None = None
) -> list[int]:
    """For each model output (in the model's order), its column in NLI_LABELS.

    `id2label` is the model config's mapping (or the labels in output order); `override`, a
    comma-separated list in the model's output order, replaces it (for configs that say
    LABEL_0, LABEL_1, ...). Two-class models are accepted: "entailment, not_entailment" maps
    to entailment and neutral, and their contradiction probability is always 0. Labels that
    cannot be mapped are an InputError naming them.
    """
    if isinstance(id2label, Mapping):
        found = [str(id2label[key]) for key in sorted(id2label, key=int)]
    else:
        found = [str(label) for label in id2label]
    names = found
    if override:
        names = [part.strip() for part in override.split(",") if part.strip()]
        if len(names) != len(found):
            raise InputError(
                f"NLI labels {override!r} name {len(names)} outputs, but the model has "
                f"{len(found)} ({', '.join(found)})"
            )
    columns = [_CANONICAL.get(_normal_label(name)) for name in names]
    problem = ""
    if None in columns:
        unknown = [name for name, column in zip(names, columns, strict=True) if column is None]
        problem = "none is known" if len(unknown) == len(names) else f"unknown {', '.join(unknown)}"
    elif len(set(columns)) != len(columns):
        problem = "two outputs mean the same label"
    elif ENTAILMENT not in columns or len(columns) < 2:
        problem = "no entailment output next to another one"
    if problem:
        given = "given labels" if override else "labels"
        raise InputError(
            f"cannot map the NLI model's {given} ({', '.join(names)}) to "
            f"entailment/neutral/contradiction: "
            f"{problem}; give the model's output order with [hints] nli_labels, "
            "e.g. 'contradiction,entailment,neutral'"
        )
    return [NLI_LABELS.index(column) for column in columns]  # type: ignore[arg-type]


def softmax(logits: np.ndarray) -> np.ndarray:
    """Row-wise softmax, stable for large logits."""
    logits = np.asarray(logits, dtype=np.float64)
    shifted = np.exp(logits - logits.max(axis=1, keepdims=True))
    return shifted / shifted.sum(axis=1, keepdims=True)


class NLIModel:
    """A loaded cross-encoder whose outputs come back as (entailment, neutral, contradiction)."""

    def __init__(self, name: str, model: Any, columns: Sequence[int], batch_size: int = 16) -> None:
        self.name = name
        self.model = model
        self.columns = list(columns)
        self.batch_size = batch_size

    def predict(self, pairs: Sequence[tuple[str, str]]) -> np.ndarray:
        """Probabilities, shape (len(pairs), 3), columns in NLI_LABELS order.

        Each pair is (premise, hypothesis): for a claim and its evidence, (evidence, claim).
        """
        if not pairs:
            return np.zeros((0, len(NLI_LABELS)))
        logits = self._logits([[str(a), str(b)] for a, b in pairs])
        if logits.ndim != 2 or logits.shape[1] != len(self.columns):
            raise InputError(
                f"NLI model {self.name!r} returned scores of shape {logits.shape}, "
                f"expected ({len(pairs)}, {len(self.columns)})"
            )
        probs = softmax(logits)
        out = np.zeros((len(pairs), len(NLI_LABELS)))
        out[:, self.columns] = probs
        return out

    def _logits(self, pairs: list[list[str]]) -> np.ndarray:
        import torch

        # CrossEncoder.predict applies the model's saved activation (Identity for several
        # labels by default, but a saved config may name Softmax or Sigmoid): asking for the
        # raw logits and doing the softmax here is right in every version. The keyword was
        # renamed in sentence-transformers 4.
        params = inspect.signature(self.model.predict).parameters
        keyword = "activation_fn" if "activation_fn" in params else "activation_fct"
        scores = self.model.predict(
            pairs,
            batch_size=self.batch_size,
            show_progress_bar=False,
            convert_to_numpy=True,
            **{keyword: torch.nn.Identity()},
        )
        return np.asarray(scores, dtype=np.float64).reshape(len(pairs), -1)


def _local_path(ref: str) -> str:
    """The folder of a local model, or of a cached hub snapshot; never a download."""
    path = Path(ref).expanduser()
    if path.exists():
        return str(path)
    looks_like_path = ref.startswith((".", "/", "~")) or ref.endswith("/") or "\\" in ref
    if not looks_like_path:
        from workbench.embed import local_snapshot

        # sentence-transformers' own short names ("nli-deberta-v3-small") live under cross-encoder/.
        found = local_snapshot([ref] if "/" in ref else [ref, f"cross-encoder/{ref}"])
        if found:
            return found
    raise InputError(
        f"NLI model {ref!r} not found locally: no such folder, and not in the local model "
        "cache (the workbench never downloads models; pass the path of a saved model)"
    )


def _cap_max_length(model: Any) -> int:
    """Truncate inputs at the model's limit, or at 512 when the tokenizer names none."""
    tokenizer = getattr(model, "tokenizer", None)
    limit = getattr(tokenizer, "model_max_length", None)
    if not limit or limit > _NO_LIMIT:
        config = getattr(model, "config", None)
        positions = getattr(config, "max_position_embeddings", None)
        limit = positions if positions and 0 < positions <= _NO_LIMIT else FALLBACK_MAX_LENGTH
        if tokenizer is not None:
            tokenizer.model_max_length = limit
    return int(limit)


def load_nli(name_or_path: str, labels: str | None = None, batch_size: int = 16) -> NLIModel:
    """Load a sequence-classification NLI model by local path or cached name (never downloaded).

    `labels` overrides the config's id2label, in the model's output order (see label_columns).
    """
    # Models come from local paths or the cache: never reach for a hub at run time.
    os.environ.setdefault("HF_HUB_OFFLINE", "1")
    os.environ.setdefault("TRANSFORMERS_OFFLINE", "1")
    os.environ.setdefault("HF_HUB_DISABLE_PROGRESS_BARS", "1")
    os.environ.setdefault("TRANSFORMERS_VERBOSITY", "error")
    ref = _local_path(name_or_path)
    from sentence_transformers import CrossEncoder

    try:
        model = CrossEncoder(ref, local_files_only=True)
    except Exception as exc:  # the libraries raise many types for a broken or foreign folder
        first = str(exc).strip().splitlines()[0] if str(exc).strip() else type(exc).__name__
        raise InputError(f"NLI model {name_or_path!r} cannot be loaded: {first}") from exc
    config = getattr(model, "config", None)
    columns = label_columns(getattr(config, "id2label", None) or {}, labels)
    _cap_max_length(model)
    return NLIModel(name_or_path, model, columns, batch_size)


def nli_model_name(explicit: str | None, settings: Settings) -> str | None:
    """--nli-model, else $WORKBENCH_NLI_MODEL, else `[hints] nli_model`; None when unset."""
    for value in (explicit, os.environ.get("WORKBENCH_NLI_MODEL"), settings.nli_model):
        if value and value.strip():
            return value.strip()
    return None


def nli_spec(
    explicit: str | None, settings: Settings, warn: Callable[[str], None]
) -> tuple[str, str | None] | None:
    """(local path, label override) of the configured NLI model, checked to exist here, or
    None after telling `warn` once per process that none is configured. What a worker
    process needs to load the same model (`load_nli(*spec)`)."""
    global _warned_no_model
    name = nli_model_name(explicit, settings)
    if name is None:
        if not _warned_no_model:
            _warned_no_model = True
            warn(NO_MODEL_WARNING)
        return None
    return _local_path(name), settings.nli_labels or None


def open_nli(
    explicit: str | None, settings: Settings, warn: Callable[[str], None]
) -> NLIModel | None:
    """The configured NLI model, or None after telling `warn` once per process that none is."""
    spec = nli_spec(explicit, settings, warn)
    return load_nli(*spec) if spec is not None else None
