"""Issue 5: two languages, links that reopen a state, lecture mode, exports that reproduce."""

import json
import re
import subprocess
import sys

import pytest

from lab import chain, export
from lab.i18n import LANGUAGES, MISSING, catalogue, language_for_locale, placeholders, t
from lab.ui.shell import PAGES
from tests.conftest import all_text, open_page

ALL_PAGES = [None] + [info.path for info in PAGES]


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


@pytest.mark.parametrize("lang", LANGUAGES)
@pytest.mark.parametrize("page", ALL_PAGES)
def test_every_page_in_both_languages_shows_no_missing_key(page, lang):
    at = open_page(page, query={"lang": lang})
    assert not at.exception
    text = all_text(at)
    assert "⟦" not in text, re.findall(r"⟦[^⟧]*⟧", text)
    other = "en" if lang == "es" else "es"
    title_key = "home.title" if page is None else next(
        f"{info.section}.title" for info in PAGES if info.path == page)
    assert at.title[0].value == t(title_key, lang)
    if page is not None:   # the section titles differ between languages
        assert t(title_key, other) not in [el.value for el in at.title]


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
    "pages/2_backward.py": ({"n": "5", "a": "0.5", "p": "3.0", "c": "-1.0", "reduce": "sum"},
                            [("slider", "n", 5), ("slider", "a", 0.5), ("slider", "p", 3.0),
                             ("slider", "c", -1.0), ("radio", "reduce", "sum")]),
    "pages/3_torchviz.py": ({"n": "4", "show_attrs": "true", "show_saved": "true"},
                            [("slider", "n", 4), ("toggle", "show_attrs", True),
                             ("toggle", "show_saved", True)]),
    "pages/4_exercises.py": ({"ex3_range": ["0", "7"], "ex3_dtype": "float64",
                              "ex3_reveal": "true", "ex1_answer_0": "2/3",
                              "ex2_guess": "RuntimeError"},
                             [("slider", "ex3_range", (0, 7)), ("selectbox", "ex3_dtype", "float64"),
                              ("toggle", "ex3_reveal", True), ("text_input", "ex1_answer_0", "2/3"),
                              ("radio", "ex2_guess", "RuntimeError")]),
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
    ("pages/4_exercises.py", {"ex3_range": ["9", "-40"]}, "ex3_range", (1, 5)),
    ("pages/3_torchviz.py", {"show_saved": "maybe", "zzz": "1"}, "show_saved", False),
])
def test_tampered_parameters_fall_back_to_defaults_with_a_notice(page, query, key, default):
    at = open_page(page, query=query)
    assert not at.exception
    widget = {"n": at.slider, "p": at.slider, "ex3_range": at.slider, "dtype": at.selectbox,
              "show_saved": at.toggle}[key](key=key)
    assert widget.value == default
    assert any("reset to their defaults" in info.value for info in at.info)
    assert "zzz" not in at.query_params


def test_the_share_box_holds_the_current_state():
    at = open_page("pages/2_backward.py", query={"n": "6"})
    shared = [c.value for c in at.sidebar.code]
    assert len(shared) == 1 and shared[0].startswith("/backward?") and "n=6" in shared[0]
    inside = open_page("pages/6_inside_backward.py")
    assert [c.value for c in inside.sidebar.code][0].startswith("/inside_backward")



def test_the_share_box_keeps_every_value_and_always_the_language():
    """A range slider's two values both reach the link (``to_dict()`` kept the last), and
    the language is in it even when it is the browser's (the address leaves it out)."""
    from urllib.parse import parse_qs, urlsplit

    at = open_page("pages/4_exercises.py", query={"ex3_range": ["0", "7"], "exercise": "3"})
    assert "lang" not in at.query_params
    link = parse_qs(urlsplit(at.sidebar.code[0].value).query)
    assert link["lang"] == ["en"] and link["ex3_range"] == ["0", "7"] and link["exercise"] == ["3"]
    reopened = open_page("pages/4_exercises.py", query={k: v if len(v) > 1 else v[0]
                                                        for k, v in link.items()})
    assert reopened.slider(key="ex3_range").value == (0, 7)
    assert not any("reset to their defaults" in info.value for info in reopened.info)
    inside = open_page("pages/6_inside_backward.py", locale="es-ES",
                       query={"comp": "sin(x)*exp(x) + 1/(x+2)", "range": ["-1", "5"]})
    link = parse_qs(urlsplit(inside.sidebar.code[0].value).query)
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


def test_the_chain_follows_the_student_without_riding_on_the_links():
    """The chain's sliders sit in a section (a fragment), so the navigation links (which
    a section rerun leaves alone) carry only language and lecture mode; the session
    carries the chain to the next page, which writes it back into its own URL."""
    at = open_page("pages/2_backward.py")
    at.slider(key="a").set_value(2.5).run()
    at.slider(key="n").set_value(5).run()
    assert "a=2.5" in at.sidebar.code[0].value and "n=5" in at.sidebar.code[0].value
    links = [link.proto.query_string for link in at.get("page_link")]
    # home and every page in the sidebar, and the next page's link at the foot
    assert len(links) == len(PAGES) + 2 and all("a=" not in q and "n=" not in q for q in links)
    at.switch_page("pages/3_torchviz.py").run()
    assert not at.exception
    assert at.slider(key="a").value == 2.5 and at.slider(key="n").value == 5
    assert "arange(5" in " ".join(c.value for c in at.code)

# ---- lecture mode ---------------------------------------------------------------------------------

def test_lecture_mode_keeps_the_essentials():
    """Projected: no intro and no code, but every caption (legends, keys, notes), the
    results and the graph; the link box stays in the sidebar."""
    normal = open_page("pages/4_exercises.py", query={"ex3_reveal": "true"})
    lecture = open_page("pages/4_exercises.py", query={"lecture": "true", "ex3_reveal": "true"})
    assert not lecture.exception
    assert len(lecture.markdown) < len(normal.markdown)            # no intro text
    code = t("app.code", "en")
    assert code in [e.label for e in normal.main.expander]
    assert code not in [e.label for e in lecture.main.expander]    # no code panels
    assert lecture.metric and lecture.get("graphviz_chart")         # results and graph stay
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
                       for q in ({}, {"lecture": "true"}))
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
    assert 'bgcolor="#FFFFFF"' in dot and 'fontsize="28"' in dot and 'penwidth="2.5"' in dot
    inside = open_page("pages/6_inside_backward.py", query={"lecture": "true", "step": "2"})
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


def test_page_downloads_are_the_shown_code():
    at = open_page("pages/2_backward.py")
    labels = [button.proto.label for button in at.get("download_button")]
    assert "Download as script (.py)" in labels and "Download as notebook (.ipynb)" in labels
    shown = at.code[0].value if "import torch" in at.code[0].value else at.code[1].value
    assert shown == chain.run_chain(3, 1.0, 2.0, 2.0, "mean").code.rstrip("\n")
    json.loads(export.notebook(shown, "x"))


# ---- every page ends with what to remember and the way on ------------------------------------

@pytest.mark.parametrize("lang", LANGUAGES)
@pytest.mark.parametrize("page", ALL_PAGES)
def test_every_page_offers_a_try_this_key_points_and_the_next_page(page, lang):
    at = open_page(page, query={"lang": lang})
    order = [None] + [info.path for info in PAGES]
    section = "home" if page is None else next(i.section for i in PAGES if i.path == page)
    assert any(t(f"{section}.try_this", lang) in info.value for info in at.info)
    if section != "home":
        points = t(f"{section}.key_points", lang)
        assert 2 <= points.count("\n- ") + 1 <= 4
        assert points in [m.value for m in at.main.markdown]
        assert t("app.remember", lang) in [h.value for h in at.header]
    last = at.main.get("page_link")[-1].proto
    following = order[(order.index(page) + 1) % len(order)]
    expected_url = "" if following is None else next(i.url for i in PAGES if i.path == following)
    assert last.page == expected_url
    key = "app.back_home" if following is None else "app.next"
    assert last.label.startswith(t(key, lang, title="").rstrip(": ").rstrip())
