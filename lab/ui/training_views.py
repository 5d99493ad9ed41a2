"""The learning page's widgets and views: the training loop's inputs, the prediction, and the run.

Every number comes from one ``TrainingRun`` (lab.training); the figures are plotly dicts
built once per run and language (``lab.ui.memo.shared``), the current step added on top.
"""

from __future__ import annotations

import math

import numpy as np
import streamlit as st

from lab.i18n import t
from lab.training import (BEHAVIOURS, DATASETS, INITIAL_RANGE, LEARNING_RATES, MAX_STEPS,
                          TOO_LARGE, UPDATES, Loop, TrainingRun)
from lab.ui.inputs import stepper
from lab.ui.links import linked
from lab.ui.memo import shared
from lab.palette import SCREEN, Palette
from lab.ui.shell import error_box, help_button, lang, tr
from lab.ui.views import (figure_chart, figure_spec, fmt, palette_layout, pytorch_said,
                          shown_palette, table)

TABLE_STEPS = 20           # rows of the table of the first steps
PATH_COLOUR = "#ff4b4b"
LINE_HEIGHT = 360
MARGIN = {"l": 10, "r": 10, "t": 40, "b": 10}
# Below the plot, far enough (in plot heights) to clear the x axis's title in narrow columns.
LEGEND = {"orientation": "h", "yanchor": "top", "y": -0.33}


def _forget_prediction() -> None:
    """A new learning rate, data set or loop asks for a new prediction: hide the run."""
    st.session_state["reveal"] = False
    st.session_state["guess"] = None


def _rate(value: float) -> str:
    return f"{value:g}"


def _mistake_switches(sgd: bool) -> tuple[bool, bool, bool]:
    """The loop's classic mistakes: (forget zero_grad, update outside no_grad, lr too large)."""
    with st.container(border=True):
        st.markdown(f"**{tr('learning.mistakes')}**")
        with st.container(horizontal=True, gap="medium"):
            forget = linked(st.toggle, "nozero", label=tr("learning.forget_zero_grad"),
                            width="content", on_change=_forget_prediction)
            outside = linked(st.toggle, "nograd", label=tr("learning.outside_no_grad"),
                             disabled=sgd, width="content")
            too_large = linked(st.toggle, "biglr",
                               label=tr("learning.too_large", lr=_rate(TOO_LARGE)),
                               width="content", on_change=_forget_prediction)
            help_button((tr("learning.forget_zero_grad"), tr("learning.forget_zero_grad_help")),
                        (tr("learning.outside_no_grad"),
                         tr("learning.outside_no_grad_sgd" if sgd else
                            "learning.outside_no_grad_help")),
                        (tr("learning.too_large", lr=_rate(TOO_LARGE)),
                         tr("learning.too_large_help", lr=_rate(TOO_LARGE))))
    return forget, outside, too_large


def loop_inputs() -> Loop:
    """The loop to run: data, update, learning rate, steps, start, and the three mistakes."""
    with st.container(horizontal=True, gap="medium"):
        labels = {key: data.label for key, data in DATASETS.items()}
        data = linked(st.radio, "data", label=tr("learning.data"), options=tuple(DATASETS),
                      format_func=labels.get, horizontal=True, on_change=_forget_prediction,
                      width="content")
        update = linked(st.radio, "update", label=tr("learning.update"), options=UPDATES,
                        horizontal=True, width="content")
    sgd = update == UPDATES[1]
    sliders = st.container(horizontal=True, gap="medium")       # filled below the switches
    forget, outside, too_large = _mistake_switches(sgd)
    with sliders:
        rate = linked(st.select_slider, "lr", label=tr("learning.lr"), options=LEARNING_RATES,
                      format_func=_rate, disabled=too_large, on_change=_forget_prediction)
        steps = linked(st.slider, "steps", label=tr("learning.steps"), min_value=1,
                       max_value=MAX_STEPS)
        w0 = linked(st.slider, "w0", label=tr("learning.w0"), min_value=-INITIAL_RANGE,
                    max_value=INITIAL_RANGE, step=0.5)
        b0 = linked(st.slider, "b0", label=tr("learning.b0"), min_value=-INITIAL_RANGE,
                    max_value=INITIAL_RANGE, step=0.5)
        help_button((tr("learning.data"), tr("learning.data_help")),
                    (tr("learning.update"), tr("learning.update_help")),
                    (tr("learning.lr"), tr("learning.lr_help")),
                    (tr("learning.steps"), tr("learning.steps_help", limit=MAX_STEPS)),
                    (f'{tr("learning.w0")}, {tr("learning.b0")}', tr("learning.start_help")))
    return Loop(data, TOO_LARGE if too_large else rate, steps, w0, b0, sgd,
                zero_grad=not forget, no_grad=sgd or not outside)


def prediction() -> tuple[str | None, bool]:
    """Ask first: the student's prediction, and whether the run is revealed."""
    labels = {behaviour: tr(f"learning.{behaviour}") for behaviour in BEHAVIOURS}
    guess = linked(st.radio, "guess", label=f"**{tr('learning.predict')}**",
                   options=BEHAVIOURS, horizontal=True, width="content", format_func=labels.get)
    reveal = linked(st.toggle, "reveal", label=tr("learning.reveal"))
    st.caption(tr("learning.reveal_help"))
    return guess, reveal


# ---- what the run did ---------------------------------------------------------------------

def verdict(run: TrainingRun, guess: str | None) -> None:
    """Right or not, and why: lr·λ against the thresholds, with what the run showed."""
    truth = run.behaviour
    accumulate = "" if run.loop.zero_grad else "_accumulate"
    low, high = run.curvature
    why = tr(f"learning.why_{truth}{accumulate}", rate=fmt(run.rate), lam=fmt(high),
             factor=fmt(abs(1 - run.rate)))
    said = tr(f"learning.{truth}")
    judged = run.judge(guess) if guess is not None else None
    if judged is None:
        st.info(f"{tr('learning.no_guess', truth=said)}\n\n{why}", icon=":material/help:")
    elif judged == "right":
        st.success(f"{tr('learning.right', truth=said)}\n\n{why}",
                   icon=":material/check_circle:")
    elif judged == "almost":         # it converges, as predicted: never marked wrong
        st.info(f"{tr('learning.almost', truth=said)}\n\n{why}",
                icon=":material/check_circle:")
    else:
        st.warning(f"{tr('learning.wrong', guess=tr(f'learning.{guess}'), truth=said)}"
                   f"\n\n{why}", icon=":material/cancel:")
    st.caption(tr("learning.curvature", lam=fmt(high), low=fmt(low), limit=fmt(2 / high)))


def problems(run: TrainingRun) -> None:
    """PyTorch's error (the update outside no_grad), or where the loss stopped being finite."""
    if run.error:
        error_box(f"{tr('mistakes.raised')}\n\n{pytorch_said(run.error_type, run.error)}",
                  tr("learning.no_grad_why"), tr("learning.no_grad_fix"))
    elif run.stopped is not None:
        error_box(tr("learning.stopped", step=run.stopped, value=str(run.loss[run.stopped])),
                  tr("learning.stopped_why", rate=fmt(run.rate)),
                  tr("learning.stopped_fix", limit=fmt(2 / run.curvature[1])))


def metrics(run: TrainingRun) -> None:
    row = st.container(horizontal=True)
    row.metric(tr("learning.loss_at", step=0), fmt(run.loss[0]))
    row.metric(tr("learning.loss_at", step=run.last), fmt(run.loss[-1]))
    row.metric(tr("learning.w_at", step=run.last), fmt(run.w[-1]))
    row.metric(tr("learning.b_at", step=run.last), fmt(run.b[-1]))


def step_controls(run: TrainingRun) -> int:
    step = stepper(0, run.last, "step", tr("learning.step"),
                   ("step_prev", tr("inside_backward.previous")), ("step_next", tr("inside_backward.next")),
                   start=run.last)
    st.caption(tr("learning.step_help"))
    return step


def steps_table(run: TrainingRun, step: int) -> None:
    """The first steps: w, b, the loss and the gradients backward() left in .grad."""
    shown = min(run.last + 1, TABLE_STEPS)
    def grads(values) -> list[str]:
        return [fmt(values[k]) if k < len(values) else "—" for k in range(shown)]
    rows = {tr("learning.col_step"): [f"{'▶ ' if k == step else ''}{k}" for k in range(shown)],
            "w": [fmt(v) for v in run.w[:shown]], "b": [fmt(v) for v in run.b[:shown]],
            tr("learning.col_loss"): [fmt(v) for v in run.loss[:shown]],
            "w.grad (∂L/∂w)": grads(run.grad_w), "b.grad (∂L/∂b)": grads(run.grad_b)}
    if run.own_grad_w is not None:
        rows[tr("learning.col_own", name="w")] = grads(run.own_grad_w)
        rows[tr("learning.col_own", name="b")] = grads(run.own_grad_b)
    table(rows, pinned=(tr("learning.col_step"),))
    if run.own_grad_w is not None:
        st.caption(tr("learning.accumulated_note"))
    if run.last + 1 > shown:
        st.caption(tr("learning.rows_cut", shown=shown, total=run.last + 1))


# ---- figures ------------------------------------------------------------------------------

def _floats(values) -> np.ndarray:
    """Float array for plotly; inf and nan become gaps."""
    array = np.asarray(values, dtype=float)
    array[~np.isfinite(array)] = np.nan
    return array


def _with_marker(base: dict, x: float, y: float, name: str) -> dict:
    """The cached figure plus a ring at the current step (a new dict; the cache stays)."""
    k = _scale(shown_palette())
    ring = {"type": "scatter", "x": [x], "y": [y], "mode": "markers", "name": name,
            "marker": {"size": 16 * k, "symbol": "circle-open", "line": {"width": 3 * k},
                       "color": PATH_COLOUR}}
    return {"data": base["data"] + [ring], "layout": base["layout"]}


def _scale(colours: Palette) -> float:
    """How much thicker lines and larger marks are drawn in this palette (lecture: 2)."""
    return colours.line_width / SCREEN.line_width


@shared(max_entries=256)
def loss_figure(loop: Loop, language: str, colours: Palette, _run: TrainingRun) -> dict:
    """The loss at every step on a log axis, and the least-squares loss it can reach."""
    steps = np.arange(_run.last + 1, dtype=float)
    k = _scale(colours)
    traces = [{"type": "scatter", "x": steps, "y": _floats(_run.loss), "mode": "lines+markers",
               "name": t("learning.plot_loss", language), "marker": {"size": 4 * k},
               "line": {"color": colours.f, "width": 2 * k}},
              {"type": "scatter", "x": np.array([0.0, float(_run.last)]),
               "y": np.array([_run.best[2]] * 2), "mode": "lines",
               "name": t("learning.plot_best_loss", language),
               "line": {"dash": "dot", "color": colours.tangent, "width": 2 * k}}]
    layout = {"title": {"text": t("learning.loss_title", language)},
              "xaxis": {"title": {"text": t("learning.col_step", language)}},
              # projected, a label per decade: with 2 and 5 between them, 24 px labels
              # overlapped (13 pairs)
              "yaxis": {"type": "log", "tickformat": ".2~g",
                        **({"dtick": 1} if colours.name == "lecture" else {}),
                        "title": {"text": t("learning.col_loss", language)}},
              "height": LINE_HEIGHT, "margin": MARGIN, "legend": LEGEND}
    return figure_spec(traces, palette_layout(layout, colours))


@shared(max_entries=256)
def surface_figure(loop: Loop, language: str, revealed: bool, colours: Palette,
                   _run: TrainingRun) -> dict:
    """The loss surface (log10, computed with torch on a grid), the minimum, the start and,
    once revealed, the path of (w, b)."""
    surface = _run.surface
    # float32 is plenty for colours and contour lines, and halves what every rerun sends
    traces = [{"type": "contour", "x": np.asarray(surface.w), "y": np.asarray(surface.b),
               "z": np.asarray(surface.log_loss, dtype=np.float32), "colorscale": "Viridis",
               "ncontours": 24,
               "colorbar": {"title": {"text": "log₁₀ L"}, "thickness": 12},
               "name": t("learning.plot_surface", language),
               "hovertemplate": "w=%{x:.3g}<br>b=%{y:.3g}<br>log₁₀ L=%{z:.3g}<extra></extra>"},
              {"type": "scatter", "x": [_run.best[0]], "y": [_run.best[1]], "mode": "markers",
               "name": t("learning.plot_minimum", language),
               "marker": {"symbol": "star", "size": 16, "color": "white",
                          "line": {"width": 1, "color": "black"}}},
              {"type": "scatter", "x": [_run.loop.w0], "y": [_run.loop.b0], "mode": "markers",
               "name": t("learning.plot_start", language),
               "marker": {"symbol": "square", "size": 11, "color": PATH_COLOUR}}]
    k = _scale(colours)
    if revealed:
        traces.append({"type": "scatter", "x": _floats(_run.w), "y": _floats(_run.b),
                       "mode": "lines+markers", "name": t("learning.plot_path", language),
                       "line": {"color": PATH_COLOUR, "width": 2 * k},
                       "marker": {"size": 5 * k, "color": PATH_COLOUR}})
    layout = {"title": {"text": t("learning.surface_title", language)},
              "xaxis": {"title": {"text": "w"}, "range": [surface.w[0], surface.w[-1]]},
              "yaxis": {"title": {"text": "b"}, "range": [surface.b[0], surface.b[-1]]},
              "height": LINE_HEIGHT + 40, "margin": MARGIN,
              "legend": LEGEND}
    return figure_spec(traces, palette_layout(layout, colours))


def _line(w: float, b: float) -> str:
    """The line as a formula, e.g. ŷ = 1.61·x − 0.582."""
    sign = "−" if b < 0 else "+"
    return f"ŷ = {fmt(w)}·x {sign} {fmt(abs(b))}"


@shared(max_entries=1024)
def line_figure(loop: Loop, step: int, language: str, colours: Palette,
                _run: TrainingRun) -> dict:
    """The data, the line w·x + b at ``step`` and the least-squares line (a few kB each)."""
    run = _run
    data = DATASETS[run.loop.data]
    ends = np.array([data.low, data.high])
    w, b = run.w[step], run.b[step]
    low, high = min(run.y), max(run.y)
    pad = 0.3 * (high - low)
    fitted = ends * w + b if math.isfinite(w) and math.isfinite(b) else np.full(2, np.nan)
    k = _scale(colours)
    traces = [{"type": "scatter", "x": np.asarray(run.x), "y": np.asarray(run.y),
               "mode": "markers", "name": t("learning.plot_data", language),
               "marker": {"size": 9 * k, "color": colours.f}},
              {"type": "scatter", "x": ends, "y": ends * run.best[0] + run.best[1],
               "mode": "lines", "name": t("learning.plot_best_line", language),
               "line": {"dash": "dot", "color": colours.tangent, "width": 2 * k}},
              {"type": "scatter", "x": ends, "y": fitted, "mode": "lines",
               "name": _line(w, b),
               "line": {"color": PATH_COLOUR, "width": 3 * k}}]
    layout = {"title": {"text": t("learning.line_title", language, step=step)},
              "xaxis": {"title": {"text": "x"}},
              "yaxis": {"title": {"text": "y"}, "range": [low - pad, high + pad]},
              "height": LINE_HEIGHT, "margin": MARGIN, "legend": LEGEND}
    return figure_spec(traces, palette_layout(layout, colours))


# ---- the page's two states ----------------------------------------------------------------

# ---- the plots in words (their text alternatives) ----------------------------------------

def loss_alt(run: TrainingRun, step: int) -> str:
    return tr("learning.loss_alt", first=fmt(run.loss[0]), final=fmt(run.loss[-1]),
              last=run.last, best=fmt(run.best[2]), step=step, value=fmt(run.loss[step]))


def surface_alt(run: TrainingRun, step: int | None) -> str:
    """The surface, its minimum and start, and (``step`` given: revealed) the path."""
    surface = run.surface
    text = tr("learning.surface_alt", w_low=fmt(surface.w[0]), w_high=fmt(surface.w[-1]),
              b_low=fmt(surface.b[0]), b_high=fmt(surface.b[-1]), w_best=fmt(run.best[0]),
              b_best=fmt(run.best[1]), w0=fmt(run.loop.w0), b0=fmt(run.loop.b0))
    if step is None:
        return text
    return text + " " + tr("learning.surface_alt_path", last=run.last, w_final=fmt(run.w[-1]),
                           b_final=fmt(run.b[-1]), step=step)


def line_alt(run: TrainingRun, step: int) -> str:
    return tr("learning.line_alt", n=len(run.x), best=_line(run.best[0], run.best[1]),
              step=step, line=_line(run.w[step], run.b[step]))


def before_reveal(run: TrainingRun) -> None:
    """The question only: the data with the starting line, and the surface with the start."""
    st.info(tr("learning.hidden"), icon=":material/visibility_off:")
    left, right = st.columns(2)
    with left:
        figure_chart(line_figure(run.loop, 0, lang(), shown_palette(), _run=run), line_alt(run, 0))
    with right:
        figure_chart(surface_figure(run.loop, lang(), False, shown_palette(), _run=run),
                     surface_alt(run, None))


def after_reveal(run: TrainingRun, guess: str | None) -> None:
    """The verdict, then the loss, the path, the line at a chosen step and the first steps."""
    if not run.error:
        verdict(run, guess)
    problems(run)
    if run.error:               # what ran before the error: step 0's forward and backward
        st.markdown(f"**{tr('learning.before_error')}**")
        steps_table(run, 0)
        return
    metrics(run)
    step = step_controls(run)
    left, right = st.columns(2)
    with left:
        figure_chart(_with_marker(loss_figure(run.loop, lang(), shown_palette(), _run=run), step,
                                  _floats([run.loss[step]])[0], tr("learning.plot_step")),
                     loss_alt(run, step))
    with right:
        figure_chart(_with_marker(surface_figure(run.loop, lang(), True, shown_palette(), _run=run),
                                  run.w[step], run.b[step], tr("learning.plot_step")),
                     surface_alt(run, step))
    left, right = st.columns([2, 3])
    with left:
        figure_chart(line_figure(run.loop, step, lang(), shown_palette(), _run=run),
                     line_alt(run, step))
    with right:
        st.markdown(f"**{tr('learning.table_title')}**")
        steps_table(run, step)
