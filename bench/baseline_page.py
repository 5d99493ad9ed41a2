"""The reference page for rerun benchmarks: one slider and one line of text, nothing else.

It takes the lab's TCP_NODELAY fix (lab/ui/network.py, no torch), so both servers send
their replies the same way and the ratio compares the scripts, not the sockets.
"""

import streamlit as st

from lab.ui.network import send_replies_at_once

send_replies_at_once()
value = st.slider("n", 1, 20, 3, key="n")
st.write(value)
