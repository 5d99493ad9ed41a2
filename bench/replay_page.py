"""The floor's replay page: it sends a recorded page's messages again, with no lab code.

``bench.floor`` records the ForwardMsg frames of one run of a lab page and opens this page
with ``?rec=<name>``; each run of it hands every recorded message back to Streamlit's own
DeltaGenerator (``bench.floor.play``). It starts like the lab and bench/baseline_page.py
(``st.App`` with the lab's lifespan), so the three servers run the same way and the ratio
compares the scripts, not the processes.
"""

import streamlit as st

if __name__ == "__main__":
    from bench.floor import play      # imported once per process; its recordings too

    play(st.query_params.get("rec", ""))
else:
    from lab.ui.process import lifespan

    app = st.App("replay_page.py", lifespan=lifespan)     # beside this file
