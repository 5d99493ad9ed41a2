"""The frame around every page: language, navigation, page headers, code and errors.

Streamlit-aware, but it imports no torch, so the home page stays light.
"""

from __future__ import annotations

import re
import functools
from dataclasses import dataclass
from urllib.parse import urlencode, urlsplit

import streamlit as st

from lab.i18n import LANGUAGES, language_for_locale, t
from lab.ui.carried import boolean, carried, one_of, start_run
from lab.ui.carried import refused as carried_refused


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
    PageInfo("pages/5_playground.py", "playground", "playground", ":material/calculate:"),
    PageInfo("pages/6_inside_backward.py", "inside_backward", "inside", ":material/footprint:"),
    PageInfo("pages/7_mistakes.py", "mistakes", "mistakes", ":material/bug_report:"),
)


def lang() -> str:
    """The page language: the sidebar choice, else the browser's."""
    chosen = st.session_state.get("_carried", {}).get("lang") or st.session_state.get("lang")
    if chosen in LANGUAGES:
        return chosen
    return language_for_locale(getattr(st.context, "locale", None))


def tr(key: str, **values) -> str:
    """``t`` in the current page language."""
    return t(key, lang(), **values)


def language_selector() -> str:
    """Español / English, kept in the URL as ``?lang=es``; defaults to the browser's."""
    default = language_for_locale(getattr(st.context, "locale", None))
    with st.sidebar:
        carried(st.segmented_control, "lang", default, one_of(LANGUAGES),
                label=t("app.language", lang()), options=LANGUAGES, required=True)
    return lang()


# Settings that follow the student from page to page (lab.ui.carried): the language,
# lecture mode and the seed's chain (pages 2, 3 and 6 show the same computation).
CARRIED = ("lang", "lecture", "n", "a", "p", "c", "reduce")
# What the navigation links carry in their URL. The session keeps every carried value
# anyway; the chain stays out so that its sliders can sit in a section (an st.fragment,
# whose reruns leave the sidebar's links as they are).
LINKED = ("lang", "lecture")


def carried_parameters() -> dict[str, str]:
    params = {}
    for name in LINKED:
        value = st.session_state.get(name)
        if value is not None:
            params[name] = str(value).lower() if isinstance(value, bool) else str(value)
    return params


def navigation() -> None:
    """Our own sidebar navigation, so page titles follow the chosen language.

    The lab uses Streamlit's ``pages/`` folder mode: verified on a fresh server, a deep
    link such as ``/backward`` runs that page's script directly, before any entry point
    could declare ``st.navigation``. The built-in list is hidden in config.toml.
    """
    carried = carried_parameters()
    with st.sidebar:
        st.page_link("streamlit_app.py", label=tr("home.title"), icon=":material/home:",
                     query_params=carried)
        for info in PAGES:
            st.page_link(info.path, label=tr(f"{info.section}.title"), icon=info.icon,
                         query_params=carried)


URL_KEEP = {"embed", "embed_options"}     # Streamlit's own parameters, never ours to judge
LECTURE_CSS = """<style>
html { font-size: 22px; }
[data-testid="stMainBlockContainer"] { padding-top: 2rem; max-width: 100%; }
[data-testid="stCaptionContainer"], [data-testid="stExpander"] { display: none; }
</style>"""


def lecture() -> bool:
    """Lecture mode: large type and only the essentials, for projection."""
    return bool(st.session_state.get("lecture", False))


def header(section: str) -> None:
    """Begin a page: config, the shared sidebar, then the section's title and intro."""
    st.session_state["_full_run"] = True
    st.session_state["_page_title"] = tr(f"{section}.title")
    st.session_state["_page_url"] = next(
        (info.url for info in PAGES if info.section == section), "")
    st.set_page_config(page_title=f"{tr(f'{section}.title')} · Autograd Lab",
                       page_icon=":material/functions:", layout="wide")
    st.session_state["_url_at_start"] = st.query_params.to_dict()
    start_run()
    language_selector()
    with st.sidebar:
        carried(st.toggle, "lecture", False, boolean, label=tr("app.lecture"),
                help=tr("app.lecture_help"))
    navigation()
    with st.sidebar.expander(tr("app.share"), icon=":material/link:"):
        st.caption(tr("app.share_help"))
        st.session_state["_share_slot"] = st.empty()     # footer() fills it (share_box)
    if lecture():
        st.html(LECTURE_CSS)
    st.title(tr(f"{section}.title"))
    st.session_state["_url_notice"] = st.empty()
    if not lecture():
        st.markdown(tr(f"{section}.intro"))


def _same(value, raw: str) -> bool:
    """Whether a widget's value is what the URL asked for (Streamlit drops defaults)."""
    if isinstance(value, bool):
        return raw.lower() in ("true", "1") if value else raw.lower() in ("false", "0")
    try:
        return float(value) == float(raw)
    except (TypeError, ValueError):
        return str(value) == raw


def footer() -> None:
    """End a page: say which link parameters were refused, and offer a link to this state."""
    raw = st.session_state.pop("_url_at_start", {})
    now = st.query_params.to_dict()
    refused = sorted(set(carried_refused()) | {
        name for name, value in raw.items()
        if name not in now and name not in URL_KEEP and name not in CARRIED
        and not _same(st.session_state.get(name), value)})
    unknown = sorted(name for name in now if name not in st.session_state
                     and name not in URL_KEEP)
    for name in unknown:
        del st.query_params[name]
    notice = st.session_state.pop("_url_notice", None)
    if (refused or unknown) and notice is not None:
        notice.info(tr("app.url_fallback", names=", ".join(refused + unknown)),
                    icon=":material/link_off:")
    share_box()
    st.session_state["_full_run"] = False


def page_address(page_url: str) -> str:
    """This page's address in the browser, built from the page's own URL path.

    ``st.context.url`` is not used as it is: Streamlit 1.67 trims the first page name
    that ends the URL, so ``/inside_backward`` (which ends in ``backward``) came back as
    ``/inside_/inside_backward``.
    """
    parts = urlsplit(getattr(st.context, "url", None) or "")
    if not parts.netloc:
        return f"/{page_url}"
    return f"{parts.scheme}://{parts.netloc}/{page_url}"


def share_box() -> None:
    """The link to this state, in the sidebar's "link to this state" box (see ``section``).

    Only the link itself is redrawn: one element per rerun, not four.
    """
    slot = st.session_state.get("_share_slot")
    if slot is None:
        return
    base = page_address(st.session_state.get("_page_url", ""))
    query = urlencode(st.query_params.to_dict(), doseq=True)
    slot.code(f"{base}?{query}" if query else base, language=None, wrap_lines=True)


def section(func):
    """``func`` as an ``st.fragment``: a widget inside it reruns it alone, not the page.

    The page frame (sidebar, navigation, title) then costs nothing per interaction
    (README, "Performance"). A fragment's own rerun redraws the sidebar's link box, so
    the link stays current. Of the carried widgets (lab.ui.carried) only those the
    navigation links carry (``LINKED``) must stay outside sections.
    """
    @st.fragment
    @functools.wraps(func)
    def fragment(*args, **kwargs):
        func(*args, **kwargs)
        slot = st.session_state.get("_share_slot")
        if slot is None:
            return
        if st.session_state.get("_full_run", True):
            slot.container()    # a full run: claim the slot (footer() then fills it)
        else:
            share_box()
    return fragment


def code_panel(code: str, expanded: bool = False, name: str = "autograd_lab") -> None:
    """The exact PyTorch code behind the numbers, downloadable as a script or notebook."""
    if lecture():
        return
    from lab import export

    with st.expander(tr("app.code"), expanded=expanded):
        st.code(code, language="python")
        title = st.session_state.get("_page_title", "Autograd Lab")
        url = page_address(st.session_state.get("_page_url", ""))
        row = st.container(horizontal=True)     # one block, not three (README, Performance)
        row.download_button(tr("app.download_script"), lambda: export.script(code, title, url),
                            f"{name}.py", mime="text/x-python", key=f"{name}_py",
                            icon=":material/download:", on_click="ignore")
        row.download_button(tr("app.download_notebook"),
                            lambda: export.notebook(code, title, url),
                            f"{name}.ipynb", mime="application/x-ipynb+json",
                            key=f"{name}_ipynb", icon=":material/download:", on_click="ignore")


def error_box(text: str, why: str = "", fix: str = "") -> None:
    body = text
    if why:
        body += f"\n\n**{tr('app.why')}** {why}"
    if fix:
        body += f"\n\n**{tr('app.fix')}** {fix}"
    st.error(body, icon=":material/error:")


# Characters Streamlit's markdown would act on: a typed piece such as `__import__` must be
# shown as typed, not as bold "import".
_MARKDOWN_MARKS = re.compile(r"([\\`*_\[\]<>$~|#])")


def literal(text: str) -> str:
    """``text`` escaped so that st.markdown / st.error show it character for character."""
    return _MARKDOWN_MARKS.sub(r"\\\1", text)


def show_problem(error) -> None:
    """A refused formula or input, in the page language, with a caret where it applies."""
    st.error(literal(error.render(lang())), icon=":material/error:")
    pointer = getattr(error, "pointer", lambda: "")()
    if pointer:
        st.code(pointer, language=None)
