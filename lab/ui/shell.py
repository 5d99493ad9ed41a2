"""The frame around every page: navigation, language, lecture mode, headers, code, errors.

``navigate()`` is the entry script's whole work: it lists the pages (``lab.site``) with
their titles in the page's language and runs the one asked for. A page's script opens
its frame with ``with page("backward"):``. Streamlit-aware, but it imports no torch, so
the home page stays light.
"""

from __future__ import annotations

import functools
import re
import threading
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path
from urllib.parse import urlencode

import streamlit as st

from lab import site
from lab.i18n import LANGUAGES, Message, has, localized, t
from lab.site import PAGES, Page
from lab.ui import class_views, links
from lab.ui.links import linked, page_address  # noqa: F401 - page_address: the pages' too
from lab.ui.verbatim import code_list, say


# What a run reads again and again (the language: every text) and that cannot change
# before the run ends, kept for the run: reading the session's state takes a lock each time.
_RUN = threading.local()


def new_run() -> None:
    """A run begins (the page's, or a section's alone): forget what the last one read."""
    _RUN.memo = {}


def _per_run(name: str, read):
    memo = getattr(_RUN, "memo", None)
    if memo is None:
        return read()
    if name not in memo:
        memo[name] = read()
    return memo[name]


def lang() -> str:
    """The page language: the sidebar's choice, else the link's, else the browser's."""
    return _per_run("lang", links.language)


def tr(key: str, **values) -> str:
    """``t`` in the current page language, as markdown: ``Typed`` values (what a user
    typed) become code spans (lab.ui.verbatim)."""
    return say(Message(key, **values), lang())


def lecture() -> bool:
    """Lecture mode: large type and only the essentials, for projection."""
    return _per_run("lecture", lambda: bool(links.value("lecture", False)))


def title(page: Page, language: str | None = None) -> str:
    """A page's title as the navigation shows it: its number (from the order), then its
    name; the home page has no number."""
    name = t(f"{page.id}.title", language or lang())
    return name if page.number == 0 else f"{page.number} · {name}"


def navigate() -> None:
    """The entry script: the pages, titled in the page's language, and the one asked for.

    The language and lecture mode are read from a link before the titles are written, so
    a Spanish link opens with Spanish titles.
    """
    new_run()
    links.start_run()
    for param in links.EVERY_PAGE:
        links.seed(param)
    st.set_page_config(layout="wide", page_icon=":material/functions:",
                       initial_sidebar_state="collapsed" if lecture() else "auto")
    chosen = st.navigation(_pages(lang()))
    chosen.run()


def page_object(page: Page):
    """The navigation's page for ``page``, for ``st.page_link`` (a script path would be
    resolved on the disk at every link, ~20% of the home page's run)."""
    return _pages(lang())[page.number]


def _pages(language: str) -> list:
    """The navigation's pages in ``language``, made once per session and language (making
    them resolves every script's path: ~7% of a page's run). Kept per session, not per
    process: a page object carries per-run state that another session's run must not touch."""
    made = st.session_state.setdefault("lab.pages", {})
    if language not in made:
        made[language] = [st.Page(page.script, title=title(page, language), icon=page.icon,
                                  url_path=page.url or None, default=page.number == 0)
                          for page in PAGES]
    return made[language]


def carried_parameters() -> dict[str, str]:
    """What a link to another page carries: the language and lecture mode, if set."""
    params = {}
    for param in links.EVERY_PAGE:
        shown = links.value(param.name)
        if shown is not None and shown != param.initial():
            params[param.name] = param.codec.text(shown)[0]
    return params


_CSS = Path(__file__).with_name("css")


def _stylesheet(name: str) -> str:
    """``css/<name>`` as a style element, without its comments and indentation: the browser
    reads the same rules, and every run sends (and Streamlit scans) less than half the text."""
    css = re.sub(r"/\*.*?\*/", "", (_CSS / name).read_text(), flags=re.DOTALL)
    return "<style>" + "\n".join(line.strip() for line in css.splitlines() if line.strip()) \
        + "</style>"


BASE_CSS = _stylesheet("base.css")
LECTURE_CSS = _stylesheet("lecture.css")
# Lecture mode starts with the sidebar closed, but a sidebar the student opened or closed by
# hand stays so in the browser's storage, whatever the page config says (checked in
# Streamlit 1.67's frontend): this script closes it. It runs when its text changes, i.e.
# once per page and mode.
SIDEBAR_SCRIPT = """<script>/* page: {page}, lecture: {lecture} */
(() => {{
  const sidebar = document.querySelector('[data-testid="stSidebar"]');
  const close = document.querySelector('[data-testid="stSidebarCollapseButton"] button');
  if (sidebar && close && sidebar.dataset.collapsed === "false" && {lecture}) {{
    close.click();
  }}
}})();
</script>"""


# Boxes that scroll when their content is wider (or taller) than the room they have: a graph
# (it keeps its own size: lab/ui/css/base.css), page 7's lecture-mode box, a displayed
# formula, a lecture-mode table, a help popover longer than a phone's screen. A box that
# scrolls takes the keyboard's focus, so that the arrow keys scroll it (WCAG 2.1.1; axe's
# "scrollable-region-focusable", serious, on a phone and a projector); one that fits takes
# none (a tab stop with nothing to do). Streamlit sets no attribute on an element: this script
# does, for every such box the page shows from then on (it installs itself once per browser
# tab, with the sidebar's script: ``_open``).
SCROLLERS = """<script>
(() => {
  if (window.labScrollers) return;
  window.labScrollers = true;
  const boxes = ['[data-testid="stGraphVizChart"]', '.st-key-annotated_graph',
                 '.katex-display', '[data-testid="stTable"] > div',
                 '[data-testid="stPopoverBody"]'].join(", ");
  const mark = () => {
    for (const box of document.querySelectorAll(boxes)) {
      const style = getComputedStyle(box);
      const scrolls =
        (/auto|scroll/.test(style.overflowX) && box.scrollWidth > box.clientWidth + 1)
        || (/auto|scroll/.test(style.overflowY) && box.scrollHeight > box.clientHeight + 1);
      if (scrolls && box.getAttribute("tabindex") !== "0") box.setAttribute("tabindex", "0");
      if (!scrolls && box.getAttribute("tabindex") === "0") box.removeAttribute("tabindex");
    }
  };
  let queued = false;
  const soon = () => {
    if (queued) return;
    queued = true;
    requestAnimationFrame(() => { queued = false; mark(); });
  };
  // a box's size can change without a new element (a popover placed, a graph laid out)
  new MutationObserver(soon).observe(document.body, {childList: true, subtree: true,
                                                     attributes: true,
                                                     attributeFilter: ["style", "width"]});
  window.addEventListener("resize", soon);
  soon();
})();
</script>"""


class Html:
    """HTML made once, for ``st.html``, which takes an object's ``_repr_html_()`` as it is
    (a string it dedents and strips on every call: ~0.15 ms a run for the styles). The text
    is already dedented and stripped."""

    __slots__ = ("text",)

    def __init__(self, text: str):
        self.text = text.strip()

    def _repr_html_(self) -> str:
        return self.text


@functools.cache
def _styles(lectured: bool) -> Html:
    return Html(BASE_CSS + (LECTURE_CSS if lectured else ""))


@functools.cache
def _scripts(page_id: str, lectured: bool) -> Html:
    """The sidebar's script (per page and mode) and the scrollers' (``_open``)."""
    return Html(SIDEBAR_SCRIPT.format(page=page_id, lecture=str(lectured).lower()) + SCROLLERS)


@dataclass
class Frame:
    """The frame around one page: what its opening leaves for its closing and sections.

    Kept in the session (``current()``) because a section reruns alone, without the page
    script around it, and still redraws the sidebar's link box.
    """

    page: Page
    title: str
    url_at_start: dict           # the URL's parameters as the run found them
    notice: object = None        # slot under the title for the link-parameter notice
    share: object = None         # slot in the sidebar's "link to this state" box
    full_run: bool = True        # False once the page has closed: later runs are sections'
    asks_first: bool = False     # its key points wait for the student's answer


_FRAME = "lab.frame"


def current() -> Frame | None:
    """The frame of the page being shown (None outside a page)."""
    return st.session_state.get(_FRAME)


def current_page() -> str:
    frame = current()
    return frame.page.id if frame else site.HOME.id


@contextmanager
def page(page_id: str, asks_first: bool = False):
    """Open a page, run its body, close it: ``with page("backward"): ...``.

    Opening: the shared sidebar (language, lecture mode, the class, link box), the title, the
    class's projection or news (``class_views``), the intro and the page's "try this".
    Closing: the notice for link parameters that were refused, the link to this state, what to
    remember and the link to the next page. A page that ``asks_first`` shows what to remember
    itself, once the student has answered (``remember``). An exception in the body skips the
    closing, as a stopped run should.
    """
    frame = _open(site.BY_ID[page_id])
    frame.asks_first = asks_first
    yield frame
    _close(frame)


def _open(info: Page) -> Frame:
    frame = Frame(info, "", {name: st.query_params.get_all(name) for name in st.query_params})
    st.session_state[_FRAME] = frame
    links.open_page(info.id)
    class_views.arrive()
    with st.sidebar:
        linked(st.segmented_control, "lang", label=t("app.language", lang()),
               options=LANGUAGES, required=True)
        linked(st.toggle, "lecture", label=tr("app.lecture"))
        st.caption(tr("app.lecture_help"))
        class_views.sidebar()
    frame.title = title(info)
    st.set_page_config(page_title=f"{frame.title} · Autograd Lab")
    share = folded(tr("app.share"), "share_open", st.sidebar, icon=":material/link:")
    if share:
        with share:
            st.caption(tr("app.share_help"))
            frame.share = st.empty()       # filled when the page closes (share_box)
    st.html(_styles(lecture()))
    st.html(_scripts(info.id, lecture()), unsafe_allow_javascript=True)
    st.title(frame.title, anchor=False)
    frame.notice = st.empty()
    class_views.top()
    if not lecture():
        st.markdown(tr(f"{info.id}.intro"))
    st.info(f"**{tr('app.try_this')}:** {tr(f'{info.id}.try_this')}",
            icon=":material/lightbulb:")
    return frame


def _close(frame: Frame) -> None:
    reset = links.reconcile(frame.page.id, frame.url_at_start)
    if reset:
        # The names come from the link: shown as code spans, never as markdown.
        frame.notice.info(tr("app.url_fallback", names=code_list(reset)),
                          icon=":material/link_off:")
    share_box(frame)
    class_views.watch()
    _ending(frame)
    frame.full_run = False


def remember(page_id: str) -> None:
    """The page's "What to remember" box (its ``key_points``)."""
    with st.container(border=True):
        st.header(tr("app.remember"), anchor=False)
        st.markdown(tr(f"{page_id}.key_points"))


def _ending(frame: Frame) -> None:
    """What to remember from the page (unless it asks first: then the page shows it after
    the answer), and the way on to the next page (the last: home)."""
    info = frame.page
    if has(f"{info.id}.key_points") and not frame.asks_first:
        remember(info.id)
    following = PAGES[(info.number + 1) % len(PAGES)]
    label = tr("app.back_home" if following.number == 0 else "app.next",
               title=title(following))
    st.page_link(page_object(following), label=label, icon=":material/arrow_forward:",
                 query_params=carried_parameters())


def shared_parameters() -> dict[str, list[str]]:
    """What a shared link carries: every parameter of the address with all its values
    (a range slider has two), and always the language, which the address leaves out when
    it is the browser's: the link opens in the sender's language for everyone. An
    instructor's key (``links.SECRET``) is never in it."""
    params = {"lang": [lang()]}
    params.update({name: st.query_params.get_all(name) for name in st.query_params
                   if name != "lang" and name not in links.SECRET})
    return params


def share_box(frame: Frame) -> None:
    """The link to this state, in the sidebar's "link to this state" box (one element),
    when that box is open."""
    if frame.share is None:
        return
    base = page_address(frame.page.url)
    query = urlencode(shared_parameters(), doseq=True)
    frame.share.code(f"{base}?{query}" if query else base, language=None, wrap_lines=True)


def section(func):
    """``func`` as an ``st.fragment``: a widget inside it reruns it alone, not the page.

    The page frame (sidebar, title) then costs nothing per interaction
    (docs/performance.md). A section's own rerun redraws the sidebar's link box, so the
    link stays current.
    """
    @st.fragment
    @functools.wraps(func)
    def fragment(*args, **kwargs):
        new_run()
        func(*args, **kwargs)
        frame = current()
        if frame is None or frame.share is None:       # no page, or the link box closed
            return
        if frame.full_run:
            frame.share.container()    # the page's own run: claim the slot, closing fills it
        else:
            share_box(frame)
    return fragment


def folded(label: str, key: str, where=st, **options):
    """An expander whose content runs only while it is open (Streamlit's lazy expander,
    ``on_change="rerun"``): closed, it costs one element a rerun instead of its content's,
    and opening it reruns its section. Returns the open expander to fill, or None.

    ``key`` keeps it open across reruns; an AppTest opens it by setting that key.
    """
    box = where.expander(label, key=key, on_change="rerun", **options)
    return box if box.open else None


def help_button(*entries: tuple[str, str]) -> None:
    """The help of a group of controls, behind one button: (label, text) pairs.

    Streamlit's ``help=`` puts a "?" button beside every control, each one a tab stop
    (a page of many controls becomes a long walk by keyboard); one button per group keeps
    every text a click away and a keyboard's way short. Labels and texts are the lab's own,
    never user text.
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
