"""Input widgets shared by several pages; each is bound to the URL so a link reopens it."""

from __future__ import annotations

import streamlit as st

from lab.ui.shell import tr


def chain_inputs() -> dict:
    """The seed's chain: n, a, p, c and the reduction (shared by the graph pages)."""
    columns = st.columns(5)
    n = columns[0].slider("n", 1, 20, 3, key="n", bind="query-params", help=tr("chain.n_help"))
    a = columns[1].slider("a", -5.0, 5.0, 1.0, 0.5, key="a", bind="query-params",
                          help=tr("chain.a_help"))
    p = columns[2].slider("p", -3.0, 4.0, 2.0, 0.5, key="p", bind="query-params",
                          help=tr("chain.p_help"))
    c = columns[3].slider("c", -5.0, 5.0, 2.0, 0.5, key="c", bind="query-params",
                          help=tr("chain.c_help"))
    reduce = columns[4].radio(tr("chain.reduce"), ("mean", "sum"), key="reduce",
                              bind="query-params", horizontal=True,
                              help=tr("chain.reduce_help"))
    return {"n": n, "a": a, "p": p, "c": c, "reduce": reduce}
