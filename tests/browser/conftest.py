"""Fixtures of the browser tests: the real Serve app on loopback, a headless Chromium.

Chromium is Debian's package (``.ci/browser.sh`` installs it), driven by Playwright for
Python through ``executable_path``; Playwright's own browser downloads are never used.
Every request a page makes is recorded, so a test can assert that none left 127.0.0.1.
"""

from __future__ import annotations

import contextlib
import os
import shutil
from collections.abc import Iterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import NoReturn
from urllib.parse import urlsplit

import pytest

from tests.serve.conftest import ApiServer
from tests.serve.serve_helpers import create_key

CHROMIUM_ENV = "PIPELINE_BUILDER_CHROMIUM"
# set to 1 (as .ci/run does) to fail instead of skip when Chromium or Playwright is missing
REQUIRE_BROWSER_ENV = "PIPELINE_BUILDER_REQUIRE_BROWSER"
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
SCREENSHOTS = Path(__file__).resolve().parents[2] / "docs" / "screenshots"


@pytest.fixture(scope="module")
def api_server(ray_session, tmp_path_factory: pytest.TempPathFactory) -> Iterator[ApiServer]:
    """The real Serve app on 127.0.0.1 with a fresh store; its home is the data root."""
    import socket

    from ray import serve

    from serve.app import APP_NAME, build_app

    home = tmp_path_factory.mktemp("ui-home")
    db_url = f"sqlite:///{home}/metadata.db"
    admin = create_key(db_url, "admin")
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        port = int(sock.getsockname()[1])
    env = {"PIPELINE_BUILDER_DATA_ROOTS": str(home)}
    serve.start(http_options={"host": "127.0.0.1", "port": port})
    serve.run(build_app(db_url, str(home), env=env), name=APP_NAME, route_prefix="/")
    try:
        yield ApiServer(
            base_url=f"http://127.0.0.1:{port}", home=home, db_url=db_url, admin_key=admin
        )
    finally:
        serve.shutdown()


def _chromium() -> str | None:
    path = os.environ.get(CHROMIUM_ENV) or "/usr/bin/chromium"
    return path if os.path.exists(path) else shutil.which("chromium")


def _browser_required() -> bool:
    return os.environ.get(REQUIRE_BROWSER_ENV, "") not in ("", "0")


def _missing(reason: str) -> NoReturn:
    """Skip for want of ``reason``, or fail when the environment requires the browser."""
    if _browser_required():
        pytest.fail(f"{reason} ({REQUIRE_BROWSER_ENV} is set)", pytrace=False)
    pytest.skip(reason)


@pytest.fixture(scope="module")
def browser() -> Iterator[object]:
    """One headless Chromium per test module."""
    try:
        from playwright import sync_api
    except ImportError:
        _missing("no Playwright: pip install playwright")
    exe = _chromium()
    if exe is None:
        _missing(f"no Chromium: run .ci/browser.sh or set {CHROMIUM_ENV}")
    with sync_api.sync_playwright() as pw:
        b = pw.chromium.launch(executable_path=exe, headless=True, args=CHROMIUM_ARGS)
        try:
            yield b
        finally:
            b.close()


@dataclass
class Traffic:
    """Every request the pages made (Playwright ``request`` events): method and URL."""

    requests: list[tuple[str, str]] = field(default_factory=list)

    @property
    def urls(self) -> list[str]:
        return [url for _, url in self.requests]

    def foreign(self) -> list[str]:
        out = []
        for url in self.urls:
            parts = urlsplit(url)
            if parts.scheme in ("data", "blob", "about"):
                continue
            if parts.hostname != "127.0.0.1":
                out.append(url)
        return out


HTTP_METHODS = {"get", "put", "post", "delete", "options", "head", "patch", "trace"}
Operation = tuple[str, tuple[str, ...]]  # (METHOD, path segments)


def documented_operations(server: ApiServer) -> set[Operation]:
    """The operations of the served OpenAPI document: each path item's methods."""
    import httpx

    doc = httpx.get(server.base_url + "/openapi.json").json()
    return {
        (method.upper(), tuple(path.strip("/").split("/")))
        for path, item in doc["paths"].items()
        for method in item
        if method in HTTP_METHODS
    }


def is_documented(method: str, path: str, operations: set[Operation]) -> bool:
    """Whether ``method path`` is one of ``operations``.

    A documented ``{parameter}`` segment matches any segment; a ``*`` segment of ``path``
    (a value only known at run time, in the UI's source) matches any documented segment.
    """
    segments = tuple(path.strip("/").split("/"))
    return any(
        m == method.upper() and _segments_match(segments, documented)
        for m, documented in operations
    )


def _segments_match(used: tuple[str, ...], documented: tuple[str, ...]) -> bool:
    def one(u: str, d: str) -> bool:
        return u == "*" or u == d or (d.startswith("{") and d.endswith("}"))

    return len(used) == len(documented) and all(
        one(u, d) for u, d in zip(used, documented, strict=True)
    )


def assert_documented(traffic: Traffic, server: ApiServer) -> None:
    """Every API request the pages made is an operation (method and path) of /openapi.json."""
    operations = documented_operations(server)
    calls = {(method, urlsplit(url).path) for method, url in traffic.requests}
    api = {(m, p) for m, p in calls if p.startswith("/api/")}
    assert len(api) >= 5, api
    assert sorted(c for c in api if not is_documented(*c, operations)) == []
    pages = {p for _, p in calls} - {p for _, p in api}
    assert sorted(p for p in pages if not (p in ("/", "/ui") or p.startswith("/ui/"))) == []


@pytest.fixture
def traffic() -> Traffic:
    return Traffic()


@pytest.fixture
def page(browser, traffic: Traffic, tmp_path: Path) -> Iterator[object]:
    """A fresh browser context and page; asserts afterwards that no request left loopback."""
    context = browser.new_context(viewport={"width": 1600, "height": 1000})  # type: ignore[attr-defined]
    context.on("request", lambda req: traffic.requests.append((req.method, req.url)))
    pg = context.new_page()
    pg.set_default_timeout(90_000)  # a shared CI machine can be slow; waits end when met
    errors: list[str] = []
    console: list[str] = []
    pg.on("pageerror", lambda exc: errors.append(str(exc)))
    pg.on("console", lambda msg: console.append(f"{msg.type}: {msg.text}"))
    try:
        yield pg
    finally:
        # shown when a test fails: what the page said last
        print("page console:", *console[-20:], sep="\n  ")
        with contextlib.suppress(Exception):
            print("page text:", pg.inner_text("#view")[:2000])
            pg.screenshot(path=str(tmp_path / "last.png"))
            print("last screenshot:", tmp_path / "last.png")
        context.close()
    assert traffic.urls, "the page made no requests at all"
    assert traffic.foreign() == [], f"requests left 127.0.0.1: {traffic.foreign()}"
    assert errors == [], f"uncaught errors in the page: {errors}"


def sign_in(pg: object, server: ApiServer, key: str) -> None:
    """Open the UI at ``/`` and sign in with ``key``."""
    pg.goto(server.base_url + "/")  # type: ignore[attr-defined]
    pg.fill("#signin-key", key)  # type: ignore[attr-defined]
    pg.click("#signin-submit")  # type: ignore[attr-defined]
    pg.wait_for_selector("[data-testid=scope]")  # type: ignore[attr-defined]
