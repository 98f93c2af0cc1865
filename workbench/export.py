"""Provides exports of the workspace; JSONL is complete and lossless for other tools."""

from __future__ import annotations

import json
import os
import sys
import tempfile
from pathlib import Path

from workbench.errors import WorkbenchError
from workbench.workspace import Workspace


def export_jsonl(workspace: Workspace, output: Path | None) -> int:
    """Write one JSON object per claim to `output` (stdout if None); return the count.

    A file is written beside its target and renamed into place, so an error or a kill
    never leaves a partial report where a complete one is expected.
    """
    rows = [json.dumps(row, ensure_ascii=False) + "\n" for row in workspace.export_rows()]
    if output is None:
        sys.stdout.writelines(rows)
        return len(rows)
    target = output.resolve()
    if target.is_dir():
        raise WorkbenchError(f"{output} is a folder; give a file name with -o")
    try:
        fd, tmp = tempfile.mkstemp(prefix=f".{target.name}.", dir=target.parent)
    except OSError as exc:
        raise WorkbenchError(f"cannot write {output}: {exc.strerror or exc}") from exc
    try:
        with os.fdopen(fd, "w", encoding="utf-8") as handle:
            handle.writelines(rows)
        os.replace(tmp, target)
    except BaseException:
        Path(tmp).unlink(missing_ok=True)
        raise
    return len(rows)
