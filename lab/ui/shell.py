"""The frame around every page: language, navigation, page headers, code and errors.

Streamlit-aware, but it imports no torch, so the home page stays light.
"""

from __future__ import annotations

from dataclasses import dataclass

import streamlit as st

from lab.i18n import LANGUAGES, language_for_locale, t

LANGUAGE_NAMES = {"es": "Español", "en": "English"}


@dataclass(frozen=True)
class PageInfo:
    path: str           # script under pages/
    url: str            # its URL path: Streamlit derives it from the file name
    section: str        # catalogue section with title, intro...
    icon: str


PAGES = (
    PageInfo("pages/1_tensors.py", "tensors", "tensors", ":material/data_array:"),
    PageInfo("pages/2_backward.py", "backward", "chain", ":material/account_tree:"),
    PageInfo("pages/3_torchviz.py", "torchviz", "torchviz", ":material/schema:"),
    PageInfo("pages/4_exercises.py", "exercises", "exercises", ":material/edit_note:"),
)


def lang() -> str:
    """The page language: the sidebar choice, else the browser's."""
    chosen = st.session_state.get("lang")
    if chosen in LANGUAGES:
        return chosen
    return language_for_locale(getattr(st.context, "locale", None))


def tr(key: str, **values) -> str:
    """``t`` in the current page language."""
    return t(key, lang(), **values)


def language_selector() -> str:
    default = language_for_locale(getattr(st.context, "locale", None))
    st.sidebar.selectbox(
        t("app.language", lang()), LANGUAGES, index=LANGUAGES.index(default),
        format_func=LANGUAGE_NAMES.get, key="lang", bind="query-params",
        persist_state="session")
    return lang()


def navigation() -> None:
    """Our own sidebar navigation, so page titles follow the chosen language.

    The lab uses Streamlit's ``pages/`` folder mode: verified on a fresh server, a deep
    link such as ``/backward`` runs that page's script directly, before any entry point
    could declare ``st.navigation``. The built-in list is hidden in config.toml.
    """
    with st.sidebar:
        st.page_link("streamlit_app.py", label=tr("home.title"), icon=":material/home:")
        for info in PAGES:
            st.page_link(info.path, label=tr(f"{info.section}.title"), icon=info.icon)


def header(section: str) -> None:
    """Begin a page: config, the shared sidebar, then the section's title and intro."""
    st.set_page_config(page_title=f"{tr(f'{section}.title')} · Autograd Lab",
                       page_icon=":material/functions:", layout="wide")
    language_selector()
    navigation()
    st.title(tr(f"{section}.title"))
    st.markdown(tr(f"{section}.intro"))


def code_panel(code: str, expanded: bool = False, key_suffix: str = "") -> None:
    """The exact PyTorch code behind the numbers on the page."""
    with st.expander(tr("app.code"), expanded=expanded):
        st.code(code, language="python")


def error_box(text: str, why: str = "", fix: str = "") -> None:
    body = text
    if why:
        body += f"\n\n**{tr('app.why')}** {why}"
    if fix:
        body += f"\n\n**{tr('app.fix')}** {fix}"
    st.error(body, icon=":material/error:")


def show_problem(error) -> None:
    """A refused formula or input, in the page language, with a caret where it applies."""
    st.error(error.render(lang()), icon=":material/error:")
    pointer = getattr(error, "pointer", lambda: "")()
    if pointer:
        st.code(pointer, language=None)
