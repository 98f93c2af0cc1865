"""Tests for `workbench serve`: the review UI in headless Chromium, the token and its refusals."""

from __future__ import annotations

import contextlib
import http.client
import json
import os
import re
import signal
import subprocess
import sys
import time
from collections.abc import Iterator
from pathlib import Path

import pytest

from workbench.embed import HashingEmbedder
from workbench.index import store
from workbench.ingest import ingest
from workbench.match import add_article, match_claims
from workbench.retrieve import Retriever
from workbench.review.serve import is_loopback, reviewer_name, session_command
from workbench.workspace import Workspace

CHROMIUM = "/usr/bin/chromium"
CHROMIUM_ARGS = [
    "--headless",
    "--no-sandbox",
    "--disable-gpu",
    "--disable-quic",
    "--no-first-run",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
]
TOKEN = "test-token-0123456789abcdef"
# What Textual writes to the terminal, less its escape sequences: the text on the screen.
ESCAPES = re.compile(r"\x1b(\[[0-?]*[ -/]*[@-~]|\][^\x07\x1b]*(\x07|\x1b\\)|P[^\x1b]*\x1b\\|.)")


@pytest.fixture
def workspace(tmp_path: Path, evidence_file: Path, seed_article: Path) -> Path:
    """The seed article's claims, each matched to 3 passages (hash:64)."""
    root = tmp_path / "ws"
    with Workspace.open(root, create=True) as ws:
        ingest(ws, [evidence_file], [HashingEmbedder(64)])
        ids = add_article(ws, seed_article)
        retriever = Retriever([HashingEmbedder(64)], store.load(ws, ws.get_meta("models")))
        match_claims(ws, retriever, ids, 3)
    return root


def _workbench(*args: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [sys.executable, "-m", "workbench", *args],
        capture_output=True,
        text=True,
        timeout=60,
    )


class Served:
    """A `workbench serve` process in its own process group, stopped with all its sessions."""

    def __init__(self, root: Path, *args: str) -> None:
        env = {k: v for k, v in os.environ.items() if k != "WORKBENCH_SERVE_TOKEN"}
        # The server's own reviewer must never name a colleague's verdicts.
        env["WORKBENCH_REVIEWER"] = "server-owner"
        self.process = subprocess.Popen(
            [sys.executable, "-m", "workbench", "serve", "-w", str(root), "--port", "0", *args],
            stdout=subprocess.PIPE,
            stderr=subprocess.STDOUT,
            text=True,
            env=env,
            start_new_session=True,
        )
        self.pgid = self.process.pid
        self.lines: list[str] = []
        assert self.process.stdout is not None
        deadline = time.monotonic() + 30
        while time.monotonic() < deadline:
            line = self.process.stdout.readline()
            if not line:
                break
            self.lines.append(line)
            if "stops the server" in line:
                break
        urls = re.findall(r"http://127\.0\.0\.1:(\d+)/(\S*)", "".join(self.lines))
        if not urls:
            self.stop()
            raise AssertionError("the server did not start:\n" + "".join(self.lines))
        self.port = int(urls[0][0])
        self.printed_query = urls[0][1]

    def get(self, path: str, headers: dict[str, str] | None = None) -> int:
        connection = http.client.HTTPConnection("127.0.0.1", self.port, timeout=10)
        try:
            connection.request("GET", path, headers=headers or {})
            return connection.getresponse().status
        finally:
            connection.close()

    def stop(self) -> None:
        """SIGTERM, as Ctrl+C; whatever is left of the group after 15 s is killed."""
        if self.process.poll() is None:
            os.killpg(self.pgid, signal.SIGTERM)
            with contextlib.suppress(subprocess.TimeoutExpired):
                self.process.wait(timeout=15)
        with contextlib.suppress(ProcessLookupError):
            os.killpg(self.pgid, signal.SIGKILL)
        self.process.wait(timeout=5)

    def group_alive(self) -> bool:
        try:
            os.killpg(self.pgid, 0)
        except ProcessLookupError:
            return False
        return True


@pytest.fixture
def serve(workspace: Path) -> Iterator[type[Served]]:
    started: list[Served] = []

    def start(*args: str) -> Served:
        server = Served(workspace, *args)
        started.append(server)
        return server

    yield start  # type: ignore[misc]
    for server in started:
        server.stop()


def _exported(root: Path) -> dict[int, dict]:
    result = _workbench("export", "--format", "jsonl", "-w", str(root), "--status", "all")
    assert result.returncode == 0, result.stderr
    return {r["claim_id"]: r for r in map(json.loads, result.stdout.splitlines())}


class Browser:
    """Headless Chromium (Debian's) on a served page; `screen` is the text the app drew."""

    def __init__(self, playwright) -> None:
        self.browser = playwright.chromium.launch(executable_path=CHROMIUM, args=CHROMIUM_ARGS)
        self.page = self.browser.new_page(viewport={"width": 1400, "height": 900})
        self.frames: list[str] = []
        # xterm.js draws on a canvas: the screen's text is read from the websocket instead.
        self.page.on("websocket", self._watch)

    def _watch(self, socket) -> None:
        def received(payload: str | bytes) -> None:
            if isinstance(payload, bytes):
                payload = payload.decode("utf-8", "replace")
            self.frames.append(payload)

        socket.on("framereceived", received)

    @property
    def screen(self) -> str:
        return ESCAPES.sub("", "".join(self.frames))

    def wait_for(self, *texts: str, timeout: float = 30) -> None:
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            if all(t in self.screen for t in texts):
                return
            self.page.wait_for_timeout(100)  # lets Playwright deliver the frames
        raise AssertionError(f"never shown: {texts}; the screen had:\n{self.screen[-2000:]}")

    def press(self, *keys: str) -> None:
        self.page.click("#terminal")
        for key in keys:
            self.page.keyboard.press(key)


@pytest.fixture
def browser() -> Iterator[Browser]:
    playwright_api = pytest.importorskip("playwright.sync_api")
    if not Path(CHROMIUM).exists():
        pytest.skip(f"no Chromium at {CHROMIUM}")
    with playwright_api.sync_playwright() as playwright:
        browser = Browser(playwright)
        try:
            yield browser
        finally:
            browser.browser.close()


def _wait_for_verdict(root: Path, claim_id: int, timeout: float = 15) -> dict:
    deadline = time.monotonic() + timeout
    while True:
        record = _exported(root)[claim_id]
        if record["verdict"] or time.monotonic() > deadline:
            return record
        time.sleep(0.2)


@pytest.mark.slow
def test_browser_session_gives_a_verdict_under_the_url_reviewer(
    workspace: Path, serve, browser: Browser
) -> None:
    """Open with the printed token and ?reviewer=Ana, press 1: claim 1 is false, by Ana (not
    the server's own reviewer); stopping the server ends every session process."""
    server = serve("--token", TOKEN)
    assert server.printed_query == f"?token={TOKEN}"
    browser.page.goto(f"http://127.0.0.1:{server.port}/?token={TOKEN}&reviewer=Ana")
    browser.wait_for("reviewer Ana", "Le président russe Vladimir Poutine")
    browser.press("1")
    record = _wait_for_verdict(workspace, 1)
    assert record["verdict"]["verdict"] == "false"
    assert record["verdict"]["reviewer"] == "Ana"
    assert [(a["reviewer"], a["new"]["verdict"]) for a in record["audit"]] == [("Ana", "false")]
    assert not any(r["verdict"] for cid, r in _exported(workspace).items() if cid != 1)
    # Ctrl+C (SIGTERM) with the session still open: the server and its session processes end.
    session = subprocess.run(["pgrep", "-g", str(server.pgid)], capture_output=True, text=True)
    assert len(session.stdout.split()) >= 2, "the session runs as a child of the server"
    os.killpg(server.pgid, signal.SIGTERM)
    server.process.wait(timeout=15)
    deadline = time.monotonic() + 10
    while server.group_alive() and time.monotonic() < deadline:
        time.sleep(0.2)
    assert not server.group_alive(), "a session process outlived the server"


@pytest.mark.slow
def test_browser_session_without_a_name_asks_for_it(
    workspace: Path, serve, browser: Browser
) -> None:
    """No ?reviewer=: the first screen asks; a blank answer is refused, then Bea is recorded."""
    server = serve()
    assert server.printed_query == ""  # loopback: no token
    browser.page.goto(f"http://127.0.0.1:{server.port}/")
    browser.wait_for("Your name, recorded with each verdict")
    assert "server-owner" not in browser.screen
    browser.press("Enter")
    browser.wait_for("a reviewer name is needed")
    browser.page.keyboard.type("Bea")
    browser.press("Enter")
    browser.wait_for("reviewer Bea", "Le président russe Vladimir Poutine")
    browser.press("2")
    record = _wait_for_verdict(workspace, 1)
    assert (record["verdict"]["verdict"], record["verdict"]["reviewer"]) == ("mostly-false", "Bea")


def test_token_mode_refuses_every_request_without_the_token(workspace: Path, serve) -> None:
    server = serve("--token", TOKEN)
    assert server.get("/") == 403
    assert server.get("/?token=wrong-token-0123456789abc") == 403
    assert server.get("/static/js/textual.js") == 403
    assert server.get("/ws", {"Connection": "Upgrade", "Upgrade": "websocket"}) == 403
    assert server.get("/ws/Ana?width=80&height=24") == 403
    assert server.get(f"/?token={TOKEN}") == 200
    cookie = {"Cookie": f"workbench-token-{server.port}={TOKEN}"}
    assert server.get("/static/js/textual.js", cookie) == 200
    assert server.get(f"/?token={TOKEN}&reviewer=a/b") == 400


def test_other_addresses_get_a_new_token(workspace: Path, serve) -> None:
    server = serve("--host", "0.0.0.0")
    token = server.printed_query.removeprefix("?token=")
    assert len(token) == 32 and token != TOKEN
    assert server.get("/") == 403
    assert server.get(f"/?token={token}") == 200


def test_loopback_needs_no_token_but_refuses_other_sites(workspace: Path, serve) -> None:
    server = serve()
    assert server.get("/") == 200
    assert server.get("/static/js/textual.js") == 200
    # DNS rebinding: a page from evil.example resolved to 127.0.0.1 has its own Host header.
    assert server.get("/", {"Host": f"evil.example:{server.port}"}) == 403
    # A websocket opened by another site's page carries that site's Origin.
    upgrade = {"Connection": "Upgrade", "Upgrade": "websocket", "Sec-WebSocket-Version": "13"}
    upgrade["Sec-WebSocket-Key"] = "dGhlIHNhbXBsZSBub25jZQ=="
    assert server.get("/ws", {**upgrade, "Origin": "http://evil.example"}) == 403
    assert server.get("/ws", {**upgrade, "Origin": f"http://127.0.0.1:{server.port}"}) == 101


def test_serve_errors_are_one_line(workspace: Path, tmp_path: Path, serve) -> None:
    server = serve()
    busy = _workbench("serve", "-w", str(workspace), "--port", str(server.port))
    assert busy.returncode == 3
    assert busy.stderr.strip() == (
        f"workbench: error: port {server.port} on 127.0.0.1 is already in use: "
        "pick another with --port"
    )
    missing = _workbench("serve", "-w", str(tmp_path / "nowhere"), "--port", "0")
    assert missing.returncode == 4 and len(missing.stderr.strip().splitlines()) == 1
    assert "Traceback" not in missing.stderr
    short = _workbench("serve", "-w", str(workspace), "--port", "0", "--token", "short")
    assert short.returncode == 3 and "at least 16 characters" in short.stderr


def test_reviewer_names_and_session_commands() -> None:
    assert reviewer_name("  Zoë   Martin ") == "Zoë Martin"
    for bad in ("", "   ", "a/b", "Ana\u202e", "x" * 65, "Ana\x00"):
        with pytest.raises(Exception, match="reviewer name"):
            reviewer_name(bad)
    # The name is input from a URL: it reaches the shell quoted, as one argument.
    command = session_command(Path("/w s"), "Ana; rm -rf ~")
    assert command.endswith("'/w s' 'Ana; rm -rf ~'")
    assert is_loopback("127.0.0.1") and is_loopback("::1") and is_loopback("localhost")
    assert not is_loopback("0.0.0.0") and not is_loopback("192.168.1.10")
