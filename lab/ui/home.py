"""The home page: what the lab teaches and a link to each section. Imports no torch."""

import streamlit as st

from lab.ui.shell import PAGES, carried_parameters, page, tr


def render() -> None:
    with page("home"):
        st.header(tr("home.how_title"), anchor=False)
        st.markdown(tr("home.how"))
        st.header(tr("home.sections"), anchor=False)
        for info in PAGES:
            st.page_link(info.path, label=tr(f"{info.section}.title"), icon=info.icon,
                         query_params=carried_parameters())
            st.caption(tr(f"{info.section}.summary"))
