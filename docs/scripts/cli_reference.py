"""Writes docs/reference/cli.md: every command's `--help`, from the Typer app itself.

    .venv/bin/python docs/scripts/cli_reference.py          (or: make reference)

tests/test_docs.py compares the committed page with `reference()`, so a changed option or
help text fails the tests until this script is run again.
"""

from __future__ import annotations

import re
from pathlib import Path
from unittest import mock

import typer.main
import typer.rich_utils
from click.testing import CliRunner

from workbench.cli import app

PAGE = Path(__file__).resolve().parents[1] / "reference" / "cli.md"
# A fixed width and no colour, whatever the terminal or CI says: the page must be stable.
WIDTH = 100
ANSI = re.compile(r"\x1b\[[0-9;]*m")
INTRO = """\
# Command line reference

Generated from the Typer app by `docs/scripts/cli_reference.py` (`make reference`); a test
fails when this page and `workbench COMMAND --help` differ. Every command also takes
`-h`. Exit codes and what each error means: [Troubleshooting](../troubleshooting.md).
"""


def help_text(args: list[str]) -> str:
    """What `workbench ARGS --help` prints at WIDTH columns, without colour."""
    command = typer.main.get_command(app)
    env = {"COLUMNS": str(WIDTH), "NO_COLOR": "1", "FORCE_COLOR": None, "TERMINAL_WIDTH": None}
    with (
        mock.patch.object(typer.rich_utils, "MAX_WIDTH", WIDTH),
        mock.patch.object(typer.rich_utils, "FORCE_TERMINAL", None),
    ):
        result = CliRunner().invoke(command, [*args, "--help"], env=env, prog_name="workbench")
    if result.exit_code != 0:
        raise RuntimeError(f"workbench {' '.join(args)} --help exited {result.exit_code}")
    lines = ANSI.sub("", result.output).splitlines()
    return "\n".join(line.rstrip() for line in lines).strip("\n")


def command_names() -> list[str]:
    """Every command of the app, in the order `workbench --help` lists them."""
    group = typer.main.get_command(app)
    ctx = group.make_context("workbench", [], resilient_parsing=True)
    return list(group.list_commands(ctx))  # type: ignore[attr-defined]


def reference() -> str:
    """The whole page: the top-level help, then each command's under its own heading."""
    parts = [INTRO, "## workbench\n", f"```text\n{help_text([])}\n```\n"]
    for name in command_names():
        parts += [f"## workbench {name}\n", f"```text\n{help_text([name])}\n```\n"]
    return "\n".join(parts)


def main() -> None:
    PAGE.parent.mkdir(parents=True, exist_ok=True)
    PAGE.write_text(reference(), encoding="utf-8")
    print(f"wrote {PAGE.relative_to(Path.cwd()) if PAGE.is_relative_to(Path.cwd()) else PAGE}")


if __name__ == "__main__":
    main()
