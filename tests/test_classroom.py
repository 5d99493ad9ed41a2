"""Issue 5: two languages, links that reopen a state, lecture mode, exports that reproduce."""

import json
import re
import subprocess
import sys

import pytest

from lab import chain, export
from lab.i18n import LANGUAGES, MISSING, catalogue, language_for_locale, placeholders, t
from lab.site import BY_ID, PAGES
from lab.ui.shell import title
from tests.conftest import CODE, PANELS, SHARE, all_text, open_page, open_panels

ALL_PAGES = [None] + [info.script for info in PAGES[1:]]


def info_of(page):
    return PAGES[0] if page is None else next(info for info in PAGES if info.script == page)


def test_catalogues_have_the_same_keys_and_placeholders():
    es, en = catalogue("es"), catalogue("en")
    assert set(es) == set(en)
    for key in en:
        assert placeholders(es[key]) == placeholders(en[key]), key
        assert es[key].strip() and en[key].strip(), key


def test_missing_key_renders_a_visible_marker():
    assert t("no.such_key", "en") == MISSING.format("no.such_key")


@pytest.mark.parametrize("locale,expected", [("es-ES", "es"), ("es", "es"), ("es-419", "es"),
                                             ("en-US", "en"), ("fr-FR", "en"), (None, "en")])
def test_browser_locale_picks_the_language(locale, expected):
    assert language_for_locale(locale) == expected


@pytest.mark.quick
@pytest.mark.parametrize("lang", LANGUAGES)
@pytest.mark.parametrize("page", ALL_PAGES)
def test_every_page_in_both_languages_shows_no_missing_key(page, lang):
    at = open_page(page, query={"lang": lang})
    assert not at.exception
    text = all_text(at)
    assert "⟦" not in text, re.findall(r"⟦[^⟧]*⟧", text)
    other = "en" if lang == "es" else "es"
    assert at.title[0].value == title(info_of(page), lang)
    if page is not None:   # the section titles differ between languages
        assert title(info_of(page), other) not in [el.value for el in at.title]


def test_locale_sets_the_default_language_and_the_url_overrides_it():
    assert open_page("pages/2_backward.py", locale="es-ES").title[0].value.startswith(
        "2 · Grafo computacional")
    assert open_page("pages/2_backward.py", locale="en-US").title[0].value.startswith(
        "2 · Computational graph")
    at = open_page("pages/2_backward.py", query={"lang": "en"}, locale="es-ES")
    assert at.title[0].value.startswith("2 · Computational graph")
    at = open_page("pages/2_backward.py", query={"lang": "es"}, locale="en-US")
    assert at.title[0].value.startswith("2 · Grafo computacional")
    at.segmented_control(key="lang").set_value("en").run()
    assert at.title[0].value.startswith("2 · Computational graph")


def test_pytorch_messages_stay_verbatim_in_spanish():
    at = open_page("pages/1_tensors.py", query={"lang": "es", "dtype": "int64",
                                                "requires_grad": "true"})
    message = at.error[0].value
    assert "Only Tensors of floating point and complex dtype can require gradients" in message
    assert "Por qué" in message and "Cómo corregirlo" in message


# ---- links that reopen a state ---------------------------------------------------------------

URL_STATES = {
    "pages/1_tensors.py": ({"values": "1, 2.5", "dtype": "float64", "requires_grad": "true",
                            "backward": "true"},
                           [("text_input", "values", "1, 2.5"), ("selectbox", "dtype", "float64"),
                            ("toggle", "requires_grad", True), ("toggle", "backward", True)]),
    "pages/2_backward.py": ({"n": "5", "a": "0.5", "p": "3.0", "c": "-1.0", "reduce": "sum",
                             "ex1_0": "2/3", "backward": "true"},
                            [("slider", "n", 5), ("slider", "a", 0.5), ("slider", "p", 3.0),
                             ("slider", "c", -1.0), ("radio", "reduce", "sum"),
                             ("text_input", "ex1_0", "2/3"), ("toggle", "backward", True)]),
    "pages/3_torchviz.py": ({"n": "4", "show_attrs": "true", "show_saved": "true"},
                            [("slider", "n", 4), ("toggle", "show_attrs", True),
                             ("toggle", "show_saved", True)]),
    "pages/7_inside_backward.py": ({"comp": "ex3", "range": ["0", "7"], "dtype": "float64",
                                    "step": "3"},
                                   [("radio", "comp", "ex3"), ("slider", "range", (0, 7)),
                                    ("selectbox", "dtype", "float64"), ("slider", "step", 3)]),
}


def _set(at, kind, key, value):
    widget = getattr(at, kind)(key=key)
    if kind == "selectbox":
        widget.select(value)
    elif kind == "text_input":
        widget.input(value)
    else:
        widget.set_value(value)
    at.run()


def numbers(at):
    """What a student reads: metrics, tables, code and alerts."""
    return ([m.value for m in at.metric], [f.value.to_dict() for f in at.dataframe],
            [c.value for c in at.main.code], [e.value for e in at.error],
            [s.value for s in at.success], [g.proto.spec for g in at.get("graphviz_chart")])


@pytest.mark.parametrize("page", sorted(URL_STATES))
def test_a_link_reproduces_the_state_set_through_the_widgets(page):
    query, moves = URL_STATES[page]
    by_link = open_page(page, query=query)
    by_hand = open_page(page)
    for kind, key, value in moves:
        _set(by_hand, kind, key, value)
    assert not by_link.exception and not by_hand.exception
    assert not any("reset to their defaults" in info.value for info in by_link.info)
    assert numbers(by_link) == numbers(by_hand)
    assert numbers(by_link) != numbers(open_page(page))


@pytest.mark.parametrize("page,query,key,default", [
    ("pages/2_backward.py", {"n": "999"}, "n", 3),
    ("pages/2_backward.py", {"p": "banana"}, "p", 2.0),
    ("pages/1_tensors.py", {"dtype": "float128"}, "dtype", "float32"),
    ("pages/7_inside_backward.py", {"comp": "ex3", "range": ["9", "-4"]}, "range", (1, 5)),
    ("pages/7_inside_backward.py", {"comp": "ex3", "range": ["5", "1"]}, "range", (1, 5)),
    ("pages/3_torchviz.py", {"show_saved": "maybe", "zzz": "1"}, "show_saved", False),
    ("pages/9_learning.py", {"lr": "0.123"}, "lr", 0.1),
])
def test_tampered_parameters_fall_back_to_defaults_with_a_notice(page, query, key, default):
    at = open_page(page, query=query)
    assert not at.exception
    widget = {"n": at.slider, "p": at.slider, "range": at.slider, "dtype": at.selectbox,
              "show_saved": at.toggle, "lr": at.select_slider}[key](key=key)
    assert widget.value == default
    notice = [info.value for info in at.info if "reset to their defaults" in info.value]
    assert notice and f"`{key}`" in notice[0]
    assert "zzz" not in at.query_params


def test_a_link_value_longer_than_its_box_is_refused_not_cut():
    at = open_page("pages/5_playground.py", query={"f": "x+" * 200 + "x"})
    assert at.text_input(key="f").value == "(x + 1)**2 + 2"
    assert any("`f`" in info.value for info in at.info)


def test_the_share_box_holds_the_current_state():
    at = open_page("pages/2_backward.py", query={"n": "6"}, opened=(SHARE,))
    shared = [c.value for c in at.sidebar.code]
    assert len(shared) == 1 and shared[0].startswith("/backward?") and "n=6" in shared[0]
    inside = open_page("pages/7_inside_backward.py", opened=(SHARE,))
    assert [c.value for c in inside.sidebar.code][0].startswith("/inside_backward")



def test_the_share_box_keeps_every_value_and_always_the_language():
    """A range slider's two values both reach the link, and the language is in it even when
    it is the browser's (the address leaves it out)."""
    from urllib.parse import parse_qs, urlsplit

    query = {"comp": "ex3", "range": ["0", "7"]}
    at = open_page("pages/7_inside_backward.py", query=query, opened=(SHARE,))
    assert "lang" not in at.query_params
    link = parse_qs(urlsplit(at.sidebar.code[0].value).query)
    assert link["lang"] == ["en"] and link["range"] == ["0", "7"] and link["comp"] == ["ex3"]
    reopened = open_page("pages/7_inside_backward.py",
                         query={k: v if len(v) > 1 else v[0] for k, v in link.items()})
    assert reopened.slider(key="range").value == (0, 7)
    assert not any("reset to their defaults" in info.value for info in reopened.info)
    spanish = open_page("pages/7_inside_backward.py", locale="es-ES",
                        query={"comp": "ex3", "range": ["-1", "5"]}, opened=(SHARE,))
    link = parse_qs(urlsplit(spanish.sidebar.code[0].value).query)
    assert link["range"] == ["-1", "5"] and link["lang"] == ["es"]


def test_the_open_exercise_is_in_the_link_as_a_number_in_every_language():
    at = open_page("pages/4_exercises.py", query={"exercise": "3", "lang": "es"})
    assert at.session_state["exercise"] == t("exercises.tab3", "es")
    at.segmented_control(key="lang").set_value("en").run()
    assert at.session_state["exercise"] == t("exercises.tab3", "en")   # still exercise 3
    assert at.query_params["exercise"] in ("3", ["3"])
    first = open_page("pages/4_exercises.py", query={"exercise": "1"})
    assert "exercise" not in first.query_params                # the first tab: left out
    tampered = open_page("pages/4_exercises.py", query={"exercise": "9"})
    assert tampered.session_state["exercise"] == t("exercises.tab1", "en")
    assert any("reset to their defaults" in info.value and "exercise" in info.value
               for info in tampered.info)


def test_the_chain_follows_the_student_from_page_to_page():
    """The chain's values are shared: the session carries them to the next page, which
    writes them back into its own address."""
    at = open_page("pages/2_backward.py", opened=(CODE, SHARE))
    at.slider(key="a").set_value(2.5).run()
    at.slider(key="n").set_value(5).run()
    assert "a=2.5" in at.sidebar.code[0].value and "n=5" in at.sidebar.code[0].value
    at.switch_page("pages/3_torchviz.py").run()
    assert not at.exception
    assert at.slider(key="a").value == 2.5 and at.slider(key="n").value == 5
    assert "arange(5" in " ".join(c.value for c in at.code)
    assert at.query_params["n"] in ("5", ["5"])

# ---- lecture mode ---------------------------------------------------------------------------------

def test_lecture_mode_keeps_the_essentials():
    """Projected: no intro and no code, but every caption (legends, keys, notes), the
    results and the graph; the link box stays in the sidebar."""
    normal = open_page("pages/2_backward.py", query={"backward": "true"}, opened=PANELS)
    lecture = open_page("pages/2_backward.py", query={"lecture": "true", "backward": "true"},
                        opened=PANELS)
    assert not lecture.exception
    assert len(lecture.markdown) < len(normal.markdown)            # no intro text
    code = t("app.code", "en")
    assert code in [e.label for e in normal.main.expander]
    assert code not in [e.label for e in lecture.main.expander]    # no code panels
    assert lecture.metric and lecture.get("plotly_chart")           # results and plot stay
    assert [c.value for c in lecture.main.caption] == [c.value for c in normal.main.caption]
    assert lecture.sidebar.code and t("app.share", "en") in [e.label for e in
                                                             lecture.sidebar.expander]
    css = " ".join(h.proto.body for h in lecture.get("html"))
    assert "font-size: clamp(18px, 1.46vw, 36px)" in css            # 28 px at 1920 wide
    assert "display: none" not in css.split("stCaptionContainer")[1][:200]
    lecture.toggle(key="lecture").set_value(False).run()
    assert code in [e.label for e in lecture.main.expander]


def test_lecture_mode_hands_its_palette_to_plots_graphs_and_tables():
    """The drawing code receives lecture mode: thicker lines, larger type, a taller plot,
    graphs on white in black ink with larger text, tables as HTML (their type scales)."""
    import json

    from lab.palette import LECTURE, SCREEN

    screen, lecture = (open_page("pages/2_backward.py", query=q)
                       for q in ({"backward": "true"}, {"lecture": "true", "backward": "true"}))
    for at, colours in ((screen, SCREEN), (lecture, LECTURE)):
        figure = json.loads(at.get("plotly_chart")[0].proto.spec)
        assert figure["layout"]["height"] == colours.plot_height
        assert [trace["line"]["width"] for trace in figure["data"][:2]] == [
            colours.line_width] * 2
        assert figure["layout"]["xaxis"]["tickfont"]["size"] == colours.font_size
    assert LECTURE.plot_height >= 600 and LECTURE.font_size >= 20 and LECTURE.line_width >= 4
    # tables: a data grid on a screen (index columns pinned), HTML when projected
    assert json.loads(screen.dataframe[0].proto.columns)["i"] == {"pinned": True}
    assert not lecture.dataframe and lecture.table
    assert lecture.table[0].value.values.tolist() == screen.dataframe[0].value.values.tolist()

    torchviz = open_page("pages/3_torchviz.py", query={"lecture": "true"})
    dot = torchviz.get("graphviz_chart")[0].proto.spec
    node_defaults = re.search(r"\tnode \[([^\]]*)\]", dot).group(1)
    assert 'bgcolor="#FFFFFF"' in dot
    assert re.search(r'fontsize="?28"?', node_defaults) and re.search(r'penwidth="?2.5"?',
                                                                         node_defaults)
    inside = open_page("pages/7_inside_backward.py", query={"lecture": "true", "step": "2"})
    dot = inside.get("graphviz_chart")[0].proto.spec
    assert 'fontsize="24"' in dot and 'penwidth="8"' in dot and "▶ AddBackward0" in dot
    assert 'bgcolor="#FFFFFF"' in dot
    assert "▶" not in open_page("pages/3_torchviz.py").get("graphviz_chart")[0].proto.spec


# ---- exports that reproduce the page's numbers ---------------------------------------------------

def _run_script(source: str, tmp_path) -> str:
    path = tmp_path / "exported.py"
    path.write_text(source)
    done = subprocess.run([sys.executable, str(path)], capture_output=True, text=True, timeout=120)
    assert done.returncode == 0, done.stderr
    return done.stdout


@pytest.mark.parametrize("args", [(3, 1.0, 2.0, 2.0, "mean"), (5, -0.5, 3.0, 1.0, "sum")])
def test_exported_script_prints_the_pages_numbers(args, tmp_path):
    result = chain.run_chain(*args)
    out = _run_script(export.script(result.code, "test"), tmp_path).splitlines()
    assert out == [result.y_repr, result.grad_repr]


def test_exported_exercise_3_script_with_torchviz_runs(tmp_path):
    from lab import graphs

    text, x_spec = chain.exercise_3_input(1, 5)
    result = chain.run_exercise_3(1, 5)
    out = _run_script(graphs.torchviz_code(text, x_spec, "mean", "float32", False, False),
                      tmp_path)
    assert "SinBackward0" in out
    assert out.splitlines()[-2:] == [result.y_repr, result.grad_repr]


def test_exported_notebook_executes_to_the_pages_numbers():
    import nbclient
    import nbformat

    result = chain.run_exercise_3(1, 5, "float64")
    book = nbformat.reads(export.notebook(result.code, "Exercise 3"), as_version=4)
    nbclient.NotebookClient(book, timeout=120, kernel_name="python3").execute()
    printed = "".join(output.get("text", "") for cell in book.cells
                      for output in cell.get("outputs", []))
    assert printed.splitlines() == [result.y_repr, result.grad_repr]


def test_folded_panels_run_their_content_only_once_opened():
    """The code, the link box, the float64 comparison and the chain rule's steps are folded:
    closed, only their labels are sent; opened (a click sets the panel's key), their
    content runs, computed like the rest of the page."""
    def downloads(at):
        return [button.proto.label for button in at.get("download_button")]

    def float64(at):
        return [f for f in at.dataframe if "autograd in float64" in f.value.columns]

    at = open_page("pages/5_playground.py")
    labels = [e.label for e in at.expander]
    assert {t("app.code", "en"), t("app.share", "en"),
            t("playground.precision_title", "en")} <= set(labels)
    assert not at.code and not at.sidebar.code and not float64(at)
    assert "Download as script (.py)" not in downloads(at)
    open_panels(at, CODE, SHARE, "precision_open").run()
    assert not at.exception
    assert at.code[0].value.startswith("import torch") and "Download as script (.py)" in \
        downloads(at)
    assert at.sidebar.code[0].value.startswith("/playground")
    assert len(float64(at)[0].value) == 3                       # one row per element of x
    steps = open_page("pages/2_backward.py", query={"backward": "true"})
    latex = len(steps.latex)
    open_panels(steps, "links_open").run()
    assert t("backward.values_at_points", "en") in [c.value for c in steps.caption]
    assert len(steps.latex) > latex


def test_every_folded_panel_is_opened_by_the_tests_that_read_everything():
    """The ask-first and untrusted-text tests open ``PANELS``: every panel a page folds."""
    from pathlib import Path

    root = Path(__file__).resolve().parent.parent
    keys = set()
    for path in (*root.glob("lab/ui/*.py"), *root.glob("pages/*.py")):
        keys |= set(re.findall(r'folded\([^,]+,\s*"(\w+)"', path.read_text()))
    assert keys == set(PANELS)


def test_only_the_open_exercise_runs():
    """The exercises are tabs, and only the open one's exercise runs (its tab in the link)."""
    shown = {}
    for number in ("1", "2", "3"):
        at = open_page("pages/4_exercises.py", query={"exercise": number})
        shown[number] = [w.key for w in (*at.radio, *at.text_area)]
    assert shown == {"1": [], "2": ["ex2_guess", "ex2_why"], "3": ["ex3_code"]}


def test_page_downloads_are_the_shown_code():
    at = open_page("pages/2_backward.py", opened=(CODE,))
    labels = [button.proto.label for button in at.get("download_button")]
    assert "Download as script (.py)" in labels and "Download as notebook (.ipynb)" in labels
    shown = at.code[0].value if "import torch" in at.code[0].value else at.code[1].value
    assert shown == chain.run_chain(3, 1.0, 2.0, 2.0, "mean").code.rstrip("\n")
    json.loads(export.notebook(shown, "x"))


# ---- every page ends with what to remember and the way on ------------------------------------

# Pages that ask first show what to remember once answered: the state that answers them.
ANSWERED = {"pages/2_backward.py": {"backward": "true"},
            "pages/8_mistakes.py": {f"{name}_run": "true" for name in
                                    ("acc", "twice", "vec", "leaf", "nograd", "inplace")}}


@pytest.mark.parametrize("lang", LANGUAGES)
@pytest.mark.parametrize("page", ALL_PAGES)
def test_every_page_offers_a_try_this_key_points_and_the_next_page(page, lang):
    at = open_page(page, query={"lang": lang, **ANSWERED.get(page, {})})
    info = info_of(page)
    assert any(t(f"{info.id}.try_this", lang) in box.value for box in at.info)
    if info.id not in ("home", "exercises"):       # the exercises remember one by one
        points = t(f"{info.id}.key_points", lang)
        assert 2 <= points.count("\n- ") + 1 <= 4
        assert points in [m.value for m in at.main.markdown]
        assert t("app.remember", lang) in [h.value for h in at.header]
    last = at.main.get("page_link")[-1].proto
    following = PAGES[(info.number + 1) % len(PAGES)]
    assert last.page == following.url
    key = "app.back_home" if following.number == 0 else "app.next"
    assert last.label.startswith(t(key, lang, title="").rstrip(": ").rstrip())


@pytest.mark.parametrize("page", list(ANSWERED))
def test_a_page_that_asks_first_keeps_its_key_points_until_answered(page):
    at = open_page(page)
    assert t("app.remember", "en") not in [h.value for h in at.header]
    assert t(f"{info_of(page).id}.key_points", "en") not in [m.value for m in at.main.markdown]
