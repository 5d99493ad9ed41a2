"""The annotated graph: PyTorch's real autograd graph with values, gradients and local derivatives.

Drawn from a ``BackwardTrace`` as DOT text. Tensors show their name, shape, values and
∂y/∂tensor; function nodes their PyTorch name and the local derivative they apply.
Leaves, intermediates, the output and functions differ by shape *and* colour
(Okabe-Ito palette); fonts, borders and edges are coloured explicitly so the graph
reads on light and dark backgrounds. Node ids come from the graph's structure, never
from ``id()``, so the same computation always gives byte-identical DOT.
"""

from __future__ import annotations

from lab.backward import BackwardTrace, short
from lab.i18n import t

# Okabe-Ito colours (safe for the common kinds of colour blindness).
SKY_BLUE, YELLOW, GREEN, VERMILLION = "#56B4E9", "#F0E442", "#009E73", "#D55E00"
GREY_FILL = "#E0E0E0"       # backward functions: neutral, like torchviz's grey boxes
INK = "#000000"             # text on every filled node
LINE = "#7A7A7A"            # edges, borders, loose text: ~4.3:1 on white and on #0E1117
STYLES = {
    "leaf": {"shape": "box", "style": "filled", "peripheries": "2", "fillcolor": SKY_BLUE},
    "intermediate": {"shape": "box", "style": "filled", "fillcolor": YELLOW},
    "output": {"shape": "doubleoctagon", "style": "filled", "fillcolor": GREEN},
    "function": {"shape": "ellipse", "style": "filled", "fillcolor": GREY_FILL},
}
CURRENT = {"color": VERMILLION, "penwidth": "5"}
PENDING = {"style": "dashed", "fillcolor": "none", "fontcolor": LINE}
LEGEND = (("leaf", "annotated.legend_leaf"), ("intermediate", "annotated.legend_intermediate"),
          ("output", "annotated.legend_output"), ("function", "annotated.legend_function"))
MODES = ("forward", "backward")


def _quote(text: str) -> str:
    return '"' + text.replace("\\", "\\\\").replace('"', '\\"').replace("\n", "\\n") + '"'


def _attributes(values: dict[str, str]) -> str:
    return " ".join(f"{name}={_quote(value)}" for name, value in values.items())


def _shape(shape: tuple[int, ...]) -> str:
    return "shape (" + ", ".join(str(s) for s in shape) + ("," if len(shape) == 1 else "") + ")"


def _known_gradients(trace: BackwardTrace, mode: str, step: int | None) -> set[str] | None:
    """Tensors whose ∂y/∂tensor autograd has computed by ``step`` (None: all of them).

    A tensor's gradient is known once its ``grad_fn`` has run (it received it)."""
    if step is None:
        return None
    if mode == "forward":
        return set()
    done = {s.node for s in trace.backward_steps[:step + 1]}
    return {node.tensor for node in trace.nodes if node.kind == "function" and node.id in done}


def _tensor_label(node, known: set[str] | None, mode: str, x_so_far, lang: str) -> str:
    """Name and shape, values, and ∂y/∂tensor when known (``?`` while backward runs)."""
    lines = [f"{node.label}  ·  {_shape(node.shape)}",
             f"{node.label} = {short(node.values, node.size)}"]
    grad = f"∂y/∂{node.label}"
    if known is None or node.id in known:
        if node.grad is not None:
            lines.append(f"{grad} = {short(node.grad, node.size)}")
    elif mode == "backward":
        if node.id == "x" and x_so_far is not None:
            lines.append(t("annotated.so_far", lang, grad=grad) + " "
                         + short(x_so_far, node.size))
        else:
            lines.append(f"{grad} = ?")
    return "\n".join(lines)


def annotated_dot(trace: BackwardTrace, lang: str = "en", mode: str = "backward",
                  step: int | None = None) -> str:
    """The graph as DOT; with ``step`` (0-based), that step of ``mode`` is highlighted.

    Forward mode shows the nodes created so far (the rest dashed, still empty);
    backward mode shows each ∂y/∂tensor once autograd has computed it.
    """
    if mode not in MODES:
        raise ValueError(mode)
    steps = trace.steps(mode)
    if step is not None:
        step = max(0, min(step, len(steps) - 1))
    current: set[str] = set()
    created: set[str] | None = None
    x_so_far = None
    if step is not None and mode == "forward":
        created = {node for s in steps[:step + 1] for node in s.nodes}
        current = set(steps[step].nodes)
    elif step is not None:
        current = {steps[step].node}
        x_so_far = steps[step].x_grad
    known = _known_gradients(trace, mode, step)

    lines = ["digraph autograd {",
             "  graph [" + _attributes({"bgcolor": "transparent", "rankdir": "TB",
                                        "nodesep": "0.25", "ranksep": "0.3",
                                        "fontname": "Helvetica", "fontcolor": LINE}) + "]",
             "  node [" + _attributes({"fontname": "Helvetica", "fontsize": "11",
                                       "fontcolor": INK, "color": LINE,
                                       "penwidth": "1.5"}) + "]",
             "  edge [" + _attributes({"fontname": "Helvetica", "fontsize": "10",
                                       "color": LINE, "fontcolor": LINE,
                                       "arrowsize": "0.7"}) + "]"]
    for node in trace.nodes:
        attributes = dict(STYLES[node.kind])
        if node.kind == "function":
            label = "\n".join((node.label,) + node.locals)
        else:
            label = _tensor_label(node, known, mode, x_so_far, lang)
        if created is not None and node.id not in created:
            attributes.update(PENDING)
            label = node.label
        if node.id in current:
            attributes.update(CURRENT)
        attributes["label"] = label
        lines.append(f"  {_quote(node.id)} [{_attributes(attributes)}]")
    for source, target, slot in trace.edges:
        attributes = {"label": f" {slot}"} if slot else {}
        if target in current and (created is None or source in created):
            attributes.update({"color": VERMILLION, "penwidth": "2.5"})
        suffix = f" [{_attributes(attributes)}]" if attributes else ""
        lines.append(f"  {_quote(source)} -> {_quote(target)}{suffix}")
    lines += _legend(lang, highlight=step is not None, pending=created is not None)
    lines.append("}")
    return "\n".join(lines) + "\n"


def _legend(lang: str, highlight: bool, pending: bool) -> list[str]:
    """A legend inside the graph: one sample node per kind, with the catalogue's words."""
    lines = ["  subgraph cluster_legend {",
             "    " + "; ".join(f"{name}={_quote(value)}" for name, value in (
                 ("label", t("annotated.legend", lang)), ("color", LINE), ("fontcolor", LINE),
                 ("style", "dashed"))) + ";"]
    entries = [(f"legend_{kind}", dict(STYLES[kind]), t(key, lang)) for kind, key in LEGEND]
    if highlight:
        entries.append(("legend_current", dict(STYLES["function"], **CURRENT),
                        t("annotated.legend_current", lang)))
    if pending:
        entries.append(("legend_pending", dict(STYLES["intermediate"], **PENDING),
                        t("annotated.legend_pending", lang)))
    entries.append(("legend_arrows", {"shape": "note", "style": "filled",
                                      "fillcolor": "#FFFFFF"},
                    t("annotated.legend_arrows", lang)))
    for name, attributes, label in entries:
        attributes["label"] = label
        attributes["fontsize"] = "10"
        lines.append(f"    {_quote(name)} [{_attributes(attributes)}]")
    # stacked in a column beside the (tall) graph, so the drawing keeps its width
    lines.append("    " + " -> ".join(_quote(name) for name, _, _ in entries) + " [style=invis]")
    lines.append("  }")
    return lines
