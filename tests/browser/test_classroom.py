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
from lab.site import BY_ID
from lab.ui.shell import title
from tests.browser.checks import (axe_violations, clipped_formulas, horizontal_overflow,
                                  overlapping_ticks, small_or_faint_texts, small_targets,
                                  steady_state)
from tests.browser.conftest import new_context, tab
from tests.browser.lab_browser import (LOAD_TIMEOUT_MS, after_change, exception_count,
                                       metric_values, open_link_box, open_page, ready, screenshot,
                                       screenshot_wanted, settle, shows_metric, to_dark)
from tests.browser.test_pages import EVERY_PAGE, IDS
from tests.conftest import open_page as open_app_test

pytestmark = pytest.mark.browser
LOCALES = {"en": "en-US", "es": "es-ES"}


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


MODEBARS_SHOWN = """() => [...document.querySelectorAll('[data-testid="stPlotlyChart"]')]
  .filter(c => c.querySelector('.modebar-container')?.checkVisibility()).length"""


def fits_a_phone(page) -> None:
    """Nothing wider than the screen, no formula cut off, no tool bar over text (plotly's
    own is not shown on a touch screen), every button at least 24×24 px."""
    assert horizontal_overflow(page) == {"page": 0, "main": 0}
    assert clipped_formulas(page) == []
    assert page.evaluate(TOOLBARS_OVER_TEXT) == []
    assert page.evaluate(MODEBARS_SHOWN) == 0
    assert small_targets(page) == []


@pytest.mark.parametrize("url, name, script, section", EVERY_PAGE, ids=IDS)
def test_every_page_on_a_phone(lab, phone, url, name, script, section):
    """390×844, touch: the sidebar closed, and the page fits the phone (``fits_a_phone``)."""
    page = tab(phone)
    try:
        open_page(page, lab, url)
        ready(page)
        assert exception_count(page) == 0 and page.lab_errors == []
        assert page.locator('[data-testid="stSidebar"]').get_attribute(
            "data-collapsed") == "true"
        fits_a_phone(page)
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
        sidebar.get_by_role("link", name=title(BY_ID["torchviz"], "en")).tap()
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


def test_phone_page_7_keeps_the_step_and_its_graph_beside_previous_and_next(lab, phone):
    """On a phone the step's heading and the graph come right under Previous/Next (the
    graph started 700-900 px below Next), and the graph, wider than the screen, is
    scrolled to the current step's node."""
    page = tab(phone)
    try:
        open_page(page, lab, "inside_backward", "step=2")
        ready(page)
        heading = page.locator("p").filter(has_text=re.compile(r"^Step 2 of 5 of the backward"))
        nxt = page.get_by_role("button", name=t("inside_backward.next", "en"))
        graph = page.locator('.st-key-annotated_graph [data-testid="stGraphVizChart"]')
        below_next = nxt.bounding_box()["y"] + nxt.bounding_box()["height"]
        assert 0 <= heading.bounding_box()["y"] - below_next < 120
        assert 0 <= graph.bounding_box()["y"] - below_next < 250, graph.bounding_box()
        page.wait_for_function(NODE_CENTRED, arg=".st-key-annotated_graph "
                               "[data-testid=\"stGraphVizChart\"]", timeout=LOAD_TIMEOUT_MS)
    finally:
        page.close()


# The current step's node (▶) at the centre of the box that scrolls, along each axis the box
# scrolls, unless the box is scrolled as far as it goes that way (a node near the drawing's
# edge cannot be centred).
NODE_CENTRED = """(selector) => {
  const box = document.querySelector(selector);
  const node = [...box.querySelectorAll('g.node')].find(g => g.textContent.includes('▶'));
  if (!node) return false;
  const n = node.getBoundingClientRect(), b = box.getBoundingClientRect();
  const off = {x: (n.left + n.width / 2) - (b.left + b.width / 2),
               y: (n.top + n.height / 2) - (b.top + b.height / 2)};
  const room = {x: box.scrollWidth - box.clientWidth, y: box.scrollHeight - box.clientHeight};
  const at = {x: box.scrollLeft, y: box.scrollTop};
  return ['x', 'y'].every(a => room[a] <= 1 || Math.abs(off[a]) <= 2
    || (off[a] > 0 && at[a] >= room[a] - 1) || (off[a] < 0 && at[a] <= 1));
}"""


# ---- lecture mode on a projector ---------------------------------------------------------------

LECTURE_SIZES = """() => {
  const main = document.querySelector('[data-testid="stMain"]');
  const px = e => parseFloat(getComputedStyle(e).fontSize);
  const shown = [...main.querySelectorAll('[data-testid="stCaptionContainer"]')];
  const svgText = [...main.querySelectorAll('[data-testid="stGraphVizChart"] svg g.node text')]
    .filter(text => text.textContent.trim());          // a blank line's text has no box
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


PAGE_SCROLLED = """() => Math.max(window.scrollY,
  ...[...document.querySelectorAll('[data-testid="stMain"], [data-testid="stAppViewContainer"]')]
     .map(e => e.scrollTop))"""


def readable_from_the_back_row(page) -> None:
    """Every visible text, SVG text of plots and graphs included, at least 24 px and 4.5:1
    against what lies under it; no two tick labels of a plot axis overlap."""
    assert small_or_faint_texts(page, min_px=24, min_ratio=4.5) == []
    assert not any(overlapping_ticks(page)), overlapping_ticks(page)


@pytest.mark.parametrize("url, name, script, section", EVERY_PAGE, ids=IDS)
def test_every_page_in_lecture_mode_on_a_projector(lab, projector, url, name, script, section):
    """1920×1080, ?lecture=true: ~28 px text, captions and legends shown, the sidebar
    closed, plots taller with thick lines and large ticks, graph text large, tables in
    HTML at the page's size; every text readable from the back row and WCAG AA, in the
    light and the dark theme."""
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
            # The page opens at its top; the node is centred in its box (it was scrolled
            # 340 px down with the node at the screen's bottom edge).
            page.wait_for_function(NODE_CENTRED, arg=".st-key-annotated_graph",
                                   timeout=LOAD_TIMEOUT_MS)
            assert page.evaluate(PAGE_SCROLLED) == 0
        assert axe_violations(page) == []
        if url == "inside_backward" and screenshot_wanted():
            # the picture shows what the lecturer scrolls to: the step beside its graph
            page.locator(".st-key-annotated_graph").evaluate(
                """e => { e.closest('[data-testid="stHorizontalBlock"]')
                            .scrollIntoView({block: 'start'});
                          for (const s of document.querySelectorAll(
                              '[data-testid="stMain"], [data-testid="stAppViewContainer"]'))
                            s.scrollTop -= 100; }""")          # under the app's header
        screenshot(page, f"{name}-lecture")
        readable_from_the_back_row(page)
        to_dark(page, redraw=False)
        readable_from_the_back_row(page)
        assert axe_violations(page) == []
    finally:
        page.close()


# ---- a link that reopens the page exactly --------------------------------------------------------

def page_2_by_hand(page, lang: str) -> None:
    """Page 2 with n = 4 (its step button), sum instead of mean, exercise 1 answered (one
    right, one wrong), then backward() called: the table and the plot."""
    page.get_by_role("button", name="+1", exact=True).first.click()
    after_change(page, "() => location.search.includes('n=4')")
    page.locator('[data-testid="stRadioOption"]').filter(has_text=re.compile("^sum")).click()
    after_change(page, "() => location.search.includes('reduce=sum')")
    for index, answer in ((0, "2"), (1, "5")):
        box = page.locator(f".st-key-ex1_{index} input")
        box.click()
        page.keyboard.type(answer)
        page.keyboard.press("Enter")
        after_change(page, f"() => location.search.includes('ex1_{index}={answer}')")
    page.get_by_role("switch", name=t("backward.run", lang)).focus()
    page.keyboard.press("Space")
    after_change(page, "() => location.search.includes('backward=true')")


def page_7_by_hand(page, lang: str) -> None:
    """Page 7 on exercise 3 with the range -1..5 (both ends of a range slider: two values
    in the link), the forward pass, three steps on."""
    page.locator('[data-testid="stRadioOption"]', has_text="sin(x)").click()
    after_change(page, "() => location.search.includes('comp=ex3')")
    page.locator('input[type="range"]').first.focus()      # the range's lower end: 1
    for low in (0, -1):
        page.keyboard.press("ArrowLeft")
        after_change(page, f"() => location.search.includes('range={low}&')")
    page.locator('[data-testid="stRadioOption"]').filter(has_text=re.compile("^forward")).click()
    after_change(page, "() => location.search.includes('mode=forward')")
    for step in (2, 3, 4):
        page.get_by_role("button", name=t("inside_backward.next", lang)).click()
        after_change(page, f"() => location.search.includes('step={step}')")


# page: (set it up by hand, what the link must carry)
ROUND_TRIPS = {"backward": (page_2_by_hand, ("n=4", "reduce=sum", "ex1_0=2", "ex1_1=5",
                                             "backward=true")),
               "inside_backward": (page_7_by_hand, ("comp=ex3", "range=-1", "range=5",
                                                    "mode=forward", "step=4"))}


@pytest.mark.parametrize("url, lang", [("backward", "en"), ("inside_backward", "es")])
def test_a_shared_link_reopens_every_control_and_number(lab, browser, url, lang):
    """A student sets the page up by hand and copies the sidebar's link; a browser in the
    other language opens it and shows the same controls, the same numbers, in the sender's
    language (each page once, from each language once)."""
    other = "es" if lang == "en" else "en"
    sender = new_context(browser, locale=LOCALES[lang],
                         permissions=["clipboard-read", "clipboard-write"])
    receiver = new_context(browser, locale=LOCALES[other])
    try:
        page = sender.new_page()
        open_page(page, lab, url)
        by_hand, carried = ROUND_TRIPS[url]
        by_hand(page, lang)
        ready(page)
        before = steady_state(page)
        assert "lang" not in page.url                  # the browser's language: not in the URL

        open_link_box(page, lang)
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
        assert f"lang={lang}" in link, link
        assert [part for part in carried if part not in link] == [], link

        shared = receiver.new_page()
        shared.goto(link, timeout=LOAD_TIMEOUT_MS)
        settle(shared)
        ready(shared)
        assert shared.locator("h1").first.inner_text().strip() == title(BY_ID[url], lang)
        assert not shared.locator('[data-testid="stAlertContentInfo"]').filter(
            has_text=t("app.url_fallback", lang, names="").split(":")[0]).count()
        assert steady_state(shared, expected=before) == before
        assert metric_values(shared) == metric_values(page)
    finally:
        sender.close()
        receiver.close()
