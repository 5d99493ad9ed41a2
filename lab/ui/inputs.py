"""Input widgets shared by several pages, each bound to its URL parameter (lab.ui.links)."""

from __future__ import annotations

import streamlit as st

from lab import chain
from lab.ops import REDUCTIONS
from lab.ui.links import linked, put
from lab.ui.shell import help_button, tr


def _nudge(name: str, delta, low, high, kind) -> None:
    """A step button's callback: move slider ``name`` one step, within its range."""
    put(name, kind(min(high, max(low, st.session_state.get(name, low) + delta))))


def stepped_slider(slider: chain.Slider):
    """A slider with a step button on each side: on a phone a thumb moves n by 5 for a
    40 px drag, a button by exactly one step. The buttons stay enabled at the ends (a
    disabled button drops the keyboard's focus to the page); there they do nothing."""
    name, low, high, step, kind = slider.name, slider.low, slider.high, slider.step, slider.kind
    with st.container(horizontal=True, vertical_alignment="bottom", gap="xsmall", wrap=False,
                      key=f"{name}_stepper"):      # its buttons' size: lab/ui/css/base.css
        st.button(f"−{step:g}", key=f"{name}_down", on_click=_nudge,
                  args=(name, -step, low, high, kind), type="tertiary",
                  help=tr("app.step_down", name=name, step=f"{step:g}"))
        shown = linked(st.slider, name, label=name, min_value=low, max_value=high, step=step)
        st.button(f"+{step:g}", key=f"{name}_up", on_click=_nudge,
                  args=(name, step, low, high, kind), type="tertiary",
                  help=tr("app.step_up", name=name, step=f"{step:g}"))
    return shown


def _move(name: str, delta: int, low: int, high: int) -> None:
    put(name, max(low, min(high, st.session_state.get(name, low) + delta)))


def stepper(low: int, high: int, name: str, label: str, previous: tuple[str, str],
            following: tuple[str, str], start: int | None = None) -> int:
    """A step slider bound to ``?name=``, with previous/next buttons; returns the step.

    ``previous`` and ``following`` are the buttons' (key, label). ``start`` is where a
    fresh slider stands (default ``low``); a value outside [low, high] (a link, or a
    change of the range) is pulled back inside. The buttons stay enabled at the ends, so
    the keyboard's focus never falls to the page; there they do nothing.
    """
    if name not in st.session_state and name not in st.query_params and start is not None:
        st.session_state[name] = start
    row = st.container(horizontal=True, vertical_alignment="bottom")
    with row:
        step = linked(st.slider, name, label=label, min_value=low, max_value=high,
                      adjust=lambda value: max(low, min(high, low if value is None else value)))
    row.button(previous[1], key=previous[0], on_click=_move, args=(name, -1, low, high),
               icon=":material/arrow_back:")
    row.button(following[1], key=following[0], on_click=_move, args=(name, 1, low, high),
               icon=":material/arrow_forward:")
    return step


def chain_inputs() -> dict:
    """The seed's chain: n, a, p, c and the reduction, shared by the backward, torchviz and
    inside-backward pages.

    They follow the student between those pages and live in the URL (lab.ui.links).
    """
    # One horizontal row that wraps on a narrow screen (every block is one more message
    # per rerun; docs/performance.md).
    with st.container(horizontal=True, gap="medium"):
        values = {slider.name: stepped_slider(slider) for slider in chain.SLIDERS}
        values["reduce"] = linked(st.radio, "reduce", label=tr("backward.reduce"),
                                  options=REDUCTIONS, horizontal=True, width="content",
                                  captions=[tr(f"backward.reduce_{name}") for name in REDUCTIONS])
        help_button(*[(key, tr(f"backward.{key}_help")) for key in ("n", "a", "p", "c")],
                    (tr("backward.reduce"), tr("backward.reduce_help")))
    return values
