"""torchviz's ``make_dot`` on a formula's forward pass: the code a page shows, and the drawing
that code makes (a ``lab.drawing.Drawing``)."""

from __future__ import annotations

from lab import formula as formulas
from lab.drawing import Drawing, draw_torchviz
from lab.formula import forward
from lab.gradients import DTYPES, code
from lab.i18n import comment
from lab.xvalues import XSpec

# The kinds of node torchviz draws, each in its own colour (named in the catalogue text).
TORCHVIZ_LEGEND = ("graph.legend_leaf", "graph.legend_function", "graph.legend_output",
                   "graph.legend_saved")


def torchviz_code(text: str, x_spec: XSpec, reduce: str, dtype: str, show_attrs: bool,
                  show_saved: bool) -> str:
    """The run's script with ``make_dot`` called before ``backward()`` (which frees saved tensors)."""
    args = ['y', 'params={"x": x}']
    if show_attrs:
        args.append("show_attrs=True")
    if show_saved:
        args.append("show_saved=True")
    drawing = ("from torchviz import make_dot\n"
               f"dot = make_dot({', '.join(args)})\n"
               "print(dot.source)  " + comment("torchviz.code_render"))
    return code(formulas.parse(text), x_spec, reduce, dtype, before_backward=drawing)


def torchviz_drawing(text: str, x_spec: XSpec, reduce: str = "mean", dtype: str = "float32",
                     show_attrs: bool = False, show_saved: bool = False) -> Drawing:
    """What ``torchviz_code`` draws: ``make_dot(y, params={"x": x})`` on a fresh forward pass."""
    x = x_spec.tensor(DTYPES[dtype])
    return draw_torchviz(forward(formulas.parse(text), x, reduce)["y"], x, show_attrs,
                         show_saved)
