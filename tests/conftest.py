"""Provides shared fixtures: an isolated workspace per test and small evidence files."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

FIXTURES = Path(__file__).parent / "fixtures"


@pytest.fixture(autouse=True)
def _isolated(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    # Every test gets its own workspace folder and never reaches a model hub.
    monkeypatch.setenv("WORKBENCH_HOME", str(tmp_path / "ws"))
    monkeypatch.setenv("HF_HUB_OFFLINE", "1")
    monkeypatch.setenv("TRANSFORMERS_OFFLINE", "1")


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


@pytest.fixture
def evidence_file(tmp_path: Path) -> Path:
    path = tmp_path / "evidence.jsonl"
    path.write_text(
        "".join(json.dumps(r, ensure_ascii=False) + "\n" for r in MINI_EVIDENCE), encoding="utf-8"
    )
    return path


@pytest.fixture
def seed_article() -> Path:
    return FIXTURES / "sotchi-poutine-pompeo.fr.txt"
