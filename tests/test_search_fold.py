"""Tests of the review queue's search: it ignores case and accents, and wildcards are literal."""

from __future__ import annotations

import json
import os
from pathlib import Path

import pytest
from typer.testing import CliRunner

from workbench import verdicts
from workbench.cli import app
from workbench.queue import list_queue
from workbench.store.connection import DB_NAME, connect
from workbench.textfold import fold
from workbench.workspace import Workspace

CLAIMS = [
    "La réunion de Sotchi a duré trois heures.",  # 1
    "Pompeo est reparti de SOTCHI le lendemain.",  # 2
    "Le taux de chômage a baissé de 100% en un an.",  # 3
    "Le ministère dit que le taux_de_change a doublé.",  # 4
    "Une œuvre d'art a été offerte à Straße.",  # 5
]


def _add_claims(ws: Workspace) -> None:
    text = " ".join(CLAIMS)
    spans, start = [], 0
    for claim in CLAIMS:
        spans.append({"text": claim, "start": start, "end": start + len(claim)})
        start += len(claim) + 1
    ws.add_article("sotchi", "sotchi.txt", "h1", "fr", text, spans)


@pytest.fixture
def ws(tmp_path: Path) -> Workspace:
    ws = Workspace.open(tmp_path / "ws", create=True)
    _add_claims(ws)
    return ws


def _found(ws: Workspace, search: str) -> list[int]:
    return [row.claim_id for row in list_queue(ws, search=search)]


def test_fold_drops_case_accents_and_spells_out_letters() -> None:
    assert fold("RÉUNION") == fold("Réunion") == fold("reunion") == "reunion"
    assert fold("Œuvre") == "oeuvre"
    assert fold("Straße") == "strasse"
    assert fold("ﬁn") == "fin"
    assert fold("Łódź") == "lodz"
    assert fold("Москва") == "москва"


@pytest.mark.parametrize("search", ["réunion", "reunion", "RÉUNION", "Réunion", "REUNION"])
def test_search_ignores_case_and_accents(ws: Workspace, search: str) -> None:
    assert _found(ws, search) == [1]


@pytest.mark.parametrize("search", ["Sotchi", "sotchi", "SÔTCHI"])
def test_search_finds_every_casing(ws: Workspace, search: str) -> None:
    assert _found(ws, search) == [1, 2]


def test_search_spells_out_ligatures_and_sharp_s(ws: Workspace) -> None:
    assert _found(ws, "oeuvre") == [5]
    assert _found(ws, "STRASSE") == [5]
    assert _found(ws, "chomage") == [3]


def test_wildcards_typed_by_the_user_match_themselves(ws: Workspace) -> None:
    assert _found(ws, "%") == [3]
    assert _found(ws, "100%") == [3]
    assert _found(ws, "taux_") == [4]  # not 'taux ' of claim 3
    assert _found(ws, "_") == [4]
    assert _found(ws, "\\") == []


def test_search_folds_the_note_too(ws: Workspace) -> None:
    verdicts.set_note(ws, 2, "Vérifié auprès de l'Élysée.", "ana")
    assert _found(ws, "ELYSEE") == [2]


def test_a_read_only_connection_can_fold(ws: Workspace) -> None:
    conn = connect(ws.root / DB_NAME, read_only=True)
    try:
        assert conn.execute("SELECT wb_fold('RÉUNION'), wb_fold(NULL)").fetchone() == (
            "reunion",
            None,
        )
    finally:
        conn.close()


def test_cli_claims_search_folds_through_the_entry_point() -> None:
    with Workspace.open(Path(os.environ["WORKBENCH_HOME"]), create=True) as ws:
        _add_claims(ws)
    result = CliRunner().invoke(app, ["claims", "--search", "reunion"])
    assert result.exit_code == 0, result.output
    records = [json.loads(line) for line in result.stdout.splitlines() if line.strip()]
    assert [(r["claim_id"], r["claim"]) for r in records] == [(1, CLAIMS[0])]
