"""Browser fixtures: the lab served by `streamlit run`, one headless Chromium, a page per test.

One browser, one context per device: a laptop (``chromium``), a phone, a projector.

Everything is package-scoped: servers and the browser start once for tests/browser and stop
when its last test is done (also when a test fails), before the rest of the suite runs.
Without Chromium or Playwright the tests are skipped on a workstation and fail under CI=true.
"""

from __future__ import annotations

import os
import shutil

import pytest

from tests.browser.lab_browser import (CHROMIUM, CHROMIUM_ARGS, LOAD_TIMEOUT_MS, PHONE,
                                       PROJECTOR, VIEWPORT, LabServer, ServerExited,
                                       path_without)


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
def browser(playwright_driver):
    """Debian's Chromium, once for the package; each viewport, locale and colour scheme is
    a context of it (a fresh profile each, with no cookies or storage of the others)."""
    browser = playwright_driver.chromium.launch(executable_path=CHROMIUM, headless=True,
                                                args=CHROMIUM_ARGS)
    yield browser
    browser.close()


def new_context(browser, **options):
    """A context of ``browser``: a laptop (VIEWPORT), English, light, unless told otherwise."""
    settings = dict(viewport=VIEWPORT, locale="en-US", color_scheme="light", timezone_id="UTC")
    settings.update(options)
    context = browser.new_context(**settings)
    context.set_default_timeout(LOAD_TIMEOUT_MS)
    return context


@pytest.fixture(scope="package")
def chromium(browser):
    """A laptop: 1280×900, an English locale, a light colour scheme."""
    context = new_context(browser)
    yield context
    context.close()


@pytest.fixture(scope="package")
def phone(browser, playwright_driver):
    """A phone in a student's hand: 390×844 CSS pixels, touch (one pixel per CSS pixel, so
    that screenshots are 390×844), and a phone's Chrome as the user agent: Streamlit tells
    a phone by it (closing the sidebar after a page link, for one)."""
    user_agent = playwright_driver.devices["Pixel 7"]["user_agent"]
    context = new_context(browser, viewport=PHONE, is_mobile=True, has_touch=True,
                          user_agent=user_agent)
    yield context
    context.close()


@pytest.fixture(scope="package")
def projector(browser):
    """A lecture hall's projector: 1920×1080."""
    context = new_context(browser, viewport=PROJECTOR)
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


def tab(context):
    """A fresh tab; uncaught JavaScript errors are collected in ``page.lab_errors``."""
    page = context.new_page()
    page.lab_errors = []
    page.on("pageerror", lambda error: page.lab_errors.append(str(error)))
    return page


@pytest.fixture
def browser_page(chromium):
    page = tab(chromium)
    yield page
    page.close()
