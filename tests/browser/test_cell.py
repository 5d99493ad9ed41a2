"""Issue 21 in Chromium: a student writes PyTorch.

Exercise 3 implemented by keyboard (click the box, select all, type), run with the Run
button or Ctrl+Enter, in English and Spanish, on a laptop, a phone and a projector: the page
shows what the program printed and the check's verdict, tells a `.sum()` from the `.mean()`
asked for, and, when asked, draws the student's graph beside the lab's. Page 6 (the cell):
a program with two leaves, its graph and both leaves' .grad, a box that Tab leaves as any
text area, a program kept in the link through a reload, a very long one kept out of it
with a note; axe-core clean with a refused program on the page.

Every expected text is computed by lab's core from the same program (lab.cell) and the
catalogue, so the test proves the browser shows exactly them.
"""

from __future__ import annotations

import pytest

from lab import gradients
from lab.cell import run_program
from lab.cell.grading import check_exercise_3
from lab.chain import exercise_3_input
from lab.i18n import t
from lab.ui.links import PROGRAM_LINK_MAX, link_length
from lab.ui.views import fmt
from tests.browser.checks import axe_violations
from tests.browser.conftest import tab
from tests.browser.lab_browser import (after_change, alerts, code_blocks, exception_count,
                                       open_page, query, settle, shows_text, table_rows,
                                       wait_for_graphs, words)
from tests.browser.states import EXERCISE_3, REFUSED
from tests.browser.test_graphs import drawn, node_texts

pytestmark = pytest.mark.browser
DEVICES = {"laptop": "chromium", "phone": "phone", "lecture": "projector"}
SUM = EXERCISE_3.replace(".mean()", ".sum()")


def verdict(program: str, lang: str) -> str:
    """The check's words for ``program`` as the page shows them (markdown's marks gone)."""
    grade = check_exercise_3(run_program(program))
    return words(" ".join(t(m.key, lang, **m.values) for m in grade.messages).replace("`", ""))


def type_program(page, key: str, program: str) -> None:
    """Click the program box, select all and type the program, as a student does."""
    page.locator(f".st-key-{key} textarea").click()
    page.keyboard.press("ControlOrMeta+A")
    page.keyboard.type(program)


def printed(page) -> str:
    """What the run printed: the code block under "It prints:"."""
    return next(text for text in code_blocks(page) if text.startswith("tensor("))


@pytest.mark.parametrize("lang", ["en", "es"])
@pytest.mark.parametrize("device", list(DEVICES))
def test_exercise_3_implemented_by_keyboard(lab, request, device, lang):
    page = tab(request.getfixturevalue(DEVICES[device]))
    try:
        lecture = "&lecture=true" if device == "lecture" else ""
        open_page(page, lab, "exercises", f"exercise=3&lang={lang}{lecture}")
        assert page.locator('[data-testid="stGraphVizChart"]').count() == 0   # ask first

        # The Run button commits the box and runs it.
        type_program(page, "ex3_code", EXERCISE_3)
        page.locator(".st-key-ex3_code_button button").click()
        right = verdict(EXERCISE_3, lang)
        after_change(page, shows_text(right.split(":")[0]))
        assert printed(page) == run_program(EXERCISE_3).stdout.strip()
        assert any(right in words(box) for box in alerts(page, "Success")), right
        assert "ex3_code" in query(page)

        # A sum where the mean was asked: run with Ctrl+Enter, told apart.
        type_program(page, "ex3_code", SUM)
        page.keyboard.press("ControlOrMeta+Enter")
        told = verdict(SUM, lang)
        after_change(page, shows_text(told[:40]))
        assert any(told in words(box) for box in alerts(page, "Warning")), told
        assert alerts(page, "Success") == []

        # The lab's own solution, asked for: the student's graph and the lab's, both drawn.
        page.get_by_role("switch", name=t("exercises.ex3_reference", lang)).click(force=True)
        after_change(page, "() => document.querySelectorAll("
                           "'[data-testid=\"stGraphVizChart\"] svg g.node').length > 0 "
                           "&& document.querySelectorAll('[data-testid=\"stGraphVizChart\"]')"
                           ".length === 2")
        wait_for_graphs(page)
        text, x_spec = exercise_3_input(1, 5)
        theirs, labs = run_program(SUM).graphs[0], gradients.run(text, x_spec,
                                                                 graph=True).drawing
        assert drawn(page, theirs, 0) == node_texts(theirs)
        assert drawn(page, labs, 1) == node_texts(labs)
        assert exception_count(page) == 0 and page.lab_errors == []
    finally:
        page.close()


TWO_LEAVES = """import torch
from torchviz import make_dot

a = torch.tensor(2.0, requires_grad=True)
b = torch.tensor(3.0, requires_grad=True)
y = a * b + b ** 2
dot = make_dot(y, params={"a": a, "b": b})
y.backward()
print(y)
"""


def test_the_cell_runs_two_leaves_and_keeps_the_program_in_the_link(lab, browser_page):
    page = browser_page
    open_page(page, lab, "code")
    type_program(page, "program", TWO_LEAVES)
    # Tab leaves the box as it leaves any text area (it does not indent), which commits the
    # text; the next stop is the Run button.
    page.keyboard.press("Tab")
    assert page.evaluate("() => document.activeElement.tagName") != "TEXTAREA"
    assert page.evaluate("() => document.activeElement.innerText").strip().endswith(
        t("code.run", "en"))
    page.keyboard.press("Enter")
    result = run_program(TWO_LEAVES)
    after_change(page, shows_text(result.stdout.strip()))
    wait_for_graphs(page)
    assert drawn(page, result.graphs[0]) == node_texts(result.graphs[0])

    # The tensors table: both leaves with their .grad (∂y/∂a = b = 3, ∂y/∂b = a + 2b = 8).
    rows = table_rows(page, page.locator('[data-testid="stDataFrame"]').count() - 1)
    column = {name: rows[0].index(name) for name in (t("code.col_name", "en"), ".grad")}
    grads = {row[column[t("code.col_name", "en")]]: row[column[".grad"]] for row in rows[1:]}
    expected = {s.name: fmt(s.grad[0]) for s in result.tensors if s.is_leaf and s.grad}
    assert expected == {"a": "3", "b": "8"}
    assert {name: grads[name] for name in expected} == expected

    # The program lives in the link: a reload brings it back, run.
    assert query(page)["program"] == [TWO_LEAVES]
    page.reload()
    settle(page)
    assert page.locator(".st-key-program textarea").input_value() == TWO_LEAVES
    assert result.stdout.strip() in code_blocks(page)

    # A very long program stays out of the link, with a note.
    long = "# " + "a long comment " * 220 + "\nprint(1)\n"
    assert link_length(long) > PROGRAM_LINK_MAX
    page.locator(".st-key-program textarea").fill(long)
    page.keyboard.press("ControlOrMeta+Enter")
    note = t("code.not_linked", "en", length=link_length(long), limit=PROGRAM_LINK_MAX)
    after_change(page, shows_text(words(note)[:40]))
    assert "program" not in query(page)
    assert "1" in code_blocks(page)
    assert exception_count(page) == 0 and page.lab_errors == []

    # A refused program: the lab's words, and axe-core finds nothing to fault.
    open_page(page, lab, "code", f"program={REFUSED.replace(chr(10), '%0A')}")
    assert any(run_program(REFUSED).error.render("en").replace("`", "") in words(box)
               for box in alerts(page, "Error"))
    violations = axe_violations(page)
    assert violations == [], [(v["rule"], v["targets"], v["why"]) for v in violations]
