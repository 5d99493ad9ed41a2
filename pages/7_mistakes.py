"""Autograd's classic mistakes, each a live experiment: make the mistake, read PyTorch, fix it."""

import streamlit as st

from lab.mistakes import KEYS
from lab.ui import cached
from lab.ui.mistake_views import experiment, mistake_toggle
from lab.ui.shell import footer, header, tr

header("mistakes")
for key in KEYS:
    with st.container(border=True):
        st.subheader(tr(f"mistakes.{key}_title"))
        experiment(cached.mistake_run(key, mistake_toggle(key)))
        if key == "integer":
            st.page_link("pages/1_tensors.py", label=tr("mistakes.integer_link"),
                         icon=":material/data_array:")
footer()
