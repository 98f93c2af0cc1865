"""Tests bench/startup.py: it finds the first claim on a real pty's screen, and it times it."""

from __future__ import annotations

import importlib.util
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
_spec = importlib.util.spec_from_file_location("bench_startup", ROOT / "bench/startup.py")
assert _spec is not None and _spec.loader is not None
startup = importlib.util.module_from_spec(_spec)
sys.modules[_spec.name] = startup  # dataclasses look their module up while it runs
_spec.loader.exec_module(startup)


def test_visible_text_joins_a_fragment_split_by_styles() -> None:
    # As Textual writes a row: a cursor move, then spans each with its own SGR codes.
    raw = (
        "\x1b[?2026h\x1b[7;3H\x1b[1;7mthe quokka \x1b[0m\x1b[38;5;253;48;5;16mferry"
        "\x1b[0m\x1b[2m charter\x1b[0m\x1b]8;;https://x\x1b\\link\x1b]8;;\x1b\\\x1b[?2026l"
    )
    assert "quokka ferry charter" not in raw
    assert "quokka ferry charter" in startup.visible_text(raw)
    assert "link" in startup.visible_text(raw)


def test_visible_text_keeps_rows_apart() -> None:
    # Two panes side by side reach the stream row by row; a move to another row is a break.
    text = startup.visible_text("\x1b[1;1Hquokka\x1b[2;1Hferry charter")
    assert "quokka ferry" not in text
    assert text.split() == ["quokka", "ferry", "charter"]


def test_measure_kills_a_process_that_never_shows_the_fragment() -> None:
    m = startup.measure(
        [sys.executable, "-c", "import time; print('waiting'); time.sleep(60)"],
        "quokka ferry charter",
        timeout=1.0,
    )
    assert m.first_s is None and m.killed and m.exit_s is None
    assert "waiting" in m.text


def test_review_ui_shows_the_first_claim_in_a_pty(tmp_path: Path) -> None:
    workspace = startup.build_workspace(tmp_path / "ws", 5)
    m = startup.measure(startup.review_command(workspace), startup.FRAGMENT, (80, 24))
    assert not m.killed, m.text[-2000:]
    assert m.first_s is not None and 0 < m.output_s <= m.first_s <= m.exit_s
    assert startup.FRAGMENT in m.text
