"""Every page in a real browser at its defaults, in light then dark theme, with screenshots.

In each theme the same visit also runs axe-core (WCAG 2.0/2.1 A and AA: no serious or
critical violation), checks the heading levels (no level skipped), the text alternative of
every plot and graph, and the keyboard's focus rings.

The page list is ``lab.site.PAGES`` (the home page first): a page declared there is covered
here without editing this file. Screenshots go to docs/screenshots/<id>-<theme>.png (home is
``home``); the README embeds them, so a test run keeps them current.
"""

from __future__ import annotations

import json

import pytest

from lab.i18n import MISSING
from lab.site import PAGES
from lab.ui.shell import title
from tests.browser.checks import axe_violations, focus_rings
from tests.browser.lab_browser import (DARK_BACKGROUND, alerts, background_luminance,
                                       exception_count, figures, graphs_drawn, metric_values,
                                       open_page, plots_drawn, ready, screenshot, to_dark)
from tests.conftest import open_page as open_app_test

pytestmark = pytest.mark.browser

# (url path, screenshot name, script for AppTest, page id): every page of lab.site
EVERY_PAGE = [(info.url, info.id, info.script, info.id) for info in PAGES]
IDS = [name for _, name, _, _ in EVERY_PAGE]

# Relative luminance of the app background: below DARK is a dark theme, above LIGHT a light one.
DARK, LIGHT = 0.05, 0.8

HEADINGS = """() => [...document.querySelectorAll('[data-testid="stMain"] :is(h1,h2,h3,h4,h5,h6)')]
  .filter(h => h.offsetParent !== null).map(h => Number(h.tagName[1]))"""


def accessible(page) -> None:
    """axe-core finds no serious or critical WCAG A/AA violation; headings go down one
    level at a time (h1, h2, h3: none skipped); no control has a "?" help button of its own
    (a tab stop each: the help sits behind one button per group, or in a caption); every
    plot and graph is a figure with a text alternative."""
    violations = axe_violations(page)
    assert violations == [], [(v["rule"], v["targets"], v["why"]) for v in violations]
    levels = page.evaluate(HEADINGS)
    assert levels[:1] == [1] and all(b <= a + 1 for a, b in zip(levels, levels[1:])), levels
    # (a button's own tooltip, shown on hover, wraps the button: no stop of its own)
    assert page.locator('[data-testid="stTooltipIcon"]:not(:has(button))').count() == 0
    assert all(role == "figure" and name for role, name in figures(page)), figures(page)


def focus_visible(page) -> None:
    """Every keyboard stop shows a focus ring of at least 2 px and 3:1 against its
    surroundings (Tab goes once round the page: it scrolls and leaves the focus somewhere,
    so it comes after the screenshots)."""
    rings = focus_rings(page)
    assert len(rings) > 5
    weak = [ring for ring in rings if ring["width"] < 2 or ring["contrast"] < 3]
    assert weak == [], weak


@pytest.mark.parametrize("url, name, script, section", EVERY_PAGE, ids=IDS)
def test_page_at_defaults_light_and_dark(lab, browser_page, url, name, script, section):
    page = browser_page
    open_page(page, lab, url)
    ready(page)

    info = next(info for info in PAGES if info.id == section)
    assert page.locator("h1").first.inner_text().strip() == title(info, "en")
    assert exception_count(page) == 0
    assert page.lab_errors == []
    assert MISSING.split("{")[0] not in page.locator('[data-testid="stMain"]').inner_text()
    # Every page asks before it tells: no error box at its defaults (the mistakes page shows
    # PyTorch's error only once a card is run).
    assert alerts(page, "Error") == []

    for graph in graphs_drawn(page):
        assert graph["svg"] and graph["nodes"] >= 1, graph

    # The browser shows the numbers AppTest computes for the same page, draws every trace
    # of every plotly figure, and gives each plot the text alternative the page wrote.
    at = open_app_test(script)
    assert not at.exception
    assert metric_values(page) == [metric.value for metric in at.metric]
    charts = at.get("plotly_chart")
    figures_sent = [len(json.loads(chart.proto.spec)["data"]) for chart in charts]
    drawn = plots_drawn(page)
    assert all(traces >= 1 for traces in drawn)
    if len(drawn) == len(figures_sent):          # no chart hidden in a closed tab
        assert drawn == figures_sent
        plot_names = [name for name in page.locator('[data-testid="stPlotlyChart"]')
                      .evaluate_all("cs => cs.map(c => c.getAttribute('aria-label'))")]
        assert plot_names == [chart.proto.alt for chart in charts]
        assert all(plot_names)

    screenshot(page, f"{name}-light")
    assert background_luminance(page) > LIGHT
    accessible(page)

    to_dark(page)
    assert background_luminance(page) < DARK
    assert exception_count(page) == 0
    screenshot(page, f"{name}-dark")
    accessible(page)
    focus_visible(page)
    page.emulate_media(color_scheme="light")           # the theme follows at once
    page.wait_for_function(f"() => !({DARK_BACKGROUND})()")
    focus_visible(page)


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
