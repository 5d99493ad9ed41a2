"""Controls moved by hand in the browser change the numbers exactly as AppTest says they should.

Each test also checks that the change lands in the URL (bind="query-params") and that opening
that URL in a new tab reproduces the state.
"""

from __future__ import annotations

import pytest

from lab import tensors
from tests.browser.lab_browser import (after_change, alerts, code_blocks, exception_count,
                                       metric_values, open_page, query, shows_metric, shows_text,
                                       table_becomes, table_rows, words)
from tests.conftest import open_page as open_app_test

pytestmark = pytest.mark.browser


def app_test_rows(at, index: int = 0) -> list[list[str]]:
    """AppTest's dataframe as the browser's grid shows it: header, then rows of texts."""
    frame = at.dataframe[index].value
    return [list(map(str, frame.columns))] + [[str(cell) for cell in row]
                                              for row in frame.itertuples(index=False)]


def test_slider_n_on_page_2_changes_value_and_table(lab, browser_page, chromium):
    page = browser_page
    # backward() called (the table and the plot wait for it: exercise 1 is asked first)
    open_page(page, lab, "backward", "backward=true")
    at = open_app_test("pages/2_backward.py", {"backward": "true"})
    assert metric_values(page) == [m.value for m in at.metric]
    assert table_rows(page) == app_test_rows(at)

    # The keyboard moves the slider thumb one step: n = 3 -> 4.
    before = metric_values(page)[0]
    at.slider(key="n").set_value(4).run()
    expected_y = at.metric[0].value
    assert expected_y != before
    thumb = page.locator('[data-testid="stSlider"] input[type="range"][aria-label="n"]')
    thumb.focus()
    page.keyboard.press("ArrowRight")
    after_change(page, shows_metric(expected_y))
    assert exception_count(page) == 0
    assert metric_values(page) == [m.value for m in at.metric]
    rows = table_becomes(page, app_test_rows(at))
    assert rows == app_test_rows(at) and len(rows) == 1 + 4
    assert query(page)["n"] == ["4"]

    # The URL alone reopens the state in a new tab.
    second = chromium.new_page()
    try:
        open_page(second, lab, "backward", "n=4&backward=true")
        assert second.locator('input[type="range"][aria-label="n"]').input_value() == "4"
        assert metric_values(second) == [m.value for m in at.metric]
        assert table_becomes(second, rows) == rows
    finally:
        second.close()


def select(page, label: str, option: str) -> None:
    page.get_by_role("combobox", name=label, exact=True).click()
    page.get_by_role("option", name=option, exact=True).click()


def test_requires_grad_and_dtype_on_page_1(lab, browser_page, chromium):
    page = browser_page
    open_page(page, lab, "tensors")
    at = open_app_test("pages/1_tensors.py")
    assert "tensor([2., 3.])" in code_blocks(page)

    switch = page.get_by_role("switch", name="requires_grad", exact=True)
    switch.focus()
    page.keyboard.press("Space")
    at.toggle(key="requires_grad").set_value(True).run()
    after_change(page, shows_text("tensor([2., 3.], requires_grad=True)"))
    assert table_becomes(page, app_test_rows(at)) == app_test_rows(at)
    assert query(page)["requires_grad"] == ["true"]

    # int64 with requires_grad: PyTorch's own message, verbatim, with why and the fix.
    select(page, "dtype", "int64")
    at.selectbox(key="dtype").select("int64").run()
    refusal = tensors.inspect("2., 3.", "int64", True).error
    assert refusal == "Only Tensors of floating point and complex dtype can require gradients"
    after_change(page, shows_text(refusal))
    assert exception_count(page) == 0
    [box] = alerts(page, "Error")
    [expected_box] = at.error
    assert refusal in box and refusal in expected_box.value
    assert "float32" in box and ".float()" in box
    assert query(page)["dtype"] == ["int64"]

    # The page stays usable: back to float32 and the tensor is shown again.
    select(page, "dtype", "float32")
    at.selectbox(key="dtype").select("float32").run()
    after_change(page, "() => !document.querySelector('[data-testid=\"stAlertContentError\"]')")
    assert "tensor([2., 3.], requires_grad=True)" in code_blocks(page)
    assert table_becomes(page, app_test_rows(at)) == app_test_rows(at)
    assert exception_count(page) == 0

    second = chromium.new_page()
    try:
        open_page(second, lab, "tensors", "dtype=int64&requires_grad=true")
        assert any(refusal in words(box) for box in alerts(second, "Error"))
    finally:
        second.close()
