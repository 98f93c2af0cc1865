"""Tests that the review UI stays a layer over the core: only workbench.review imports Textual."""

from __future__ import annotations

import re
import subprocess
import sys
from pathlib import Path

PACKAGE = Path(__file__).resolve().parent.parent / "workbench"
REVIEW = PACKAGE / "review"
TEXTUAL_IMPORT = re.compile(r"^\s*(from|import)\s+textual\b", re.MULTILINE)
SQL = re.compile(r"\b(SELECT|INSERT|UPDATE|DELETE)\b")


def test_core_modules_do_not_import_textual() -> None:
    outside = [
        path.relative_to(PACKAGE.parent)
        for path in PACKAGE.rglob("*.py")
        if REVIEW not in path.parents and TEXTUAL_IMPORT.search(path.read_text(encoding="utf-8"))
    ]
    assert outside == []


def test_the_core_runs_without_textual() -> None:
    code = (
        "import sys\n"
        "import workbench.cli, workbench.queue, workbench.verdicts, workbench.match\n"
        "import workbench.export, workbench.retrieve, workbench.settings\n"
        "print(sorted(m for m in sys.modules if m == 'textual' or m.startswith('textual.')))\n"
    )
    out = subprocess.run(
        [sys.executable, "-c", code], capture_output=True, text=True, check=True
    ).stdout
    assert out.strip() == "[]"


def test_the_ui_writes_no_sql() -> None:
    # Every query lives in the core (store/, queue.py, verdicts.py).
    with_sql = sorted(
        path.name for path in REVIEW.rglob("*.py") if SQL.search(path.read_text(encoding="utf-8"))
    )
    assert with_sql == []


def test_the_first_screen_loads_no_heavy_library() -> None:
    # What the review UI imports before its first screen, and what showing a claim's shared
    # terms needs: bm25s's package start-up alone (numba, llvmlite, scipy) cost 0.3-0.5 s.
    code = (
        "import sys\n"
        "import workbench.review.app\n"
        "from workbench.review.highlight import terms\n"
        "terms('M. Poutine a rencontré Mike Pompeo à Sotchi le 14 mai 2019.', 'fr')\n"
        "heavy = ('bm25s', 'numba', 'scipy', 'torch', 'sentence_transformers', 'faiss')\n"
        "print(sorted(m for m in heavy if m in sys.modules))\n"
    )
    out = subprocess.run(
        [sys.executable, "-c", code], capture_output=True, text=True, check=True
    ).stdout
    assert out.strip() == "[]"


def test_the_stop_words_are_bm25s_lists() -> None:
    from bm25s.stopwords import STOPWORDS_EN, STOPWORDS_FRENCH

    from workbench.index.tokens import _fold, _stopwords

    assert _stopwords() == frozenset(_fold(w) for w in (*STOPWORDS_EN, *STOPWORDS_FRENCH))
