"""The one text catalogue: every user-facing string, in Spanish and English.

Catalogues live in ``lab/locales/<lang>.toml``; a key is ``section.name``.
A missing key renders as ``⟦key⟧`` so tests can spot it on any page. A text names another
page by ``{page.<id>}``: its number comes from the order of ``lab.site.PAGES``.
"""

from __future__ import annotations

import re
import string
import tomllib
import unicodedata
from functools import lru_cache
from pathlib import Path

from lab.site import Numbers

LANGUAGES = ("es", "en")
PAGE_REFERENCE = "{page."     # ``{page.backward}``: another page's number (lab.site)
DEFAULT_LANGUAGE = "en"
MISSING = "⟦{}⟧"
_DIR = Path(__file__).parent / "locales"


def _flatten(table: dict, prefix: str = "") -> dict[str, str]:
    flat: dict[str, str] = {}
    for name, value in table.items():
        key = f"{prefix}{name}"
        if isinstance(value, dict):
            flat.update(_flatten(value, key + "."))
        else:
            flat[key] = str(value)
    return flat


@lru_cache(maxsize=None)
def catalogue(lang: str) -> dict[str, str]:
    with open(_DIR / f"{lang}.toml", "rb") as handle:
        return _flatten(tomllib.load(handle))


def placeholders(text: str) -> set[str]:
    return {field for _, field, _, _ in string.Formatter().parse(text) if field}


def language_for_locale(locale: str | None) -> str:
    """Spanish for any ``es*`` browser locale, English otherwise."""
    return "es" if (locale or "").lower().startswith("es") else "en"


def has(key: str) -> bool:
    """Whether the catalogue has ``key`` (in the default language; a test keeps both alike)."""
    return key in catalogue(DEFAULT_LANGUAGE)


class Typed(str):
    """Text that came from a user (a link, a text box, the command line).

    It goes into a catalogue text as a placeholder value and is shown as typed, never
    interpreted: plain text spells out its invisible characters (``visible``), the pages
    show it as a code span (``lab.ui.verbatim``). Anything a user typed that a message
    repeats must be wrapped in it where the message is made.
    """

    __slots__ = ()


SHOWN_MAX = 60          # characters of a user's text repeated in a message
# Characters that do not show as themselves: controls, format characters (bidi overrides
# such as U+202E, zero-width joiners), separators, unassigned and private code points.
_HIDDEN = {"Cc", "Cf", "Cs", "Co", "Cn", "Zl", "Zp", "Zs"}
_ESCAPES = {"\n": "\\n", "\t": "\\t", "\r": "\\r"}


def _spelled(char: str) -> str:
    if char == " " or unicodedata.category(char) not in _HIDDEN:
        return char
    if char in _ESCAPES:
        return _ESCAPES[char]
    return f"\\u{ord(char):04x}" if ord(char) <= 0xFFFF else f"\\U{ord(char):08x}"


def visible(text: str, limit: int | None = SHOWN_MAX) -> str:
    """``text`` with every invisible or reordering character spelled as Python does
    (U+202E -> ``\\u202e``, a newline -> ``\\n``), cut to ``limit`` characters with "…"."""
    text = str(text)
    cut = limit is not None and len(text) > limit
    shown = "".join(_spelled(char) for char in (text[:limit] if cut else text))
    return shown + "…" if cut else shown


_COMMENT = re.compile(r"^(.*?)# \(([a-z_]+\.[a-z_0-9]+)\)$", re.M)


def comment(key: str) -> str:
    """A comment in generated code (a line of its own, or after the code on a line), written
    in the page's language when shown (``localized``)."""
    return f"# ({key})"


def localized(code: str, lang: str) -> str:
    """Generated code with each ``comment(key)`` in ``lang``; a comment on a line of its own
    may take several lines."""
    def line(match: re.Match) -> str:
        before, lines = match.group(1), t(match.group(2), lang).splitlines()
        if before.strip():                       # after code: one line
            return f"{before}# {' '.join(lines)}"
        return "\n".join(f"{before}# {text}" for text in lines)
    return _COMMENT.sub(line, code)


def t(key: str, lang: str, **values) -> str:
    """The text for ``key`` in ``lang``, with ``{placeholders}`` filled in (plain text:
    ``Typed`` values through ``visible``)."""
    return fill(key, lang, values, visible)


def fill(key: str, lang: str, values: dict, show_typed) -> str:
    """The text for ``key``, each ``Typed`` value shown by ``show_typed`` and the other
    values (the lab's own numbers and names) as they are."""
    text = catalogue(lang if lang in LANGUAGES else DEFAULT_LANGUAGE).get(key)
    if text is None:
        return MISSING.format(key)
    if not values and PAGE_REFERENCE not in text:
        return text            # no placeholders to fill: braces in it are literal
    return text.format(page=Numbers(), **{
        name: show_typed(value) if isinstance(value, Typed) else value
        for name, value in values.items()})


class UserError(ValueError):
    """What a user gave that the lab refuses, with the message that tells them why.

    ``FormulaError`` (a formula, with the column), ``InputError`` (values, options) and the
    command line's ``Refused`` are all of this shape.
    """

    def __init__(self, message: "Message"):
        super().__init__(message.key)
        self.message = message

    def render(self, lang: str, show_typed=visible) -> str:
        """The message in ``lang``, typed values shown by ``show_typed`` (see ``Typed``)."""
        return self.message.render(lang, show_typed)


class Message:
    """A text to show later, in whatever language the page is in."""

    __slots__ = ("key", "values")

    def __init__(self, key: str, **values):
        self.key = key
        self.values = values

    def render(self, lang: str, show_typed=visible) -> str:
        """The text in ``lang``; what a user typed is shown by ``show_typed``."""
        return fill(self.key, lang, self.values, show_typed)

    def __eq__(self, other):
        return isinstance(other, Message) and (self.key, self.values) == (other.key, other.values)

    def __repr__(self):
        return f"Message({self.key!r}, {self.values!r})"
