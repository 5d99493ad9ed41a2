"""Issue 11: what users type is shown, never interpreted; links stay within limits.

Every page is opened with crafted links: a payload (markdown links and images, HTML,
LaTeX, bare addresses, bidi and zero-width characters, very long text) in every URL
parameter the lab defines and as parameter names, and typed into every text box. Every
text the page sends that Streamlit renders as markdown (bodies, labels, help) may hold a
payload only inside a code span; no other text may hold it at all (graph DOT, plot
specs...), and no invisible character of a payload reaches the page as such.
"""

from __future__ import annotations

from urllib.parse import quote_plus

import pytest

from lab.formula import MAX_LENGTH
from lab.i18n import SHOWN_MAX, Message, Typed, visible
from lab.site import PAGES
from lab.ui import links
from lab.ui.links import Text, params
from lab.xvalues import VALUES_LINK_MAX, VALUES_MAX_CHARS
from lab.ui.verbatim import MAX_NAMES, code_list, code_span, say
from tests.conftest import PANELS, open_page
from tests.untrusted import (ADDRESSES, HIDDEN, MARK, PARAMETERS, PAYLOADS, SHOWN_BOXES,
                             SIDEBAR, TEXT_BOXES, crafted_query, name_groups,
                             outside_code_spans, states)

URLS = [info.url for info in PAGES]
PATHS = {info.url: None if info.number == 0 else info.script for info in PAGES}
# Fields whose text Streamlit renders as markdown; raw text that is the user's own input.
MARKDOWN_FIELDS = {"body", "label", "help", "caption"}
# Fields that hold the typed text itself, never rendered as markdown: the boxes, code blocks,
# and a link's query (page 6 opens the student's program on page 7, URL-encoded).
RAW_FIELDS = {("TextInput", "value"), ("TextInput", "default"), ("TextArea", "value"),
              ("TextArea", "default"), ("Code", "code_text"), ("PageLink", "query_string")}


# ---- the one function: code spans ------------------------------------------------------------

@pytest.mark.parametrize("text", PAYLOADS + ("`", "``a``", " a", "a ", " ", "", "x`y``z",
                                             "` a `", "\\`", "a\\"))
def test_a_code_span_holds_the_text_exactly(text):
    span = code_span(text, limit=None)
    outside, spans = outside_code_spans(span)
    assert outside.strip() == "" and len(spans) == 1
    content = spans[0]
    if content.startswith(" ") and content.endswith(" ") and content.strip(" "):
        content = content[1:-1]                      # CommonMark strips one space each side
    assert content == (visible(text, None) or " ")


def test_invisible_characters_are_spelled_out_and_long_text_is_cut():
    assert visible("a\u202eb\u200dc\nd\te") == "a\\u202eb\\u200dc\\nd\\te"
    assert visible("\u00a0\U000e0041") == "\\u00a0\\U000e0041"
    assert visible("ñ → x²") == "ñ → x²"                         # letters and symbols stay
    assert visible("A" * 100) == "A" * SHOWN_MAX + "…"
    assert not set(code_span("x\u202e\u2066\u200b\ufeff")) & set(HIDDEN)


def test_messages_show_typed_values_as_code_spans_and_plain_text_spells_them():
    message = Message("x.bad_item", position=2, item=Typed("[a](https://example.invalid)"))
    assert "“`[a](https://example.invalid)`”" in say(message, "en")
    assert "“[a](https://example.invalid)”" in message.render("en")      # the CLI's text
    assert Message("x.bad_item", position=1, item="a") == Message("x.bad_item", position=1,
                                                                  item=Typed("a"))
    names = code_list([f"n{i}" for i in range(12)])
    assert names.count("`") == 16 and names.endswith(", … (12)")


# ---- every page, every parameter, every text box -----------------------------------------------

def assert_shown_literally(at) -> None:
    """No payload outside a code span in any markdown text; none anywhere else."""
    assert not at.exception
    in_code_spans = []

    def check(message, kind: str) -> None:
        for field, value in message.ListFields():
            values = value if field.is_repeated else [value]
            for one in values:
                if field.type == field.TYPE_MESSAGE:
                    check(one, one.DESCRIPTOR.name)
                elif isinstance(one, str) and (kind, field.name) not in RAW_FIELDS:
                    text = one
                    if field.name in MARKDOWN_FIELDS or kind in ("Markdown", "Alert"):
                        text, spans = outside_code_spans(one)
                        in_code_spans.extend(spans)
                    where = f"{kind}.{field.name}: {one[:300]!r}"
                    assert MARK not in text and not any(a in text for a in ADDRESSES), where
                    assert not set(one) & set(HIDDEN), where
                    assert "A" * (SHOWN_MAX + 1) not in one, where

    def walk(node) -> None:
        proto = getattr(node, "proto", None)
        if proto is not None:
            check(proto, proto.DESCRIPTOR.name)
        for child in getattr(node, "children", {}).values():
            walk(child)

    walk(at._tree)
    return in_code_spans


def test_the_parameter_table_is_every_parameter_the_pages_define():
    """lab.ui.links's table against the widgets the pages draw: every declared parameter
    has a widget in some state of its page, and every widget that writes the address is
    declared (linked() refuses an undeclared one)."""
    for url in URLS:
        found = set()
        for state in states(url):
            at = open_page(PATHS[url], dict(state), opened=PANELS)
            found |= set(at.session_state["_url_written"])
        assert found == set(SIDEBAR + PARAMETERS[url]), url


def _cases():
    for url in URLS:
        for number, state in enumerate(states(url)):
            # Over len(PAYLOADS) rotations every parameter gets every payload; a state
            # without a text box refuses any payload the same way, so one rotation does.
            rotations = len(PAYLOADS) if SHOWN_BOXES.get((url, number)) else 1
            for rotation in range(rotations):
                yield pytest.param(url, state, rotation,
                                   id=f"{url or 'home'}-{number}-{rotation}")


@pytest.mark.parametrize("url, state, rotation", list(_cases()))
def test_crafted_links_are_shown_literally(url, state, rotation):
    at = open_page(PATHS[url], crafted_query(url, state, rotation), opened=PANELS)
    assert_shown_literally(at)


@pytest.mark.parametrize("url", URLS)
@pytest.mark.parametrize("names", name_groups(MAX_NAMES), ids=lambda names: f"{len(names)}")
def test_crafted_parameter_names_are_shown_literally(url, names):
    at = open_page(PATHS[url], {name: "1" for name in names}, opened=PANELS)
    spans = assert_shown_literally(at)
    for name in names:                                   # each named in the notice, as typed
        assert visible(name) in spans or f" {visible(name)} " in spans, name


def _box(at, key):
    areas = [area for area in at.text_area if area.key == key]
    return areas[0] if areas else at.text_input(key=key)


@pytest.mark.parametrize("url, key", [(url, key) for url, keys in TEXT_BOXES.items()
                                      for key in keys])
def test_payloads_typed_into_every_text_box_are_shown_literally(url, key):
    number = next(n for n, state in enumerate(states(url))
                  if key in SHOWN_BOXES.get((url, n), ()) or key == "ex2_why" and n == 1)
    at = open_page(PATHS[url], dict(states(url)[number]), opened=PANELS)
    shown = False
    for payload in PAYLOADS:
        _box(at, key).input(payload).run()
        spans = assert_shown_literally(at)
        shown |= any(MARK in span for span in spans)
    assert shown or key == "ex2_why"            # some message repeated the payload


# ---- links within limits -------------------------------------------------------------------

def _worst_link(url: str) -> int:
    """The longest address a page's controls can write: each text at its limit in the
    worst encoding (or its link budget, past which it stays out of the link), every other
    parameter at its longest value (checked below)."""
    page = next(info for info in PAGES if info.url == url)
    total = len(f"/{url}?")
    for param in params(page.id):
        if isinstance(param.codec, Text):
            longest = param.codec.link_budget or (param.codec.max_chars
                                                  * links.ENCODED_PER_CHARACTER)
        else:
            longest = 60
        total += len(quote_plus(param.name)) + 2 + longest
    return total


@pytest.mark.parametrize("url", URLS)
def test_no_control_writes_a_link_longer_than_the_server_takes(url):
    assert _worst_link(url) <= links.LINK_MAX, url


def test_options_and_numbers_fit_their_allowance():
    longest = []
    for page in PAGES:
        for param in params(page.id):
            if isinstance(param.codec, links.Choice):
                longest += [len(quote_plus(text)) for option in param.codec.options
                            for text in param.codec.text(option)]
    longest += [len(quote_plus(text)) for text in ("-1000000.0", "true", "false", "1e+06")]
    assert max(longest) <= 60
    assert MAX_LENGTH * links.ENCODED_PER_CHARACTER + VALUES_LINK_MAX < links.LINK_MAX
    assert VALUES_LINK_MAX < VALUES_MAX_CHARS


def test_a_long_value_list_stays_out_of_the_link_with_a_note():
    at = open_page("pages/5_playground.py", {"xm": "torch.tensor"}, opened=PANELS)
    values = ", ".join(str(i / 7) for i in range(2000))
    assert links.link_length(values) > VALUES_LINK_MAX
    at.text_input(key="xs").input(values).run()
    assert not at.exception and "xs" not in at.query_params
    assert any("the link to this state leaves them out" in info.value for info in at.info)
    assert float(at.metric[0].value) == pytest.approx(
        sum((i / 7 + 1) ** 2 + 2 for i in range(2000)) / 2000, rel=1e-5)
    at.text_input(key="xs").input("1, 2").run()       # short again: back in the link
    assert at.query_params["xs"] == "1, 2"
    assert not any("leaves them out" in info.value for info in at.info)


def test_a_links_value_longer_than_the_box_is_refused():
    at = open_page("pages/5_playground.py", {"xm": "torch.tensor",
                                             "xs": "1," * (VALUES_MAX_CHARS // 2 + 1)}, opened=PANELS)
    assert not at.exception and at.metric[0].value == "20"        # the default values
    assert any("`xs`" in info.value for info in at.info)
