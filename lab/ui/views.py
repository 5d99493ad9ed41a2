"""Views of a ``GradientRun``: the value, the gradient table, plots and graph panels."""

from __future__ import annotations

import math
import re
import textwrap

import numpy as np
import pandas  # noqa: F401 - before plotly: see below
import pyarrow as pa
import plotly.graph_objects as go
from plotly.basedatatypes import BaseFigure
import streamlit as st

# pandas is imported above, before plotly, on purpose. plotly checks its values against
# pandas only if ``sys.modules`` holds it, and takes what it finds there even while another
# thread is still importing it: several first runs importing at once can meet "partially
# initialized module 'pandas' has no attribute 'Series'" in plotly's validation
# (docs/performance.md). Importing pandas here waits until it is whole, so no thread that
# draws a figure can see it half made.
from lab import drawing as drawings
from lab.drawing import Drawing
from lab.graphs import TORCHVIZ_LEGEND
from lab.glosses import gloss
from lab.gradients import Curve, GradientRun
from lab.i18n import Typed, t
from lab.palette import SCREEN, Palette, palette
from lab.second import agrees as second_agrees
from lab.ui.memo import shared
from lab.ui.shell import error_box, lang, lecture, tr
from lab.ui.verbatim import code_span

MAX_TABLE_ROWS = 500
MAX_TANGENTS = 60
INDEX_COLUMNS = ("i", "x_i")       # kept in view while a wide table scrolls sideways
MAX_ALT_NODES = 24
FIGURES = 32             # figures kept: ~0.6 MB each at 10,000 points, ~20 MB at most
TITLE_LINE = 40                  # characters per line of a plot's title


def shown_palette() -> Palette:
    """The palette of this page's drawings: lecture mode's for projection."""
    return palette(lecture())


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


def table(columns: dict[str, list], pinned: tuple[str, ...] = INDEX_COLUMNS) -> None:
    """A table of ready-made cells (strings, ints), one list per column.

    Handed to Streamlit as an Arrow table, which it sends as it is: a pandas DataFrame
    would be built and converted on every rerun (README, "Performance"). The ``pinned``
    columns stay in view when the table scrolls sideways (a phone). In lecture mode the
    table is HTML (``st.table``), whose type grows with the page: Streamlit's data grid
    draws on a canvas at a fixed 13 px that no style reaches.
    """
    data = pa.table(columns)
    if lecture():
        st.table(data, hide_index=True)
        return
    config = {name: st.column_config.Column(pinned=True) for name in pinned if name in columns}
    st.dataframe(data, hide_index=True, width="stretch", column_config=config or None)


def value_metric(result: GradientRun) -> None:
    st.metric("y", fmt(result.y))
    st.caption(tr("grad.printed", y=code_span(result.y_repr, limit=None)))


def formulas(result: GradientRun, y: bool = True) -> None:
    """y (unless already shown) and ∂y/∂xᵢ as the lab computed them (printed from sympy,
    lab.derivation)."""
    if result.shown is None:
        return
    for formula in ((result.shown.y,) if y else ()) + (result.shown.derivative,):
        if formula:
            st.latex(formula)
    if result.shown.links:
        st.caption(tr("grad.indices", n=result.n, last=result.n - 1))


def chain_links(result: GradientRun) -> None:
    """The chain rule link by link: each step and its local derivatives."""
    if result.shown is None or not result.shown.links:
        return
    st.caption(tr("grad.links_intro") + " " + tr("grad.notation"))
    for link in result.shown.links:
        st.latex(r" \qquad ".join((link.statement,) + link.locals))
    st.latex(result.shown.derivative)


def notes(result: GradientRun) -> None:
    for note in result.notes:
        st.warning(tr(note.key, **note.values), icon=":material/warning:")


def gradient_table(result: GradientRun, reference: tuple[str, list[float]] | None = None,
                   checks: bool = True) -> dict[str, list]:
    """One row per xᵢ: autograd's x.grad beside each reference, marked ✓ where they agree.

    ``reference`` (a label and values) adds that column and its difference from autograd;
    ``checks`` adds sympy's and the finite differences'. Only the rows shown are
    formatted (x can have 10,000 elements); returns them.
    """
    shown = min(result.n, MAX_TABLE_ROWS)
    rows = {"i": list(range(shown)), "x_i": [fmt(v) for v in result.x[:shown]],
            tr("grad.col_autograd"): [fmt(v) for v in result.grad[:shown]]}

    def marked(values: list[float]) -> list[str]:
        return [f"{fmt(v)} {mark(ok)}" for v, ok in zip(values[:shown],
                                                        result.agrees(values)[:shown])]

    if reference is not None:
        label, values = reference
        rows[label] = marked(values)
        rows[tr("grad.col_difference")] = _differences(result.grad, values, shown)
    if checks and result.symbolic is not None:
        rows[tr("grad.col_symbolic")] = marked(result.symbolic)
    if checks and result.numeric is not None:
        rows[tr("grad.col_numeric")] = marked(result.numeric)
    table(rows)
    if reference is not None and result.dtype == "float32":
        st.caption(tr("grad.float32_difference"))
    if result.n > MAX_TABLE_ROWS:
        st.caption(tr("grad.rows_cut", shown=MAX_TABLE_ROWS, total=result.n))
    rtol, atol = result.tolerance
    st.caption(tr("grad.tolerance" if checks else "grad.tolerance_plain", rtol=f"{rtol:g}",
                  atol=f"{atol:g}", dtype=result.dtype))
    return rows


def _differences(a: list[float], b: list[float], shown: int) -> list[str]:
    return [fmt(abs(u - v)) if math.isfinite(u) and math.isfinite(v) else "—"
            for u, v in zip(a[:shown], b[:shown])]


def second_derivative(result: GradientRun) -> None:
    """f″ at the points of x: autograd (differentiating f′ again) beside sympy's."""
    found = result.second
    if found is None:
        st.caption(tr("playground.second_not_elementwise"))
        return
    if found.latex:
        st.latex(found.latex)
    shown = min(result.n, MAX_TABLE_ROWS)
    rtol, atol = result.tolerance
    rows = {"i": list(range(shown)), "x_i": [fmt(v) for v in result.x[:shown]],
            tr("playground.col_second_autograd"): [fmt(v) for v in found.autograd[:shown]]}
    if found.symbolic is not None:
        marks = second_agrees(found, rtol, atol)
        rows[tr("playground.col_second_symbolic")] = [
            f"{fmt(v)} {mark(ok)}" for v, ok in zip(found.symbolic[:shown], marks[:shown])]
    table(rows)
    st.caption(tr("playground.second_how"))


def precision_table(result: GradientRun) -> None:
    """float32 against float64: the same autograd at the same points, and the gap."""
    shown = min(result.n, MAX_TABLE_ROWS)
    table({"i": list(range(shown)), "x_i": [fmt(v) for v in result.x[:shown]],
           tr("grad.col_autograd"): [fmt(v) for v in result.grad[:shown]],
           tr("playground.col_float64"): [fmt(v) for v in result.grad64[:shown]],
           tr("grad.col_difference"): _differences(result.grad, result.grad64, shown)})
    st.caption(tr("grad.float32_difference"))


def curve_chart(result: GradientRun, tangents: bool = False) -> None:
    """f(t) and f'(t) from autograd on a grid, with the current x_i marked (``result.curve``)."""
    if result.curve is None:
        st.info(tr("plot.not_elementwise"))
        return
    spec = curve_figure(result.text, result.x_spec, result.dtype, lang(), tangents,
                        shown_palette(), _curve=result.curve)
    figure_chart(spec, curve_alt(result.curve, tangents))
    st.caption(tr(f"plot.scale_note_{result.reduce}"))


def _span(values) -> str:
    """How a curve's finite values range, in words ("goes from 1 to 7", "is 2 everywhere")."""
    finite = [v for v in values if v is not None and math.isfinite(v)]
    if not finite:
        return t("plot.alt_constant", lang(), value="—")
    low, high = fmt(min(finite)), fmt(max(finite))
    if low == high:
        return t("plot.alt_constant", lang(), value=low)
    return t("plot.alt_span", lang(), low=low, high=high)


def curve_alt(curve: Curve, tangents: bool = False) -> str:
    """The curve plot in words, for screen readers (its text alternative): what is drawn,
    over which t, and the range of each curve."""
    finite = [v for v in curve.t if math.isfinite(v)] or [math.nan]
    parts = [t("plot.alt", lang(), low=fmt(min(finite)), high=fmt(max(finite)),
               n=len(curve.x), f=_span(curve.f), df=_span(curve.df))]
    if curve.d2f is not None:
        parts.append(t("plot.alt_second", lang(), d2f=_span(curve.d2f)))
    if tangents:
        parts.append(t("plot.alt_tangents", lang()))
    return " ".join(parts)


@shared(max_entries=FIGURES)
def curve_figure(text: str, x_spec, dtype: str, language: str, tangents: bool,
                 colours: Palette, _curve: Curve) -> dict:
    """The chart's figure as plotly's own dict, built once per input, language and palette.

    ``_curve`` (the run's plot points, not hashed: up to 10,000 values) follows from the
    other arguments. Shared by every session and never changed after it is built.
    """
    data, width, size = _curve, colours.line_width, colours.marker_size
    traces = [_scatter(data.t, data.f, name=t("plot.f", language), mode="lines",
                       line={"color": colours.f, "width": width}),
              _scatter(data.t, data.df, name=t("plot.df", language), mode="lines",
                       line={"color": colours.df, "width": width, "dash": "dash"}),
              _scatter(data.x, data.fx, mode="markers", name=t("plot.points_f", language),
                       marker={"size": size, "color": colours.f}),
              _scatter(data.x, data.dfx, mode="markers", name=t("plot.points_df", language),
                       marker={"size": size, "symbol": "diamond", "color": colours.df})]
    if data.d2f is not None:
        traces.append(_scatter(data.t, data.d2f, name=t("plot.d2f", language), mode="lines",
                               line={"color": colours.d2f, "width": width, "dash": "dot"}))
    if tangents:
        # One trace for every tangent (segments split by None), at most MAX_TANGENTS of them
        # spread over the points: x can have 10,000 elements.
        span = (data.t[-1] - data.t[0]) * 0.08
        points = list(zip(data.x, data.fx, data.dfx))
        every = max(1, math.ceil(len(points) / MAX_TANGENTS))
        xs, ys = [], []
        for x, f, d in points[::every]:
            if all(math.isfinite(v) for v in (x, f, d)):
                xs += [x - span, x + span, None]
                ys += [f - d * span, f + d * span, None]
        traces.append({"type": "scatter", "x": xs, "y": ys, "mode": "lines",
                       "line": {"width": width / 2, "color": colours.tangent},
                       "name": t("plot.tangents", language), "hoverinfo": "skip"})
    title = t("plot.title_second" if data.d2f is not None else "plot.title", language)
    # Plain dicts and no per-property validation: the same figure JSON for a fifth of the
    # CPU, and the arrays go out as typed arrays (docs/performance.md).
    return go.Figure({"data": traces, "layout": _layout(title, colours)},
                     _validate=False).to_dict()


def _layout(title: str, colours: Palette) -> dict:
    """The curve's layout in the palette (``palette_layout``). A plot's title does not wrap:
    a long one is broken into lines of TITLE_LINE characters (on a phone it ran off the
    plot), with room above the plot for every line."""
    lines = textwrap.wrap(title, TITLE_LINE) or [title]
    top = 20 + round(1.4 * colours.title_size * len(lines))
    return palette_layout({"title": {"text": "<br>".join(lines)},
                           "xaxis": {"title": {"text": "x"}}, "yaxis": {},
                           "height": SCREEN.plot_height,
                           "margin": {"l": 10, "r": 40, "b": 10, "t": top},
                           "legend": {"orientation": "h", "y": -0.2}}, colours)


def palette_layout(layout: dict, colours: Palette) -> dict:
    """``layout`` in the palette's type and height (lecture mode: large ticks, legend and
    title, a taller plot), with plotly's tool bar at the right edge (on a phone it covered
    the title). Heights scale from the screen palette's."""
    font = {"size": colours.font_size}
    if colours.ticks:
        font["color"] = colours.ticks
    scaled = dict(layout, font={"size": colours.font_size}, modebar={"orientation": "v"})
    for name in [key for key in layout if key.startswith(("xaxis", "yaxis"))]:
        axis = dict(layout[name], tickfont=font)
        if "title" in axis:
            axis["title"] = dict(axis["title"], font=font)
        scaled[name] = axis
    if "title" in layout:
        scaled["title"] = dict(layout["title"], font={"size": colours.title_size})
    if "legend" in layout:
        scaled["legend"] = dict(layout["legend"], font=font)
    if "height" in layout:
        scaled["height"] = round(layout["height"] * colours.plot_height / SCREEN.plot_height)
    margin = dict(layout.get("margin", {}))
    margin["t"] = max(margin.get("t", 0), 20 + round(1.4 * colours.title_size))
    scaled["margin"] = margin
    return scaled


def figure_chart(spec: dict, alt: str) -> None:
    """A plotly figure given as plotly's own dict (built once, cached), drawn as it is, with
    its text alternative ``alt`` (the chart's accessible name: a screen reader says it)."""
    st.plotly_chart(_Built(spec), width="stretch", alt=alt)


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

    def __init__(self, spec: dict):       # BaseFigure.__init__ skipped on purpose
        self._spec = spec

    def to_dict(self) -> dict:
        return self._spec


def _scatter(x, y, **properties) -> dict:
    """A scatter trace whose points are float arrays (sent as base64 typed arrays)."""
    return {"type": "scatter", "x": np.asarray(x, dtype=float),
            "y": np.asarray(y, dtype=float), **properties}


def graph_alt(drawing: Drawing, current: str = "") -> str:
    """The graph's text alternative: how many nodes and arrows, the nodes from the inputs
    on, and (inside backward()) the current step; the DOT itself is one of the downloads."""
    words = drawing.words
    names = list(words[:MAX_ALT_NODES]) + (["…"] if len(words) > MAX_ALT_NODES else [])
    text = t("graph.alt", lang(), nodes=len(words), edges=drawing.arrows,
             names="; ".join(names))
    return f"{text} {current}".strip()


# A label that starts with a line break: torchviz writes one for every tensor it has no
# name for ("\n (3)": the output, the saved tensors). See ``drawable``.
_EMPTY_FIRST_LINE = re.compile(r'(\blabel\s*=\s*")(\n|\\[nlr])')


def drawable(dot_source: str) -> str:
    """``dot_source`` as the browser can lay it out: a label's empty first line holds a space.

    Streamlit 1.67 lays graphs out with Graphviz compiled to WebAssembly (@hpcc-js/wasm,
    driven by d3-graphviz). A label whose first line is empty makes a later layout in the
    same page fail ("table index is out of bounds": 9 of 400 layouts of the lab's own
    graphs failed, every one of them such a graph; 0 of 400 with the space). d3-graphviz
    then keeps the drawing it had and stays busy until a layout succeeds, so the page
    showed the previous graph under the new text alternative. The space changes nothing
    that is drawn: the line stays blank.
    """
    return _EMPTY_FIRST_LINE.sub(r"\1 \2", dot_source)


def graph_panel(drawing: Drawing, filename: str, legend: tuple = TORCHVIZ_LEGEND,
                key: str = "graph", current: str = "") -> None:
    """The graph laid out in the browser at its own size (never wider than the page), in
    this page's palette, with a text alternative (``current``: the step shown), its legend,
    and downloads of what is shown (SVG/PNG need ``dot``)."""
    dot_source = drawing.dot(shown_palette())
    st.graphviz_chart(drawable(dot_source), width="content", alt=graph_alt(drawing, current))
    if legend:      # a graph that draws its own legend passes ()
        st.caption(" · ".join(tr(label) for label in legend))
        st.caption(tr("graph.reading"))
    row = st.container(horizontal=True)     # one block, not four (docs/performance.md)
    row.download_button(tr("graph.download_dot"), dot_source, f"{filename}.dot",
                        mime="text/vnd.graphviz", key=f"{key}_dot", on_click="ignore")
    if drawings.dot_available():
        for fmt_name, mime in (("svg", "image/svg+xml"), ("png", "image/png")):
            row.download_button(tr(f"graph.download_{fmt_name}"),
                                lambda f=fmt_name: drawings.export(dot_source, f),
                                f"{filename}.{fmt_name}", mime=mime, key=f"{key}_{fmt_name}",
                                on_click="ignore")
    else:
        row.caption(tr("graph.no_dot"))


def pytorch_said(kind: str, message: str) -> str:
    """PyTorch's message as PyTorch wrote it (``kind: message``, a code span, verbatim) and,
    on a page in another language, its translation beneath (``lab.glosses``).

    Every view that quotes PyTorch's words goes through here.
    """
    said = code_span(f"{kind}: {message}", limit=None)
    translated = gloss(message, lang())
    return said if translated is None else f"{said}\n\n{tr('app.gloss', text=translated)}"


def tensor_report(report) -> None:
    """What PyTorch printed for the tensor, or its own error with why and the fix."""
    if report.error:
        why_fix = {"integer_grad": ("tensors.why_integer", "tensors.fix_integer"),
                   "no_graph": ("tensors.why_no_graph", "tensors.fix_no_graph"),
                   "complex_backward": ("tensors.why_complex", "tensors.fix_complex")}
        why, fix = why_fix.get(report.error_kind, ("tensors.why_conversion",
                                                   "tensors.fix_conversion"))
        error_box(pytorch_said(report.error_type, report.error), tr(why), tr(fix))
        if not report.printed:
            return
    st.markdown(tr("tensors.printed"))
    st.code(report.printed, language=None, wrap_lines=True)
    table({tr("tensors.attribute"): ["t1.dtype", "t1.requires_grad", "t1.is_leaf", "t1.grad"],
           tr("tensors.value"): [report.dtype, str(report.requires_grad), str(report.is_leaf),
                                 report.grad]})
    if report.y_printed:
        st.caption(tr("tensors.after_backward", y=code_span(report.y_printed, limit=None)))


def verdict(correct: bool | None, right: str, wrong: str, none: str) -> None:
    """A prediction judged: ``right``, ``wrong`` or (no prediction made) ``none``, texts
    ready to show."""
    if correct is None:
        st.info(none, icon=":material/help:")
    elif correct:
        st.success(right, icon=":material/check_circle:")
    else:
        st.warning(wrong, icon=":material/cancel:")


def comparison(title: str, grade) -> None:
    """A student's run beside the lab's (lab.cell.grading's numbers): x, y and x.grad."""
    def cells(values) -> list[str]:
        return ["—" if values is None else ", ".join(fmt(v) for v in values[:6])]

    st.markdown(f"**{title}**")
    table({"": ["x", "y", "x.grad"],
           tr("exercises.col_yours"): [cells(v)[0] for v in (grade.student.x, grade.student.y,
                                                              grade.student.grad)],
           tr("exercises.col_lab"): [cells(v)[0] for v in (grade.reference.x, grade.reference.y,
                                                            grade.reference.grad)]},
          pinned=("",))


def guess_feedback(check) -> None:
    """Exercise 3: whether the y the student worked out is PyTorch's."""
    if not check.readable:
        st.warning(tr("exercises.ex3_guess_unreadable", typed=Typed(check.typed.strip())))
    if check.correct is None:
        return
    key = "exercises.ex3_guess_right" if check.correct else "exercises.ex3_guess_wrong"
    (st.success if check.correct else st.warning)(
        tr(key, typed=Typed(check.typed.strip()), y=fmt(check.expected)))


def answer_feedback(checks, judged: bool = True) -> None:
    """Exercise 1: which typed partial derivatives match autograd, with hints. Not
    ``judged`` (a class waits for the reveal): only what is not a number is said."""
    for i, check in enumerate(checks):
        if check.correct is None and not check.hint or check.correct is not None and not judged:
            continue
        if check.correct:
            st.success(tr("backward.answer_right", i=i, value=fmt(check.expected)),
                       icon=":material/check_circle:")
        else:
            # The typed answer is shown as typed (a code span), never as markdown.
            wrong = tr("backward.answer_wrong", i=i, typed=Typed(check.typed.strip()))
            st.error(f"{wrong} {tr(check.hint)}", icon=":material/cancel:")
    if judged and checks and all(check.correct for check in checks):
        st.balloons()
