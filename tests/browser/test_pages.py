"""Every page in a real browser at its defaults, in light then dark theme, with screenshots.

In each theme the same visit also runs axe-core (WCAG 2.0/2.1 A and AA: no serious or
critical violation) and checks the heading levels (no level skipped).

The page list is the home page plus ``lab.ui.shell.PAGES``: a page registered there is covered
here without editing this file. Screenshots go to docs/screenshots/<url>-<theme>.png (home is
``home``); the README embeds them, so a test run keeps them current.
"""

from __future__ import annotations

import json

import pytest

from lab.i18n import MISSING, t
from lab.ui.shell import PAGES
from tests.browser.lab_browser import (alerts, background_luminance, exception_count, graphs_drawn,
                                       metric_values, open_page, plots_drawn, screenshot, settle,
                                       wait_for_graphs, wait_for_plots, words)
from tests.browser.checks import axe_violations, focus_rings
from tests.conftest import open_page as open_app_test

pytestmark = pytest.mark.browser

# (url path, screenshot name, script for AppTest, catalogue section)
HOME = ("", "home", None, "home")
EVERY_PAGE = [HOME] + [(info.url, info.url, info.path, info.section) for info in PAGES]
IDS = [name for _, name, _, _ in EVERY_PAGE]


def deliberate_errors(url: str) -> list[str]:
    """PyTorch errors a page shows on purpose at its defaults, as the lab's core reports them.

    The mistakes page makes each classic mistake and quotes what PyTorch raised (exercise 2
    asks for a prediction first: no error until then). Any other error box at defaults
    fails the test.
    """
    if url == "mistakes":
        from lab import mistakes

        return [run.error for run in (mistakes.run(key, True) for key in mistakes.KEYS)
                if run.error]
    return []


# Relative luminance of the app background: below DARK is a dark theme, above LIGHT a light one.
DARK, LIGHT = 0.05, 0.8
DARK_BACKGROUND = """() => {
  const [r, g, b] = getComputedStyle(document.querySelector('[data-testid="stApp"]'))
    .backgroundColor.match(/\\d+/g).map(Number);
  return r + g + b < 150;
}"""


HEADINGS = """() => [...document.querySelectorAll('[data-testid="stMain"] :is(h1,h2,h3,h4,h5,h6)')]
  .filter(h => h.offsetParent !== null).map(h => Number(h.tagName[1]))"""


def accessible(page) -> None:
    """axe-core finds no serious or critical WCAG A/AA violation; headings go down one
    level at a time (h1, h2, h3: none skipped); no control has a "?" help button of its own
    (a tab stop each: the help sits behind one button per group, or in a caption); every
    graph has a text alternative; every keyboard stop shows a focus ring of at least 2 px
    and 3:1 against its surroundings."""
    violations = axe_violations(page)
    assert violations == [], [(v["rule"], v["targets"]) for v in violations]
    levels = page.evaluate(HEADINGS)
    assert levels[:1] == [1] and all(b <= a + 1 for a, b in zip(levels, levels[1:])), levels
    assert page.locator('[data-testid="stTooltipIcon"]').count() == 0
    for graph in page.locator('[data-testid="stGraphVizChart"]').all():
        assert graph.get_attribute("role") == "figure"
        assert "nodes" in (graph.get_attribute("aria-label") or "")
    rings = focus_rings(page)
    assert len(rings) > 5
    weak = [ring for ring in rings if ring["width"] < 2 or ring["contrast"] < 3]
    assert weak == [], weak


def ready(page) -> None:
    """Graphs laid out, plots drawn, fonts loaded: what a screenshot should show."""
    wait_for_graphs(page)
    wait_for_plots(page)
    page.evaluate("() => document.fonts.ready.then(() => true)")


@pytest.mark.parametrize("url, name, script, section", EVERY_PAGE, ids=IDS)
def test_page_at_defaults_light_and_dark(lab, browser_page, url, name, script, section):
    page = browser_page
    open_page(page, lab, url)
    ready(page)

    assert page.locator("h1").first.inner_text().strip() == t(f"{section}.title", "en")
    assert exception_count(page) == 0
    assert page.lab_errors == []
    assert MISSING.split("{")[0] not in page.locator('[data-testid="stMain"]').inner_text()

    expected = deliberate_errors(url)
    shown = [words(text) for text in alerts(page, "Error")]
    assert len(shown) == len(expected), shown
    for message, box in zip(expected, shown):
        assert words(message) in box

    for graph in graphs_drawn(page):
        assert graph["svg"] and graph["nodes"] >= 1, graph

    # The browser shows the numbers AppTest computes for the same page, and draws every
    # trace of every plotly figure.
    at = open_app_test(script)
    assert not at.exception
    assert metric_values(page) == [metric.value for metric in at.metric]
    figures = [len(json.loads(chart.proto.spec)["data"]) for chart in at.get("plotly_chart")]
    drawn = plots_drawn(page)
    assert all(traces >= 1 for traces in drawn)
    if len(drawn) == len(figures):          # no chart hidden in a closed tab
        assert drawn == figures

    screenshot(page, f"{name}-light")
    assert background_luminance(page) > LIGHT
    accessible(page)

    # With no `base` in config.toml the lab follows the system's colour scheme, live; plotly
    # charts keep the palette they were drawn with, so a page with charts is reloaded.
    page.emulate_media(color_scheme="dark")
    if drawn:
        page.reload()
        settle(page)
    page.wait_for_function(DARK_BACKGROUND)
    ready(page)
    assert background_luminance(page) < DARK
    assert exception_count(page) == 0
    screenshot(page, f"{name}-dark")
    accessible(page)


def test_resident_memory_after_every_page(lab, browser_page, record_property):
    """The figure the README quotes: the server's memory once every page has run."""
    for url, *_ in EVERY_PAGE:
        if url not in lab.visited:
            open_page(browser_page, lab, url)
    rss_mb = lab.resident_memory() / 2**20
    record_property("server_rss_mb", round(rss_mb))
    print(f"\nlab server resident memory after every page: {rss_mb:.0f} MB")
    # Community Cloud's smallest allowance is 690 MB; leave room for a class of sessions.
    assert rss_mb < 690
