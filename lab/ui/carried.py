"""Widgets whose value follows the student from page to page and lives in the URL.

Streamlit's ``bind="query-params"`` keeps a widget in the URL, but drops a parameter on
a page change when it was bound on another page (checked in a browser), and a bound
widget ignores ``persist_state``. The language, lecture mode and the seed's chain must
survive page changes, so for them the URL is kept in sync here by hand: a new value in
the URL (a shared link, or a navigation link carrying it) sets the widget; otherwise
the widget's own state rules and is written back to the URL.
"""

from __future__ import annotations

import math
from typing import Callable
from urllib.parse import quote_plus

import streamlit as st

_STORE = "_carried"           # the values themselves, kept for the whole session
_WRITTEN = "_url_written"      # what this session last wrote to the URL, per parameter
_REFUSED = "_url_refused"      # parameters refused in this run (for the page's notice)

# The longest address (path and query) a link of the lab may have. Measured here: nginx
# with its default buffers (deploy/nginx.conf sets none) answers 414 once the request line
# passes 8 KiB; Tornado (Streamlit's server) answers 400 once the request's headers pass
# 64 KiB, which a browser's Referer, repeating the address, doubles.
LINK_MAX = 8_000
# A typed character takes at most 9 characters in a link: 3 UTF-8 bytes, each as %XX
# (a character outside the BMP: 4 bytes for 2 of the box's characters).
ENCODED_PER_CHARACTER = 9


def serialize(value) -> str:
    if isinstance(value, bool):
        return "true" if value else "false"
    return str(value)


def number_in(low: float, high: float, step: float, kind: type = float) -> Callable:
    """A parser for a slider's URL value: inside [low, high] and on the step grid."""
    def parse(raw: str):
        value = float(raw)
        steps = (value - low) / step
        if not (low <= value <= high) or not math.isclose(steps, round(steps), abs_tol=1e-9):
            raise ValueError(raw)
        return kind(value)
    return parse


def one_of(options) -> Callable:
    def parse(raw: str):
        if raw not in options:
            raise ValueError(raw)
        return raw
    return parse


def boolean(raw: str) -> bool:
    if raw.lower() in ("true", "1"):
        return True
    if raw.lower() in ("false", "0"):
        return False
    raise ValueError(raw)


def value(key: str, default=None):
    """The current value of carried setting ``key`` (e.g. the language), or ``default``."""
    return st.session_state.get(_STORE, {}).get(key, default)


def refused() -> list[str]:
    """The carried parameters of this run's URL that could not be read."""
    return st.session_state.get(_REFUSED, [])


def refuse(key: str) -> None:
    """Name ``?key=`` in the page's notice of refused link parameters."""
    st.session_state.setdefault(_REFUSED, []).append(key)


def synced() -> set[str]:
    """Parameters this session keeps in the URL by hand (they report their own refusals)."""
    return set(st.session_state.get(_WRITTEN, {}))


def unlink(key: str) -> None:
    """Take ``?key=`` out of the URL (its widget is not on the page in this run)."""
    if key in st.query_params:
        del st.query_params[key]
    st.session_state.setdefault(_WRITTEN, {})[key] = None


def link_length(text: str) -> int:
    """Characters ``text`` takes in a link's query (as ``st.query_params`` writes it)."""
    return len(quote_plus(text))


def start_run() -> None:
    """Begin a full page run: no parameter refused yet."""
    st.session_state[_REFUSED] = []


def _remember(key: str) -> None:
    st.session_state[_STORE][key] = st.session_state[key]


def carried(widget: Callable, key: str, default, parse: Callable, **kwargs):
    """Draw ``widget`` with its value kept across pages and synced to ``?key=``.

    The value lives in a plain session entry (widget state is dropped when a page
    changes) and seeds the widget on every run; a user's change reaches it through
    ``on_change`` before the rerun starts.
    """
    store = st.session_state.setdefault(_STORE, {})
    written = st.session_state.setdefault(_WRITTEN, {})
    raw = st.query_params.get(key)
    if raw is not None and raw != written.get(key):
        try:
            store[key] = parse(raw)
        except (ValueError, TypeError):
            st.session_state.setdefault(_REFUSED, []).append(key)
    st.session_state[key] = store.get(key, default)
    value = widget(key=key, on_change=_remember, args=(key,), **kwargs)
    store[key] = value
    text = serialize(value)
    if value == default:
        if key in st.query_params:
            del st.query_params[key]
        written[key] = None
    else:
        if st.query_params.get(key) != text:     # each write sends the browser a message
            st.query_params[key] = text
        written[key] = text
    return value


def linked_text(widget: Callable, key: str, default: str, budget: int, max_chars: int,
                **kwargs) -> tuple[str, bool]:
    """A text box kept in the URL as ``?key=`` while its text fits in ``budget``
    characters of a link (``link_length``); a longer text stays out of the link.

    Returns (text, whether the link carries it). Synced by hand, not with Streamlit's
    ``bind``, which writes any length to the address: a link the server refuses (see
    ``LINK_MAX``) must never be written. A link's own value longer than the box allows
    is refused (the page's notice names it).
    """
    written = st.session_state.setdefault(_WRITTEN, {})
    raw = st.query_params.get(key)
    if raw is not None and raw != written.get(key):       # a new link, or an edited address
        if len(raw) <= max_chars:
            st.session_state[key] = raw
        else:
            refuse(key)
    if key not in st.session_state:
        st.session_state[key] = default
    text = widget(key=key, max_chars=max_chars, persist_state="session", **kwargs)
    in_link = text == default or link_length(text) <= budget
    if text == default or not in_link:
        unlink(key)
    else:
        if st.query_params.get(key) != text:     # each write sends the browser a message
            st.query_params[key] = text
        written[key] = text
    return text, in_link


def _remember_tab(key: str, labels: tuple[str, ...]) -> None:
    if st.session_state.get(key) in labels:
        st.session_state[f"_{key}_index"] = labels.index(st.session_state[key])


def linked_tabs(key: str, labels: list[str]):
    """``st.tabs`` whose open tab lives in the URL as ``?key=<number>`` (1-based).

    Streamlit's ``bind="query-params"`` would write the tab's label, which changes with
    the language: a Spanish link would not open its tab in English, and switching the
    language would close the open tab. A number is the same in every language. Opening a
    tab reruns the page (the tabs keep their state); the first tab is left out of the link.
    """
    written = st.session_state.setdefault(_WRITTEN, {})
    index_key = f"_{key}_index"
    raw = st.query_params.get(key)
    if raw is not None and raw != written.get(key):       # a new link, or an edited address
        try:
            st.session_state[index_key] = number_in(1, len(labels), 1, int)(raw) - 1
        except (ValueError, TypeError):
            refuse(key)
    index = st.session_state.get(index_key, 0)
    st.session_state[key] = labels[index]          # the open tab, in this run's language
    tabs = st.tabs(labels, key=key, on_change=_remember_tab, args=(key, tuple(labels)))
    if index == 0:
        unlink(key)
    else:
        if st.query_params.get(key) != str(index + 1):
            st.query_params[key] = str(index + 1)
        written[key] = str(index + 1)
    return tabs
