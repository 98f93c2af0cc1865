"""Provides shared fixtures: an isolated workspace per test and small evidence files."""

from __future__ import annotations

import json
from pathlib import Path

import pytest
from reviewdata import MINI_EVIDENCE

FIXTURES = Path(__file__).parent / "fixtures"


@pytest.fixture(autouse=True)
def _isolated(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    # Every test gets its own workspace folder and never reaches a model hub.
    monkeypatch.setenv("WORKBENCH_HOME", str(tmp_path / "ws"))
    monkeypatch.setenv("HF_HUB_OFFLINE", "1")
    monkeypatch.setenv("TRANSFORMERS_OFFLINE", "1")


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
