"""One bad input per page: the lab's own message, in the page language, and no traceback.

Community Cloud hides exception details (client.showErrorDetails=false), so what a student
reads must come from the lab. The expected texts are computed here by lab's core on the same
input and rendered from the catalogue, so the test proves the browser shows exactly them.

Pages whose every control is bounded (sliders, toggles, fixed options) can only get a bad
value through a tampered link; for those the test checks that Streamlit drops the value and
the page opens at its defaults without any error.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Callable
from urllib.parse import urlencode

import pytest

from lab import chain, formula, gradients, xvalues
from lab.site import PAGES
from tests.browser.lab_browser import (alerts, code_blocks, exception_count, metric_values,
                                       open_page, query, settle, words)

pytestmark = pytest.mark.browser
LANG = "en"


def refusal(parse: Callable, error: type, text: str) -> Callable[[], list[str]]:
    """The message lab's core gives when ``parse(text)`` refuses the input."""
    def expected() -> list[str]:
        with pytest.raises(error) as refused:
            parse(text)
        return [refused.value.render(LANG)]
    return expected


def notes_of(make_run: Callable[[], gradients.GradientRun]) -> Callable[[], list[str]]:
    """The inf/nan notes the lab attaches to a run, in English."""
    def expected() -> list[str]:
        notes = [note.render(LANG) for note in make_run().notes]
        assert notes, "this input was meant to give inf or nan"
        return notes
    return expected


def cell_error(program: str) -> Callable[[], list[str]]:
    """How the cell ends ``program``: PyTorch's words, or the lab's refusal (lab.cell)."""
    def expected() -> list[str]:
        from lab.cell import run_program

        error = run_program(program).error
        assert error is not None, "this program was meant to fail"
        return [error.render(LANG)]
    return expected


@dataclass
class BadInput:
    params: dict = field(default_factory=dict)   # opened as a link with these parameters
    typed: tuple[str, str] | None = None         # (text box label, text), then Enter
    kind: str = "Error"                          # alert kind: Error or Warning
    expected: Callable[[], list[str]] | None = None   # None: a tampered link, defaults
    dropped: tuple[str, ...] = ()                # tampered parameters Streamlit must drop


FORMULA = (formula.parse, formula.FormulaError)
VALUES = (xvalues.parse_values, xvalues.InputError)
BAD_INPUTS = {
    "": BadInput(params={"lang": "xx"}, dropped=("lang",)),
    "tensors": BadInput(typed=("Values of t1", "abc"), expected=refusal(*VALUES, "abc")),
    "backward": BadInput(params={"a": "0.0", "p": "-1.0", "backward": "true"}, kind="Warning",
                         expected=notes_of(lambda: chain.run_chain(3, 0.0, -1.0, 2.0, "mean"))),
    "torchviz": BadInput(params={"n": "abc", "show_saved": "maybe"},
                         dropped=("n", "show_saved")),
    # Exercise 3 implemented with an integer x: PyTorch's own error, at the student's line.
    "exercises": BadInput(params={"exercise": "3",
                                  "ex3_code": "import torch\nx = torch.arange(1, 6, "
                                              "requires_grad=True)\n"},
                          expected=cell_error("import torch\nx = torch.arange(1, 6, "
                                              "requires_grad=True)\n")),
    "playground": BadInput(params={"f": "x^2"}, expected=refusal(*FORMULA, "x^2")),
    # A program that reaches for the machine: refused, with the line and why.
    "code": BadInput(params={"program": "import os\nos.remove('x')\n"},
                     expected=cell_error("import os\nos.remove('x')\n")),
    # A hostile formula on page 6: refused, and its name shown as typed (not as markdown).
    "inside_backward": BadInput(params={"comp": "formula", "f": "__import__('os')"},
                                expected=refusal(*FORMULA, "__import__('os')")),
    "mistakes": BadInput(params={"acc": "maybe", "twice": "7"}, dropped=("acc", "twice")),
    "learning": BadInput(params={"lr": "0.25", "steps": "9999", "biglr": "maybe"},
                         dropped=("lr", "steps", "biglr")),
}
URLS = [info.url for info in PAGES]


def state(page) -> tuple:
    """What a page shows: its alerts, metrics and code (to compare with its defaults)."""
    return (alerts(page, "Error"), alerts(page, "Warning"), metric_values(page),
            code_blocks(page))


@pytest.mark.parametrize("url", URLS, ids=[url or "home" for url in URLS])
def test_bad_input_shows_the_labs_own_message(lab, browser_page, url):
    if url not in BAD_INPUTS:
        pytest.fail(f"page {url!r} has no bad-input case: add one to BAD_INPUTS", pytrace=False)
    case = BAD_INPUTS[url]
    page = browser_page
    open_page(page, lab, url, urlencode(case.params, doseq=True))
    if case.typed:
        label, text = case.typed
        box = page.get_by_role("textbox", name=label, exact=True)
        box.fill(text)
        box.press("Enter")
        page.wait_for_function(
            "() => document.querySelector('[data-testid=\"stAlertContentError\"]')")
        settle(page)

    assert exception_count(page) == 0
    if case.expected is None:
        for name in case.dropped:
            assert name not in query(page), f"tampered ?{name}= was kept"
        tampered = state(page)
        open_page(page, lab, url)
        assert tampered == state(page)
        return
    shown = [words(text) for text in alerts(page, case.kind)]
    for message in case.expected():
        message = message.replace("`", "")               # code spans' marks are not shown
        assert any(words(message) in text for text in shown), (message, shown)
    assert not any("Traceback" in text for text in alerts(page, "Error"))
