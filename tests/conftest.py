"""Shared fixtures: an AppTest of the whole app opened on one page."""

from pathlib import Path

import pytest
from google.protobuf import text_format
from streamlit.runtime.pages_manager import PagesManager
from streamlit.testing.v1 import AppTest

ROOT = Path(__file__).resolve().parent.parent
ENTRY = str(ROOT / "streamlit_app.py")
SIDEBAR_PARAMETERS = {"lang", "lecture"}
CODE = "code_open"              # the key of a page's "PyTorch code behind these numbers"
SHARE = "share_open"            # the sidebar's "Link to this state"
PANELS = (CODE, SHARE, "precision_open", "links_open")        # every folded panel, open


def open_page(page: str | None = None, query: dict | None = None,
              locale: str = "en-US", opened: tuple[str, ...] = ()) -> AppTest:
    """Run the app as a browser would open it: entry point, then the page.

    ``opened``: the keys of folded panels (``shell.folded``: CODE, "share_open", ...) the
    student has opened; closed, a panel runs none of its content.
    """
    # AppTest starts at the entry point (the home page), where a browser opens the page
    # directly: the sidebar's parameters go in first, the page's own after the home run.
    query = dict(query or {})
    at = AppTest.from_file(ENTRY, default_timeout=60)
    at.context = {"locale": locale}
    open_panels(at, *opened)
    for name in SIDEBAR_PARAMETERS & set(query):
        at.query_params[name] = query.pop(name)
    if page:
        at.run()
        for name, value in query.items():
            at.query_params[name] = value
        at.switch_page(page)
    else:
        for name, value in query.items():
            at.query_params[name] = value
    return at.run()


def open_panels(at: AppTest, *keys: str) -> AppTest:
    """Open folded panels by their keys, as a click does (run ``at`` to see them)."""
    for key in keys:
        at.session_state[key] = True
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


def all_text(at: AppTest) -> str:
    """Every text the page sent: element protos (labels, help, bodies) and table cells."""
    parts = []

    def walk(node):
        proto = getattr(node, "proto", None)
        if proto is not None:
            parts.append(text_format.MessageToString(proto, as_utf8=True))
        for child in getattr(node, "children", {}).values():
            walk(child)

    walk(at._tree)
    for frame in at.dataframe:
        value = frame.value
        parts += [str(column) for column in value.columns]
        parts += [str(cell) for cell in value.to_numpy().ravel()]
    return "\n".join(parts)


# AppTest builds a new PagesManager for every run, and with a ``pages/`` folder beside the
# entry script Streamlit would start each in its legacy multipage mode; the server never
# does (``lab.ui.process.use_navigation`` clears the flag at process start). Tests run the
# app as the server does: through ``st.navigation`` from the first run.
_pages_manager_init = PagesManager.__init__


def _as_the_server_does(self, *args, **kwargs):
    _pages_manager_init(self, *args, **kwargs)
    PagesManager.uses_pages_directory = False


PagesManager.__init__ = _as_the_server_does
