"""Input widgets shared by several pages."""

from __future__ import annotations

import streamlit as st

from lab.ops import REDUCTIONS
from lab.ui.carried import carried, number_in, one_of, value
from lab.ui.shell import help_button, tr

# The seed chain's sliders: (key, low, high, default, step, type).
CHAIN_SLIDERS = (("n", 1, 20, 3, 1, int), ("a", -5.0, 5.0, 1.0, 0.5, float),
                 ("p", -3.0, 4.0, 2.0, 0.5, float), ("c", -5.0, 5.0, 2.0, 0.5, float))


def _nudge(key: str, delta, low, high, kind) -> None:
    """A step button's callback: move carried setting ``key`` one step, within its range."""
    moved = kind(min(high, max(low, value(key, low) + delta)))
    st.session_state["_carried"][key] = moved


def stepped_slider(key: str, low, high, default, step, kind=float):
    """A carried slider with a step button on each side: on a phone a thumb moves n by 5
    for a 40 px drag, a button by exactly one step."""
    with st.container(horizontal=True, vertical_alignment="bottom", gap="xsmall", wrap=False):
        down = st.empty()          # drawn after the slider, which says whether it is at an end
        shown = carried(st.slider, key, default, number_in(low, high, step, kind), label=key,
                        min_value=low, max_value=high, step=step)
        down.button(f"−{step:g}", key=f"{key}_down", on_click=_nudge,
                    args=(key, -step, low, high, kind), disabled=shown <= low, type="tertiary")
        st.button(f"+{step:g}", key=f"{key}_up", on_click=_nudge,
                  args=(key, step, low, high, kind), disabled=shown >= high, type="tertiary")
    return shown


def _move(key: str, delta: int, low: int, high: int) -> None:
    st.session_state[key] = max(low, min(high, st.session_state.get(key, low) + delta))


def stepper(low: int, high: int, key: str, label: str, previous: tuple[str, str],
            following: tuple[str, str], start: int | None = None) -> int:
    """A step slider kept in the URL, with previous/next buttons; returns the step.

    ``previous`` and ``following`` are the buttons' (key, label). ``start`` is where a
    fresh slider stands (default ``low``); a value left outside [low, high] by a change
    of the range is pulled back inside. Its help goes with the page's other help
    (``shell.help_button``): a "?" of its own would be one more tab stop.
    """
    current = st.session_state.get(key)
    if isinstance(current, int) and not low <= current <= high:
        st.session_state[key] = max(low, min(high, current))
    elif current is None and start is not None and key not in st.query_params:
        st.session_state[key] = start
    row = st.container(horizontal=True, vertical_alignment="bottom")
    step = row.slider(label, low, high, key=key, bind="query-params")
    row.button(previous[1], key=previous[0], on_click=_move, args=(key, -1, low, high),
               disabled=step <= low, icon=":material/arrow_back:")
    row.button(following[1], key=following[0], on_click=_move, args=(key, 1, low, high),
               disabled=step >= high, icon=":material/arrow_forward:")
    return step


def chain_inputs() -> dict:
    """The seed's chain: n, a, p, c and the reduction, shared by pages 2, 3 and 6.

    They follow the student between those pages and live in the URL (lab.ui.carried).
    """
    # One horizontal row that wraps on a narrow screen (every block is one more message
    # per rerun; README, "Performance").
    with st.container(horizontal=True, gap="medium"):
        values = {key: stepped_slider(key, low, high, default, step, kind)
                  for key, low, high, default, step, kind in CHAIN_SLIDERS}
        values["reduce"] = carried(st.radio, "reduce", "mean", one_of(REDUCTIONS),
                                   label=tr("chain.reduce"),
                                   options=REDUCTIONS, horizontal=True, width="content")
        help_button(*[(key, tr(f"chain.{key}_help")) for key in ("n", "a", "p", "c")],
                    (tr("chain.reduce"), tr("chain.reduce_help")))
    return values
