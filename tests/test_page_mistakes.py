"""AppTest: page 8, the classic mistakes: each card asks first (predict, then run), then
shows PyTorch's words, the verdict, why, the fix and the fixed version."""

import pytest

from lab import mistakes
from lab.i18n import LANGUAGES, localized, t
from lab.mistakes import EXPERIMENTS, KEYS
from tests.conftest import open_page, texts

PAGE = "pages/8_mistakes.py"


def test_six_cards_each_asking_before_anything_runs():
    at = open_page(PAGE)
    assert not at.exception
    assert len(KEYS) == 6 and len(at.radio) == 6 and len(at.toggle) == 6 + 1   # + lecture
    assert all(radio.value is None for radio in at.radio)
    # nothing a mistake prints, warns or raises is on the page before it is run
    assert not at.error and not at.warning and not at.success
    shown = texts(at)
    for key in KEYS:
        run = mistakes.run(key, True)
        assert localized(run.code, "en").rstrip("\n") in [c.value.rstrip("\n") for c in at.code]
        assert t(f"mistakes.{key}_why", "en") not in shown
        if run.error:
            assert run.error not in shown
    assert t("app.remember", "en") not in [h.value for h in at.header]
    index = next(m.value for m in at.markdown if t("mistakes.index", "en") in m.value)
    assert all(f"(#{EXPERIMENTS[key].param})" in index for key in KEYS)


@pytest.mark.parametrize("key", KEYS)
def test_each_card_judges_the_prediction_by_what_pytorch_did(key):
    name = EXPERIMENTS[key].param
    happened = mistakes.outcome(key)
    run = mistakes.run(key, True)
    for guess in EXPERIMENTS[key].options:
        at = open_page(PAGE, query={name: guess, f"{name}_run": "true"})
        assert not at.exception
        said = t(f"mistakes.{key}_{happened}", "en")
        if guess == happened:
            assert [s.value for s in at.success] == [t("mistakes.right", "en", said=said)]
        else:
            assert any(t(f"mistakes.{key}_{guess}", "en") in w.value and said in w.value
                       for w in at.warning)
        if run.error:
            assert any(run.error in e.value for e in at.error)
        assert any(t(f"mistakes.{key}_fix", "en") in m.value for m in at.markdown)


def test_running_without_a_prediction_says_what_happened():
    at = open_page(PAGE, query={"acc_run": "true"})
    said = t(f"mistakes.accumulate_{mistakes.outcome('accumulate')}", "en")
    assert [i.value for i in at.info if said in i.value]
    assert "tensor([2., 4., 6.])\ntensor([ 4.,  8., 12.])" in [c.value for c in at.code]


def test_the_fixed_version_runs_beside_and_the_key_points_wait_for_every_card():
    query = {f"{e.param}_run": "true" for e in EXPERIMENTS.values()}
    at = open_page(PAGE, query={**query, "twice_fixed": "true"})
    assert not at.exception
    fixed = mistakes.run("twice", False)
    assert localized(fixed.code, "en").rstrip("\n") in [c.value.rstrip("\n") for c in at.code]
    assert fixed.output in [c.value for c in at.code]
    assert t("app.remember", "en") in [h.value for h in at.header]     # every card was run
    del query["inplace_run"]
    assert t("app.remember", "en") not in [h.value for h in open_page(PAGE, query=query).header]


def test_moving_every_control_by_hand():
    at = open_page(PAGE)
    for key in KEYS:
        name = EXPERIMENTS[key].param
        at.radio(key=name).set_value(mistakes.outcome(key)).run()
        at.toggle(key=f"{name}_run").set_value(True).run()
        at.toggle(key=f"{name}_fixed").set_value(True).run()
        assert not at.exception
    assert len(at.success) == len(KEYS)
    assert at.query_params["acc"] in ("grows", ["grows"])


@pytest.mark.parametrize("lang", LANGUAGES)
def test_both_languages(lang):
    at = open_page(PAGE, query={"lang": lang, "vec_run": "true", "vec": "error"})
    assert not at.exception
    assert at.header[0].value == t("mistakes.accumulate_title", lang)
    assert t("mistakes.raised", lang) in at.error[0].value
    assert at.success[0].value == t("mistakes.right", lang,
                                    said=t("mistakes.vector_error", lang))
