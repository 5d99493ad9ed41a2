"""Page 7 (inside backward()) in a real browser at 1280×900: the annotated graph's text is as large as the body
text, tensors of up to six elements are shown whole, and no formula is wider than the page."""

from __future__ import annotations

import pytest

from tests.browser.lab_browser import VIEWPORT, exception_count, open_page, wait_for_graphs

pytestmark = pytest.mark.browser

EX3 = "comp=ex3"
QUERIES = {"seed chain": "step=3", "exercise 3": f"{EX3}&step=9",
           "typed, in Spanish": "comp=formula&step=4&lang=es"}

MEASURE = """() => {
  const main = document.querySelector('[data-testid="stMainBlockContainer"]');
  const body = parseFloat(getComputedStyle(
    document.querySelector('[data-testid="stMain"] [data-testid="stMarkdownContainer"] p')).fontSize);
  const svg = document.querySelector('.st-key-annotated_graph [data-testid="stGraphVizChart"] svg');
  const scale = svg.getBoundingClientRect().width / svg.viewBox.baseVal.width;
  const texts = [...svg.querySelectorAll('text')];
  const right = main.getBoundingClientRect().right - parseFloat(getComputedStyle(main).paddingRight);
  const formulas = [...document.querySelectorAll('.katex-display')];
  return {body, graph: Math.min(...texts.map(t => parseFloat(getComputedStyle(t).fontSize) * scale)),
          words: texts.map(t => t.textContent),
          // a formula wider than its block scrolls (or is cut); a glyph may overhang its
          // box by a pixel or two
          clipped: formulas.filter(k => k.getBoundingClientRect().right > right + 1
                                        || k.scrollWidth > k.clientWidth + 4).length};
}"""


@pytest.mark.parametrize("query", QUERIES.values(), ids=QUERIES.keys())
def test_graph_text_is_as_large_as_the_body_text_and_no_formula_is_cut(lab, browser_page, query):
    page = browser_page
    page.set_viewport_size(VIEWPORT)
    open_page(page, lab, "inside_backward", query)
    wait_for_graphs(page)
    page.evaluate("() => document.fonts.ready.then(() => true)")
    measured = page.evaluate(MEASURE)
    assert exception_count(page) == 0
    assert measured["graph"] >= measured["body"] - 0.01, measured
    assert measured["clipped"] == 0
    if query.startswith(EX3):        # exercise 3's five gradients, whole, on x's node
        for gradient in ("0.728988", "0.716283", "-3.41801", "-15.4071", "-20.0476"):
            assert gradient in measured["words"], gradient


def test_next_keeps_the_keyboard_focus_at_the_last_step(lab, browser_page):
    """Next and Previous are never disabled: at the last step Next does nothing and keeps
    the focus (a disabled button dropped it to <body>), and Shift+Tab goes on from there."""
    from lab.i18n import t
    from tests.browser.lab_browser import after_change, query, rerun_after

    page = browser_page
    open_page(page, lab, "inside_backward", "step=4")
    following = page.get_by_role("button", name=t("inside_backward.next", "en"), exact=True)
    following.focus()
    page.keyboard.press("Enter")
    after_change(page, "() => location.search.includes('step=5')")
    rerun_after(page, lambda: page.keyboard.press("Enter"))   # the last step: nothing to do
    assert query(page)["step"] == ["5"]
    focused = page.evaluate("() => [document.activeElement.tagName, "
                            "document.activeElement.innerText]")
    assert focused[0] == "BUTTON" and focused[1].endswith(t("inside_backward.next", "en"))
    page.keyboard.press("Shift+Tab")
    assert page.evaluate("() => document.activeElement.innerText").strip().endswith(
        t("inside_backward.previous", "en"))
