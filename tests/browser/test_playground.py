"""The playground in a real browser: the example picker fills the formula box (a callback
AppTest runs differently), typed formulas and refusals, and the state kept in the URL."""

from __future__ import annotations

import json

import pytest

from lab.gradients import run
from lab.xvalues import XSpec
from tests.browser.lab_browser import (after_change, alerts, code_blocks, exception_count,
                                       metric_values, open_link_box, open_page, query,
                                       wait_for_graphs, wait_for_plots)

pytestmark = pytest.mark.browser
EXERCISE_3 = "sin(x)*exp(x) + 1/(x+2)"


def shows_metric(value: str) -> str:
    return ("() => [...document.querySelectorAll('[data-testid=\"stMetricValue\"]')]"
            f".some(m => m.innerText.trim() === {json.dumps(value)})")


def formula_box(page):
    return page.get_by_role("textbox", name="Formula f(x)", exact=True)


def test_example_typed_formula_refusal_and_link(lab, browser_page, chromium):
    page = browser_page
    open_page(page, lab, "playground")
    assert metric_values(page) == ["6.66667"] and exception_count(page) == 0
    wait_for_graphs(page)
    wait_for_plots(page)

    # The example picker puts exercise 3 in the formula box.
    page.get_by_role("combobox", name="Examples").click()
    page.get_by_role("option", name=EXERCISE_3, exact=True).click()
    expected = f"{run(EXERCISE_3, XSpec.arange(0, 3)).y:.6g}"
    after_change(page, shows_metric(expected))
    assert formula_box(page).input_value() == EXERCISE_3
    assert query(page)["f"] == [EXERCISE_3]

    # A refused formula: the message and the caret, and no traceback.
    formula_box(page).fill("x + foo(x)")
    formula_box(page).press("Enter")
    page.wait_for_function("() => document.querySelector('[data-testid=\"stAlertContentError\"]')")
    assert alerts(page, "Error")[0].startswith("“foo” is not an available function")
    assert "x + foo(x)\n    ^^^" in code_blocks(page)
    assert exception_count(page) == 0

    # A typed formula; then the link reopens it in a new tab.
    formula_box(page).fill("x**3")
    formula_box(page).press("Enter")
    after_change(page, shows_metric("3"))                      # mean of 0, 1, 8
    link = page.url
    other = chromium.new_page()
    try:
        other.goto(link)
        other.wait_for_function(shows_metric("3"), timeout=90_000)
        assert formula_box(other).input_value() == "x**3"
    finally:
        other.close()
    assert page.lab_errors == []


def test_a_long_value_list_stays_out_of_the_link_and_the_link_reopens(lab, browser_page,
                                                                      chromium):
    """8,000 typed values (~47 KB) made a 72 KB link the server refused. Now the list stays
    out of the link, a note says so, and the link opens (HTTP 200) with the defaults; a
    short list stays in the link and reopens as it was."""
    from lab.formula import EXAMPLES
    from lab.ui.links import LINK_MAX
    from lab.xvalues import DEFAULT_VALUES, parse_values
    from tests.browser.lab_browser import settle

    page = browser_page
    open_page(page, lab, "playground", "xm=torch.tensor")
    open_link_box(page)
    box = page.locator(".st-key-xs input")
    values = ", ".join(str(i) for i in range(8000))     # 46,890 characters
    box.fill(values)
    box.press("Enter")
    after_change(page, shows_metric(f"{run(EXAMPLES[0], XSpec.of(parse_values(values))).y:.6g}"))
    assert "xs" not in query(page) and len(page.url) <= LINK_MAX
    assert any("leaves them out" in note for note in alerts(page, "Info"))
    shared = [text for text in code_blocks(page) if text.startswith(lab.url)]
    # the sidebar's link is this one, plus the language, which a shared link always states
    assert shared == [page.url.replace("?", "?lang=en&", 1)]

    def reopened(link: str) -> list[str]:
        other = chromium.new_page()
        try:
            assert other.goto(link).status == 200
            settle(other)
            return metric_values(other)
        finally:
            other.close()

    defaults = f"{run(EXAMPLES[0], XSpec.of(parse_values(DEFAULT_VALUES))).y:.6g}"
    assert reopened(page.url) == [defaults]

    box.fill("0.5, 1.5, 2.5")
    box.press("Enter")
    short = f"{run(EXAMPLES[0], XSpec.of([0.5, 1.5, 2.5])).y:.6g}"
    after_change(page, shows_metric(short))
    assert query(page)["xs"] == ["0.5, 1.5, 2.5"]
    assert not any("leaves them out" in note for note in alerts(page, "Info"))
    assert reopened(page.url) == [short]
    assert page.lab_errors == []
