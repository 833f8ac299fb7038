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
from urllib.parse import urlsplit

import pytest

from tests.serve.conftest import ApiServer
from tests.serve.serve_helpers import create_key

CHROMIUM_ENV = "PIPELINE_BUILDER_CHROMIUM"
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


@pytest.fixture(scope="module")
def browser() -> Iterator[object]:
    """One headless Chromium per test module."""
    sync_api = pytest.importorskip("playwright.sync_api", reason="pip install playwright")
    exe = _chromium()
    if exe is None:
        pytest.skip(f"no Chromium: run .ci/browser.sh or set {CHROMIUM_ENV}")
    with sync_api.sync_playwright() as pw:
        b = pw.chromium.launch(executable_path=exe, headless=True, args=CHROMIUM_ARGS)
        try:
            yield b
        finally:
            b.close()


@dataclass
class Traffic:
    """Every URL the pages requested (Playwright ``request`` events)."""

    urls: list[str] = field(default_factory=list)

    def foreign(self) -> list[str]:
        out = []
        for url in self.urls:
            parts = urlsplit(url)
            if parts.scheme in ("data", "blob", "about"):
                continue
            if parts.hostname != "127.0.0.1":
                out.append(url)
        return out


def assert_documented(traffic: Traffic, server: ApiServer) -> None:
    """Every API request the pages made is an endpoint of the OpenAPI document."""
    import re

    import httpx

    doc = httpx.get(server.base_url + "/openapi.json").json()
    documented = [re.compile("^" + re.sub(r"\{[^}]+\}", "[^/]+", p) + "$") for p in doc["paths"]]
    paths = {urlsplit(u).path for u in traffic.urls}
    api = {p for p in paths if p.startswith("/api/")}
    assert len(api) >= 5, api
    assert sorted(p for p in api if not any(d.match(p) for d in documented)) == []
    assert sorted(p for p in paths - api if not (p in ("/", "/ui") or p.startswith("/ui/"))) == []


@pytest.fixture
def traffic() -> Traffic:
    return Traffic()


@pytest.fixture
def page(browser, traffic: Traffic, tmp_path: Path) -> Iterator[object]:
    """A fresh browser context and page; asserts afterwards that no request left loopback."""
    context = browser.new_context(viewport={"width": 1600, "height": 1000})  # type: ignore[attr-defined]
    context.on("request", lambda req: traffic.urls.append(req.url))
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
