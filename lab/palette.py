"""Colours, line widths and type sizes of the lab's drawings: plots and graphs.

Two palettes: ``SCREEN`` for a student's screen and ``LECTURE`` for a projector seen
from the back row (lecture mode): thicker lines, larger marks and type, and graphs on a
white ground in black ink. The UI layer picks one and hands it to the code that draws
(``lab.graphs``, ``lab.annotated``, the plot builders in ``lab.ui``); nothing here
knows about Streamlit.

Plot colours come from the Okabe-Ito set (told apart with the common kinds of colour
blindness) and have a relative luminance between 0.12 and 0.30, so that each keeps at
least 3:1 (WCAG 1.4.11, graphical objects) against both a white and a near-black
background: the plots are drawn on the app's theme background, light or dark.
"""

from __future__ import annotations

from dataclasses import dataclass

BLUE, VERMILLION, GREEN = "#0072B2", "#D55E00", "#009E73"
MID_GREY = "#767676"            # 4.5:1 on white, 3.9:1 on #171614


@dataclass(frozen=True)
class Palette:
    name: str
    # plots
    plot_height: int
    line_width: float
    marker_size: int
    font_size: int              # ticks, axis titles, legend
    title_size: int
    f: str                      # f(t) and the points f(x_i)
    df: str                     # f'(t) and the points f'(x_i)
    d2f: str                    # f''(t), the playground's second derivative
    tangent: str
    ticks: str | None           # None: the theme's (its text colour: lab/ui/css/base.css)
    # graphs (Graphviz)
    graph_background: str
    graph_ink: str              # text and borders
    graph_line: str             # edges
    graph_font_scale: float       # type (and so the drawing) this many times the usual
    graph_edge_width: float
    graph_node_width: float
    graph_current_width: float  # the node of the current step (inside backward())
    graph_size: str | None      # Graphviz's "size" (inches) the drawing is shrunk to fit


SCREEN = Palette(
    name="screen", plot_height=380, line_width=2.5, marker_size=10, font_size=13,
    title_size=16, f=BLUE, df=VERMILLION, d2f=GREEN, tangent=MID_GREY, ticks=None,
    graph_background="transparent", graph_ink="#000000", graph_line="#7A7A7A",
    graph_font_scale=1, graph_edge_width=1.2, graph_node_width=1.5, graph_current_width=5,
    graph_size=None)

LECTURE = Palette(
    name="lecture", plot_height=620, line_width=5, marker_size=18, font_size=24,
    title_size=30, f=BLUE, df=VERMILLION, d2f=GREEN, tangent=MID_GREY, ticks=None,
    graph_background="#FFFFFF", graph_ink="#000000", graph_line="#000000",
    graph_font_scale=2, graph_edge_width=2.5, graph_node_width=2.5, graph_current_width=8,
    graph_size="40,40")


def palette(lecture: bool) -> Palette:
    return LECTURE if lecture else SCREEN


PALETTES = (SCREEN, LECTURE)        # every drawing is made in each (lab.drawing)
