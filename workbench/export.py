"""Provides exports of the workspace: lossless JSONL and the reports (ClaimReview, CSV,
Markdown, HTML), each written atomically."""

from __future__ import annotations

import os
import sys
import tempfile
from pathlib import Path

from workbench.errors import WorkbenchError
from workbench.report import ReportOptions, render, select_rows
from workbench.workspace import Workspace


def write_atomic(text: str, output: Path | None) -> None:
    """Write `text` to `output` (stdout if None).

    A file is written beside its target and renamed into place, so an error or a kill
    never leaves a partial report where a complete one is expected.
    """
    if output is None:
        sys.stdout.flush()
        buffer = getattr(sys.stdout, "buffer", None)  # bytes as they are: CRLF stays CRLF
        if buffer is None:
            sys.stdout.write(text)
        else:
            buffer.write(text.encode("utf-8"))
            buffer.flush()
        return
    target = output.resolve()
    if target.is_dir():
        raise WorkbenchError(f"{output} is a folder; give a file name with -o")
    try:
        fd, tmp = tempfile.mkstemp(prefix=f".{target.name}.", dir=target.parent)
    except OSError as exc:
        raise WorkbenchError(f"cannot write {output}: {exc.strerror or exc}") from exc
    try:
        with os.fdopen(fd, "wb") as handle:
            handle.write(text.encode("utf-8"))
        os.replace(tmp, target)
    except OSError as exc:
        Path(tmp).unlink(missing_ok=True)
        raise WorkbenchError(f"cannot write {output}: {exc.strerror or exc}") from exc
    except BaseException:
        Path(tmp).unlink(missing_ok=True)
        raise


def export(workspace: Workspace, output: Path | None, fmt: str, options: ReportOptions) -> int:
    """Write the `fmt` report of the workspace's claims selected by `options`; return the
    number of claims in it."""
    rows = select_rows(workspace.export_rows(), options.status, options.article)
    write_atomic(render(fmt, rows, options), output)
    return len(rows)


def export_jsonl(workspace: Workspace, output: Path | None) -> int:
    """Write one JSON object per claim to `output` (stdout if None); return the count."""
    return export(workspace, output, "jsonl", ReportOptions(status="all"))
