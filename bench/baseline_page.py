"""The reference page for rerun benchmarks: one slider and one line of text, nothing else.

It takes the lab's process tuning (TCP_NODELAY, lab/ui/network.py; the frozen heap and
the GIL switch interval, lab/ui/process.py; no torch), so both servers run the same way
and the ratio compares the scripts, not the processes.
"""

import streamlit as st

from lab.ui import process
from lab.ui.network import send_replies_at_once

send_replies_at_once()
process.tune()
value = st.slider("n", 1, 20, 3, key="n")
st.write(value)
