"""Cached entry points into lab's core: plain inputs in, plain results out.

Results hold floats and strings only (never live tensors), so a cached copy is as
good as a fresh run; the cache is shared by every session of the server.
"""

from __future__ import annotations

import streamlit as st

from lab import backward, chain, graphs, gradients, mistakes, tensors
from lab.gradients import XSpec

ENTRIES = 512


@st.cache_data(max_entries=ENTRIES, show_spinner=False)
def gradient_run(text: str, x_spec: XSpec, reduce: str, dtype: str,
                 checks: bool = True) -> gradients.GradientRun:
    return gradients.run(text, x_spec, reduce, dtype, checks)


@st.cache_data(max_entries=32, show_spinner=False)
def playground_run(text: str, x_spec: XSpec, reduce: str, dtype: str) -> gradients.GradientRun:
    """A playground run: x can have 10,000 elements, so only x and y are kept (about 0.7 MB
    per result at that size, not 11) and fewer results are cached: 32 hold ~65 MB less
    than 128 did (docs/performance.md, "Memory")."""
    return gradients.run(text, x_spec, reduce, dtype, keep_nodes=False)


@st.cache_data(max_entries=ENTRIES, show_spinner=False)
def torchviz_dot(text: str, x_spec: XSpec, reduce: str, dtype: str, show_attrs: bool,
                 show_saved: bool) -> str:
    return graphs.torchviz_dot(text, x_spec, reduce, dtype, show_attrs, show_saved)


@st.cache_data(max_entries=ENTRIES, show_spinner=False)
def tensor_report(values_text: str, dtype: str, requires_grad: bool,
                  backward: bool) -> tensors.TensorReport:
    return tensors.inspect(values_text, dtype, requires_grad, backward)


@st.cache_data(max_entries=ENTRIES, show_spinner=False)
def chain_run(n: int, a: float, p: float, c: float, reduce: str) -> gradients.GradientRun:
    return chain.run_chain(n, a, p, c, reduce)


@st.cache_data(max_entries=ENTRIES, show_spinner=False)
def chain_rule(x: tuple[float, ...], a: float, p: float, reduce: str) -> list[float]:
    """The chain rule written out (page 2's reference column), cached like the run."""
    return chain.chain_rule(list(x), a, p, reduce)


@st.cache_data(max_entries=ENTRIES, show_spinner=False)
def backward_trace(text: str, x_spec: XSpec, reduce: str, dtype: str) -> backward.BackwardTrace:
    return backward.trace(text, x_spec, reduce, dtype)


@st.cache_data(max_entries=ENTRIES, show_spinner=False)
def mistake_run(key: str, mistake: bool) -> mistakes.MistakeRun:
    return mistakes.run(key, mistake)
