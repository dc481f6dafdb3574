"""Headless Debian Chromium through Playwright (never a downloaded browser), and a console
server on a free local port, for the browser tests."""

from __future__ import annotations

import shutil
import socket
import threading
import time
from collections.abc import Iterator
from contextlib import contextmanager
from typing import Any

import pytest
import uvicorn

from console.app import create_app
from missions.app import AppSettings

CHROMIUM = shutil.which("chromium") or "/usr/bin/chromium"
CHROMIUM_ARGS = [
    "--headless",
    "--no-sandbox",
    "--disable-gpu",
    "--disable-background-networking",
    "--disable-component-update",
    "--no-first-run",
]


def needs_chromium() -> pytest.MarkDecorator:
    """Skip when Debian's chromium or the playwright package is missing."""
    try:
        import playwright.sync_api  # noqa: F401
    except ImportError:
        return pytest.mark.skip(reason="playwright is not installed")
    return pytest.mark.skipif(
        shutil.which("chromium") is None, reason="no chromium (apt-get install -y chromium)"
    )


@contextmanager
def chromium_page() -> Iterator[Any]:
    """A fresh page in headless Debian Chromium, 1400 px wide."""
    from playwright.sync_api import sync_playwright

    with sync_playwright() as p:
        browser = p.chromium.launch(executable_path=CHROMIUM, args=CHROMIUM_ARGS)
        try:
            context = browser.new_context(viewport={"width": 1400, "height": 1000})
            yield context.new_page()
        finally:
            browser.close()


@contextmanager
def serving(settings: AppSettings) -> Iterator[str]:
    """The console on 127.0.0.1 and a free port, in a thread; yields its base URL."""
    sock = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
    sock.bind(("127.0.0.1", 0))
    port = sock.getsockname()[1]
    config = uvicorn.Config(create_app(settings, charts=False), log_level="warning")
    server = uvicorn.Server(config)
    thread = threading.Thread(target=lambda: server.run(sockets=[sock]), daemon=True)
    thread.start()
    deadline = time.monotonic() + 20
    while not server.started:
        if time.monotonic() > deadline or not thread.is_alive():
            raise RuntimeError("the console server did not start")
        time.sleep(0.02)
    try:
        yield f"http://127.0.0.1:{port}"
    finally:
        server.should_exit = True
        thread.join(10)
        sock.close()
