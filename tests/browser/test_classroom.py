"""The lab in a lecture: a phone in a student's hand, a projector in lecture mode, and a link
shared from one browser to another that reopens the page exactly.

Each page is visited once per device, and everything that device needs is checked on that
visit (with the screenshot the README shows: docs/screenshots/<page>-phone.png and
<page>-lecture.png, redrawn when LAB_SCREENSHOTS=1).
"""

from __future__ import annotations

import re

import pytest

from lab.i18n import t
from tests.browser.checks import (axe_violations, clipped_formulas, horizontal_overflow,
                                  steady_state)
from tests.browser.conftest import new_context, tab
from tests.browser.lab_browser import (LOAD_TIMEOUT_MS, after_change, exception_count,
                                       metric_values, open_page, screenshot, settle,
                                       shows_metric, wait_for_graphs, wait_for_plots)
from tests.browser.test_pages import EVERY_PAGE, IDS
from tests.conftest import open_page as open_app_test

pytestmark = pytest.mark.browser
LOCALES = {"en": "en-US", "es": "es-ES"}


TABLES_DRAWN = """() => [...document.querySelectorAll('[data-testid="stDataFrame"]')]
  .filter(g => g.checkVisibility() && !g.closest('details:not([open])'))
  .every(g => g.querySelector('table[role="grid"] td'))"""


def ready(page) -> None:
    """Graphs laid out, plots drawn, every visible data grid's cells in the page, fonts."""
    wait_for_graphs(page)
    wait_for_plots(page)
    page.wait_for_function(TABLES_DRAWN, timeout=LOAD_TIMEOUT_MS, polling=100)
    page.evaluate("() => document.fonts.ready.then(() => true)")


# ---- a phone in a student's hand ---------------------------------------------------------------

# Element toolbars (a table's search and download, a plot's full screen) and plotly's own
# tool bar must not lie over any text: titles, formulas, captions.
TOOLBARS_OVER_TEXT = """() => {
  const boxes = s => [...document.querySelectorAll(s)].map(e => e.getBoundingClientRect())
    .filter(r => r.width && r.height);
  const bars = boxes('[data-testid="stMain"] [data-testid="stElementToolbar"]')
    .concat(boxes('[data-testid="stMain"] .modebar-container .modebar'));
  const texts = [...document.querySelectorAll(
      '[data-testid="stMain"] :is(p, .katex, h1, h2, h3, .gtitle)')]
    .filter(e => e.checkVisibility({visibilityProperty: true}))
    .map(e => { const r = document.createRange(); r.selectNodeContents(e);
                return r.getBoundingClientRect(); })          // the words, not the padding
    .filter(r => r.width && r.height);
  const meet = (a, b) => a.left < b.right - 1 && b.left < a.right - 1
                      && a.top < b.bottom - 1 && b.top < a.bottom - 1;
  return bars.flatMap(bar => texts.filter(text => meet(bar, text)).length ? [bar.top] : []);
}"""


@pytest.mark.parametrize("url, name, script, section", EVERY_PAGE, ids=IDS)
def test_every_page_on_a_phone(lab, phone, url, name, script, section):
    """390×844: nothing wider than the screen, no formula cut off, no tool bar over text."""
    page = tab(phone)
    try:
        open_page(page, lab, url)
        ready(page)
        assert exception_count(page) == 0 and page.lab_errors == []
        assert page.locator('[data-testid="stSidebar"]').get_attribute(
            "data-collapsed") == "true"
        assert horizontal_overflow(page) == {"page": 0, "main": 0}
        assert clipped_formulas(page) == []
        assert page.evaluate(TOOLBARS_OVER_TEXT) == []
        screenshot(page, f"{name}-phone")
    finally:
        page.close()


def test_phone_sidebar_closes_after_a_page_link_and_steps_move_n_by_one(lab, phone):
    page = tab(phone)
    try:
        open_page(page, lab, "backward")
        sidebar = page.locator('[data-testid="stSidebar"]')
        page.locator('[data-testid="stExpandSidebarButton"]').tap()
        page.wait_for_function(
            "() => document.querySelector('[data-testid=\"stSidebar\"]')"
            ".dataset.collapsed === 'false'")
        sidebar.get_by_role("link", name=t("torchviz.title", "en")).tap()
        page.wait_for_url(re.compile(r"/torchviz"))
        settle(page)
        page.wait_for_function(
            "() => document.querySelector('[data-testid=\"stSidebar\"]')"
            ".dataset.collapsed === 'true'")

        # A thumb is hard to move by one on a phone; the step button beside it is not.
        open_page(page, lab, "backward")
        expected = open_app_test("pages/2_backward.py", query={"n": "4"}).metric[0].value
        page.get_by_role("button", name="+1", exact=True).tap()
        after_change(page, shows_metric(expected))
        assert page.locator('input[type="range"][aria-label="n"]').input_value() == "4"
    finally:
        page.close()


def test_phone_page_6_keeps_previous_and_next_beside_the_step(lab, phone):
    page = tab(phone)
    try:
        open_page(page, lab, "inside_backward", "step=2")
        heading = page.locator("p").filter(has_text=re.compile(r"^Step 2 of 5 of the backward"))
        nxt = page.get_by_role("button", name=t("inside_backward.next", "en"))
        gap = heading.bounding_box()["y"] - (nxt.bounding_box()["y"]
                                             + nxt.bounding_box()["height"])
        assert 0 <= gap < 120, gap
    finally:
        page.close()


# ---- lecture mode on a projector ---------------------------------------------------------------

LECTURE_SIZES = """() => {
  const main = document.querySelector('[data-testid="stMain"]');
  const px = e => parseFloat(getComputedStyle(e).fontSize);
  const shown = [...main.querySelectorAll('[data-testid="stCaptionContainer"]')];
  const svgText = [...main.querySelectorAll('[data-testid="stGraphVizChart"] svg g.node text')];
  return {
    body: px(main.querySelector('[data-testid="stAlertContainer"] p')),
    captions: shown.length,
    hidden_captions: shown.filter(c => getComputedStyle(c).display === 'none').length,
    plot_heights: [...main.querySelectorAll('[data-testid="stPlotlyChart"] .main-svg')]
      .slice(0, 1).map(s => s.getBoundingClientRect().height),
    line_widths: [...main.querySelectorAll('.scatterlayer .js-line')]
      .map(l => parseFloat(getComputedStyle(l).strokeWidth)),
    tick_sizes: [...main.querySelectorAll('.xtick text')].map(px),
    graph_text: svgText.map(text => text.getBoundingClientRect().height),
    data_grids: main.querySelectorAll('[data-testid="stDataFrame"]').length,
    sidebar: document.querySelector('[data-testid="stSidebar"]').dataset.collapsed,
  };
}"""


@pytest.mark.parametrize("url, name, script, section", EVERY_PAGE, ids=IDS)
def test_every_page_in_lecture_mode_on_a_projector(lab, projector, url, name, script, section):
    """1920×1080, ?lecture=true: ~28 px text, captions and legends shown, the sidebar
    closed, plots taller with thick lines and large ticks, graph text large, tables in
    HTML at the page's size; WCAG AA holds there too."""
    page = tab(projector)
    try:
        open_page(page, lab, url, "lecture=true")
        ready(page)
        page.wait_for_function(
            "() => document.querySelector('[data-testid=\"stSidebar\"]')"
            ".dataset.collapsed === 'true'")
        assert exception_count(page) == 0 and page.lab_errors == []
        sizes = page.evaluate(LECTURE_SIZES)
        assert sizes["body"] >= 27.5, sizes
        assert sizes["hidden_captions"] == 0, sizes          # captions, legends, keys stay
        assert sizes["data_grids"] == 0, sizes
        assert all(height >= 550 for height in sizes["plot_heights"]), sizes   # 1.5×
        assert all(width >= 4 for width in sizes["line_widths"][:2]), sizes
        assert all(size >= 20 for size in sizes["tick_sizes"]), sizes
        assert all(height >= 24 for height in sizes["graph_text"]), sizes
        assert page.locator("summary", has_text=t("app.code", "en")).count() == 0  # no code
        assert page.locator("summary", has_text=t("app.share", "en")).count() == 1  # link box
        if url == "inside_backward":
            node = page.locator('[data-testid="stGraphVizChart"] g.node', has_text="▶").first
            page.wait_for_function(
                """n => { const r = n.getBoundingClientRect();
                          return r.top >= 0 && r.bottom <= window.innerHeight; }""",
                arg=node.element_handle(), timeout=LOAD_TIMEOUT_MS)
        assert axe_violations(page) == []
        screenshot(page, f"{name}-lecture")
    finally:
        page.close()


# ---- a link that reopens the page exactly --------------------------------------------------------

def exercise_3_by_hand(page, lang: str) -> None:
    """Exercise 3's tab, the range 0..7 (both ends of a range slider: two values in the
    link), float64, the answer revealed."""
    page.get_by_role("tab", name=t("exercises.tab3", lang)).click()
    after_change(page, "() => location.search.includes('exercise=3')")
    low, high = page.locator('[role="tabpanel"]:not([hidden]) input[type="range"]').all()
    low.focus()
    page.keyboard.press("ArrowLeft")
    after_change(page, "() => location.search.includes('ex3_range=0')")
    high.focus()
    for end in (6, 7):
        page.keyboard.press("ArrowRight")
        after_change(page, f"() => location.search.includes('ex3_range={end}')")
    page.get_by_role("combobox", name="dtype").click()
    page.get_by_role("option", name="float64", exact=True).click()
    after_change(page, "() => location.search.includes('ex3_dtype=float64')")
    page.get_by_role("switch", name=t("exercises.ex3_reveal", lang)).focus()
    page.keyboard.press("Space")
    after_change(page, "() => document.querySelector('[data-testid=\"stMetricValue\"]')")


def page_6_by_hand(page, lang: str) -> None:
    """Page 6 on exercise 3 with the range -1..5, the forward pass, three steps on."""
    page.locator('[data-testid="stRadioOption"]', has_text="sin(x)").click()
    after_change(page, "() => location.search.includes('comp=sin')")
    page.locator('input[type="range"]').first.focus()      # the range's lower end: 1
    for low in (0, -1):
        page.keyboard.press("ArrowLeft")
        after_change(page, f"() => location.search.includes('range={low}&')")
    page.locator('[data-testid="stRadioOption"]').filter(has_text=re.compile("^forward$")).click()
    after_change(page, "() => location.search.includes('mode=forward')")
    for step in (2, 3, 4):
        page.get_by_role("button", name=t("inside_backward.next", lang)).click()
        after_change(page, f"() => location.search.includes('step={step}')")


ROUND_TRIPS = {"exercises": exercise_3_by_hand, "inside_backward": page_6_by_hand}


@pytest.mark.parametrize("lang", ["en", "es"])
@pytest.mark.parametrize("url", sorted(ROUND_TRIPS))
def test_a_shared_link_reopens_every_control_and_number(lab, browser, url, lang):
    """A student sets the page up by hand and copies the sidebar's link; a browser in the
    other language opens it and shows the same controls, the same numbers, in the sender's
    language."""
    other = "es" if lang == "en" else "en"
    sender = new_context(browser, locale=LOCALES[lang],
                         permissions=["clipboard-read", "clipboard-write"])
    receiver = new_context(browser, locale=LOCALES[other])
    try:
        page = sender.new_page()
        open_page(page, lab, url)
        ROUND_TRIPS[url](page, lang)
        ready(page)
        before = steady_state(page)
        assert "lang" not in page.url                  # the browser's language: not in the URL

        page.locator('[data-testid="stSidebar"] summary').filter(
            has_text=t("app.share", lang)).click()
        box = page.locator('[data-testid="stSidebar"] [data-testid="stCode"]')
        # The box's copy button: it fades in under a mouse only, so its click is dispatched.
        box.locator('button[aria-label="Copy to clipboard"]').dispatch_event("click")
        link = ""
        for _ in range(50):
            link = page.evaluate("() => navigator.clipboard.readText()")
            if link:
                break
            page.wait_for_timeout(100)
        assert link == box.locator("code").inner_text().strip()
        assert f"lang={lang}" in link and link.count("range=") >= 2, link

        shared = receiver.new_page()
        shared.goto(link, timeout=LOAD_TIMEOUT_MS)
        settle(shared)
        ready(shared)
        assert shared.locator("h1").first.inner_text().strip() == t(
            f"{'exercises' if url == 'exercises' else 'inside'}.title", lang)
        assert not shared.locator('[data-testid="stAlertContentInfo"]').filter(
            has_text=t("app.url_fallback", lang, names="").split(":")[0]).count()
        assert steady_state(shared, expected=before) == before
        assert metric_values(shared) == metric_values(page)
    finally:
        sender.close()
        receiver.close()
