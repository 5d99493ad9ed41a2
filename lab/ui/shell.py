"""The frame around every page: language, navigation, page headers, code and errors.

Streamlit-aware, but it imports no torch, so the home page stays light.
"""

from __future__ import annotations

import functools
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path
from urllib.parse import urlencode, urlsplit

import streamlit as st

from lab.i18n import LANGUAGES, Message, has, language_for_locale, localized, t
from lab.ui.carried import boolean, carried, one_of, serialize, start_run
from lab.ui.carried import refused as carried_refused
from lab.ui.carried import synced
from lab.ui.carried import value as carried_value
from lab.ui.verbatim import code_list, say


@dataclass(frozen=True)
class PageInfo:
    path: str           # script under pages/
    url: str            # its URL path: Streamlit derives it from the file name
    section: str        # catalogue section with title, intro...
    icon: str


HOME = PageInfo("streamlit_app.py", "", "home", ":material/home:")
PAGES = (
    PageInfo("pages/1_tensors.py", "tensors", "tensors", ":material/data_array:"),
    PageInfo("pages/2_backward.py", "backward", "chain", ":material/account_tree:"),
    PageInfo("pages/3_torchviz.py", "torchviz", "torchviz", ":material/schema:"),
    PageInfo("pages/4_exercises.py", "exercises", "exercises", ":material/edit_note:"),
    PageInfo("pages/5_playground.py", "playground", "playground", ":material/calculate:"),
    PageInfo("pages/6_inside_backward.py", "inside_backward", "inside", ":material/footprint:"),
    PageInfo("pages/7_mistakes.py", "mistakes", "mistakes", ":material/bug_report:"),
    PageInfo("pages/8_learning.py", "learning", "learning", ":material/trending_down:"),
)


def lang() -> str:
    """The page language: the sidebar choice, else the browser's."""
    chosen = carried_value("lang") or st.session_state.get("lang")
    if chosen in LANGUAGES:
        return chosen
    return language_for_locale(getattr(st.context, "locale", None))


def tr(key: str, **values) -> str:
    """``t`` in the current page language, as markdown: ``Typed`` values (what a user
    typed) become code spans (lab.ui.verbatim)."""
    return say(Message(key, **values), lang())


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
        value = carried_value(name)
        if value is not None:
            params[name] = serialize(value)
    return params


def navigation() -> None:
    """Our own sidebar navigation, so page titles follow the chosen language.

    The lab uses Streamlit's ``pages/`` folder mode: verified on a fresh server, a deep
    link such as ``/backward`` runs that page's script directly, before any entry point
    could declare ``st.navigation``. The built-in list is hidden in config.toml.
    """
    params = carried_parameters()
    with st.sidebar:
        for info in (HOME,) + PAGES:
            st.page_link(info.path, label=tr(f"{info.section}.title"), icon=info.icon,
                         query_params=params)


URL_KEEP = {"embed", "embed_options"}     # Streamlit's own parameters, never ours to judge
_CSS = Path(__file__).with_name("css")
BASE_CSS = f"<style>{(_CSS / 'base.css').read_text()}</style>"
LECTURE_CSS = f"<style>{(_CSS / 'lecture.css').read_text()}</style>"
# What Streamlit's own sidebar cannot do (checked in its 1.67 frontend): close after a page
# link is followed on a phone (only its built-in page list does, and the lab draws its own
# list for translated titles), and close when lecture mode starts (a sidebar the student
# opened or closed by hand stays so in the browser's storage, whatever the page config
# says). The script runs when its text changes, i.e. once per page and mode; 768 px is
# Streamlit's "md" breakpoint, where its sidebar starts to cover the page.
SIDEBAR_SCRIPT = """<script>/* page: {page}, lecture: {lecture} */
(() => {{
  const sidebar = document.querySelector('[data-testid="stSidebar"]');
  const close = document.querySelector('[data-testid="stSidebarCollapseButton"] button');
  if (sidebar && close && sidebar.dataset.collapsed === "false"
      && ({lecture} || window.innerWidth <= 768)) {{ close.click(); }}
}})();
</script>"""


def lecture() -> bool:
    """Lecture mode: large type and only the essentials, for projection."""
    return bool(carried_value("lecture", False))


@dataclass
class Frame:
    """The frame around one page: what its opening leaves for its closing and sections.

    Kept in the session (``current()``) because a section reruns alone, without the page
    script around it, and still redraws the sidebar's link box.
    """

    info: PageInfo
    title: str
    url_at_start: dict           # the URL's parameters as the run found them
    notice: object = None        # slot under the title for the link-parameter notice
    share: object = None         # slot in the sidebar's "link to this state" box
    full_run: bool = True        # False once the page has closed: later runs are sections'


_FRAME = "lab.frame"


def current() -> Frame | None:
    """The frame of the page being shown (None outside a page)."""
    return st.session_state.get(_FRAME)


@contextmanager
def page(section: str):
    """Open a page, run its body, close it: ``with page("chain"): ...``.

    Opening: page config, the shared sidebar (language, lecture mode, navigation, link
    box), the title, the intro and the page's "try this". Closing: the notice for link
    parameters that were refused, the link to this state, what to remember and the link
    to the next page. An exception in the body skips the closing, as a stopped run should.
    """
    frame = _open(section)
    yield frame
    _close(frame)


def _open(section: str) -> Frame:
    info = next(p for p in (HOME,) + PAGES if p.section == section)
    frame = Frame(info, "", st.query_params.to_dict())
    st.session_state[_FRAME] = frame
    start_run()
    language_selector()
    # A link's ?lang= takes effect in language_selector(): the title is read after it, or
    # a Spanish link opens with an English title (set_page_config may come this late).
    frame.title = title = tr(f"{section}.title")
    # Lecture mode starts with the sidebar closed (SIDEBAR_SCRIPT closes it when the
    # browser remembers it open); the toggle is drawn below, so read the link or session.
    lecturing = lecture() or st.query_params.get("lecture") in ("true", "1")
    st.set_page_config(page_title=f"{title} · Autograd Lab",
                       page_icon=":material/functions:", layout="wide",
                       initial_sidebar_state="collapsed" if lecturing else "auto")
    with st.sidebar:
        carried(st.toggle, "lecture", False, boolean, label=tr("app.lecture"))
        st.caption(tr("app.lecture_help"))
    navigation()
    with st.sidebar.expander(tr("app.share"), icon=":material/link:"):
        st.caption(tr("app.share_help"))
        frame.share = st.empty()           # filled when the page closes (share_box)
    st.html(BASE_CSS + (LECTURE_CSS if lecture() else ""))
    st.html(SIDEBAR_SCRIPT.format(page=info.url or "home", lecture=str(lecture()).lower()),
            unsafe_allow_javascript=True)
    st.title(title, anchor=False)
    frame.notice = st.empty()
    if not lecture():
        st.markdown(tr(f"{section}.intro"))
    st.info(f"**{tr('app.try_this')}:** {tr(f'{section}.try_this')}",
            icon=":material/lightbulb:")
    return frame


def _same(value, raw: str) -> bool:
    """Whether a widget's value is what the URL asked for (Streamlit drops defaults)."""
    if isinstance(value, bool):
        return raw.lower() in ("true", "1") if value else raw.lower() in ("false", "0")
    try:
        return float(value) == float(raw)
    except (TypeError, ValueError):
        return str(value) == raw


def _close(frame: Frame) -> None:
    raw, now = frame.url_at_start, st.query_params.to_dict()
    refused = sorted(set(carried_refused()) | {
        name for name, value in raw.items()
        if name not in now and name not in URL_KEEP and name not in CARRIED
        and name not in synced()
        and not _same(st.session_state.get(name), value)})
    unknown = sorted(name for name in now if name not in st.session_state
                     and name not in URL_KEEP)
    for name in unknown:
        del st.query_params[name]
    if refused or unknown:
        # The names come from the link: shown as code spans, never as markdown.
        frame.notice.info(tr("app.url_fallback", names=code_list(refused + unknown)),
                          icon=":material/link_off:")
    share_box(frame)
    _ending(frame.info)
    frame.full_run = False


def _ending(info: PageInfo) -> None:
    """What to remember from the page, and the way on to the next one (the last: home)."""
    if has(f"{info.section}.key_points"):
        with st.container(border=True):
            st.header(tr("app.remember"), anchor=False)
            st.markdown(tr(f"{info.section}.key_points"))
    order = (HOME,) + PAGES
    following = order[(order.index(info) + 1) % len(order)]
    label = tr("app.back_home" if following is HOME else "app.next",
               title=tr(f"{following.section}.title"))
    st.page_link(following.path, label=label, icon=":material/arrow_forward:",
                 query_params=carried_parameters())


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


def shared_parameters() -> dict[str, list[str]]:
    """What a shared link carries: every parameter of the address with all its values
    (a range slider has two: ``?range=0&range=5``; ``to_dict()`` keeps only the last),
    and always the language, which the address leaves out when it is the browser's: the
    link opens in the sender's language whatever the receiver's browser speaks."""
    params = {"lang": [lang()]}
    params.update({name: st.query_params.get_all(name) for name in st.query_params
                   if name != "lang"})
    return params


def share_box(frame: Frame) -> None:
    """The link to this state, in the sidebar's "link to this state" box.

    Only the link itself is redrawn: one element per rerun, not four.
    """
    base = page_address(frame.info.url)
    query = urlencode(shared_parameters(), doseq=True)
    frame.share.code(f"{base}?{query}" if query else base, language=None, wrap_lines=True)


def section(func):
    """``func`` as an ``st.fragment``: a widget inside it reruns it alone, not the page.

    The page frame (sidebar, navigation, title) then costs nothing per interaction
    (docs/performance.md). A section's own rerun redraws the sidebar's link box, so the
    link stays current. Of the carried widgets (lab.ui.carried) only those the navigation
    links carry (``LINKED``) must stay outside sections.
    """
    @st.fragment
    @functools.wraps(func)
    def fragment(*args, **kwargs):
        func(*args, **kwargs)
        frame = current()
        if frame is None:
            return
        if frame.full_run:
            frame.share.container()    # the page's own run: claim the slot, closing fills it
        else:
            share_box(frame)
    return fragment


def code_panel(code: str, expanded: bool = False, name: str = "autograd_lab") -> None:
    """The exact PyTorch code behind the numbers, downloadable as a script or notebook."""
    if lecture():
        return
    from lab import export

    language = lang()
    code = localized(code, language)        # its comments in the page's language
    with st.expander(tr("app.code"), expanded=expanded):
        st.code(code, language="python", wrap_lines=True)
        frame = current()
        title = frame.title if frame else "Autograd Lab"
        url = page_address(frame.info.url if frame else "")
        row = st.container(horizontal=True)     # one block, not three (README, Performance)
        row.download_button(tr("app.download_script"),
                            lambda: export.script(code, title, url, language),
                            f"{name}.py", mime="text/x-python", key=f"{name}_py",
                            icon=":material/download:", on_click="ignore")
        row.download_button(tr("app.download_notebook"),
                            lambda: export.notebook(code, title, url, language),
                            f"{name}.ipynb", mime="application/x-ipynb+json",
                            key=f"{name}_ipynb", icon=":material/download:", on_click="ignore")


def help_button(*entries: tuple[str, str]) -> None:
    """The help of a group of controls, behind one button: (label, text) pairs.

    Streamlit's ``help=`` puts a "?" button beside every control, each one a tab stop
    (34 Tabs led to page 6's Next); one button per group keeps every text a click away
    and a keyboard's way short. Labels and texts are the lab's own, never user text.
    """
    with st.popover(tr("app.help"), icon=":material/help:", type="tertiary"):
        st.markdown("\n".join(f"- **{label}**: {text}" for label, text in entries))


def error_box(text: str, why: str = "", fix: str = "") -> None:
    body = text
    if why:
        body += f"\n\n**{tr('app.why')}** {why}"
    if fix:
        body += f"\n\n**{tr('app.fix')}** {fix}"
    st.error(body, icon=":material/error:")


def show_problem(error) -> None:
    """A refused formula or input, in the page language, with a caret where it applies.

    What the user typed is shown as code spans (``say``); the caret line is plain code.
    """
    st.error(say(error, lang()), icon=":material/error:")
    pointer = getattr(error, "pointer", lambda: "")()
    if pointer:
        st.code(pointer, language=None)
