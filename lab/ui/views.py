"""Views of a ``GradientRun``: the value, the gradient table, plots and graph panels."""

from __future__ import annotations

import math

import numpy as np
import pyarrow as pa
import plotly.graph_objects as go
from plotly.basedatatypes import BaseFigure
import streamlit as st

from lab import graphs
from lab.gradients import GradientRun, curve, grid, plot_range
from lab.i18n import t
from lab.ui.shell import error_box, lang, tr

MAX_TABLE_ROWS = 500
MAX_TANGENTS = 60


def fmt(value: float | None) -> str:
    """Six significant digits; inf/nan spelled out so they stand out."""
    if value is None:
        return "—"
    if math.isnan(value):
        return "nan ⚠"
    if math.isinf(value):
        return ("inf" if value > 0 else "-inf") + " ⚠"
    return f"{value:.6g}"


def mark(ok: bool | None) -> str:
    return "—" if ok is None else ("✓" if ok else "✗")


def table(columns: dict[str, list]) -> None:
    """A table of ready-made cells (strings, ints), one list per column.

    Handed to Streamlit as an Arrow table, which it sends as it is: a pandas DataFrame
    would be built and converted on every rerun (README, "Performance").
    """
    st.dataframe(pa.table(columns), hide_index=True, width="stretch")


def value_metric(result: GradientRun) -> None:
    st.metric("y", fmt(result.y))
    st.caption(tr("grad.printed", y=result.y_repr))


def notes(result: GradientRun) -> None:
    for note in result.notes:
        st.warning(tr(note.key, **note.values), icon=":material/warning:")


def gradient_table(result: GradientRun, extra: dict[str, list[float]] | None = None,
                   checks: bool = True) -> dict[str, list]:
    """One row per x_i: autograd's x.grad beside each reference and whether they agree.

    Only the rows shown are formatted (x can have 10,000 elements); returns them.
    """
    shown = min(result.n, MAX_TABLE_ROWS)
    rows = {"i": list(range(shown)), "x_i": [fmt(v) for v in result.x[:shown]],
            tr("grad.col_autograd"): [fmt(v) for v in result.grad[:shown]]}
    for label, values in (extra or {}).items():
        rows[label] = [fmt(v) for v in values[:shown]]
        rows[tr("grad.col_difference", reference=label)] = [
            fmt(abs(a - b)) if math.isfinite(a) and math.isfinite(b) else "—"
            for a, b in zip(result.grad[:shown], values[:shown])]
    if checks:
        if result.symbolic is not None:
            rows[tr("grad.col_symbolic")] = [fmt(v) for v in result.symbolic[:shown]]
            rows[tr("grad.col_symbolic_ok")] = [
                mark(m) for m in result.agrees(result.symbolic)[:shown]]
        if result.numeric is not None:
            rows[tr("grad.col_numeric")] = [fmt(v) for v in result.numeric[:shown]]
            rows[tr("grad.col_numeric_ok")] = [
                mark(m) for m in result.agrees(result.numeric)[:shown]]
    table(rows)
    if result.n > MAX_TABLE_ROWS:
        st.caption(tr("grad.rows_cut", shown=MAX_TABLE_ROWS, total=result.n))
    if checks:
        rtol, atol = result.tolerance
        st.caption(tr("grad.tolerance", rtol=f"{rtol:g}", atol=f"{atol:g}", dtype=result.dtype))
    return rows


def curve_chart(text: str, result: GradientRun, tangents: bool = False,
                scale_note: bool = True) -> None:
    """f(t) and f'(t) from autograd on a grid, with the current x_i marked."""
    spec = curve_figure(text, result.x_spec, result.dtype, lang(), tangents, _x=result.x)
    if spec is None:
        st.info(tr("plot.not_elementwise"))
        return
    st.plotly_chart(_Built(spec), width="stretch")
    if scale_note:
        st.caption(tr("plot.scale_note"))


@st.cache_resource(max_entries=256, show_spinner=False)
def curve_figure(text: str, x_spec, dtype: str, language: str, tangents: bool,
                 _x: list[float]) -> dict | None:
    """The chart's figure as plotly's own dict, built once per input and language.

    ``_x`` (the run's x, not hashed: up to 10,000 values) follows from x_spec and dtype.
    Shared by every session and never changed after it is built.
    """
    low, high = plot_range(_x)
    data = curve(text, grid(low, high))
    if data is None:
        return None
    marked = curve(text, _x)
    points = list(zip(marked.t, marked.f, marked.df))
    traces = [_scatter(data.t, data.f, name=t("plot.f", language), mode="lines"),
              _scatter(data.t, data.df, name=t("plot.df", language), mode="lines",
                       line={"dash": "dash"}),
              _scatter(marked.t, marked.f, mode="markers", name=t("plot.points_f", language),
                       marker={"size": 10}),
              _scatter(marked.t, marked.df, mode="markers", name=t("plot.points_df", language),
                       marker={"size": 10, "symbol": "diamond"})]
    if tangents:
        # One trace for every tangent (segments split by None), at most MAX_TANGENTS of them
        # spread over the points: x can have 10,000 elements.
        span = (high - low) * 0.08
        every = max(1, math.ceil(len(points) / MAX_TANGENTS))
        xs, ys = [], []
        for x, f, d in points[::every]:
            if all(math.isfinite(v) for v in (x, f, d)):
                xs += [x - span, x + span, None]
                ys += [f - d * span, f + d * span, None]
        traces.append({"type": "scatter", "x": xs, "y": ys, "mode": "lines",
                       "line": {"width": 1, "color": "grey"},
                       "name": t("plot.tangents", language), "hoverinfo": "skip"})
    layout = {"title": {"text": t("plot.title", language)}, "xaxis": {"title": {"text": "x"}},
              "height": 380, "margin": {"l": 10, "r": 10, "t": 40, "b": 10},
              "legend": {"orientation": "h", "y": -0.2}}
    # Plain dicts and no per-property validation: the same figure JSON for a fifth of the
    # CPU, and the arrays go out as typed arrays (README, "Performance").
    return go.Figure({"data": traces, "layout": layout}, _validate=False).to_dict()


def figure_chart(spec: dict) -> None:
    """A plotly figure given as plotly's own dict (built once, cached), drawn as it is."""
    st.plotly_chart(_Built(spec), width="stretch")


def figure_spec(traces: list[dict], layout: dict) -> dict:
    """Plain trace and layout dicts as plotly's figure dict, without per-property validation
    (the same JSON for a fifth of the CPU; README, "Performance")."""
    return go.Figure({"data": traces, "layout": layout}, _validate=False).to_dict()


class _Built(BaseFigure):
    """A figure already turned into plotly's dict (``curve_figure``, cached).

    ``st.plotly_chart`` asks a figure for ``to_dict()`` and nothing else; a ``go.Figure``
    answers with a deep copy of itself, ~2 ms per chart on every rerun, for the same dict.
    BaseFigure's constructor is skipped on purpose: there is nothing left to build.
    """

    def __init__(self, spec: dict):       # noqa: super().__init__ not called
        self._spec = spec

    def to_dict(self) -> dict:
        return self._spec


def _scatter(x, y, **properties) -> dict:
    """A scatter trace whose points are float arrays (sent as base64 typed arrays)."""
    return {"type": "scatter", "x": np.asarray(x, dtype=float),
            "y": np.asarray(y, dtype=float), **properties}


def graph_panel(dot_source: str, filename: str, legend: tuple = graphs.TORCHVIZ_LEGEND,
                key: str = "graph") -> None:
    """The graph laid out in the browser, its legend, and downloads (SVG/PNG need ``dot``)."""
    st.graphviz_chart(dot_source, width="stretch")
    if legend:      # a graph that draws its own legend passes ()
        st.caption(" · ".join(f"**{colour}**: {tr(label)}" for colour, label in legend))
    row = st.container(horizontal=True)     # one block, not four (README, Performance)
    row.download_button(tr("graph.download_dot"), dot_source, f"{filename}.dot",
                        mime="text/vnd.graphviz", key=f"{key}_dot", on_click="ignore")
    if graphs.dot_available():
        for fmt_name, mime in (("svg", "image/svg+xml"), ("png", "image/png")):
            row.download_button(tr(f"graph.download_{fmt_name}"),
                                lambda f=fmt_name: graphs.export(dot_source, f),
                                f"{filename}.{fmt_name}", mime=mime, key=f"{key}_{fmt_name}",
                                on_click="ignore")
    else:
        row.caption(tr("graph.no_dot"))


def tensor_report(report) -> None:
    """What PyTorch printed for the tensor, or its own error with why and the fix."""
    if report.error:
        why_fix = {"integer_grad": ("tensors.why_integer", "tensors.fix_integer"),
                   "complex_backward": ("tensors.why_complex", "tensors.fix_complex")}
        why, fix = why_fix.get(report.error_kind, ("tensors.why_conversion",
                                                   "tensors.fix_conversion"))
        error_box(f"`RuntimeError: {report.error}`", tr(why), tr(fix))
        if not report.printed:
            return
    st.markdown(tr("tensors.printed"))
    st.code(report.printed, language=None)
    table({tr("tensors.attribute"): ["t1.dtype", "t1.requires_grad", "t1.is_leaf", "t1.grad"],
           tr("tensors.value"): [report.dtype, str(report.requires_grad), str(report.is_leaf),
                                 report.grad]})
    if report.y_printed:
        st.caption(tr("tensors.after_backward", y=report.y_printed))


def answer_feedback(checks) -> None:
    """Exercise 1: which typed partial derivatives match autograd, with hints."""
    for i, check in enumerate(checks):
        if check.correct is None and not check.hint:
            continue
        if check.correct:
            st.success(tr("exercises.answer_right", i=i, value=fmt(check.expected)),
                       icon=":material/check_circle:")
        else:
            st.error(tr("exercises.answer_wrong", i=i, typed=check.typed.strip()[:40])
                     + " " + tr(check.hint), icon=":material/cancel:")
    if checks and all(check.correct for check in checks):
        st.balloons()
