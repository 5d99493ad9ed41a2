"""The one text catalogue: every user-facing string, in Spanish and English.

Catalogues live in ``lab/locales/<lang>.toml``; a key is ``section.name``.
A missing key renders as ``⟦key⟧`` so tests can spot it on any page.
"""

from __future__ import annotations

import string
import tomllib
from functools import lru_cache
from pathlib import Path

LANGUAGES = ("es", "en")
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


def t(key: str, lang: str, **values) -> str:
    """The text for ``key`` in ``lang``, with ``{placeholders}`` filled in."""
    text = catalogue(lang if lang in LANGUAGES else DEFAULT_LANGUAGE).get(key)
    if text is None:
        return MISSING.format(key)
    return text.format(**values) if values else text


class UserError(ValueError):
    """What a user gave that the lab refuses, with the message that tells them why.

    ``FormulaError`` (a formula, with the column), ``InputError`` (values, options) and the
    command line's ``Refused`` are all of this shape.
    """

    def __init__(self, message: "Message"):
        super().__init__(message.key)
        self.message = message

    def render(self, lang: str) -> str:
        return self.message.render(lang)


class Message:
    """A text to show later, in whatever language the page is in."""

    __slots__ = ("key", "values")

    def __init__(self, key: str, **values):
        self.key = key
        self.values = values

    def render(self, lang: str) -> str:
        return t(self.key, lang, **self.values)

    def __eq__(self, other):
        return isinstance(other, Message) and (self.key, self.values) == (other.key, other.values)

    def __repr__(self):
        return f"Message({self.key!r}, {self.values!r})"
