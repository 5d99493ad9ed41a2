"""The home page: what the lab teaches and a link to each section. Imports no torch."""

import streamlit as st

from lab.site import PAGES
from lab.ui.shell import carried_parameters, page, page_object, title, tr


def render() -> None:
    with page("home"):
        st.header(tr("home.how_title"), anchor=False)
        st.markdown(tr("home.how"))
        st.header(tr("home.sections"), anchor=False)
        for info in PAGES[1:]:
            st.page_link(page_object(info), label=title(info), icon=info.icon,
                         query_params=carried_parameters())
            st.caption(tr(f"{info.id}.summary"))
