"""Page 9 in a real browser: ask first, reveal, the run's plots drawn, in English and Spanish."""

from __future__ import annotations

import json

import pytest

from lab.i18n import t
from lab.site import BY_ID
from lab.training import Loop, train
from lab.ui.views import fmt
from tests.browser.lab_browser import (after_change, alerts, exception_count, metric_values,
                                       open_page, plots_drawn, query, shows_metric, words,
                                       wait_for_plots)
from tests.conftest import open_page as open_app_test

pytestmark = pytest.mark.browser
PAGE = BY_ID["learning"].script


def traces(at) -> list[int]:
    return [len(json.loads(chart.proto.spec)["data"]) for chart in at.get("plotly_chart")]


@pytest.mark.parametrize("lang, title", [("en", "9 · Learning with gradients"),
                                         ("es", "9 · Aprender con gradientes")])
def test_revealed_run_draws_every_plot_in_both_languages(lab, browser_page, lang, title):
    page = browser_page
    open_page(page, lab, "learning", f"lang={lang}&reveal=true&nozero=true")
    wait_for_plots(page)
    assert page.locator("h1").first.inner_text().strip() == title
    assert exception_count(page) == 0 and page.lab_errors == []
    at = open_app_test(PAGE, {"lang": lang, "reveal": "true", "nozero": "true"})
    assert metric_values(page) == [m.value for m in at.metric]
    run = train(Loop(zero_grad=False))
    assert metric_values(page)[1] == fmt(run.loss[-1])
    drawn = plots_drawn(page)
    assert drawn == traces(at) and len(drawn) == 3            # loss, path, line
    # each plot's text alternative, in the page's language, as the page wrote it
    names = page.locator('[data-testid="stPlotlyChart"]').evaluate_all(
        "cs => cs.map(c => [c.getAttribute('role'), c.getAttribute('aria-label')])")
    assert names == [["figure", chart.proto.alt] for chart in at.get("plotly_chart")]
    assert names[0][1].startswith(t("learning.loss_alt", lang).split("{")[0])
    assert page.locator('[data-testid="stPlotlyChart"] .contour').count() >= 1
    assert page.locator('[data-testid="stDataFrame"]').count() == 1


def test_predict_then_reveal_by_hand(lab, browser_page):
    page = browser_page
    open_page(page, lab, "learning")
    wait_for_plots(page)
    assert metric_values(page) == [] and len(plots_drawn(page)) == 2
    run = train(Loop())
    assert run.behaviour == "converges_smoothly"
    page.get_by_role("radio", name="converges smoothly", exact=True).check(force=True)
    page.wait_for_function("() => location.search.includes('guess=')", timeout=30_000)
    page.get_by_role("switch", name="Run it and show", exact=True).click(force=True)
    after_change(page, shows_metric(fmt(run.loss[-1])))
    wait_for_plots(page)
    assert metric_values(page) == [fmt(run.loss[0]), fmt(run.loss[-1]), fmt(run.w[-1]),
                                   fmt(run.b[-1])]
    assert any(words("Right: gradient descent converges smoothly") in words(box)
               for box in alerts(page, "Success"))
    assert len(plots_drawn(page)) == 3 and exception_count(page) == 0
    assert query(page)["reveal"] == ["true"] and query(page)["guess"] == ["converges_smoothly"]
