"""Autograd Lab's entry point: the pages (lab.site) and, for the server, its start.

``streamlit run streamlit_app.py`` finds ``app`` below and serves it; ``lifespan`` runs
once at process start, before any visitor (lab/ui/process.py). Every visit runs this
script, which only lists the pages and runs the one asked for.
"""

import streamlit as st

if __name__ == "__main__":
    from lab.ui.shell import navigate

    navigate()
else:
    from lab.ui.process import lifespan

    app = st.App("streamlit_app.py", lifespan=lifespan)
