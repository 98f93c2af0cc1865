"""Provides the store's connection: opening, read-only and integrity policy, transactions.

Writes are transactions: a killed process leaves the last committed state. A workspace this
process cannot write opens read-only; a damaged database is refused before anything is written.
"""

from __future__ import annotations

import functools
import json
import os
import sqlite3
import stat
import threading
import time
from collections.abc import Iterator, Sequence
from contextlib import contextmanager
from pathlib import Path
from typing import Any, Self

from workbench.errors import (
    DamagedWorkspaceError,
    ReadOnlyWorkspaceError,
    WorkbenchError,
    WorkspaceError,
)
from workbench.store.schema import migrate
from workbench.textfold import fold

DB_NAME = "workbench.db"
INDEX_DIR = "index"


def _now() -> str:
    return time.strftime("%Y-%m-%dT%H:%M:%SZ", time.gmtime())


def default_workspace_path() -> Path:
    """The workspace used when none is named: $WORKBENCH_HOME, else ./.workbench."""
    return Path(os.environ.get("WORKBENCH_HOME") or ".workbench")


# Ids per `IN (...)` list: SQLite caps the parameters of one statement (999 before 3.32).
SQL_CHUNK = 500


def _id_chunks(ids: Sequence[int]) -> Iterator[tuple[list[int], str]]:
    """`ids` in slices of at most SQL_CHUNK, each with its `?,?,...` placeholders."""
    for start in range(0, len(ids), SQL_CHUNK):
        chunk = list(ids[start : start + SQL_CHUNK])
        yield chunk, ",".join("?" * len(chunk))


class Store:
    """The connection to a workspace's database and what every concern's store shares:
    opening, transactions, the write checks, the `meta` table."""

    def __init__(self, root: Path, conn: sqlite3.Connection, *, read_only: bool = False) -> None:
        self.root = root
        self.conn = conn
        self.read_only = read_only
        """Whether this process may only read the workspace (see `open`): writes are refused."""
        self._held: tuple[int, int] | None = None
        """The database file this open counts in `_HELD` (see `_checked_and_held`)."""

    @property
    def db_path(self) -> Path:
        return self.root / DB_NAME

    # ----- opening -------------------------------------------------------------------------
    @classmethod
    def open(cls, root: Path | None = None, *, create: bool = False) -> Self:
        """Open the workspace at `root`; create it when `create` is set and it does not exist.

        A workspace this process cannot write (a read-only mount, no write permission on the
        folder or on `workbench.db`) opens read-only: reading works, and the first write is
        refused with `ReadOnlyWorkspaceError`. A `workbench.db` that is empty, not SQLite or
        damaged is refused with one line and never written into (`check_integrity`).
        """
        root = Path(root) if root is not None else default_workspace_path()
        db_path = root / DB_NAME
        if root.exists() and not root.is_dir():
            raise WorkspaceError(
                f"{root} is a file, not a workspace folder; point --workspace at a folder"
            )
        if not db_path.exists():
            if not create:
                if root.exists() and any(root.iterdir()):
                    raise WorkspaceError(
                        f"{root} is not a workbench workspace (no {DB_NAME}); "
                        "point --workspace at a workspace or an empty folder"
                    )
                raise WorkspaceError(
                    f"no workspace at {root}; run 'workbench ingest evidence/' first "
                    "(or pass --workspace DIR)"
                )
            root.mkdir(parents=True, exist_ok=True)
            _create_database(db_path)
        key = _checked_and_held(db_path)
        try:
            read_only = not _writable(db_path)
            conn = connect(db_path, read_only)
        except BaseException:
            _release(key)
            raise
        workspace = cls(root, conn, read_only=read_only)
        workspace._held = key
        try:
            workspace._migrate()
        except sqlite3.Error as exc:
            workspace.close()
            raise database_error(exc, db_path) from None
        except BaseException:
            workspace.close()
            raise
        if not read_only:
            (root / INDEX_DIR).mkdir(exist_ok=True)
        return workspace

    def close(self) -> None:
        self.conn.close()
        key, self._held = self._held, None
        if key is not None:
            _release(key)

    def __enter__(self) -> Self:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()

    def _migrate(self) -> None:
        """Bring the database to the current schema (`schema.migrate`)."""
        migrate(self)

    @contextmanager
    def transaction(self, *, vectors: bool = False) -> Iterator[sqlite3.Connection]:
        """One write transaction, taken immediately so concurrent writers queue, not fail.

        Refused, before anything is written, in a read-only workspace or one whose database
        fails its integrity check (`require_writable`; `vectors` for a write that touches the
        passages' vectors, which checks the whole file)."""
        self.require_writable(vectors=vectors)
        self.conn.execute("BEGIN IMMEDIATE")
        try:
            yield self.conn
        except BaseException:
            # SQLite rolls back by itself on some errors (a full disk, say): a second ROLLBACK
            # would fail and hide the error that matters.
            if self.conn.in_transaction:
                self.conn.execute("ROLLBACK")
            raise
        else:
            try:
                self.conn.execute("COMMIT")
            except BaseException:
                # A commit that fails (disk full, Ctrl-C on it) can leave the transaction open:
                # later reads would show the unsaved change and the next write could not begin.
                if self.conn.in_transaction:
                    self.conn.execute("ROLLBACK")
                raise

    def require_writable(self, *, vectors: bool = False) -> None:
        """Raise unless this process may write the workspace: not read-only, and its database
        passed `check_integrity` (the whole file with `vectors`, see INTEGRITY POLICY).
        Commands that write call it before their slow work (loading models) so that they fail
        at once; every transaction calls it too."""
        if self.read_only:
            raise ReadOnlyWorkspaceError(
                f"{self.root} is read-only (no write permission here): this command writes; "
                "reading commands (info, claims, export, review) still work"
            )
        self.check_integrity(vectors=vectors)

    def check_integrity(self, *, vectors: bool = False) -> None:
        """Raise `DamagedWorkspaceError` if the database fails `PRAGMA quick_check`: every
        table but the vectors, or with `vectors` the whole file (free pages included).

        Run once per database file and scope per process (see INTEGRITY POLICY), a failure
        remembered."""
        key = (*_file_key(self.db_path), vectors)
        with _INTEGRITY_LOCK:
            if key not in _INTEGRITY:
                _INTEGRITY[key] = self.quick_check(vectors=vectors)
            problem = _INTEGRITY[key]
            # Damage found anywhere stops every write, whatever its scope.
            problem = problem or _INTEGRITY.get((*key[:2], not vectors))
        if problem is not None:
            raise _damaged(self.db_path, problem)

    def integrity_known(self) -> bool:
        """Whether `check_integrity` has run in this process, so a write will not wait for it."""
        # No lock: a running check holds it.
        return (*_file_key(self.db_path), False) in _INTEGRITY

    def quick_check(self, *, vectors: bool = True) -> str | None:
        """The first problem `PRAGMA quick_check` finds, None when the database is sound
        (uncached). With `vectors`, the whole file; else each table but `vectors`, one by one
        (SQLite 3.33+), which skips most of a large file's pages: see INTEGRITY POLICY."""
        try:
            if vectors:
                checks = ["PRAGMA quick_check(5)"]
            else:
                tables = self.conn.execute(
                    "SELECT name FROM sqlite_master WHERE type = 'table' AND name != 'vectors'"
                ).fetchall()
                checks = [f'PRAGMA quick_check("{name}")' for (name,) in tables]
            for check in checks:
                rows = self.conn.execute(check).fetchall()
                problems = [r[0] for r in rows if r[0] != "ok"]
                if problems:
                    return problems[0].strip().splitlines()[-1]
        except sqlite3.DatabaseError as exc:
            return str(exc)
        return None

    def mark_damaged(self, problem: str) -> None:
        """Remember that reading found damage, so that this process writes nothing more."""
        with _INTEGRITY_LOCK:
            for vectors in (False, True):
                _INTEGRITY[(*_file_key(self.db_path), vectors)] = problem

    # ----- paths and metadata --------------------------------------------------------------
    @property
    def index_dir(self) -> Path:
        return self.root / INDEX_DIR

    def get_meta(self, key: str, default: Any = None) -> Any:
        row = self.conn.execute("SELECT value FROM meta WHERE key = ?", (key,)).fetchone()
        return json.loads(row[0]) if row else default

    def set_meta(self, conn: sqlite3.Connection, key: str, value: Any) -> None:
        conn.execute(
            "INSERT INTO meta(key, value) VALUES (?, ?) "
            "ON CONFLICT(key) DO UPDATE SET value = excluded.value",
            (key, json.dumps(value)),
        )

    def count(self, table: str) -> int:
        if table not in {"documents", "passages", "articles", "claims", "matches", "verdicts"}:
            raise ValueError(table)
        return int(self.conn.execute(f"SELECT COUNT(*) FROM {table}").fetchone()[0])


# INTEGRITY POLICY. SQLite checks the structure of every page it reads, so a reading command
# meets damage only in the pages it reads, and then stops with one line (`database_error`).
# Before its first write a process runs `PRAGMA quick_check` over the whole file, once per
# file (`check_integrity`, cached per process, a failure too): a write into a damaged b-tree
# can spread the damage, and a reviewer's new verdicts must not go into a file that has to be
# restored anyway. quick_check reads every page but skips integrity_check's index-against-
# table comparisons; its cost is that of reading what it checks. Measured on a synthetic
# workspace of 100,000 passages with two models' vectors (512 + 384 dimensions, a 1.0 GB
# file): the whole file 0.35 to 0.8 s with the file in the OS cache, 18 s cold on a slow
# (55 MB/s) virtual disk, of which the `vectors` table is nearly all. So the scope follows the
# write: a write that touches vectors (ingest, reindex, import-reviews) checks the whole file,
# free pages included; every other write (verdicts, notes, matches, the review UI) checks each
# table but `vectors` (`PRAGMA quick_check(TABLE)`), which costs a few hundredths of a second
# however large the evidence store grows. Reading commands never pay it; `doctor` runs the full
# integrity_check.
_INTEGRITY: dict[tuple[str, int, bool], str | None] = {}
_INTEGRITY_LOCK = threading.Lock()
SQLITE_HEADER = b"SQLite format 3\x00"
# What to do about a damaged database (the one line says what is wrong, then this).
DAMAGED_ADVICE = "run 'workbench doctor'; restore it from a backup ('workbench backup')"


def _file_key(db_path: Path) -> tuple[str, int]:
    # The inode too: a database restored in place (a new file) is checked afresh.
    try:
        inode = db_path.stat().st_ino
    except OSError:
        inode = 0
    return str(db_path.resolve()), inode


def _damaged(db_path: Path, problem: str) -> DamagedWorkspaceError:
    return DamagedWorkspaceError(f"{db_path} is damaged ({problem}): {DAMAGED_ADVICE}")


def database_error(exc: sqlite3.Error, db_path: Path) -> WorkbenchError:
    """The one line a SQLite error becomes: what is wrong with which file, what to do.

    The CLI's `handle_errors` maps every SQLite error of a command through this (and so does
    `Workspace.open`): damage, a full disk, a read-only or locked file are never tracebacks."""
    name = getattr(exc, "sqlite_errorname", "") or ""
    text = str(exc)
    if name.startswith(("SQLITE_CORRUPT", "SQLITE_NOTADB")) or type(exc) is sqlite3.DatabaseError:
        return _damaged(db_path, text)
    if name.startswith("SQLITE_FULL") or "disk is full" in text:
        return WorkbenchError(
            f"no space left on the disk of {db_path} ({text}): the change was rolled back and "
            "everything committed before is kept; free some space and run the command again"
        )
    if name.startswith("SQLITE_READONLY") or "readonly" in text:
        return ReadOnlyWorkspaceError(
            f"{db_path} cannot be written ({text}): this command writes; reading commands "
            "(info, claims, export, review) still work"
        )
    if name.startswith(("SQLITE_BUSY", "SQLITE_LOCKED")) or "locked" in text:
        return WorkspaceError(
            f"{db_path} is locked by another process ({text}); try again once it has finished"
        )
    if name.startswith("SQLITE_IOERR"):
        return WorkspaceError(
            f"cannot read or write {db_path} ({text}): check the disk, then {DAMAGED_ADVICE}"
        )
    if name.startswith(("SQLITE_CANTOPEN", "SQLITE_PERM", "SQLITE_AUTH")):
        return WorkspaceError(f"cannot open {db_path} ({text})")
    return WorkspaceError(f"database error in {db_path} ({text}); run 'workbench doctor'")


def _create_database(db_path: Path) -> None:
    """Create a workspace database with its schema beside `db_path`, then link it into place.

    A kill during creation leaves no half-made `workbench.db` (say, of zero bytes) behind, so
    an empty or schema-less one is always damage or another program's file, never an
    unfinished creation: `open` refuses it instead of silently starting an empty workspace."""
    tmp = db_path.with_name(f".{db_path.name}.new{os.getpid()}")
    for path in (tmp, Path(f"{tmp}-wal"), Path(f"{tmp}-shm")):
        path.unlink(missing_ok=True)
    try:
        conn = connect(tmp, read_only=False)
        try:
            Store(db_path.parent, conn)._migrate()
        finally:
            conn.close()  # the last connection: checkpoints the WAL into the file, removes it
        try:
            os.link(tmp, db_path)  # never replaces a database another process created meanwhile
        except FileExistsError:
            pass
        except OSError:  # a file system without hard links
            if not db_path.exists():
                os.replace(tmp, db_path)
    finally:
        tmp.unlink(missing_ok=True)


# Databases this process holds open (device, inode) -> connections. Reading a file's header
# with open() and close() drops every POSIX lock the process holds on that file, its SQLite
# connections' included: another process then takes itself for the last reader, checkpoints
# and deletes the WAL while this one goes on writing into the deleted file, and those writes
# are lost (seen: a review UI whose worker threads open the workspace again). So the header
# is read only by the first open in a process; later ones check what stat() tells.
_HELD: dict[tuple[int, int], int] = {}
_HELD_LOCK = threading.Lock()


def _checked_and_held(db_path: Path) -> tuple[int, int]:
    """Check the database file (`_check_database_file`, or by stat() when this process holds
    it open already) and count one more connection to it; `_release` undoes the count."""
    with _HELD_LOCK:
        try:
            info = db_path.stat()
        except OSError as exc:
            raise WorkspaceError(f"cannot read {db_path}: {exc.strerror or exc}") from None
        key = (info.st_dev, info.st_ino)
        if _HELD.get(key, 0) == 0 or stat.S_ISDIR(info.st_mode) or info.st_size == 0:
            _check_database_file(db_path)  # (a folder or an empty file: nothing held to lose)
        _HELD[key] = _HELD.get(key, 0) + 1
        return key


def _release(key: tuple[int, int]) -> None:
    with _HELD_LOCK:
        left = _HELD.get(key, 0) - 1
        if left > 0:
            _HELD[key] = left
        else:
            _HELD.pop(key, None)


def _check_database_file(db_path: Path) -> None:
    """Refuse a `workbench.db` that is a folder, empty, or not SQLite, before SQLite opens it
    (SQLite would take an empty file for a new database and write a schema into it)."""
    try:
        with open(db_path, "rb") as handle:
            header = handle.read(len(SQLITE_HEADER))
    except IsADirectoryError:
        raise WorkspaceError(f"{db_path} is a folder, not a database") from None
    except OSError as exc:
        raise WorkspaceError(f"cannot read {db_path}: {exc.strerror or exc}") from None
    if not header:
        raise DamagedWorkspaceError(
            f"{db_path} is empty (0 bytes), not a workbench database: restore it from a backup, "
            "or remove it to start an empty workspace there"
        )
    if header != SQLITE_HEADER:
        raise DamagedWorkspaceError(
            f"{db_path} is not a workbench database (not a SQLite file): restore it from a "
            "backup, or point --workspace at a workspace or an empty folder"
        )


def _writable(db_path: Path) -> bool:
    """Whether this process may write the workspace: the database file, and its folder (SQLite
    creates `-wal` and `-shm` files beside the database), and those files when they exist.

    os.access answers for this process's real permissions: no on a read-only mount (EROFS,
    even for root), no for a user without write permission; yes for root on a chmod-ed
    folder, which root can indeed write."""
    paths = [db_path, db_path.parent]
    paths += [p for p in (Path(f"{db_path}-wal"), Path(f"{db_path}-shm")) if p.exists()]
    return all(os.access(path, os.W_OK) for path in paths)


def connect(db_path: Path, read_only: bool = False) -> sqlite3.Connection:
    """A connection to the database; `read_only` opens it so that SQLite never writes a byte.

    Read-only WAL access (SQLite 3.22+): `mode=ro` reads the committed state, the `-wal` file
    included, when its `-shm` exists or can be made. In a folder where it cannot be made and
    there is no `-wal` (a workspace closed cleanly: everything is in the file), `immutable=1`
    reads the file without locks or shared memory; a `-wal` that cannot be read so is one
    line (its last writer did not close; open the workspace once with write access)."""
    try:
        if not read_only:
            conn = sqlite3.connect(db_path, isolation_level=None, timeout=30.0)
            _add_functions(conn)
            _refuse_foreign(conn, db_path)  # before switching it to WAL, which writes
            conn.execute("PRAGMA journal_mode=WAL")
            conn.execute("PRAGMA foreign_keys=ON")
            # WAL + NORMAL is durable across process kills (only an OS crash can drop the
            # last transactions), and it keeps ingest from waiting on fsync per batch.
            conn.execute("PRAGMA synchronous=NORMAL")
            conn.execute("PRAGMA busy_timeout=30000")
            return conn
        uri = db_path.resolve().as_uri()
        conn = sqlite3.connect(f"{uri}?mode=ro", uri=True, isolation_level=None, timeout=30.0)
        try:
            conn.execute("SELECT COUNT(*) FROM sqlite_schema").fetchone()
        except sqlite3.OperationalError:
            conn.close()
            wal = Path(f"{db_path}-wal")
            if wal.exists() and wal.stat().st_size > 0:
                raise WorkspaceError(
                    f"{db_path} is read-only here and its last writer left changes in {wal.name} "
                    "that cannot be read without write access: open the workspace once with "
                    "write access (any command), then read-only again"
                ) from None
            conn = sqlite3.connect(
                f"{uri}?mode=ro&immutable=1", uri=True, isolation_level=None, timeout=30.0
            )
        conn.execute("PRAGMA busy_timeout=30000")
        _add_functions(conn)
        _refuse_foreign(conn, db_path)
        return conn
    except sqlite3.Error as exc:
        raise database_error(exc, db_path) from None


# Remembered: the review UI searches the same claims again and again, and folding is most
# of a search's time (a lookup costs a fraction of a fold). Bounded for a long session: 2**15
# texts, some 20 MB at most for claims of a few hundred characters.
@functools.lru_cache(maxsize=1 << 15, typed=True)
def _fold_sql(text: Any) -> Any:
    return fold(text) if isinstance(text, str) else text


def _add_functions(conn: sqlite3.Connection) -> None:
    """The workbench's SQL functions, on every connection: `wb_fold(text)`, the text without
    case or accents (`textfold.fold`), which the review queue's search compares. Deterministic,
    so SQLite may evaluate it once for a constant argument."""
    conn.create_function("wb_fold", 1, _fold_sql, deterministic=True)


def _refuse_foreign(conn: sqlite3.Connection, db_path: Path) -> None:
    """Refuse another program's SQLite database. A workspace gets its tables and its schema
    version in one transaction: tables without a version are not a workspace's."""
    if conn.execute("PRAGMA user_version").fetchone()[0] != 0:
        return
    tables = [r[0] for r in conn.execute("SELECT name FROM sqlite_schema WHERE type = 'table'")]
    if tables:
        conn.close()
        raise WorkspaceError(
            f"{db_path} is a SQLite database but not a workbench one (it has "
            f"{', '.join(tables[:3])}{', ...' if len(tables) > 3 else ''}); "
            "point --workspace at a workspace or an empty folder"
        )
