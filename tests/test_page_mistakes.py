"""AppTest: page 7, the classic mistakes: every toggle moved, PyTorch's words on the page."""

from lab import mistakes
from lab.i18n import localized
from lab.ui.mistake_views import TOGGLES
from tests.conftest import open_page

PAGE = "pages/7_mistakes.py"
RAISES = ("twice", "vector", "no_grad", "inplace", "leaf_update", "numpy", "integer")


def test_every_mistake_is_made_by_default_with_pytorchs_message():
    at = open_page(PAGE)
    assert not at.exception
    errors = [e.value for e in at.error]
    assert len(errors) == len(RAISES)
    for key in RAISES:
        message = mistakes.run(key, True).error
        assert any(message in e for e in errors), key
    assert "retain_grad()" in at.warning[0].value
    codes = [c.value for c in at.code]
    assert "tensor([2., 4., 6.])\ntensor([ 4.,  8., 12.])" in codes
    links = [link.proto.page for link in at.main.get("page_link")]
    # where leaf_update and integer come back, then the frame's link to the next page
    assert links == ["learning", "tensors", "learning"]


def test_every_toggle_turns_the_fix_on():
    at = open_page(PAGE)
    for count, key in enumerate(mistakes.KEYS, start=1):
        at.toggle(key=TOGGLES[key]).set_value(False).run()
        assert not at.exception
        fixed = mistakes.run(key, False)
        shown = localized(fixed.code, "en").rstrip("\n")      # its comments in English
        assert shown in [c.value.rstrip("\n") for c in at.code], key
        assert fixed.output in [c.value for c in at.code], key
    assert not at.error and not at.warning
    assert "    x.grad.zero_()" in "\n".join(c.value for c in at.code)


def test_spanish_texts():
    at = open_page(PAGE, locale="es-ES")
    assert not at.exception
    assert at.header[0].value == "Los gradientes se acumulan entre llamadas a backward()"
    assert "PyTorch lanza:" in at.error[0].value
