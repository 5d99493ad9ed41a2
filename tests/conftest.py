"""Shared fixtures: an AppTest of the whole app opened on one page."""

from pathlib import Path

import pytest
from streamlit.testing.v1 import AppTest

ROOT = Path(__file__).resolve().parent.parent
ENTRY = str(ROOT / "streamlit_app.py")


def open_page(page: str | None = None, query: dict | None = None,
              locale: str = "en-US") -> AppTest:
    """Run the app as a browser would open it: entry point, then the page."""
    at = AppTest.from_file(ENTRY, default_timeout=60)
    at.context = {"locale": locale}
    for name, value in (query or {}).items():
        at.query_params[name] = value
    at.run()
    if page:
        at.switch_page(page).run()
    return at


@pytest.fixture
def page():
    return open_page


def texts(at: AppTest) -> str:
    """Everything the page wrote as text (markdown, captions, alerts, code, latex)."""
    parts = []
    for kind in ("title", "header", "subheader", "markdown", "caption", "error", "warning",
                 "info", "success", "code", "latex"):
        parts += [str(element.value) for element in getattr(at, kind)]
    return "\n".join(parts)
