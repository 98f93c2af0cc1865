"""Provides small test data: evidence records, and a workspace built without models."""

from __future__ import annotations

import asyncio
import functools
from collections.abc import Awaitable, Callable
from pathlib import Path
from typing import Any

from workbench.embed import HashingEmbedder
from workbench.index import store
from workbench.ingest import ingest
from workbench.match import add_article, match_claims
from workbench.retrieve import Retriever
from workbench.workspace import Workspace


def run_async(test: Callable[..., Awaitable[None]]) -> Callable[..., None]:
    """Run an async test on its own event loop, without an async pytest plugin."""

    @functools.wraps(test)
    def wrapper(*args: Any, **kwargs: Any) -> None:
        asyncio.run(test(*args, **kwargs))

    return wrapper


def record_notes(app: Any) -> list[tuple[str, str]]:
    """Record a Textual app's notifications as (severity, message), still showing them."""
    seen: list[tuple[str, str]] = []
    original = app.notify

    def notify(message: str, *, severity: str = "information", **kwargs: Any) -> None:
        seen.append((severity, message))
        original(message, severity=severity, **kwargs)

    app.notify = notify
    return seen


def hash_retriever(ws: Workspace) -> Retriever:
    """The workspace's retriever over the 64-dimension hashing embedder the tests ingest with."""
    return Retriever([HashingEmbedder(64)], store.load(ws, ws.get_meta("models")))


def build_workspace(
    root: Path, evidence: Path, article: Path, url: str = "", published: str = ""
) -> Workspace:
    """Ingest `evidence`, extract and match `article`'s claims; return the open workspace."""
    ws = Workspace.open(root, create=True)
    embedders = [HashingEmbedder(64)]
    ingest(ws, [evidence], embedders)
    match_claims(ws, hash_retriever(ws), add_article(ws, article, url, published), 3)
    return ws


# Six short passages, French and English, answers and near misses for the seed article.
MINI_EVIDENCE = [
    {
        "id": "en-sochi",
        "title": "Pompeo meets Putin in Sochi",
        "text": "Mike Pompeo met Vladimir Putin in Sochi on 14 May 2019 to discuss relations.",
        "url": "https://example.org/sochi",
        "publisher": "Example",
        "published": "2019-05-14",
        "lang": "en",
    },
    {
        "id": "en-call",
        "title": "Trump and Putin phone call",
        "text": "Donald Trump and Vladimir Putin spoke by phone on 3 May 2019 for over an hour.",
        "url": "https://example.org/call",
        "publisher": "Example",
        "published": "2019-05-03",
        "lang": "en",
    },
    {
        "id": "en-mueller",
        "title": "What the special counsel found",
        "text": "The Mueller report did not establish that the campaign conspired or "
        "coordinated with the Russian government.",
        "url": "https://example.org/mueller",
        "publisher": "Example",
        "published": "2019-04-18",
        "lang": "en",
    },
    {
        "id": "en-osaka",
        "title": "Trump and Putin meet at the G20 in Osaka",
        "text": "Trump and Putin met on 28 June 2019 at the G20 summit in Osaka, Japan.",
        "url": "https://example.org/osaka",
        "publisher": "Example",
        "published": "2019-06-28",
        "lang": "en",
    },
    {
        "id": "fr-helsinki",
        "title": "Sommet d'Helsinki",
        "text": "Vladimir Poutine et Donald Trump se sont rencontrés à Helsinki "
        "le 16 juillet 2018.",
        "url": "https://example.org/helsinki",
        "publisher": "Exemple",
        "published": "2018-07-16",
        "lang": "fr",
    },
    {
        "id": "fr-sotchi-kerry",
        "title": "Kerry à Sotchi",
        "text": "John Kerry a rencontré Vladimir Poutine à Sotchi le 12 mai 2015.",
        "url": "https://example.org/kerry",
        "publisher": "Exemple",
        "published": "2015-05-12",
        "lang": "fr",
    },
]
