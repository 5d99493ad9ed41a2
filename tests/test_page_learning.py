"""AppTest: page 9, learning with gradients: every control moved, in both languages."""

import json

import pytest

from lab import export
from lab.i18n import localized
from lab.training import DATASETS, TOO_LARGE, UPDATES, Loop, train
from lab.ui.views import fmt
from tests.conftest import CODE, SHARE, all_text, open_page, texts
from tests.test_training import printed_numbers

PAGE = "pages/9_learning.py"
SET_2, SET_3 = list(DATASETS)[1:]


def metrics(at) -> list[str]:
    return [m.value for m in at.metric]


def expected_metrics(run) -> list[str]:
    return [fmt(run.loss[0]), fmt(run.loss[-1]), fmt(run.w[-1]), fmt(run.b[-1])]


def figures(at) -> list[dict]:
    return [json.loads(chart.proto.spec) for chart in at.get("plotly_chart")]


def shown_code(at) -> str:
    return next(c.value for c in at.main.code if c.value.startswith("import torch"))


def steps_table(at):
    return next(f.value for f in at.dataframe if "w.grad (∂L/∂w)" in f.value.columns)


def verdict(at) -> str:
    """The info box that tells what gradient descent does (no prediction made)."""
    return next(box.value for box in at.info if "lr·λ" in box.value)


def revealed(query: dict | None = None, locale: str = "en-US"):
    return open_page(PAGE, {"reveal": "true", **(query or {})}, locale=locale, opened=(CODE,))


def test_defaults_ask_first_and_hide_the_run():
    at = open_page(PAGE, opened=(CODE,))
    assert not at.exception and not at.error
    assert any("Run it and show" in box.value for box in at.info)
    assert not at.metric and not at.dataframe
    line, surface = figures(at)
    assert line["layout"]["title"]["text"] == "The line at step 0"
    assert line["data"][2]["name"] == "ŷ = -1·x + 2"
    assert [trace["type"] for trace in surface["data"]] == ["contour", "scatter", "scatter"]
    assert at.radio(key="guess").value is None and at.toggle(key="reveal").value is False
    assert shown_code(at) == localized(train(Loop()).code, "en").rstrip("\n")


def test_reveal_shows_the_runs_numbers_views_and_table():
    at = revealed()
    assert not at.exception and not at.error
    run = train(Loop())
    assert metrics(at) == expected_metrics(run) == ["3.96275", "0.195678", "1.61159",
                                                    "-0.581933"]
    assert [m.label for m in at.metric] == ["loss at step 0", "loss at step 50",
                                            "w at step 50", "b at step 50"]
    assert "converges smoothly" in verdict(at) and "lr·λ = 0.447397" in verdict(at)
    loss, surface, line = figures(at)
    assert loss["layout"]["yaxis"]["type"] == "log"
    assert surface["data"][3]["name"] == "gradient descent"
    assert at.slider(key="step").value == 50 and at.slider(key="step").max == 50
    table = steps_table(at)
    assert list(table["w"][:2]) == ["-1", fmt(run.w[1])]
    assert list(table["w.grad (∂L/∂w)"][:1]) == [fmt(run.grad_w[0])] == ["-2.44306"]
    assert len(table) == 20 and "The first 20 of 51 steps." in [c.value for c in at.caption]


@pytest.mark.parametrize("lr, guess, box, said", [
    ("0.1", "converges_smoothly", "success", "Right"),
    ("0.1", "diverges", "warning", "Not this time: you said it diverges"),
    # lr = 0.3 zig-zags while it converges: "smoothly" is almost right, never wrong
    ("0.3", "converges_smoothly", "info", "Almost: it converges, as you said"),
    ("0.3", "converges_zigzag", "success", "Right: gradient descent **converges, zig-zagging**"),
    ("0.3", "keeps_swinging", "warning", "Not this time"),
])
def test_the_prediction_is_judged_by_lr_times_lambda(lr, guess, box, said):
    at = revealed({"lr": lr, "guess": guess})
    assert not at.exception
    assert any(said in element.value for element in getattr(at, box))


def test_a_new_learning_rate_hides_the_run_for_a_new_prediction():
    at = revealed({"guess": "converges_zigzag"})
    assert at.radio(key="guess").value == "converges_zigzag"
    at.select_slider(key="lr").set_value(0.3).run()
    assert not at.exception
    assert at.toggle(key="reveal").value is False and at.radio(key="guess").value is None
    assert not at.metric
    at.radio(key="guess").set_value("converges_zigzag").run()
    at.toggle(key="reveal").set_value(True).run()
    assert "Right: gradient descent **converges, zig-zagging**" in at.success[0].value
    assert metrics(at) == expected_metrics(train(Loop(lr=0.3)))
    assert "lr = 0.3" in shown_code(at)


def test_a_link_with_a_spanish_or_english_prediction_opens_in_both_languages():
    """The prediction is an id in the link, never a translated label."""
    for lang in ("es", "en"):
        at = revealed({"lang": lang, "guess": "converges_smoothly", "lr": "2.0"})
        assert not at.exception and at.radio(key="guess").value == "converges_smoothly"
        assert at.select_slider(key="lr").value == 2.0          # "2.0" is the number 2
        assert not any("reset" in info.value or "restablec" in info.value for info in at.info)


def test_step_slider_and_buttons_move_the_line_and_the_rings():
    at = revealed({"steps": "10"})
    run = train(Loop(steps=10))
    assert at.slider(key="step").value == 10
    at.button(key="step_next").click().run()             # at the last step: stays there
    assert at.slider(key="step").value == 10 and not at.exception
    at.button(key="step_prev").click().run()
    assert at.slider(key="step").value == 9
    at.slider(key="step").set_value(3).run()
    assert not at.exception
    loss, surface, line = figures(at)
    assert line["layout"]["title"]["text"] == "The line at step 3"
    assert line["data"][2]["name"] == f"ŷ = {fmt(run.w[3])}·x + {fmt(run.b[3])}"
    assert run.b[3] > 0
    assert surface["data"][-1]["x"] == [run.w[3]] and surface["data"][-1]["y"] == [run.b[3]]
    assert list(steps_table(at)["step"])[3] == "▶ 3"
    at.button(key="step_next").click().run()
    assert at.slider(key="step").value == 4
    at.slider(key="steps").set_value(2).run()           # the step is pulled back inside
    assert not at.exception and at.slider(key="step").value == 2


def test_data_update_steps_and_start_change_the_run():
    at = revealed()
    moves = [("radio", "data", SET_3), ("slider", "steps", 80), ("slider", "w0", 2.5),
             ("slider", "b0", -3.0), ("radio", "update", UPDATES[1])]
    for kind, key, value in moves:
        getattr(at, kind)(key=key).set_value(value).run()
        at.toggle(key="reveal").set_value(True).run()
        assert not at.exception, key
    loop = Loop(data=SET_3, steps=80, w0=2.5, b0=-3.0, sgd=True)
    assert metrics(at) == expected_metrics(train(loop))
    assert "optimizer = torch.optim.SGD([w, b], lr=lr)" in shown_code(at)
    assert shown_code(at) == localized(train(loop).code, "en").rstrip("\n")
    assert at.toggle(key="nograd").disabled               # SGD updates under no_grad itself


def test_forgetting_zero_grad_shows_the_sums_and_the_swing():
    at = revealed()
    at.toggle(key="nozero").set_value(True).run()
    assert at.toggle(key="reveal").value is False          # a new loop: predict again
    at.toggle(key="reveal").set_value(True).run()
    assert not at.exception
    run = train(Loop(zero_grad=False))
    table = steps_table(at)
    assert list(table["∂L/∂w of this step alone"][:3]) == [fmt(v) for v in run.own_grad_w[:3]]
    assert list(table["w.grad (∂L/∂w)"][:3]) == [fmt(v) for v in run.grad_w[:3]]
    assert "the **sum** of the gradients" in " ".join(c.value for c in at.caption)
    assert "never settles" in verdict(at) and "keeps swinging" in verdict(at)
    assert "# w.grad.zero_(), b.grad.zero_() forgotten" in shown_code(at)


def test_update_outside_no_grad_shows_pytorchs_error_with_why_and_fix():
    at = revealed({"nograd": "true"})
    assert not at.exception
    [box] = at.error
    assert ("RuntimeError: a leaf Variable that requires grad is being used in an in-place "
            "operation.") in box.value
    assert "**Why:**" in box.value and "torch.no_grad()" in box.value
    assert not at.metric and not at.get("plotly_chart")
    assert list(steps_table(at)["loss"]) == ["3.96275"]
    assert "    w -= lr * w.grad                    # outside torch.no_grad()" in shown_code(at)


def test_too_large_a_learning_rate_stops_at_inf_and_says_why():
    at = revealed()
    at.toggle(key="biglr").set_value(True).run()
    at.toggle(key="reveal").set_value(True).run()
    assert not at.exception and at.select_slider(key="lr").disabled
    run = train(Loop(lr=TOO_LARGE))
    [box] = at.error
    assert f"At step {run.stopped} the loss became **inf**" in box.value
    assert "float32" in box.value and "2/λ = 0.44703" in box.value
    assert metrics(at)[1] == "inf ⚠" and at.slider(key="step").max == run.stopped
    assert "diverges" in verdict(at)


def test_a_link_reopens_the_state_set_through_the_widgets():
    query = {"data": SET_2, "lr": "0.5", "steps": "120", "w0": "1.5", "b0": "-2.0",
             "update": UPDATES[1], "nozero": "true", "guess": "keeps_swinging", "reveal": "true",
             "step": "7"}
    by_link = open_page(PAGE, query, opened=(CODE, SHARE))
    assert not by_link.exception and not [i for i in by_link.info if "reset" in i.value]
    by_hand = open_page(PAGE, opened=(CODE,))
    for kind, key, value in [("radio", "data", SET_2), ("select_slider", "lr", 0.5),
                             ("slider", "steps", 120), ("slider", "w0", 1.5),
                             ("slider", "b0", -2.0), ("radio", "update", UPDATES[1]),
                             ("toggle", "nozero", True), ("radio", "guess", "keeps_swinging"),
                             ("toggle", "reveal", True), ("slider", "step", 7)]:
        getattr(by_hand, kind)(key=key).set_value(value).run()
    for at in (by_link, by_hand):
        assert at.slider(key="step").value == 7 and at.select_slider(key="lr").value == 0.5
        assert metrics(at) == expected_metrics(train(Loop(SET_2, 0.5, 120, 1.5, -2.0, True,
                                                           zero_grad=False)))
    assert [s.value for s in by_link.success] == [s.value for s in by_hand.success]
    assert figures(by_link) == figures(by_hand)
    shared = by_link.sidebar.code[0].value          # (AppTest has no browser to write the URL)
    assert shared.startswith("/learning?") and "lr=0.5" in shared and "step=7" in shared


def test_tampered_links_fall_back_to_defaults_with_a_notice():
    at = open_page(PAGE, {"lr": "0.25", "steps": "9999", "data": "y = x", "biglr": "maybe"},
                   opened=(CODE,))
    assert not at.exception
    assert at.select_slider(key="lr").value == 0.1 and at.slider(key="steps").value == 50
    assert any("reset to their defaults" in info.value for info in at.info)


def test_spanish_page():
    at = revealed(locale="es-ES")
    assert not at.exception
    assert at.title[0].value == "9 · Aprender con gradientes"
    assert at.radio(key="guess").options == ["converge suavemente", "converge en zigzag",
                                             "oscila sin parar y nunca se estabiliza", "diverge"]
    assert [m.label for m in at.metric][0] == "pérdida en el paso 0"
    assert "descenso por gradiente" in texts(at) and "Tasa de aprendizaje lr" in all_text(at)
    at.radio(key="guess").set_value("converges_smoothly").run()
    assert at.success[0].value.startswith(
        "Correcto: el descenso por gradiente **converge suavemente**")
    at.toggle(key="nograd").set_value(True).run()
    assert "PyTorch lanza:" in at.error[0].value and "Por qué" in at.error[0].value
    assert "⟦" not in all_text(at)


def test_lecture_mode_keeps_inputs_results_and_plots():
    at = revealed({"lecture": "true"})
    assert not at.exception
    assert not at.main.expander and at.metric and len(at.get("plotly_chart")) == 3


def test_the_pages_code_panel_script_prints_the_pages_metrics(tmp_path):
    """The script the page shows, exported as the download button does, run by Python."""
    at = revealed({"data": SET_3, "lr": "0.05", "steps": "150"})
    numbers, stderr = printed_numbers(export.script(shown_code(at), "Learning"), tmp_path)
    assert [fmt(v) for v in numbers] == metrics(at), stderr
    run = train(Loop(SET_3, 0.05, 150))
    assert numbers == [run.loss[0], run.loss[-1], run.w[-1], run.b[-1]]


def test_exported_notebook_executes_to_the_same_numbers():
    import nbclient
    import nbformat

    run = train(Loop(sgd=True))
    book = nbformat.reads(export.notebook(run.code, "Learning"), as_version=4)
    nbclient.NotebookClient(book, timeout=120, kernel_name="python3").execute()
    printed = "".join(output.get("text", "") for cell in book.cells
                      for output in cell.get("outputs", []))
    numbers = [float(line.rsplit(" ", 1)[1]) for line in printed.splitlines()]
    assert numbers == [run.loss[0], run.loss[-1], run.w[-1], run.b[-1]]
