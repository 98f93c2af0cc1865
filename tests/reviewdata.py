"""Provides a small reviewed-ready workspace built without models (hashing embedder)."""

from __future__ import annotations

from pathlib import Path

from workbench.embed import HashingEmbedder
from workbench.index import store
from workbench.ingest import ingest
from workbench.match import add_article, match_claims
from workbench.retrieve import Retriever
from workbench.workspace import Workspace


def build_workspace(
    root: Path, evidence: Path, article: Path, url: str = "", published: str = ""
) -> Workspace:
    """Ingest `evidence`, extract and match `article`'s claims; return the open workspace."""
    ws = Workspace.open(root, create=True)
    embedders = [HashingEmbedder(64)]
    ingest(ws, [evidence], embedders)
    retriever = Retriever(embedders, store.load(ws, ws.get_meta("models")))
    match_claims(ws, retriever, add_article(ws, article, url, published), 3)
    return ws
