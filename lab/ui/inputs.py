"""Input widgets shared by several pages."""

from __future__ import annotations

import streamlit as st

from lab.ops import REDUCTIONS
from lab.ui.carried import carried, number_in, one_of
from lab.ui.shell import tr


def _move(key: str, delta: int, low: int, high: int) -> None:
    st.session_state[key] = max(low, min(high, st.session_state.get(key, low) + delta))


def stepper(low: int, high: int, key: str, label: str, help: str, previous: tuple[str, str],
            following: tuple[str, str], start: int | None = None) -> int:
    """A step slider kept in the URL, with previous/next buttons; returns the step.

    ``previous`` and ``following`` are the buttons' (key, label). ``start`` is where a
    fresh slider stands (default ``low``); a value left outside [low, high] by a change
    of the range is pulled back inside.
    """
    current = st.session_state.get(key)
    if isinstance(current, int) and not low <= current <= high:
        st.session_state[key] = max(low, min(high, current))
    elif current is None and start is not None and key not in st.query_params:
        st.session_state[key] = start
    row = st.container(horizontal=True, vertical_alignment="bottom")
    step = row.slider(label, low, high, key=key, bind="query-params", help=help)
    row.button(previous[1], key=previous[0], on_click=_move, args=(key, -1, low, high),
               disabled=step <= low, icon=":material/arrow_back:")
    row.button(following[1], key=following[0], on_click=_move, args=(key, 1, low, high),
               disabled=step >= high, icon=":material/arrow_forward:")
    return step


def _slider(key: str, low, high, default, step, kind=float):
    return carried(st.slider, key, default, number_in(low, high, step, kind), label=key,
                   min_value=low, max_value=high, step=step, help=tr(f"chain.{key}_help"))


def chain_inputs() -> dict:
    """The seed's chain: n, a, p, c and the reduction, shared by pages 2, 3 and 6.

    They follow the student between those pages and live in the URL (lab.ui.carried).
    """
    # One horizontal row: a single layout block, where five columns were six (every
    # block is one more message per rerun; README, "Performance").
    with st.container(horizontal=True, gap="medium"):
        values = {"n": _slider("n", 1, 20, 3, 1, int),
                  "a": _slider("a", -5.0, 5.0, 1.0, 0.5),
                  "p": _slider("p", -3.0, 4.0, 2.0, 0.5),
                  "c": _slider("c", -5.0, 5.0, 2.0, 0.5)}
        values["reduce"] = carried(st.radio, "reduce", "mean", one_of(REDUCTIONS),
                                   label=tr("chain.reduce"),
                                   options=REDUCTIONS, horizontal=True,
                                   help=tr("chain.reduce_help"), width="content")
    return values
