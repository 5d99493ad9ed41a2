"""Autograd's classic mistakes, each a live experiment: make the mistake, read PyTorch, fix it."""

import streamlit as st

from lab.mistakes import KEYS
from lab.ui import cached
from lab.ui.mistake_views import experiment, mistake_toggle, related_link
from lab.ui.shell import page, section, tr


@section
def card(key: str) -> None:
    """One experiment; its toggle reruns this card only."""
    with st.container(border=True):
        st.header(tr(f"mistakes.{key}_title"), anchor=False)
        experiment(cached.mistake_run(key, mistake_toggle(key)))
        related_link(key)


with page("mistakes"):
    for key in KEYS:
        card(key)
