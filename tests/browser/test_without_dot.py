"""The lab without Debian's `graphviz`: every page is served, graphs still draw, exports say why.

`st.graphviz_chart` lays graphs out in the browser (Graphviz compiled to WebAssembly), so only
the server-side SVG/PNG downloads need the `dot` program. The server here runs with a PATH from
which every folder holding `dot` was removed (on Debian /bin is /usr/bin: both go).
"""

from __future__ import annotations

import re
import shutil

import pytest

from lab.i18n import t
from lab.site import PAGES
from tests.browser.lab_browser import (exception_count, graphs_drawn, open_page, path_without,
                                       wait_for_graphs)

pytestmark = pytest.mark.browser
URLS = [info.url for info in PAGES]


def shown(markdown: str) -> str:
    """A catalogue text as the browser renders it (no markdown marks, single spaces)."""
    return " ".join(re.sub(r"[`*]", "", markdown).split())


def test_path_without_dot_has_no_dot():
    assert shutil.which("dot", path=path_without("dot")) is None


@pytest.mark.parametrize("url", URLS, ids=[url or "home" for url in URLS])
def test_page_without_dot(lab_without_dot, browser_page, url):
    page = browser_page
    open_page(page, lab_without_dot, url)
    wait_for_graphs(page)
    assert exception_count(page) == 0
    assert page.lab_errors == []

    graphs = graphs_drawn(page)
    for graph in graphs:
        assert graph["svg"] and graph["nodes"] >= 1, graph
    buttons = page.locator('[data-testid="stDownloadButton"]').all_inner_texts()
    buttons = [" ".join(text.split()) for text in buttons]
    assert t("graph.download_svg", "en") not in buttons
    assert t("graph.download_png", "en") not in buttons
    notes = page.get_by_text(shown(t("graph.no_dot", "en")), exact=True)
    if graphs:
        # Each graph keeps its DOT download and says what SVG/PNG would need.
        assert buttons.count(t("graph.download_dot", "en")) >= len(graphs)
        assert notes.count() == len(graphs)
