"""Input widgets shared by several pages."""

from __future__ import annotations

import streamlit as st

from lab.ui.carried import carried, number_in, one_of
from lab.ui.shell import tr


def _slider(column, key: str, low, high, default, step, kind=float):
    with column:
        return carried(st.slider, key, default, number_in(low, high, step, kind), label=key,
                       min_value=low, max_value=high, step=step, help=tr(f"chain.{key}_help"))


def chain_inputs() -> dict:
    """The seed's chain: n, a, p, c and the reduction, shared by pages 2, 3 and 6.

    They follow the student between those pages and live in the URL (lab.ui.carried).
    """
    columns = st.columns(5)
    values = {"n": _slider(columns[0], "n", 1, 20, 3, 1, int),
              "a": _slider(columns[1], "a", -5.0, 5.0, 1.0, 0.5),
              "p": _slider(columns[2], "p", -3.0, 4.0, 2.0, 0.5),
              "c": _slider(columns[3], "c", -5.0, 5.0, 2.0, 0.5)}
    with columns[4]:
        values["reduce"] = carried(st.radio, "reduce", "mean", one_of(("mean", "sum")),
                                   label=tr("chain.reduce"),
                                   options=("mean", "sum"), horizontal=True,
                                   help=tr("chain.reduce_help"))
    return values
