"""The Streamlit-aware part of the lab: the page frame (``shell``), the URL parameters
(``links``), shared widgets and views, and the server's start, which ``streamlit_app.py``
hands to ``st.App``. Importing it runs nothing."""
