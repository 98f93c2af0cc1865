"""Provides `workbench serve`: the review UI in a browser, one review process per session."""

from __future__ import annotations

import asyncio
import errno
import hmac
import ipaddress
import logging
import secrets
import shlex
import signal
import socket
import sys
import unicodedata
from pathlib import Path
from typing import Any
from urllib.parse import quote, urlsplit

from textual import events

from workbench.errors import InputError, WorkbenchError
from workbench.review.app import ReviewApp
from workbench.review.modals import PromptDialog
from workbench.settings import load_settings

# Names are recorded with every verdict and shown in exports: one readable line.
MAX_NAME = 64
# A token given with --token or $WORKBENCH_SERVE_TOKEN guards the whole review desk.
MIN_TOKEN = 16


def reviewer_name(value: str) -> str:
    """The reviewer's name from a URL or the prompt, checked; InputError when unusable."""
    name = " ".join(value.split())
    if not name:
        raise InputError("a reviewer name is needed: it is recorded with each verdict")
    if len(name) > MAX_NAME:
        raise InputError(f"a reviewer name has at most {MAX_NAME} characters")
    # "/" would not survive the websocket path the name travels in; control and format
    # characters (bidi overrides, zero-width) would make two names look alike in the audit log.
    if "/" in name or any(unicodedata.category(c) in ("Cc", "Cf") for c in name):
        raise InputError(f"a reviewer name cannot contain '/' or invisible characters: {name!r}")
    return name


def is_loopback(host: str) -> bool:
    """Whether a host name or address (no port) is this machine only."""
    host = host.strip("[]").lower()
    if host == "localhost" or host.endswith(".localhost"):
        return True
    try:
        return ipaddress.ip_address(host).is_loopback
    except ValueError:
        return False


class BrowserReviewApp(ReviewApp):
    """The review app of one browser session; asks for the reviewer's name when the URL had none.

    The server's own $WORKBENCH_REVIEWER, config or login name is never used: it names the
    person who started the server, not the colleague at the browser."""

    def on_mount(self, event: events.Mount) -> None:
        if not self.reviewer:
            # ReviewApp's own on_mount loads this reviewer's saved position: run it once named.
            event.prevent_default()
            self._ask_name()

    def _ask_name(self) -> None:
        self.push_screen(
            PromptDialog("Your name, recorded with each verdict", placeholder="e.g. Ana"),
            self._named,
        )

    def _named(self, value: str | None) -> None:
        try:
            self.reviewer = reviewer_name(value or "")
        except InputError as exc:
            self.notify(exc.message, severity="error")
            self._ask_name()
            return
        ReviewApp.on_mount(self)


def session_command(workspace: Path, reviewer: str) -> str:
    """The shell command textual-serve runs for one browser session (quoted: names are input)."""
    argv = [sys.executable, "-m", "workbench.review.serve", str(workspace)]
    return shlex.join([*argv, reviewer] if reviewer else argv)


def _bind(host: str, port: int) -> socket.socket:
    """A listening socket, so that a port in use is one line before anything starts."""
    try:
        infos = socket.getaddrinfo(host, port, type=socket.SOCK_STREAM, flags=socket.AI_PASSIVE)
    except socket.gaierror as exc:
        raise InputError(f"cannot listen on {host!r}: {exc.strerror}") from None
    family, _, _, _, address = infos[0]
    try:
        return socket.create_server(address, family=family)
    except OSError as exc:
        if exc.errno == errno.EADDRINUSE:
            raise InputError(
                f"port {port} on {host} is already in use: pick another with --port"
            ) from None
        raise InputError(f"cannot listen on {host} port {port}: {exc.strerror or exc}") from None


def _server_class() -> type:
    """The textual-serve Server, extended; imported here so that a missing package is one line."""
    try:
        import aiohttp_jinja2
        from aiohttp import web
        from textual_serve.app_service import AppService
        from textual_serve.server import Server
    except ImportError:
        raise WorkbenchError(
            "serving in a browser needs textual-serve: pip install 'factcheck-workbench[serve]'"
        ) from None

    class ReviewServer(Server):
        """textual-serve's Server with what a shared review desk needs, as small overrides.

        textual-serve runs one fixed command for every session and builds its URLs from the
        bind address. Here each session's command names its reviewer (from the page's
        `?reviewer=`, carried in the websocket's path because textual.js appends its own
        `?width=...&height=...` to the websocket URL), URLs follow the address the browser
        used (a server bound to 0.0.0.0 is reached by its name), and a middleware checks
        every request: the token in token mode; otherwise a loopback Host header (a web page
        on another site cannot reach the desk through DNS rebinding). A websocket from
        another origin is refused in both modes.
        """

        def __init__(self, workspace: Path, sock: socket.socket, token: str | None) -> None:
            host, port = sock.getsockname()[:2]
            super().__init__("workbench review", host=host, port=port, title="Fact-check review")
            self.workspace = workspace
            self.sock = sock
            self.token = token
            # Cookies are shared by every port of a host: one name per server.
            self.cookie = f"workbench-token-{port}"

        # ----- access --------------------------------------------------------------------
        def _allowed(self, request: web.Request) -> bool:
            if self.token is None:
                return is_loopback(urlsplit(f"//{request.host}").hostname or "")
            given = request.query.get("token") or request.cookies.get(self.cookie) or ""
            return hmac.compare_digest(given.encode(), self.token.encode())

        @web.middleware
        async def guard(self, request: web.Request, handler: Any) -> web.StreamResponse:
            if not self._allowed(request):
                raise web.HTTPForbidden(
                    text="This review desk needs the address with ?token=... that "
                    "`workbench serve` printed when it started.\n"
                )
            origin = request.headers.get("Origin")
            if (
                request.path.startswith("/ws")
                and origin
                and urlsplit(origin).netloc != request.host
            ):
                raise web.HTTPForbidden(text="websocket from another site refused\n")
            response = await handler(request)
            if self.token is not None and request.query.get("token"):
                # The page's scripts, styles and websocket carry the token as a cookie.
                response.set_cookie(
                    self.cookie, self.token, httponly=True, samesite="Strict", path="/"
                )
            return response

        async def _make_app(self) -> web.Application:
            app = await super()._make_app()
            app.middlewares.append(self.guard)
            app.router.add_get("/ws/{reviewer}", self.handle_websocket)
            return app

        # ----- pages ---------------------------------------------------------------------
        @aiohttp_jinja2.template("app_index.html")
        async def handle_index(self, request: web.Request) -> dict[str, Any]:
            given = request.query.get("reviewer")
            try:
                name = reviewer_name(given) if given is not None else ""
            except InputError as exc:
                raise web.HTTPBadRequest(text=exc.message + "\n") from None
            # Behind a reverse proxy that ends HTTPS, the page must open wss://, not ws://.
            scheme = request.headers.get("X-Forwarded-Proto", request.scheme)
            scheme = "https" if scheme == "https" else "http"
            base = f"{scheme}://{request.host}"
            ws_base = ("wss" if scheme == "https" else "ws") + f"://{request.host}"
            path = f"/ws/{quote(name, safe='')}" if name else "/ws"
            try:
                font_size = int(request.query.get("fontsize", "16"))
            except ValueError:
                font_size = 16
            return {
                "font_size": font_size,
                "app_websocket_url": ws_base + path,
                "config": {"static": {"url": f"{base}/static/"}},
                "application": {"name": self.title},
            }

        async def handle_websocket(self, request: web.Request) -> web.WebSocketResponse:
            # textual-serve's handler, but with this session's command instead of one fixed
            # command for all: AppService takes the command when it is made.
            try:
                name = request.match_info.get("reviewer", "")
                name = reviewer_name(name) if name else ""
            except InputError as exc:
                raise web.HTTPBadRequest(text=exc.message + "\n") from None
            websocket = web.WebSocketResponse(heartbeat=15)
            width = _int(request.query.get("width"), 80)
            height = _int(request.query.get("height"), 24)
            service: AppService | None = None
            try:
                await websocket.prepare(request)
                service = AppService(
                    session_command(self.workspace, name),
                    write_bytes=websocket.send_bytes,
                    write_str=websocket.send_str,
                    close=websocket.close,
                    download_manager=self.download_manager,
                    debug=self.debug,
                )
                await service.start(width, height)
                await self._process_messages(websocket, service)
            except asyncio.CancelledError:
                await websocket.close()
            except Exception:
                logging.getLogger("textual-serve").exception("session failed")
            finally:
                if service is not None:
                    await service.stop()
            return websocket

        async def on_startup(self, app: web.Application) -> None:
            pass  # the addresses are printed by serve_review, before any request

        def serve(self, debug: bool = False) -> None:
            self.debug = debug
            self.initialize_logging()
            loop = asyncio.new_event_loop()
            asyncio.set_event_loop(loop)
            loop.add_signal_handler(signal.SIGINT, self.request_exit)
            loop.add_signal_handler(signal.SIGTERM, self.request_exit)
            # access_log=None: request lines would write the token into the log.
            web.run_app(
                self._make_app(),
                sock=self.sock,
                handle_signals=False,
                loop=loop,
                access_log=None,
                print=lambda *args: None,
            )

    return ReviewServer


def _int(value: str | None, default: int) -> int:
    try:
        return int(value or default)
    except ValueError:
        return default


def serve_urls(host: str, port: int, token: str | None) -> list[str]:
    """The addresses to give colleagues, with the token when there is one."""
    if host in ("0.0.0.0", "::", ""):
        hosts = [socket.gethostname(), "127.0.0.1"]
    else:
        hosts = [f"[{host}]" if ":" in host else host]
    query = f"?token={token}" if token else ""
    return [f"http://{name}:{port}/{query}" for name in hosts]


def serve_review(
    workspace: Path, host: str = "127.0.0.1", port: int = 8000, token: str | None = None
) -> None:
    """Serve the review UI over `workspace` until interrupted.

    Loopback needs no token; any other address needs one (`token`, else a new one is made).
    Every browser session is its own review process with the name from `?reviewer=NAME`,
    or asked for on the first screen."""
    server_class = _server_class()
    if token is not None and len(token) < MIN_TOKEN:
        raise InputError(f"the token must have at least {MIN_TOKEN} characters")
    sock = _bind(host, port)
    bound = sock.getsockname()[0]
    if token is None and not is_loopback(bound):
        token = secrets.token_urlsafe(24)
    server = server_class(Path(workspace).resolve(), sock, token)
    urls = serve_urls(host, server.port, token)
    where = "this machine only" if token is None else "anyone with the token"
    print(f"Serving the review UI for {workspace} ({where}) at:", flush=True)
    for url in urls:
        print(f"    {url}", flush=True)
    example = urls[0] + ("&" if token else "?") + "reviewer=Ana"
    print(
        f"Each colleague's name comes from the address ({example}) or is asked for.\n"
        "Ctrl+C stops the server and every session.",
        flush=True,
    )
    server.serve()


def _session_main(argv: list[str]) -> int:
    """One browser session: WORKSPACE [REVIEWER] (the command session_command builds)."""
    workspace = Path(argv[0])
    try:
        reviewer = reviewer_name(argv[1]) if len(argv) > 1 else ""
        BrowserReviewApp(workspace, reviewer, load_settings(workspace)).run()
    except WorkbenchError as exc:
        print(f"workbench: error: {exc.message}", file=sys.stderr)
        return int(exc.exit_code)
    return 0


if __name__ == "__main__":
    sys.exit(_session_main(sys.argv[1:]))
