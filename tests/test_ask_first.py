"""Ask before you tell: no answer is on a page before the student has answered, in either
language. For each exercise and prediction, the page is opened as a student first finds it
(every folded panel opened: a closed one runs nothing) and searched (every text it sent, table cells included) for the answer: the numbers PyTorch
computes, PyTorch's error, and the catalogue's explanation and "what to remember"."""

from __future__ import annotations

import re

import pytest

from lab import chain, mistakes, training
from lab.i18n import LANGUAGES, catalogue, t
from lab.mistakes import EXPERIMENTS
from bench.scenarios import EXERCISE_3_SOLVED
from tests.conftest import PANELS, all_text, open_page

pytestmark = pytest.mark.parametrize("lang", LANGUAGES)


def absent(text: str, *answers: str) -> list[str]:
    return [answer for answer in answers if answer and answer in text]


def test_exercise_1_on_the_backward_page(lang):
    result = chain.run_chain(**chain.DEFAULTS, reduce="mean")
    at = open_page("pages/2_backward.py", query={"lang": lang}, opened=PANELS)
    assert not at.exception and not at.dataframe and not at.get("plotly_chart")
    shown = all_text(at)
    gradients = [f"{g:.6g}" for g in result.grad if "." in f"{g:.6g}"]     # not a bare 2
    assert len(gradients) >= 2
    assert absent(shown, *gradients, t("backward.key_points", lang)) == []
    at.toggle(key="backward").set_value(True).run()                 # asked: now it tells
    assert all(g in all_text(at) for g in gradients)


def test_exercise_2_prediction(lang):
    at = open_page("pages/4_exercises.py", query={"lang": lang, "exercise": "2"}, opened=PANELS)
    shown = all_text(at)
    assert absent(shown, "Only Tensors of floating point", t("exercises.ex2_answer", lang),
                  t("exercises.ex2_remember", lang), "int64") == []
    at.radio(key="ex2_guess").set_value("works").run()
    assert absent(all_text(at), "Only Tensors of floating point",
                  t("exercises.ex2_answer", lang)) == []             # chosen, not checked yet
    at.toggle(key="ex2_check").set_value(True).run()
    assert "Only Tensors of floating point" in all_text(at)


def test_exercise_3_implementation(lang):
    at = open_page("pages/4_exercises.py", query={"lang": lang, "exercise": "3"}, opened=PANELS)
    shown = all_text(at)
    assert absent(shown, "-34.1", "0.7290", "-20.0476", t("exercises.ex3_remember", lang),
                  "SinBackward0") == []
    solved = open_page("pages/4_exercises.py", query={
        "lang": lang, "exercise": "3", "ex3_code": EXERCISE_3_SOLVED, "ex3_reference": "true"},
        opened=PANELS)
    assert all(answer in all_text(solved) for answer in ("-34.1", "0.7290", "SinBackward0"))


@pytest.mark.parametrize("key", list(EXPERIMENTS))
def test_each_mistake_before_it_runs(lang, key):
    run = mistakes.run(key, True)
    at = open_page("pages/8_mistakes.py", query={"lang": lang}, opened=PANELS)
    shown = all_text(at)
    assert absent(shown, t(f"mistakes.{key}_why", lang), run.error, run.warning) == []
    assert not at.error
    name = EXPERIMENTS[key].param
    ran = all_text(open_page("pages/8_mistakes.py", query={"lang": lang, f"{name}_run": "true"},
                             opened=PANELS))
    said = (run.error or run.output).splitlines()[0]
    assert t(f"mistakes.{key}_why", lang) in ran and said in ran


def test_the_learning_rate_prediction(lang):
    at = open_page("pages/9_learning.py", query={"lang": lang}, opened=PANELS)
    run = training.train(training.Loop())
    shown = all_text(at)
    assert not at.metric and not at.dataframe
    whys = [longest_literal(catalogue(lang)[f"learning.why_{behaviour}"])
            for behaviour in training.BEHAVIOURS]
    assert absent(shown, f"{run.loss[-1]:.4g}", *whys) == []
    revealed = open_page("pages/9_learning.py", query={"lang": lang, "reveal": "true"},
                         opened=PANELS)
    assert revealed.metric and any(why in all_text(revealed) for why in whys)


def longest_literal(text: str) -> str:
    """The longest stretch of a catalogue text without a placeholder."""
    return max(re.split(r"\{\w+\}", text), key=len).strip()
