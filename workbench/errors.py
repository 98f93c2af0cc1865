"""Provides the workbench's error types and their process exit codes."""

from __future__ import annotations

from enum import IntEnum


class ExitCode(IntEnum):
    """Exit codes of the command line, stable for scripts."""

    OK = 0
    FAILURE = 1
    USAGE = 2
    BAD_INPUT = 3
    WORKSPACE = 4
    MODEL_MISMATCH = 5
    CONFLICT = 6
    NOT_ALLOWED = 7
    INTERRUPTED = 130


class WorkbenchError(Exception):
    """An error with a one-line message for people and an exit code for scripts."""

    exit_code: ExitCode = ExitCode.FAILURE

    def __init__(self, message: str) -> None:
        super().__init__(message)
        self.message = message


class InputError(WorkbenchError):
    """A file or record the user gave cannot be read (empty, binary, malformed, missing)."""

    exit_code = ExitCode.BAD_INPUT


class WorkspaceError(WorkbenchError):
    """The workspace is missing, not a workspace, or inconsistent beyond repair."""

    exit_code = ExitCode.WORKSPACE


class ModelMismatchError(WorkspaceError):
    """The workspace was built with another embedding configuration."""

    exit_code = ExitCode.MODEL_MISMATCH


class DamagedWorkspaceError(WorkspaceError):
    """The workspace's database is damaged or is not a database: never written into."""


class ReadOnlyWorkspaceError(WorkspaceError):
    """A command that writes met a workspace this process may only read."""


class ConflictError(WorkbenchError):
    """Someone else changed the record since this action was prepared (an undo, say)."""

    exit_code = ExitCode.CONFLICT


class NotAllowedError(WorkbenchError):
    """The person named may not do this (an adjudication or approval by a non-editor)."""

    exit_code = ExitCode.NOT_ALLOWED
