"""Provides user settings: reviewer name, review options and key remaps, from TOML files."""

from __future__ import annotations

import os
import tomllib
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from workbench.errors import InputError

HINT_MODES = ("hidden", "after-verdict", "always")


@dataclass(frozen=True)
class Publish:
    """How exported fact-checks name their publisher and their pages (`[publish]`).

    `review_url` is a template with `{claim_id}`, e.g. "https://example.org/fact-checks/{claim_id}".
    """

    organization: str = "Fact-check workbench"
    url: str = ""
    review_url: str = ""


@dataclass(frozen=True)
class Settings:
    """What a person can set once instead of on every command line.

    `keys` maps an action name (e.g. "verdict_false", "next_claim") to a comma-separated list
    of keys; `hints` says when machine suggestions show: "hidden" (until asked for),
    "after-verdict" (once the reviewer has decided) or "always". `nli_model` (`[hints]`) is
    a local NLI model path or cached name; `nli_labels` its output labels in order, for a
    config that says LABEL_0, LABEL_1, ... (e.g. "contradiction,entailment,neutral");
    `after_verdict` (`[review]`) where the review UI goes once a verdict is given.
    """

    reviewer: str = ""
    hints: str = "hidden"
    keys: dict[str, str] = field(default_factory=dict)
    source: str = ""
    publish: Publish = field(default_factory=Publish)
    nli_model: str = ""
    nli_labels: str = ""
    after_verdict: str = "next-unreviewed"
    """Where a verdict moves to: the next claim without one ("next-unreviewed", wrapping to
    the start of the queue) or the next row whatever its state ("next")."""


AFTER_VERDICT = ("next-unreviewed", "next")
REVIEW_MODES = ("single", "double")


@dataclass(frozen=True)
class ReviewPolicy:
    """How a desk decides a claim's final verdict (`[review]` and `[publish]` of the
    workspace's own config.toml, so that every reviewer's process applies the same rules).

    `single`: a review is the final verdict (the last one written, as a lone reviewer works).
    `double`: a claim needs reviews by two different reviewers; equal verdicts make it final,
    different ones send it to an editor's adjudication. `editors` may adjudicate and approve;
    with `require_approval` (default in double mode) only approved verdicts are published.
    """

    mode: str = "single"
    editors: tuple[str, ...] = ()
    require_approval: bool = False

    @property
    def double(self) -> bool:
        return self.mode == "double"

    def is_editor(self, name: str) -> bool:
        return name.casefold() in {e.casefold() for e in self.editors}


def review_policy(workspace_root: Path) -> ReviewPolicy:
    """The workspace's review rules from its config.toml (defaults when it has none)."""
    path = workspace_root / "config.toml"
    if not path.is_file():
        return ReviewPolicy()
    try:
        data = tomllib.loads(path.read_text(encoding="utf-8"))
    except (tomllib.TOMLDecodeError, UnicodeDecodeError) as exc:
        raise InputError(f"{path}: not a valid TOML config ({exc})") from exc
    review, publish = data.get("review", {}), data.get("publish", {})
    if not isinstance(review, dict) or not isinstance(publish, dict):
        raise InputError(f"{path}: [review] and [publish] must be tables")
    mode = review.get("mode", "single")
    if mode not in REVIEW_MODES:
        raise InputError(
            f"{path}: review.mode must be one of {', '.join(REVIEW_MODES)}, not {mode!r}"
        )
    editors = review.get("editors", [])
    if not isinstance(editors, list) or not all(isinstance(e, str) and e for e in editors):
        raise InputError(f"{path}: review.editors must be a list of names, not {editors!r}")
    approval = publish.get("require_approval", mode == "double")
    if not isinstance(approval, bool):
        raise InputError(f"{path}: publish.require_approval must be true or false")
    return ReviewPolicy(mode, tuple(editors), approval)


def config_paths(workspace_root: Path | None) -> list[Path]:
    """Files read in order, later ones overriding earlier ones."""
    home = Path(os.environ.get("XDG_CONFIG_HOME") or Path.home() / ".config")
    paths = [home / "workbench" / "config.toml"]
    if workspace_root is not None:
        paths.append(workspace_root / "config.toml")
    if os.environ.get("WORKBENCH_CONFIG"):
        paths.append(Path(os.environ["WORKBENCH_CONFIG"]))
    return paths


def load_settings(workspace_root: Path | None = None) -> Settings:
    merged: dict[str, Any] = {"keys": {}}
    sources = []
    for path in config_paths(workspace_root):
        if not path.is_file():
            continue
        try:
            data = tomllib.loads(path.read_text(encoding="utf-8"))
        except (tomllib.TOMLDecodeError, UnicodeDecodeError) as exc:
            raise InputError(f"{path}: not a valid TOML config ({exc})") from exc
        sources.append(str(path))
        if "reviewer" in data:
            merged["reviewer"] = str(data["reviewer"])
        review = data.get("review", {})
        if "hints" in review:
            if review["hints"] not in HINT_MODES:
                raise InputError(
                    f"{path}: review.hints must be one of {', '.join(HINT_MODES)}, "
                    f"not {review['hints']!r}"
                )
            merged["hints"] = review["hints"]
        if "after_verdict" in review:
            if review["after_verdict"] not in AFTER_VERDICT:
                raise InputError(
                    f"{path}: review.after_verdict must be one of {', '.join(AFTER_VERDICT)}, "
                    f"not {review['after_verdict']!r}"
                )
            merged["after_verdict"] = review["after_verdict"]
        merged["keys"].update({str(k): str(v) for k, v in data.get("keys", {}).items()})
        publish = data.get("publish", {})
        if not isinstance(publish, dict):
            raise InputError(f"{path}: [publish] must be a table")
        for name in ("organization", "url", "review_url"):
            if name in publish:
                merged.setdefault("publish", {})[name] = str(publish[name])
        hints = data.get("hints", {})
        if not isinstance(hints, dict):
            raise InputError(f"{path}: [hints] must be a table")
        for name in ("nli_model", "nli_labels"):
            if name in hints:
                if not isinstance(hints[name], str):
                    raise InputError(f"{path}: hints.{name} must be a string, not {hints[name]!r}")
                merged[name] = hints[name]
    return Settings(
        reviewer=merged.get("reviewer", ""),
        hints=merged.get("hints", "hidden"),
        keys=merged["keys"],
        source=", ".join(sources),
        publish=Publish(**merged.get("publish", {})),
        nli_model=merged.get("nli_model", ""),
        nli_labels=merged.get("nli_labels", ""),
        after_verdict=merged.get("after_verdict", "next-unreviewed"),
    )


def resolve_reviewer(explicit: str | None, settings: Settings) -> str:
    """--reviewer, else $WORKBENCH_REVIEWER, else the config, else the login name."""
    if explicit:
        return explicit
    if os.environ.get("WORKBENCH_REVIEWER"):
        return os.environ["WORKBENCH_REVIEWER"]
    if settings.reviewer:
        return settings.reviewer
    try:
        return os.getlogin()
    except OSError:
        return os.environ.get("USER", "reviewer")
