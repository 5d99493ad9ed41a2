"""The reference page for rerun benchmarks: one slider and one line of text, nothing else.

It imports ``lab.ui``, the lab's process-start hook (lab/ui/__init__.py: TCP_NODELAY, the
allocator, the fair lanes, the background imports and the frozen heap), so both servers
run the same way and the ratio compares the scripts, not the processes.
"""

import streamlit as st

import lab.ui  # noqa: F401 - the process-start hook, as on every page of the lab

value = st.slider("n", 1, 20, 3, key="n")
st.write(value)
