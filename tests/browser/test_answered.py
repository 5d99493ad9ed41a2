"""Issue 20, "for the room and for every student": the pages once a student has answered,
run and revealed (tests/browser/states.py), on a laptop, a phone and a projector in
lecture mode, in the light and the dark theme.

Each state is opened through its link; in each theme, with a help popover open where the
page has one, axe-core finds no serious or critical WCAG A/AA violation, every plot and
graph is a figure with a text alternative, and the device's own needs hold: on a phone the
page fits the screen, on a projector every text is readable from the back row.
"""

from __future__ import annotations

import pytest

from lab.i18n import t
from tests.browser.checks import axe_violations
from tests.browser.conftest import tab
from tests.browser.lab_browser import (alerts, exception_count, figures, open_page, ready,
                                       to_dark)
from tests.browser.states import ANSWERED, query, url_path
from tests.browser.test_classroom import fits_a_phone, readable_from_the_back_row

pytestmark = pytest.mark.browser
DEVICES = {"laptop": "chromium", "phone": "phone", "lecture": "projector"}

# What each state shows (alert boxes of each kind, at least): a state that stopped showing
# its answers, errors or refusals would test nothing.
SHOWN = {"tensors": {"Error": 2},                  # PyTorch's error, the cell's refusal
         "backward": {"Success": 1, "Error": 1},   # one answer right, one wrong
         "exercises": {"Warning": 1, "Error": 1},  # a wrong prediction, PyTorch's error
         "exercises#3": {"Success": 1},            # the implementation checked
         "playground": {"Error": 1},               # a refused formula
         "code": {"Error": 1},                     # PyTorch's error, after the graph
         "mistakes": {"Error": 4, "Success": 1, "Warning": 1},
         "learning": {"Info": 1}}                  # it converges, not the way predicted


def with_help_open(page) -> None:
    """Open the page's first help popover (if it has one) and wait for its text."""
    helps = page.get_by_role("button", name=t("app.help", "en"), exact=True)
    if helps.count():
        helps.first.click()
        page.locator('[data-testid="stPopoverBody"]').first.wait_for(state="visible")


def check(page, device: str) -> None:
    if device == "phone":
        fits_a_phone(page)
    if device == "lecture":
        readable_from_the_back_row(page)
    assert all(role == "figure" and name for role, name in figures(page)), figures(page)
    with_help_open(page)
    violations = axe_violations(page)
    assert violations == [], [(v["rule"], v["targets"], v["why"]) for v in violations]
    page.keyboard.press("Escape")


@pytest.mark.parametrize("state", list(ANSWERED))
@pytest.mark.parametrize("device", list(DEVICES))
def test_an_answered_page_in_both_themes(lab, request, device, state):
    page = tab(request.getfixturevalue(DEVICES[device]))
    try:
        extra = {"lecture": "true"} if device == "lecture" else {}
        open_page(page, lab, url_path(state), query(state, **extra))
        ready(page)
        assert exception_count(page) == 0 and page.lab_errors == []
        for kind, least in SHOWN.get(state, {}).items():
            assert len(alerts(page, kind)) >= least, (kind, alerts(page, kind))
        check(page, device)
        to_dark(page, redraw=False)
        check(page, device)
    finally:
        page.close()
