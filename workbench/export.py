"""Provides exports of the workspace: lossless JSONL and the reports (ClaimReview, CSV,
Markdown, HTML), each written atomically."""

from __future__ import annotations

import os
import sys
import tempfile
from dataclasses import dataclass, replace
from pathlib import Path
from typing import Any

from workbench.errors import WorkbenchError
from workbench.report import ReportOptions, render_counted, review_triples, select_rows
from workbench.workspace import Workspace


def _mode_for(target: Path) -> int:
    try:
        return target.stat().st_mode & 0o7777
    except OSError:
        umask = os.umask(0)
        os.umask(umask)  # read it back: there is no call that only reads it
        return 0o666 & ~umask


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
        # mkstemp makes the file 0600: give the report the mode the file it replaces had,
        # or what the user's umask gives a new file, as a plain open() would.
        os.fchmod(fd, _mode_for(target))
        with os.fdopen(fd, "wb") as handle:
            handle.write(text.encode("utf-8"))
        os.replace(tmp, target)
    except OSError as exc:
        Path(tmp).unlink(missing_ok=True)
        raise WorkbenchError(f"cannot write {output}: {exc.strerror or exc}") from exc
    except BaseException:
        Path(tmp).unlink(missing_ok=True)
        raise


@dataclass(frozen=True)
class Exported:
    """What an export wrote: how many claims, and how many distinct unsafe URLs (neither
    http, https nor relative) it left out."""

    claims: int
    dropped_urls: int = 0
    unapproved: int = 0
    low: int = 0

    def low_note(self) -> str:
        """The one line for stderr about the low check-worthiness claims nobody took up that
        the report left out ("" when none were)."""
        if not self.low:
            return ""
        n = self.low
        return (
            f"workbench: left out {n} claim{'s' if n != 1 else ''} of low check-worthiness "
            "that nobody took up (never in the review queue; --low includes them)"
        )

    def unapproved_note(self) -> str:
        """The one line for stderr about final verdicts left out of a ClaimReview export for
        want of an editor's approval ("" when none were)."""
        if not self.unapproved:
            return ""
        n = self.unapproved
        return (
            f"workbench: left out {n} claim{'s' if n != 1 else ''} not approved by an editor "
            "([publish] require_approval; `workbench approve` signs them off)"
        )

    def dropped_note(self) -> str:
        """The one line for stderr about the URLs left out ("" when none were)."""
        if not self.dropped_urls:
            return ""
        n = self.dropped_urls
        return (
            f"workbench: left out {n} URL{'s' if n != 1 else ''} that {'are' if n != 1 else 'is'} "
            "not a safe web link (only http, https and relative URLs are exported)"
        )


def export(workspace: Workspace, output: Path | None, fmt: str, options: ReportOptions) -> Exported:
    """Write the `fmt` report of the workspace's claims selected by `options`."""
    from workbench.verdicts import policy_of, status_of

    policy = policy_of(workspace)
    every = [
        {
            **row,
            # From what the row holds already: no query per claim.
            "status": status_of(
                row["verdict"], sum(1 for r in row["reviews"] if r["verdict"]), policy.double
            ),
        }
        for row in workspace.export_rows()
    ]
    rows, low = _without_hidden(
        workspace, select_rows(every, options.status, options.article), fmt, options
    )
    if fmt == "html" and policy.double:
        # Agreement is over every review of the article(s), disputed claims included: a
        # report of final verdicts only would leave out exactly the disagreements.
        scope = select_rows(every, "all", options.article)
        options = replace(options, reviews=review_triples(scope))
    unapproved = 0
    if fmt == "claimreview" and policy.require_approval:
        # What is published is what an editor signed off, nothing else.
        kept = [row for row in rows if row["status"] == "approved"]
        unapproved = len(rows) - len(kept)
        rows = kept
    text, dropped = render_counted(fmt, rows, options)
    write_atomic(text, output)
    return Exported(len(rows), dropped, unapproved, low)


def _without_hidden(
    workspace: Workspace, rows: list[dict[str, Any]], fmt: str, options: ReportOptions
) -> tuple[list[dict[str, Any]], int]:
    """The rows a report shows: without the low check-worthiness claims nobody took up (the
    review queue's hidden ones) unless `options.low`; and how many it left out that it would
    have shown. JSONL stays lossless: every row."""
    if fmt == "jsonl" or options.low:
        return rows, 0
    # Such a claim was never put before a reviewer: a report must not call it one the desk
    # left unreviewed.
    hidden = workspace.hidden_claims()
    kept = [row for row in rows if row["claim_id"] not in hidden]
    # ClaimReview has no object for a claim without a verdict: it left nothing out.
    return kept, 0 if fmt == "claimreview" else len(rows) - len(kept)


def export_jsonl(workspace: Workspace, output: Path | None) -> int:
    """Write one JSON object per claim to `output` (stdout if None); return the count."""
    return export(workspace, output, "jsonl", ReportOptions(status="all")).claims
