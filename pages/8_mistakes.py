"""Autograd's classic mistakes, each a live experiment: predict, run, read PyTorch, fix it."""

from lab.mistakes import KEYS
from lab.ui.mistake_views import card, index
from lab.ui.shell import page, remember, section


@section
def cards() -> None:
    """Every card; what to remember once each has been run (a card's control reruns this
    part only)."""
    ran = [card(key) for key in KEYS]
    if all(ran):
        remember("mistakes")


with page("mistakes", asks_first=True):
    index(KEYS)
    cards()
