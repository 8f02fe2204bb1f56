"""Browser fixtures: the real app served on a free local port with the real packaged models,
and a Debian Chromium page driven by Playwright (never `playwright install`)."""
from __future__ import annotations

import shutil
import socket

import pytest

CHROMIUM = shutil.which("chromium") or "/usr/bin/chromium"
FLAGS = ["--headless", "--no-sandbox", "--disable-gpu", "--disable-background-networking",
         "--disable-component-update", "--no-first-run", "--disable-sync", "--disable-quic"]


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


@pytest.fixture(scope="session")
def app_url(real_cache, tmp_path_factory):
    """Start the app once for all browser tests (models are shared with real_manager's cache)."""
    import app
    args = app.parse_args(["--hub", "off", "--lang", "auto", "--cache-dir", str(real_cache),
                           "--port", str(_free_port())])
    demo, manager, jobs = app.build(args)
    from webapp.ui import launch_kwargs
    demo.queue(default_concurrency_limit=1)
    demo.launch(server_name="127.0.0.1", server_port=args.port, prevent_thread_lock=True,
                quiet=True, **launch_kwargs())
    yield f"http://127.0.0.1:{args.port}"
    demo.close()


@pytest.fixture(scope="session")
def browser():
    if not shutil.which("chromium") and not shutil.which(CHROMIUM):
        pytest.fail("Debian chromium is not installed; `make test` installs it (apt-get install chromium)")
    from playwright.sync_api import sync_playwright
    with sync_playwright() as p:
        b = p.chromium.launch(executable_path=CHROMIUM, args=FLAGS, headless=True)
        yield b
        b.close()


@pytest.fixture
def page(browser, app_url):
    """A fresh page (English browser locale) that fails the test on any request leaving the
    machine."""
    context = browser.new_context(locale="en-US", viewport={"width": 1400, "height": 1000})
    outside: list[str] = []

    def check(route):
        url = route.request.url
        if url.startswith(("http://127.0.0.1", "http://localhost", "data:", "blob:", "about:")):
            route.continue_()
        else:
            outside.append(url)
            route.abort()
    context.route("**/*", check)
    pg = context.new_page()
    pg.set_default_timeout(60_000)
    pg.outside_requests = outside
    yield pg
    context.close()
    assert not outside, f"requests left the machine: {outside[:5]}"
