"""Every control lives in the page's address: the URL parameters of each page, declared once.

A parameter is a widget's key and its name in the link (``?n=5``). ``TABLES`` lists them
page by page, each with how a link's text becomes a value (its ``Codec``), its default and
whether it follows the student from page to page (``shared``: the language, lecture mode
and the seed's chain, which the backward, torchviz and inside-backward pages share). ``linked``
draws a widget bound to its parameter, and that one function keeps the two in step:

- a value in the address that this session did not write (a shared link, an edited
  address) sets the widget, or is refused and named in the page's notice;
- a widget that appears (a page opened, a part revealed) starts from the session's
  shared value, else the address, else its default;
- what the widget then holds goes back to the address, and a default leaves it.

The options of a choice are ids, never labels, so a link opened in the other language
shows the same state. The README lists every parameter (a test keeps it complete).

``TABLES`` holds one table per page; a page's table is built when the page first runs
(the lesson's data it reads imports torch, which the home page does not need).
"""

from __future__ import annotations

import functools
import math
from dataclasses import dataclass
from typing import Callable
from urllib.parse import quote_plus, urlsplit

import streamlit as st

from lab.i18n import LANGUAGES, language_for_locale

_SHARED = "_shared"            # values that follow the student from page to page
_WRITTEN = "_url_written"      # what this session last wrote to the address, per parameter
_REFUSED = "_url_refused"      # parameters refused in this run (for the page's notice)
_PAGE = "_url_page"            # the page being drawn

# The longest address (path and query) a link of the lab may have. Measured here: nginx
# with its default buffers (deploy/nginx.conf sets none) answers 414 once the request line
# passes 8 KiB; Streamlit's server answers 400 once the request's headers pass 64 KiB, which
# a browser's Referer, repeating the address, doubles.
LINK_MAX = 8_000
# A typed character takes at most 9 characters in a link: 3 UTF-8 bytes, each as %XX.
ENCODED_PER_CHARACTER = 9
PROGRAM_LINK_MAX = 3_000       # what a program (a cell's text) may take of a link
STREAMLIT_OWN = frozenset({"embed", "embed_options"})   # Streamlit's, never ours to judge


# ---- how a link's text becomes a value --------------------------------------------------

class Codec:
    """A parameter's values in a link: ``parse`` (raises ValueError) and ``text``."""

    def parse(self, raw: list[str]):
        if len(raw) != 1:
            raise ValueError(raw)
        return self.one(raw[0])

    def one(self, raw: str):
        raise NotImplementedError

    def text(self, value) -> list[str]:
        return [str(value)]


class Flag(Codec):
    def one(self, raw: str) -> bool:
        if raw.lower() in ("true", "1"):
            return True
        if raw.lower() in ("false", "0"):
            return False
        raise ValueError(raw)

    def text(self, value) -> list[str]:
        return ["true" if value else "false"]


@dataclass(frozen=True)
class Number(Codec):
    """A number in [low, high] on the grid ``low + k·step`` (``step`` None: any); ``2.0``
    and ``2`` are the same number."""

    low: float
    high: float
    step: float | None = None
    kind: type = float

    def one(self, raw: str):
        if len(raw) > 40:
            raise ValueError(raw)
        value = float(raw)
        if not (math.isfinite(value) and self.low <= value <= self.high):
            raise ValueError(raw)
        if self.step is not None:
            steps = (value - self.low) / self.step
            if not math.isclose(steps, round(steps), abs_tol=1e-9):
                raise ValueError(raw)
        if self.kind is int and not value.is_integer():
            raise ValueError(raw)
        return self.kind(value)

    def text(self, value) -> list[str]:
        return [f"{value:g}" if self.kind is float else str(value)]


@dataclass(frozen=True)
class Choice(Codec):
    """One of ``options`` (ids, the same in every language; numbers compare as numbers)."""

    options: tuple

    def one(self, raw: str):
        for option in self.options:
            if raw == str(option) or (isinstance(option, float) and _same_number(raw, option)):
                return option
        raise ValueError(raw)

    def text(self, value) -> list[str]:
        return [f"{value:g}" if isinstance(value, float) else str(value)]


def _same_number(raw: str, option: float) -> bool:
    try:
        return len(raw) <= 40 and float(raw) == option
    except ValueError:
        return False


@dataclass(frozen=True)
class Range(Codec):
    """Two whole numbers low ≤ high in [lowest, highest]: a range slider's ends."""

    lowest: int
    highest: int

    def parse(self, raw: list[str]):
        if len(raw) != 2:
            raise ValueError(raw)
        ends = tuple(Number(self.lowest, self.highest, 1, int).one(r) for r in raw)
        if ends[0] > ends[1]:
            raise ValueError(raw)
        return ends

    def text(self, value) -> list[str]:
        return [str(end) for end in value]


@dataclass(frozen=True)
class Text(Codec):
    """Typed text of at most ``max_chars`` characters (a longer one in a link is refused,
    never cut). ``link_budget``: beyond this many characters of a link, the text stays
    out of the link (with a note) rather than make an address a server refuses."""

    max_chars: int
    link_budget: int | None = None

    def one(self, raw: str) -> str:
        if len(raw) > self.max_chars:
            raise ValueError(raw[:20])
        return raw


# ---- the parameters, page by page -------------------------------------------------------

@dataclass(frozen=True)
class Param:
    name: str                        # ?name=, and the key of its widget
    codec: Codec
    default: object                  # a callable: a default that depends on the visitor
    shared: bool = False             # kept for the session from page to page

    def initial(self):
        return self.default() if callable(self.default) else self.default


def browser_language() -> str:
    return language_for_locale(getattr(st.context, "locale", None))


@dataclass(frozen=True)
class ClassCode(Codec):
    """A class's code as a join link carries it (``lab.answers.normalise_code``)."""

    def one(self, raw: str) -> str:
        from lab.answers import normalise_code

        code = normalise_code(raw)
        if code is None:
            raise ValueError(raw[:20])
        return code


@dataclass(frozen=True)
class Secret(Codec):
    """An instructor's key as the instructor's link carries it: URL-safe characters only."""

    max_chars: int = 60

    def one(self, raw: str) -> str:
        if not 0 < len(raw) <= self.max_chars or not all(
                char.isascii() and (char.isalnum() or char in "-_") for char in raw):
            raise ValueError(raw[:20])
        return raw


FLAG = Flag()
EVERY_PAGE = (Param("lang", Choice(LANGUAGES), browser_language, shared=True),
              Param("lecture", FLAG, False, shared=True))
# A class (issue 24, lab.ui.class_views): ?class= joins it from any page; ?teach= is the
# instructor's key, read once and taken out of the address at once (a projected address
# bar shows it, a shared link would carry it). Neither follows a link to another page:
# the session keeps the class.
CLASS = (Param("class", ClassCode(), None), Param("teach", Secret(), None))
SECRET = frozenset({"teach"})          # never in a link the lab writes or shows


def _reduction(name: str) -> Param:
    from lab.ops import REDUCTIONS

    return Param(name, Choice(REDUCTIONS), "mean", shared=name == "reduce")


def _chain() -> tuple[Param, ...]:
    from lab import chain

    return tuple(Param(s.name, Number(s.low, s.high, s.step, s.kind), s.default, shared=True)
                 for s in chain.SLIDERS) + (_reduction("reduce"),)


# Each page's table, built when the page first runs (the lesson's data imports torch, which
# the home page does not need).
def _tensors() -> tuple[Param, ...]:
    from lab.tensors import TENSOR_DTYPES

    from lab.cell.examples import TENSORS

    return (Param("values", Text(400), "2., 3."), Param("dtype", Choice(TENSOR_DTYPES), "float32"),
            Param("requires_grad", FLAG, False), Param("backward", FLAG, False),
            _program("cell", TENSORS))


def _backward() -> tuple[Param, ...]:
    return _chain() + tuple(Param(f"ex1_{i}", Text(40), "") for i in range(6)) + (
        Param("backward", FLAG, False),)


def _torchviz() -> tuple[Param, ...]:
    return _chain() + (Param("show_attrs", FLAG, False), Param("show_saved", FLAG, False))


def _playground() -> tuple[Param, ...]:
    from lab.formula import EXAMPLES, MAX_LENGTH
    from lab.gradients import DTYPES
    from lab.xvalues import DEFAULT_VALUES, VALUES_LINK_MAX, VALUES_MAX_CHARS, X_MODES

    span = Number(-1e6, 1e6)
    return (Param("f", Text(MAX_LENGTH), EXAMPLES[0]), Param("xm", Choice(X_MODES), X_MODES[0]),
            Param("xs", Text(VALUES_MAX_CHARS, VALUES_LINK_MAX), DEFAULT_VALUES),
            Param("x0", span, 0.0), Param("x1", span, 3.0), Param("dx", span, 1.0),
            _reduction("r"), Param("dt", Choice(tuple(DTYPES)), "float32"))


def _inside_backward() -> tuple[Param, ...]:
    from lab.backward import COMPUTATIONS, DEFAULT_FORMULA, DEFAULT_VALUES, MODES
    from lab.cell.examples import NEURON
    from lab.formula import MAX_LENGTH
    from lab.gradients import DTYPES

    return (Param("comp", Choice(COMPUTATIONS), COMPUTATIONS[0]),) + _chain() + (
        Param("range", Range(-6, 10), (1, 5)), Param("dtype", Choice(tuple(DTYPES)), "float32"),
        # x's 400 typed characters fit 1,200 when ASCII (3 per character encoded), so the
        # formula, x and a program stay within a link the server takes (LINK_MAX).
        Param("f", Text(MAX_LENGTH), DEFAULT_FORMULA), Param("xs", Text(400, 1_200), DEFAULT_VALUES),
        _reduction("r"), Param("mode", Choice(MODES), MODES[0]),
        Param("torchviz", FLAG, False), Param("step", Number(0, 10_000, 1, int), 1),
        _program("program", NEURON))


def _learning() -> tuple[Param, ...]:
    from lab.training import (BEHAVIOURS, DATASETS, INITIAL_RANGE, LEARNING_RATES, MAX_STEPS,
                              UPDATES, Loop)

    start, default = Number(-INITIAL_RANGE, INITIAL_RANGE, 0.5), Loop()
    return (Param("data", Choice(tuple(DATASETS)), default.data),
            Param("update", Choice(UPDATES), UPDATES[0]),
            Param("lr", Choice(LEARNING_RATES), default.lr),
            Param("steps", Number(1, MAX_STEPS, 1, int), default.steps),
            Param("w0", start, default.w0), Param("b0", start, default.b0),
            Param("nozero", FLAG, False), Param("nograd", FLAG, False),
            Param("biglr", FLAG, False), Param("guess", Choice(BEHAVIOURS), None),
            Param("reveal", FLAG, False), Param("step", Number(0, MAX_STEPS, 1, int), None))


def _mistakes() -> tuple[Param, ...]:
    from lab.mistakes import EXPERIMENTS

    return tuple(param for experiment in EXPERIMENTS.values() for param in (
        Param(experiment.param, Choice(experiment.options), None),
        Param(f"{experiment.param}_run", FLAG, False),
        Param(f"{experiment.param}_fixed", FLAG, False)))


def _exercises() -> tuple[Param, ...]:
    from lab.cell.examples import EXERCISE_2, EXERCISE_3
    from lab.tensors import GUESSES

    return (Param("exercise", Number(1, 3, 1, int), 1),
            Param("ex2_guess", Choice(GUESSES), None), Param("ex2_check", FLAG, False),
            _program("ex2_code", EXERCISE_2), _program("ex3_code", EXERCISE_3),
            Param("ex3_reference", FLAG, False))


def _program(name: str, default: str) -> Param:
    """A program in a cell: long programs stay out of the link (lab.ui.cell_views)."""
    from lab.cell.limits import Limits

    return Param(name, Text(Limits().max_chars, PROGRAM_LINK_MAX), default)


def _code() -> tuple[Param, ...]:
    from lab.cell.examples import DEFAULT, EXAMPLES

    return (_program("program", EXAMPLES[DEFAULT]),)


TABLES: dict[str, Callable[[], tuple[Param, ...]]] = {
    "home": tuple,
    "tensors": _tensors,
    "backward": _backward,
    "torchviz": _torchviz,
    "exercises": _exercises,
    "playground": _playground,
    "code": _code,
    "inside_backward": _inside_backward,
    "mistakes": _mistakes,
    "learning": _learning,
}


@functools.lru_cache(maxsize=None)
def params(page: str) -> tuple[Param, ...]:
    """Every URL parameter of ``page``: the language, lecture mode, the class, then its
    own."""
    return EVERY_PAGE + CLASS + TABLES[page]()


def declared(page: str, name: str) -> Param | None:
    return next((p for p in params(page) if p.name == name), None)


# ---- one function keeps widgets and the address in step ---------------------------------

def open_page(page: str) -> None:
    """The page being drawn (its table is the one ``linked`` reads)."""
    st.session_state[_PAGE] = page


def _page() -> str:
    return st.session_state.get(_PAGE, "home")


def drawn_page() -> str:
    """The id of the page being drawn (``open_page``)."""
    return _page()


def _written() -> dict:
    return st.session_state.setdefault(_WRITTEN, {})


def _shared() -> dict:
    return st.session_state.setdefault(_SHARED, {})


def refuse(name: str) -> None:
    """Name ``?name=`` in the page's notice of link parameters that were reset."""
    refused = st.session_state.setdefault(_REFUSED, [])
    if name not in refused:
        refused.append(name)


def refused() -> list[str]:
    return st.session_state.get(_REFUSED, [])


def start_run() -> None:
    """A page's full run begins: no parameter refused yet."""
    st.session_state[_REFUSED] = []


def value(name: str, default=None):
    """A shared setting's value now (the language, lecture mode), wherever it is drawn:
    a change made in its widget reaches the session before the run (``_remember``)."""
    return _shared().get(name, default)


def language() -> str:
    """The page language: the sidebar's choice, else the link's, else the browser's."""
    chosen = value("lang")
    return chosen if chosen in LANGUAGES else browser_language()


def page_address(page_url: str) -> str:
    """A page's address in the browser, built from the page's own URL path."""
    parts = urlsplit(getattr(st.context, "url", None) or "")
    if not parts.netloc:
        return f"/{page_url}"
    return f"{parts.scheme}://{parts.netloc}/{page_url}"


def put(name: str, new) -> None:
    """Set parameter ``name``'s widget to ``new`` from a callback (a step button): its
    widget and, if it is shared, the session's value."""
    st.session_state[name] = new
    param = declared(_page(), name)
    if param is not None and param.shared:
        _shared()[name] = new


def _remember(name: str, then: Callable | None = None, args: tuple = ()) -> None:
    """A shared widget's callback: its new value is the session's before the run starts."""
    _shared()[name] = st.session_state[name]
    if then is not None:
        then(*args)


def seed(param: Param) -> None:
    """Before the widget is drawn: a link's new value, or the value it starts from.

    A shared parameter's value lives in the session (widget state does not survive a page
    change) and seeds its widget on every run; the others start from the address or
    their default when their widget appears, then their widget's state rules.
    """
    state, name = st.session_state, param.name
    raw = st.query_params.get_all(name)
    found = None
    if raw and raw != _written().get(name):          # a link, or an edited address
        try:
            found = (param.codec.parse(raw),)
        except (ValueError, TypeError):
            refuse(name)
    if param.shared:
        if found:
            _shared()[name] = found[0]
        state[name] = _shared().setdefault(name, param.initial())
        return
    if found:
        state[name] = found[0]
    elif name in state:                              # the widget's own state rules
        return
    elif raw and raw == _written().get(name):        # reappearing: what it held
        state[name] = param.codec.parse(raw)
    else:
        state[name] = param.initial()


def link_length(text: str) -> int:
    """Characters ``text`` takes in a link's query (as ``st.query_params`` writes it)."""
    return len(quote_plus(text))


def keep(param: Param, shown) -> bool:
    """After the widget: its value back into the address (a default leaves it). Returns
    whether the link carries it (a text past its link budget stays out)."""
    name, written = param.name, _written()
    if param.shared:
        _shared()[name] = shown
    text = param.codec.text(shown)
    budget = getattr(param.codec, "link_budget", None)
    fits = budget is None or sum(link_length(part) for part in text) <= budget
    if shown == param.initial() or not fits:
        if name in st.query_params:
            del st.query_params[name]
        written[name] = None
        return fits
    if st.query_params.get_all(name) != text:        # each write is a message to the browser
        st.query_params[name] = text if len(text) > 1 else text[0]
    written[name] = text
    return True


def linked(widget: Callable, name: str, adjust: Callable | None = None, **kwargs):
    """``widget(key=name, **kwargs)`` bound to the current page's parameter ``name``.

    The widget takes its value from the session (never pass it a default: the table has
    it); ``adjust`` fits that value to this run before the widget is drawn (a step slider
    whose end moved). Returns the widget's value.
    """
    param = declared(_page(), name)
    if param is None:
        raise KeyError(f"?{name}= is not declared for page {_page()!r} (lab/ui/links.py)")
    seed(param)
    if adjust is not None:
        st.session_state[name] = adjust(st.session_state[name])
    if param.shared:
        then, args = kwargs.pop("on_change", None), kwargs.pop("args", ())
        kwargs.update(on_change=_remember, args=(name, then, args))
    shown = widget(key=name, **kwargs)
    keep(param, shown)
    return shown


def _remember_tab(name: str, labels: tuple[str, ...]) -> None:
    if st.session_state.get(name) in labels:
        st.session_state[f"_{name}_open"] = labels.index(st.session_state[name]) + 1


def linked_tabs(name: str, labels: list[str]):
    """``st.tabs`` whose open tab is parameter ``name``: its number (1-based), the same in
    every language (a tab's own state is its label, which is not)."""
    param = declared(_page(), name)
    shadow = f"_{name}_open"
    raw = st.query_params.get_all(name)
    if raw and raw != _written().get(name):
        try:
            st.session_state[shadow] = param.codec.parse(raw)
        except (ValueError, TypeError):
            refuse(name)
    number = st.session_state.setdefault(shadow, param.initial())
    st.session_state[name] = labels[number - 1]       # the open tab, in this run's language
    tabs = st.tabs(labels, key=name, on_change=_remember_tab, args=(name, tuple(labels)))
    keep(param, number)
    return tabs


def written(name: str) -> list[str] | None:
    """What this session last wrote to the address for ``name`` (None: nothing)."""
    return _written().get(name)


def in_link(name: str) -> bool:
    """Whether the link carries parameter ``name`` now (a long text may not)."""
    return _written().get(name) is not None


def unlink(name: str) -> None:
    """Take ``?name=`` out of the address (its widget is not on the page in this run)."""
    if name in st.query_params:
        del st.query_params[name]
    _written()[name] = None


def reconcile(page: str, at_start: dict[str, list[str]]) -> list[str]:
    """At the end of a page's full run: drop from the address what the page does not
    declare, and name what was refused or unknown (the page's notice)."""
    known = {param.name for param in params(page)} | STREAMLIT_OWN
    unknown = sorted(name for name in st.query_params if name not in known)
    for name in unknown:
        del st.query_params[name]
    return sorted(set(refused()) | set(unknown) | {name for name in at_start
                                                   if name not in known})
