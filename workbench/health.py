"""Provides workspace health: `doctor` (database and index checks, index repair) and `backup`."""

from __future__ import annotations

import hashlib
import json
import os
import shutil
import sqlite3
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from workbench.errors import WorkbenchError, WorkspaceError
from workbench.workspace import (
    DB_NAME,
    INDEX_DIR,
    MANIFEST,
    SCHEMA_VERSION,
    Workspace,
    connect,
    default_workspace_path,
)

CONFIG = "config.toml"  # the workspace's own settings (`settings.config_paths`)
RESTORE = "restore the workspace from a backup ('workbench backup DEST' makes one)"
REBUILD = "'workbench doctor --repair' rebuilds it from the stored vectors"


@dataclass
class Finding:
    """One check's outcome: `ok`, else what is wrong (`detail`) and what to do (`fix`)."""

    check: str
    ok: bool
    detail: str
    fix: str = ""
    repaired: bool = False
    # Index problems `doctor --repair` can rebuild from the database.
    rebuildable: bool = False

    def as_record(self) -> dict[str, Any]:
        status = "ok" if self.ok else "repaired" if self.repaired else "problem"
        return {"check": self.check, "status": status, "detail": self.detail, "fix": self.fix}


@dataclass
class Report:
    """What `doctor` found, in the order it checked."""

    root: Path
    findings: list[Finding] = field(default_factory=list)

    @property
    def problems(self) -> list[Finding]:
        return [f for f in self.findings if not f.ok and not f.repaired]

    def add(self, check: str, ok: bool, detail: str, fix: str = "", **kw: Any) -> Finding:
        finding = Finding(check, ok, detail, "" if ok else fix, **kw)
        self.findings.append(finding)
        return finding


def _database_path(root: Path | None) -> tuple[Path, Path]:
    root = Path(root) if root is not None else default_workspace_path()
    db_path = root / DB_NAME
    if not db_path.is_file():
        raise WorkspaceError(f"no workspace at {root} (no {DB_NAME}); pass --workspace DIR")
    return root, db_path


def doctor(root: Path | None = None, repair: bool = False) -> Report:
    """Check a workspace: the database (`PRAGMA integrity_check`, opened read-only), the counts
    that must agree (passages, vectors per model, index sizes and manifest, BM25 documents,
    matches, claims and verdicts pointing at rows that exist) and every index file's full
    checksum. With `repair`, damaged or stale indexes are rebuilt from the stored vectors;
    database damage is named, not repaired (a backup restores it)."""
    root, db_path = _database_path(root)
    report = Report(root)
    try:
        # The workspace's own read-only opening: it never writes a byte, and it reads a
        # workspace in a folder this process cannot write (a read-only mount) too.
        conn = connect(db_path, read_only=True)
    except WorkbenchError as exc:
        report.add("database", False, exc.message, RESTORE)
        return report
    try:
        db_ok = _check_database(report, conn, db_path)
        workspace = Workspace(root, conn)  # the constructor alone: nothing is written
        if db_ok:
            try:
                _check_counts(report, workspace)
            except sqlite3.Error as exc:
                db_ok = False
                report.add("database", False, f"{db_path} cannot be read ({exc})", RESTORE)
        index_findings = _check_index(report, workspace, db_ok)
    finally:
        conn.close()
    if repair and index_findings:
        _repair_index(report, root, index_findings, db_ok)
    return report


def _check_database(report: Report, conn: sqlite3.Connection, db_path: Path) -> bool:
    try:
        rows = [r[0] for r in conn.execute("PRAGMA integrity_check(20)")]
        version = conn.execute("PRAGMA user_version").fetchone()[0]
        tables = conn.execute("SELECT COUNT(*) FROM sqlite_master").fetchone()[0]
    except sqlite3.Error as exc:
        report.add("database", False, f"{db_path} cannot be read ({exc})", RESTORE)
        return False
    if rows != ["ok"]:
        shown = "; ".join(rows[:3]) + (f" (and {len(rows) - 3} more)" if len(rows) > 3 else "")
        report.add("database", False, f"{db_path} is damaged: {shown}", RESTORE)
        return False
    if not tables:
        empty = "0 bytes" if db_path.stat().st_size == 0 else "no tables"
        report.add("database", False, f"{db_path} is empty ({empty})", RESTORE)
        return False
    report.add("database", True, f"{db_path}: integrity_check ok")
    if version > SCHEMA_VERSION:
        report.add(
            "schema", False, f"schema {version}, written by a newer workbench", "upgrade workbench"
        )
        return False
    note = "" if version == SCHEMA_VERSION else "; the next command that writes upgrades it"
    report.add("schema", True, f"schema {version}{note}")
    return True


def _scalar(conn: sqlite3.Connection, sql: str) -> int:
    return int(conn.execute(sql).fetchone()[0])


def _check_counts(report: Report, workspace: Workspace) -> None:
    conn = workspace.conn
    passages = _scalar(conn, "SELECT COUNT(*) FROM passages")
    for model in workspace.get_meta("models") or []:
        name = model["name"]
        stored = workspace.vector_count(name)
        report.add(
            "vectors",
            stored == passages,
            f"{name}: {stored} vectors for {passages} passages",
            "run 'workbench reindex' to embed every passage again",
        )
    orphans = _scalar(
        conn, "SELECT COUNT(*) FROM vectors WHERE passage_id NOT IN (SELECT id FROM passages)"
    )
    if orphans:
        report.add("vectors", False, f"{orphans} vectors belong to no passage", RESTORE)
    references = (
        ("matches", "matches", "passage_id", "passages", "stored passage"),
        ("claims", "claims", "article_id", "articles", "stored article"),
        ("verdicts", "verdicts", "claim_id", "claims", "stored claim"),
    )
    for check, table, column, target, what in references:
        total = _scalar(conn, f"SELECT COUNT(*) FROM {table}")
        missing = _scalar(
            conn,
            f"SELECT COUNT(*) FROM {table} WHERE {column} NOT IN (SELECT id FROM {target})",
        )
        if missing:
            detail = f"{missing} of {total} {table} point at a missing {what.split()[1]}"
            report.add(check, False, detail, RESTORE)
        else:
            report.add(check, True, f"all {total} {table} point at a {what}")


def _check_index(report: Report, workspace: Workspace, db_ok: bool) -> list[Finding]:
    """Add the index's findings; return the problems a rebuild can repair."""
    from workbench.index import store

    manifest = workspace.read_manifest()
    if manifest is None:
        if not db_ok:
            return []
        if workspace.count("passages") == 0:
            report.add("index", True, "no evidence yet: nothing to index")
            return []
        found = report.add(
            "index", False, f"{INDEX_DIR}/{MANIFEST} is missing or unreadable", REBUILD,
            rebuildable=True,
        )  # fmt: skip
        return [found]
    if manifest.get("format") != store.FORMAT:
        detail = f"the index was built by another version (format {manifest.get('format')})"
        return [report.add("index", False, detail, REBUILD, rebuildable=True)]
    if db_ok and manifest.get("generation") != workspace.generation:
        detail = (
            f"the index is out of date with the database (generation "
            f"{manifest.get('generation')}, database {workspace.generation})"
        )
        return [report.add("index", False, detail, REBUILD, rebuildable=True)]
    if db_ok:
        damage = store.full_check(workspace, manifest)
    else:  # the files' checksums need no database
        damage = store.verify(workspace, manifest, full=True)
    if not damage:
        files = len(manifest.get("files") or {})
        detail = f"{files} index files match their checksums"
        if db_ok:
            detail += f"; every index holds the {manifest['passages']} passages"
        report.add("index", True, detail)
        return []
    return [
        report.add("index", False, item.describe(), REBUILD, rebuildable=True) for item in damage
    ]


def _repair_index(report: Report, root: Path, found: list[Finding], db_ok: bool) -> None:
    """Rebuild the index from the database, then check it again."""
    from workbench.index import store

    if not db_ok:
        for finding in found:
            finding.fix = "not rebuilt: the database it is built from is damaged; " + RESTORE
        return
    try:
        with Workspace.open(root) as workspace:
            models = workspace.get_meta("models") or []
            manifest = workspace.read_manifest()
            # The damaged files alone when the manifest is current; everything otherwise.
            damage = None
            if manifest is not None and store.is_current(workspace, manifest):
                damage = store.full_check(workspace, manifest)
            if damage:
                store.repair(workspace, models, manifest, damage)
            elif damage is None:
                store.rebuild(workspace, models)
            manifest = workspace.read_manifest()
            left = store.full_check(workspace, manifest) if manifest else []
    except WorkbenchError as exc:
        for finding in found:
            finding.fix = f"not rebuilt: {exc.message}"
        return
    if left:
        for finding in found:
            finding.fix = f"not rebuilt: {left[0].describe()} after a rebuild"
        return
    for finding in found:
        finding.repaired = True
        finding.fix = "rebuilt from the stored vectors"


# ----- backup ---------------------------------------------------------------------------------


def _sha256(path: Path) -> str:
    with open(path, "rb") as handle:
        return hashlib.file_digest(handle, "sha256").hexdigest()


def _fsync(path: Path) -> None:
    flags = os.O_RDONLY | getattr(os, "O_DIRECTORY", 0) if path.is_dir() else os.O_RDONLY
    fd = os.open(path, flags)
    try:
        os.fsync(fd)
    finally:
        os.close(fd)


def backup(
    workspace: Workspace, dest: Path, note: Callable[[str], None] | None = None
) -> dict[str, Any]:
    """Copy the workspace to `dest`, a new (or empty) folder that opens as a workspace.

    The database goes through SQLite's online backup API: a consistent snapshot while
    reviewers keep writing. The index folder is copied and each copy checked against the
    manifest's checksums; an index that does not match (damaged, or rebuilt by another process
    meanwhile) or that reflects another database generation than the snapshot is left out,
    and opening the backup rebuilds it from the stored vectors. The workspace's config file
    goes too. Everything is written into a temporary folder beside `dest`, renamed into place
    at the end: a failed or killed backup leaves no half-written `dest`. `note(message)` hears
    what was left out. Returns what was copied."""
    started = time.perf_counter()
    dest = Path(dest)
    if dest.exists() and (not dest.is_dir() or any(dest.iterdir())):
        raise WorkbenchError(f"{dest} exists and is not empty; name a new folder for the backup")
    if dest.resolve().is_relative_to(workspace.root.resolve()):
        raise WorkbenchError(f"{dest} is inside the workspace; put the backup elsewhere")
    tmp = dest.parent / f".{dest.name}.backup-{os.getpid()}.tmp"
    try:
        dest.parent.mkdir(parents=True, exist_ok=True)
        shutil.rmtree(tmp, ignore_errors=True)
        tmp.mkdir()
        summary = _backup_database(workspace, tmp / DB_NAME)
        copied, left_out = _backup_index(workspace, tmp / INDEX_DIR, summary["generation"])
        if left_out and note is not None:
            note(f"index not backed up ({left_out}); opening the backup rebuilds it")
        summary["index_files"] = copied
        config = workspace.root / CONFIG
        summary["config"] = config.is_file()
        if config.is_file():
            shutil.copy2(config, tmp / CONFIG)
            if _sha256(tmp / CONFIG) != _sha256(config):
                raise WorkbenchError(f"the copy of {config} differs from it; nothing was written")
        for path in [*tmp.rglob("*"), tmp]:
            _fsync(path)
        if dest.exists():
            dest.rmdir()  # empty, checked above: the rename takes its place
        tmp.rename(dest)
        _fsync(dest.parent)
    except OSError as exc:
        shutil.rmtree(tmp, ignore_errors=True)
        raise WorkbenchError(f"cannot write the backup to {dest}: {exc.strerror or exc}") from exc
    except BaseException:
        shutil.rmtree(tmp, ignore_errors=True)
        raise
    summary.update(dest=str(dest), index_left_out=left_out or None)
    summary["seconds"] = round(time.perf_counter() - started, 3)
    return summary


def _backup_database(workspace: Workspace, target: Path) -> dict[str, Any]:
    copy = sqlite3.connect(target, isolation_level=None)
    try:
        workspace.conn.backup(copy)  # all pages in one step: one consistent snapshot
        check = [r[0] for r in copy.execute("PRAGMA quick_check")]
        if check != ["ok"]:
            raise WorkbenchError(f"the database copy fails its check ({check[0]}); nothing written")
        row = copy.execute("SELECT value FROM meta WHERE key = 'generation'").fetchone()
        generation = int(json.loads(row[0])) if row else 0
        passages = int(copy.execute("SELECT COUNT(*) FROM passages").fetchone()[0])
        claims = int(copy.execute("SELECT COUNT(*) FROM claims").fetchone()[0])
    finally:
        copy.close()
    return {
        "database_bytes": target.stat().st_size,
        "generation": generation,
        "passages": passages,
        "claims": claims,
    }


def _backup_index(workspace: Workspace, target: Path, generation: int) -> tuple[int, str]:
    """Copy the index folder's recorded files into `target`, each checked against its
    checksum (times kept, so that loading the backup need not hash them whole), the manifest
    last. Returns (files copied, '') or (0, why the index was left out)."""
    from workbench.index import store

    target.mkdir()
    manifest = workspace.read_manifest()
    if manifest is None or manifest.get("format") != store.FORMAT:
        return 0, "the workspace has no current index"
    if manifest.get("generation") != generation:
        return 0, "it is out of date with the database"
    records = manifest.get("files") or {}
    for name, record in records.items():
        copied = target / name
        copied.parent.mkdir(parents=True, exist_ok=True)
        try:
            shutil.copy2(workspace.index_dir / name, copied)
        except FileNotFoundError:
            reason: str | None = "missing"
        else:
            reason = store.check_file(copied, record, full=True)
        if reason:
            shutil.rmtree(target)
            target.mkdir()
            return 0, f"{INDEX_DIR}/{name}: {reason}"
    with open(target / MANIFEST, "w", encoding="utf-8") as handle:
        json.dump(manifest, handle, ensure_ascii=False, indent=2, sort_keys=True)
    return len(records), ""
