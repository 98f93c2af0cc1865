"""Tests that opening a workspace again in one process never costs another open its locks."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

from workbench.workspace import Workspace

# Another process opening and closing the database: if it takes itself for the last
# connection (no lock held by anyone), SQLite checkpoints the WAL and deletes it.
OTHER = (
    "import sqlite3, sys\n"
    "c = sqlite3.connect(sys.argv[1])\n"
    "c.execute('SELECT COUNT(*) FROM meta').fetchone()\n"
    "c.close()\n"
)


def test_a_second_open_in_the_process_keeps_the_first_ones_writes(tmp_path: Path) -> None:
    root = tmp_path / "ws"
    first = Workspace.open(root, create=True)
    try:
        with first.transaction() as conn:
            first.set_meta(conn, "before", "1")
        # What the review UI's workers do: open the same workspace again, then close it.
        Workspace.open(root).close()
        subprocess.run([sys.executable, "-c", OTHER, str(root / "workbench.db")], check=True)
        assert (root / "workbench.db-wal").exists()  # still there: someone holds it open
        with first.transaction() as conn:
            first.set_meta(conn, "after", "2")
    finally:
        first.close()
    with Workspace.open(root) as again:
        assert again.get_meta("before") == "1"
        assert again.get_meta("after") == "2"
