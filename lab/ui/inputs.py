"""Input widgets shared by several pages; each is bound to the URL so a link reopens it."""

from __future__ import annotations

import streamlit as st

from lab.ui.shell import tr

# Bound to the URL (a link reopens the state) and kept for the session, so the
# seed's chain keeps its values when the student moves between pages 2, 3 and 6.
SHARED = {"bind": "query-params", "persist_state": "session"}


def chain_inputs() -> dict:
    """The seed's chain: n, a, p, c and the reduction (shared by the graph pages)."""
    columns = st.columns(5)
    n = columns[0].slider("n", 1, 20, 3, key="n", help=tr("chain.n_help"), **SHARED)
    a = columns[1].slider("a", -5.0, 5.0, 1.0, 0.5, key="a", help=tr("chain.a_help"), **SHARED)
    p = columns[2].slider("p", -3.0, 4.0, 2.0, 0.5, key="p", help=tr("chain.p_help"), **SHARED)
    c = columns[3].slider("c", -5.0, 5.0, 2.0, 0.5, key="c", help=tr("chain.c_help"), **SHARED)
    reduce = columns[4].radio(tr("chain.reduce"), ("mean", "sum"), key="reduce", horizontal=True,
                              help=tr("chain.reduce_help"), **SHARED)
    return {"n": n, "a": a, "p": p, "c": c, "reduce": reduce}
