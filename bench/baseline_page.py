"""The reference page for rerun benchmarks: one slider and one line of text, nothing else.

It takes the lab's process tuning (lab/ui/process.tune: TCP_NODELAY, the frozen heap, one
run at a time, coalesced wake-ups; no torch), so both servers run the same way and the
ratio compares the scripts, not the processes.
"""

import streamlit as st

from lab.ui import process

process.tune()
value = st.slider("n", 1, 20, 3, key="n")
st.write(value)
