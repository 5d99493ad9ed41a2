"""PyTorch's own messages, recognised, and their translation for a page in another language.

PyTorch speaks English, and the lab shows its messages verbatim (that is the text a student
will meet again and search for). On a page in another language the lab adds a translation
beneath. Both come from the catalogue's ``[pytorch]`` section: in ``en.toml`` each key's text
is PyTorch's message itself, with ``{placeholders}`` where it varies (a dtype, an
operation); in ``es.toml`` its translation, with the same placeholders. ``recognise`` reads
a message against the English texts; ``gloss`` fills the translation in.
"""

from __future__ import annotations

import re
import string
from functools import lru_cache

from lab.i18n import catalogue, t

PYTORCH_LANGUAGE = "en"      # the language PyTorch writes its messages in
SECTION = "pytorch."


def _pattern(text: str) -> re.Pattern:
    """A catalogue text as a regular expression: its words literally, each placeholder a
    named group."""
    parts = [re.escape(literal) + (f"(?P<{field}>.+?)" if field else "")
             for literal, field, _, _ in string.Formatter().parse(text)]
    return re.compile("".join(parts), re.S)


@lru_cache(maxsize=None)
def _known() -> tuple[tuple[str, re.Pattern], ...]:
    return tuple((key, _pattern(text)) for key, text in catalogue(PYTORCH_LANGUAGE).items()
                 if key.startswith(SECTION))


_BUILD_PLACE = re.compile(r"\s*\(Triggered internally at [^)]*\)\.?\s*$")


def shown(message: str) -> str:
    """PyTorch's message as a page shows it: without the place in PyTorch's C++ sources
    that some warnings end with ("(Triggered internally at /__w/pytorch/…/TensorBody.h:493.)"),
    a file on PyTorch's build machine that means nothing to a student."""
    return _BUILD_PLACE.sub("", message)


def recognise(message: str) -> tuple[str, dict[str, str]] | None:
    """Which known message this is (its catalogue key) and the parts that vary, or None.

    The whole message must match: a message PyTorch rewords is not glossed with the old
    words (a test runs every message the lab can show).
    """
    for key, pattern in _known():
        match = pattern.fullmatch(message.strip())
        if match:
            return key, match.groupdict()
    return None


def gloss(message: str, lang: str) -> str | None:
    """The message translated into ``lang``; None in PyTorch's own language, or for a
    message the catalogue does not know."""
    if lang == PYTORCH_LANGUAGE:
        return None
    known = recognise(message)
    if known is None:
        return None
    key, values = known
    return t(key, lang, **values)
