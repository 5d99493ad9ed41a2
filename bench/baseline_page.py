"""The reference page for rerun benchmarks: one slider and one line of text, nothing else.

It starts like the lab (``streamlit_app.py``): ``st.App`` with the lab's lifespan (TCP_NODELAY,
the fair lanes, the imports and the frozen heap), so both servers run the same way and the
ratio compares the scripts, not the processes.
"""

import streamlit as st

if __name__ == "__main__":
    value = st.slider("n", 1, 20, 3, key="n")
    st.write(value)
else:
    from lab.ui.process import lifespan

    app = st.App("baseline_page.py", lifespan=lifespan)     # beside this file
