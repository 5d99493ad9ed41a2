"""Showing untrusted text in markdown: as a code span, character for character.

Every string that came from a user (a link's parameter names and values, typed answers,
formulas, value lists) reaches the page only through ``code_span``: inside a code span
markdown, LaTeX, HTML, autolinks (``https://…``, ``www.…``) and Streamlit's own
``:directives:`` are not interpreted, and ``lab.i18n.visible`` spells out the characters
that would not show as themselves (U+202E and other bidi controls, zero-width joiners,
newlines). Catalogue texts take user values as ``lab.i18n.Typed`` placeholders, which
``shell.tr`` and ``say`` turn into code spans; no view adds user text to markdown itself.

Plain text, no Streamlit: the pages and the tests use the same functions.
"""

from __future__ import annotations

import re

from lab.i18n import SHOWN_MAX, Message, visible

MAX_NAMES = 8          # names listed in one message ("`a`, `b`, … (12)")
_BACKTICKS = re.compile("`+")


def code_span(text: str, limit: int | None = SHOWN_MAX) -> str:
    """``text`` as a markdown code span that shows it literally, cut to ``limit``
    characters ("…") with invisible characters spelled out.

    The fence is one backtick longer than the longest run of backticks inside (CommonMark),
    and padded with spaces when the text starts or ends with one, so no backtick in the
    text can close the span early.
    """
    shown = visible(text, limit)
    if not shown.strip(" "):
        shown = shown or " "
        return f"`{shown}`"
    fence = "`" * (1 + max((len(run) for run in _BACKTICKS.findall(shown)), default=0))
    pad = " " if shown[0] in "` " or shown[-1] in "` " else ""
    return f"{fence}{pad}{shown}{pad}{fence}"


def code_list(texts, most: int = MAX_NAMES) -> str:
    """Several user texts as code spans, separated by commas; the first ``most`` only."""
    texts = list(texts)
    shown = ", ".join(code_span(text) for text in texts[:most])
    return shown + (f", … ({len(texts)})" if len(texts) > most else "")


def say(message, lang: str) -> str:
    """A catalogue message (``Message``, ``FormulaError``, ``InputError``) as markdown:
    its ``Typed`` values as code spans."""
    if isinstance(message, Message):
        return message.render(lang, code_span)
    return message.render(lang, show_typed=code_span)
