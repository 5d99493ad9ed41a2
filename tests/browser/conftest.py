"""Browser fixtures: the lab served by `streamlit run`, one headless Chromium, a page per test.

Everything is package-scoped: servers and the browser start once for tests/browser and stop
when its last test is done (also when a test fails), before the rest of the suite runs.
Without Chromium or Playwright the tests are skipped on a workstation and fail under CI=true.
"""

from __future__ import annotations

import os
import shutil

import pytest

from tests.browser.lab_browser import (CHROMIUM, CHROMIUM_ARGS, LOAD_TIMEOUT_MS, VIEWPORT,
                                       LabServer, ServerExited, path_without)


def in_ci() -> bool:
    return os.environ.get("CI", "").strip().lower() not in ("", "0", "false", "no")


def unavailable(reason: str) -> None:
    if in_ci():
        pytest.fail(f"{reason}; CI=true, so the browser tests must run", pytrace=False)
    pytest.skip(reason)


@pytest.fixture(scope="package")
def playwright_driver():
    try:
        from playwright.sync_api import sync_playwright
    except ImportError:
        unavailable("Playwright is missing: pip install -r requirements-test.txt")
    if not (os.path.isfile(CHROMIUM) and os.access(CHROMIUM, os.X_OK)):
        unavailable(f"no Chromium at {CHROMIUM}: apt-get install chromium "
                    "(or set LAB_CHROMIUM to its path)")
    with sync_playwright() as driver:
        yield driver


@pytest.fixture(scope="package")
def chromium(playwright_driver, tmp_path_factory):
    """Debian's Chromium with a fresh profile, an English locale and a light colour scheme."""
    context = playwright_driver.chromium.launch_persistent_context(
        str(tmp_path_factory.mktemp("chromium-profile")), executable_path=CHROMIUM,
        headless=True, args=CHROMIUM_ARGS, viewport=VIEWPORT, locale="en-US",
        color_scheme="light", timezone_id="UTC")
    context.set_default_timeout(LOAD_TIMEOUT_MS)
    yield context
    context.close()


def serve(tmp_path_factory, name: str, **options) -> LabServer:
    """A healthy server; another free port is tried if the server stops on its own."""
    for attempt in range(3):
        server = LabServer(tmp_path_factory.mktemp(name), name, **options)
        try:
            server.wait_healthy()
            return server
        except ServerExited:
            if attempt == 2:
                raise
        except BaseException:
            server.stop()
            raise


@pytest.fixture(scope="package")
def lab(tmp_path_factory, chromium):
    """The lab as `streamlit run` serves it, with the repository's own config."""
    server = serve(tmp_path_factory, "lab")
    yield server
    server.stop()


@pytest.fixture(scope="package")
def lab_without_dot(tmp_path_factory, chromium):
    """The lab on a machine without Graphviz's `dot` (no /usr/bin, no /bin on PATH)."""
    env = dict(os.environ, PATH=path_without("dot"))
    assert shutil.which("dot", path=env["PATH"]) is None
    server = serve(tmp_path_factory, "no-dot", env=env)
    yield server
    server.stop()


@pytest.fixture
def browser_page(chromium):
    """A fresh tab; uncaught JavaScript errors are collected in ``page.lab_errors``."""
    page = chromium.new_page()
    page.lab_errors = []
    page.on("pageerror", lambda error: page.lab_errors.append(str(error)))
    yield page
    page.close()
