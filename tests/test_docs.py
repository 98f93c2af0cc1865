"""Tests that the docs cannot drift: generated pages, error messages, the README."""

from __future__ import annotations

import ast
import importlib.util
import os
import re
import subprocess
import sys
from importlib.metadata import version
from pathlib import Path
from types import ModuleType

import pytest
import typer.main
from click.testing import CliRunner

from workbench.cli import app
from workbench.errors import ExitCode, WorkbenchError

ROOT = Path(__file__).resolve().parents[1]
DOCS = ROOT / "docs"
SCRIPTS = DOCS / "scripts"
README = ROOT / "README.md"
README_LIMIT = 12 * 1024
REGENERATE = "out of date: run `make reference` and commit the result"


def _script(name: str) -> ModuleType:
    """A docs/scripts module, imported by path (docs/ is not a package)."""
    sys.path.insert(0, str(SCRIPTS))
    try:
        spec = importlib.util.spec_from_file_location(f"docs_{name}", SCRIPTS / f"{name}.py")
        assert spec is not None and spec.loader is not None
        module = importlib.util.module_from_spec(spec)
        spec.loader.exec_module(module)
        return module
    finally:
        sys.path.remove(str(SCRIPTS))


def _read(path: Path) -> str:
    return path.read_text(encoding="utf-8")


# --- the command line reference ---------------------------------------------------------


def test_cli_reference_is_what_help_prints_for_every_command() -> None:
    cli_reference = _script("cli_reference")
    page = _read(DOCS / "reference" / "cli.md")
    assert page == cli_reference.reference(), f"docs/reference/cli.md is {REGENERATE}"
    group = typer.main.get_command(app)
    for name in group.commands:  # type: ignore[attr-defined]
        assert f"## workbench {name}\n" in page
        assert cli_reference.help_text([name]) in page


def test_cli_reference_matches_the_installed_entry_point() -> None:
    # The page is rendered in-process; the real `workbench --help` must print the same.
    env = {k: v for k, v in os.environ.items() if k not in ("FORCE_COLOR", "PY_COLORS")}
    env |= {"COLUMNS": "100", "TERMINAL_WIDTH": "100", "NO_COLOR": "1"}
    env.pop("GITHUB_ACTIONS", None)
    done = subprocess.run(
        [sys.executable, "-m", "workbench", "history", "--help"],
        capture_output=True,
        text=True,
        env=env,
        check=True,
    )
    printed = "\n".join(line.rstrip() for line in done.stdout.splitlines()).strip("\n")
    printed = printed.replace("python -m workbench", "workbench")
    assert f"```text\n{printed}\n```" in _read(DOCS / "reference" / "cli.md")


def test_version_comes_from_the_package_metadata() -> None:
    result = CliRunner().invoke(typer.main.get_command(app), ["--version"])
    assert result.exit_code == 0
    assert result.output == f"workbench {version('factcheck-workbench')}\n"


# --- the keys -------------------------------------------------------------------------------


def test_keys_reference_is_the_review_ui_bindings() -> None:
    keys_reference = _script("keys_reference")
    assert _read(DOCS / "reference" / "keys.md") == keys_reference.reference(), (
        f"docs/reference/keys.md is {REGENERATE}"
    )


def test_every_main_screen_key_is_explained_in_the_guide() -> None:
    from workbench.review.keys import REVIEW_BINDINGS

    names = _script("keys_reference").KEY_NAMES
    guide = _read(DOCS / "guide" / "reviewing.md")
    missing = [
        f"{key} ({binding.id})"
        for binding in REVIEW_BINDINGS
        for key in (names.get(k.strip(), k.strip()) for k in binding.key.split(","))
        if f"`{key}`" not in guide
    ]
    assert not missing, f"keys missing from docs/guide/reviewing.md: {missing}"


# --- the package map ------------------------------------------------------------------------


def test_architecture_lists_every_module_with_its_docstring() -> None:
    package_map = _script("package_map")
    page = _read(DOCS / "architecture.md")
    assert package_map.with_map(page) == page, f"the package map in architecture.md is {REGENERATE}"
    for path in (ROOT / "workbench").rglob("*.py"):
        assert f"`{path.relative_to(ROOT).as_posix()}`" in page


# --- troubleshooting ------------------------------------------------------------------------


def _source_strings() -> list[str]:
    """Every string literal of workbench/, f-strings with each placeholder as '…'."""
    found: list[str] = []
    for path in (ROOT / "workbench").rglob("*.py"):
        for node in ast.walk(ast.parse(_read(path))):
            if isinstance(node, ast.Constant) and isinstance(node.value, str):
                found.append(node.value)
            elif isinstance(node, ast.JoinedStr):
                found.append(
                    "".join(v.value if isinstance(v, ast.Constant) else "…" for v in node.values)
                )
    return found


def _quoted_messages(page: str) -> list[str]:
    """The messages a page quotes: its `###` headings and the code spans of its paragraphs."""
    headings = re.findall(r"^### `(.+)`$", page, flags=re.M)
    spans = re.findall(r"`([^`\n]*…[^`\n]*)`", re.sub(r"^### .*$", "", page, flags=re.M))
    return headings + spans


def test_every_quoted_error_message_is_one_the_code_prints() -> None:
    source = "\n".join(_source_strings())
    messages = _quoted_messages(_read(DOCS / "troubleshooting.md"))
    assert len(messages) > 60
    unknown = [
        message
        for message in messages
        for piece in message.split("…")
        if len(piece.strip(" .,:;()'")) > 3 and piece.strip() not in source
    ]
    assert not unknown, f"messages quoted in troubleshooting.md that no code prints: {unknown}"


def test_troubleshooting_names_every_exit_code_and_error_kind() -> None:
    page = _read(DOCS / "troubleshooting.md")
    for code in ExitCode:
        assert re.search(rf"^\| {int(code)} \|", page, flags=re.M), code
    import workbench.errors as errors

    kinds = [
        name
        for name, value in vars(errors).items()
        if isinstance(value, type) and issubclass(value, WorkbenchError)
    ]
    assert len(kinds) >= 7
    for name in kinds:
        assert f"`{name}`" in page, name


# --- the README -----------------------------------------------------------------------------


def test_readme_is_a_landing_page_whose_links_resolve() -> None:
    text = _read(README)
    assert len(text.encode("utf-8")) <= README_LIMIT
    links = re.findall(r"\]\(([^)\s]+)\)", text)
    local = [link.split("#")[0] for link in links if not re.match(r"[a-z]+:", link)]
    assert any(link.startswith("docs/") for link in local)
    for link in local:
        assert (ROOT / link).is_file(), f"README links to {link}, which does not exist"
    for page in ("reference/cli.md", "guide/reviewing.md", "troubleshooting.md"):
        assert f"docs/{page}" in local


@pytest.mark.parametrize("name", ["review-80x24.svg", "review-160x48.svg", "adjudication.svg"])
def test_pictures_of_the_review_ui_are_textual_screenshots(name: str) -> None:
    svg = _read(DOCS / "images" / name)
    # Textual's export writes the app's title, its spaces as &#160;.
    assert svg.startswith("<svg") and "Fact-check&#160;review" in svg


def test_retrieval_chart_is_drawn_from_the_results_file() -> None:
    chart = _script("chart")
    rows = chart.load_rows(ROOT / "bench" / "results" / "retrieval.json")
    assert {r["config"] for r in rows} >= {"BM25", "default as shipped"}
    assert _read(DOCS / "images" / "retrieval-map5.svg") == chart.retrieval_chart(rows), (
        "docs/images/retrieval-map5.svg is out of date: run `make pictures`"
    )
