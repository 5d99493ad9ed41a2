"""Inside backward(): the record of a real run, each node's maths from the registry, the
steps, the annotated DOT, all against real autograd."""

import contextlib
import io
import math
import re

import pytest
import sympy
import torch
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from lab import backward, chain, drawing, node_maths, recording
from lab import formula as formulas
from lab.annotated import KEEP, annotated_dot
from lab.formula import FormulaError
from lab.formula import forward
from lab.xvalues import InputError, XSpec
from lab.ops import FUNCTIONS, OPERATIONS
from tests.chain_rule_rows import check_page_latex


def seed_trace(**changes):
    values = {"n": 3, "a": 1.0, "p": 2.0, "c": 2.0, **changes}
    return backward.trace(*chain.chain_input(**values), "mean", "float32")


def exercise_3_trace():
    return backward.trace(*chain.exercise_3_input(1, 5), "mean", "float32")


def close(a, b, rel=1e-5, abs_=1e-6):
    return all(math.isclose(u, v, rel_tol=rel, abs_tol=abs_) or (math.isnan(u) and math.isnan(v))
               or (math.isinf(u) and u == v) for u, v in zip(a, b)) and len(a) == len(b)


def node_cells(dot: str, node_id: str) -> list[str]:
    """The texts of one node's label: table cells, or the lines of a plain label."""
    line = next(line for line in dot.splitlines() if line.startswith(f'  "{node_id}" ['))
    cells = re.findall(r"<TD[^>]*>(?:<B>)?(.*?)(?:</B>)?</TD>", line)
    if cells:
        return cells
    return re.search(r'label="(.*?)"(?: |\])', line).group(1).split("\\n")


def every_latex(trace) -> list[str]:
    """What the page shows as st.latex at every step, in order."""
    latexes = []
    for step in trace.backward_steps:
        for one in step.passes:
            latexes += [one.local_latex] + ([one.rule_latex] if one.rule_latex else [])
        latexes += list(step.latex)
    for step in trace.forward_steps:
        latexes += list(step.latex)
    return latexes


# ---- recording: a plain record of the real run -------------------------------------------

def test_record_holds_the_graph_the_order_and_the_gradients_of_a_real_backward():
    x = torch.arange(1.0, 6.0, requires_grad=True)
    record = recording.record(formulas.parse(chain.EXERCISE_3), x, "mean")
    names = {node.id: node.name for node in record.nodes}
    assert [names[i] for i in record.order] == [
        "MeanBackward0", "AddBackward0", "MulBackward0", "ReciprocalBackward0", "AddBackward0",
        "MulBackward0", "ExpBackward0", "SinBackward0", "AccumulateGrad"]
    assert {node.tensor for node in record.nodes} == {"x", "z1", "z2", "z3", "z4", "z5", "z6",
                                                      "y", ""}
    reciprocal = next(node for node in record.nodes if node.name == "ReciprocalBackward0")
    mul = next(node for node in record.nodes if reciprocal.id in node.inputs)
    assert reciprocal.tensor == "" and reciprocal.step == mul.step == 5     # z5 = 1 / z4
    assert mul.inputs[1] is None                                  # the constant 1
    assert torch.equal(record.x_grad, x.grad)
    first = record.order[0]
    assert record.upstream[first].item() == 1.0                   # ∂y/∂y
    assert torch.allclose(record.passed[first][0], torch.full((5,), 0.2))
    sine = next(node for node in record.nodes if node.name == "SinBackward0")
    accumulate = next(node for node in record.nodes if node.name == "AccumulateGrad")
    assert (accumulate.id, sine.id, 0) in record.edges and sine.inputs == (accumulate.id,)


def test_node_maths_from_the_registry_per_input_slot():
    def maths_of(text, values=(1.0, 2.0, 3.0)):
        record = recording.record(formulas.parse(text), torch.tensor(values, requires_grad=True),
                                  "mean")
        maths = node_maths.node_maths(record)
        return {node.name: maths[node.id] for node in record.nodes}, record

    x, z1, z4 = (node_maths.symbol(name) for name in ("x", "z1", "z4"))
    square, _ = maths_of("x*x")
    assert square["MulBackward0"].locals == (x, x)          # per slot: x, not 2x
    power, _ = maths_of("(x + 1)**2")
    assert power["PowBackward0"].locals == (2 * z1,)        # already simplified: no 2·z₁^(2−1)
    divided, record = maths_of("2/x")
    assert divided["ReciprocalBackward0"].output == 1 / x   # unnamed: shown by its own form
    assert divided["MulBackward0"].locals == (2, None) and divided["MulBackward0"].constants == (2,)
    assert divided["MeanBackward0"].locals == (sympy.Rational(1, 3),)
    exercise, _ = maths_of(chain.EXERCISE_3)
    assert exercise["ReciprocalBackward0"].locals == (-1 / z4 ** 2,)


# ---- the seed's chain and exercise 3: pinned numbers --------------------------------------

def test_seed_chain_values_gradients_and_order():
    trace = seed_trace()
    assert round(trace.tensor("y").values[0], 4) == 6.6667
    assert [round(g, 4) for g in trace.x_grad] == [0.6667, 1.3333, 2.0]
    assert [s.name for s in trace.backward_steps] == [
        "MeanBackward0", "AddBackward0", "PowBackward0", "AddBackward0", "AccumulateGrad"]
    assert [s.tensor for s in trace.forward_steps] == ["x", "z1", "z2", "z3", "y"]
    # the last step's accumulated gradient is autograd's x.grad
    assert close(trace.backward_steps[-1].x_grad, trace.x_grad, rel=0, abs_=0)


def test_seed_chain_dot_holds_every_value_and_gradient_under_the_tensors_names():
    trace = seed_trace()
    dot = annotated_dot(trace)
    assert node_cells(dot, "x") == ["x   shape (3)", "i", "x", "∂y/∂x", "0", "0", "0.666667",
                                    "1", "1", "1.33333", "2", "2", "2"]
    assert node_cells(dot, "z2") == ["z2ᵢ = z1ᵢ²   shape (3)", "i", "z2", "∂y/∂z2",
                                     "0", "1", "0.333333", "1", "4", "0.333333",
                                     "2", "9", "0.333333"]
    assert node_cells(dot, "y") == ["y = (1/3)·Σᵢ z3ᵢ = 6.66667", "∂y/∂y = 1"]
    functions = {f.name + str(i): node_cells(dot, f.id)
                 for i, f in enumerate(trace.functions)}
    assert ["PowBackward0", "∂z2ᵢ/∂z1ᵢ = 2·z1ᵢ"] in functions.values()
    assert ["MeanBackward0", "∂y/∂z3ᵢ = 1/3"] in functions.values()
    assert ["AddBackward0", "∂z1ᵢ/∂xᵢ = 1"] in functions.values()
    assert ["AccumulateGrad", "x.grad += ∂y/∂x"] in functions.values()
    # no slot letters that clash with the sliders a and c, no unsimplified exponents
    assert not re.search(r"∂\(|∂a|∂b|\^\(|−1\)|1·", dot)


@pytest.mark.parametrize("changes, expected", [
    ({"p": 0.0}, "∂z2ᵢ/∂z1ᵢ = 0"), ({"p": 1.0}, "∂z2ᵢ/∂z1ᵢ = 1"), ({"p": 3.0}, "∂z2ᵢ/∂z1ᵢ = 3·z1ᵢ²"),
    ({"p": -1.5}, "∂z2ᵢ/∂z1ᵢ = -3/(2·z1ᵢ^(5/2))"), ({"a": 0.0}, "∂z1ᵢ/∂xᵢ = 1")])
def test_degenerate_slider_values_give_simplified_local_derivatives(changes, expected):
    trace = seed_trace(**changes)
    assert expected in annotated_dot(trace)
    assert check_page_latex(every_latex(trace)) > 0


def test_first_step_starts_from_one_and_is_not_circular():
    step = seed_trace().backward_steps[0]
    assert step.incoming_latex == r"\frac{\partial y}{\partial y} = 1"
    assert step.passes[0].local_latex == r"\frac{\partial y}{\partial \mathrm{z3}_{i}} = \frac{1}{3}"
    assert step.passes[0].rule_latex.startswith(
        r"\begin{gathered}\frac{\partial y}{\partial \mathrm{z3}_{i}} = 1 \cdot \frac{1}{3} \\")
    second = seed_trace().backward_steps[2]                 # PowBackward0
    assert second.passes[0].local_latex == r"\frac{\partial \mathrm{z2}_{i}}{\partial \mathrm{z1}_{i}} = 2 \mathrm{z1}_{i}"
    assert (r"\frac{\partial y}{\partial \mathrm{z1}_{i}} = \frac{\partial y}{\partial \mathrm{z2}_{i}} \cdot 2 \mathrm{z1}_{i}"
            in second.passes[0].rule_latex)
    assert r"i = 0,\ \mathrm{z1}_{i} = 1:&\quad 0.333333 \cdot 2 = 0.666667" in second.passes[0].rule_latex


def test_exercise_3_numbers_and_contributions_adding_up():
    trace = exercise_3_trace()
    assert round(trace.tensor("y").values[0], 4) == -34.1407
    assert [round(g, 4) for g in trace.x_grad] == [0.7290, 0.7163, -3.4180, -15.4071, -20.0476]
    # x feeds three branches (x + 2, exp, sin): three contributions, each step adds one
    adds = [(i, p) for i, s in enumerate(trace.backward_steps) for p in s.passes if p.adds_to_x]
    assert len(adds) == 3
    running = torch.zeros(5)
    for index, one in adds:
        running += torch.tensor(one.passed)
        assert close(trace.backward_steps[index].x_grad, running.tolist())
    first = trace.backward_steps[adds[0][0]]
    assert first.x_grad != trace.backward_steps[-1].x_grad     # partial before the end
    assert close(trace.backward_steps[-1].x_grad, trace.x_grad, rel=0, abs_=0)
    assert (r"\left(-0.0222222\right) + 0.457471 + 0.293739 = 0.728988"
            in trace.backward_steps[-1].latex[1])


def test_exercise_3_dot_shows_all_five_gradients_and_the_unnamed_reciprocal():
    trace = exercise_3_trace()
    dot = annotated_dot(trace)
    assert node_cells(dot, "x")[4:] == [
        "0", "1", "0.728988", "1", "2", "0.716283", "2", "3", "-3.41801",
        "3", "4", "-15.4071", "4", "5", "-20.0476"]
    assert node_cells(dot, "z1")[0] == "z1ᵢ = sin(xᵢ)   shape (5)"
    assert node_cells(dot, "z1")[-3:] == ["4", "-0.958924", "29.6826"]
    assert node_cells(dot, "y") == ["y = (1/5)·Σᵢ z6ᵢ = -34.1407", "∂y/∂y = 1"]
    labels = ["\\n".join(node_cells(dot, f.id)) for f in trace.functions]
    for text in ("MulBackward0\\n∂z3ᵢ/∂z1ᵢ = z2ᵢ\\n∂z3ᵢ/∂z2ᵢ = z1ᵢ",
                 "ReciprocalBackward0\\n∂(1/z4ᵢ)/∂z4ᵢ = -1/z4ᵢ²",
                 "MulBackward0\\n∂z5ᵢ/∂(1/z4ᵢ) = 1", "SinBackward0\\n∂z1ᵢ/∂xᵢ = cos(xᵢ)"):
        assert text in labels, text
    reciprocal = next(f for f in trace.functions if f.name == "ReciprocalBackward0")
    assert reciprocal.tensor == ""                       # belongs to no named tensor
    step = next(s for s in trace.backward_steps if s.name == "ReciprocalBackward0")
    assert step.output == "(1/z4ᵢ)"
    assert [n.key for n in step.notes] == ["inside_backward.reciprocal_times"]
    assert step.notes[0].values == {"c": "1", "z": "z4"}


def test_tensors_of_more_than_six_elements_are_cut_with_a_mark():
    trace = backward.trace(chain.EXERCISE_3, XSpec.arange(-6, 11), "mean", "float32")
    cells = node_cells(annotated_dot(trace), "x")
    assert cells[0] == "x   shape (17)" and cells[-3:] == ["⋮", "⋮", "⋮"]
    assert len(cells) == 4 + 6 * 3 + 3


def test_edges_follow_the_forward_pass_from_x_through_accumulate_grad_to_y():
    trace = exercise_3_trace()
    accumulate = next(f.id for f in trace.functions if f.name == "AccumulateGrad")
    assert ("x", accumulate) in trace.edges
    assert not any(target == "x" for _, target in trace.edges)
    assert not any(source == "y" for source, _ in trace.edges)
    created = {node: index for index, step in enumerate(trace.forward_steps)
               for node in step.nodes}
    for source, target in trace.edges:                   # never from a later step back
        assert created[source] <= created[target], (source, target)
    assert (accumulate, next(f.id for f in trace.functions if f.name == "SinBackward0")
            ) in trace.edges


def test_dot_is_byte_identical_across_runs_and_has_no_addresses():
    for make in (seed_trace, exercise_3_trace):
        first, second = make(), make()
        for mode, step in (("backward", None), ("backward", 3), ("forward", 2)):
            a = annotated_dot(first, "es", mode, step)
            assert a == annotated_dot(second, "es", mode, step)
            assert not re.search(r"0x[0-9a-f]{6,}|\d{9,}", a)


def test_chain_rule_latex_per_element_numbers():
    trace = exercise_3_trace()
    mul = next(s for s in trace.backward_steps if s.name == "MulBackward0" and len(s.passes) == 2)
    assert mul.passes[0].local_latex == r"\frac{\partial \mathrm{z3}_{i}}{\partial \mathrm{z1}_{i}} = \mathrm{z2}_{i}"
    assert r"i = 0,\ \mathrm{z2}_{i} = 2.71828:&\quad 0.2 \cdot 2.71828 = 0.543656" in mul.passes[0].rule_latex
    assert (r"i = 3,\ \mathrm{z1}_{i} = -0.756802:&\quad 0.2 \cdot \left(-0.756802\right) = -0.15136"
            in mul.passes[1].rule_latex)
    assert check_page_latex(every_latex(trace)) == 85


def test_pytorch_conventions_are_marked_where_the_formula_has_no_value():
    trace = backward.trace("x**x", XSpec.of([0.0, 2.0]))
    base, exponent = next(s for s in trace.backward_steps if s.name == "PowBackward1").passes
    # 0⁰: the formula x·x^(x−1) = x^x gives 1 at 0, PyTorch passes 0; 0·ln 0 likewise
    assert base.departures == exponent.departures == (0,)
    assert r"i = 0,\ x_{i} = 0:&\quad 0.5 \cdot 1 = 0 \quad (\ast)" in base.rule_latex
    assert r"i = 1,\ x_{i} = 2:&\quad 0.5 \cdot 4 = 2\end" in base.rule_latex      # unmarked
    assert r"0.5 \cdot \left(-\infty\right) = 0 \quad (\ast)" in exponent.rule_latex
    assert check_page_latex(every_latex(trace)) > 0
    assert not any(one.departures for step in seed_trace().backward_steps
                   for one in step.passes)


def test_a_folded_infinite_constant_keeps_its_derivative():
    trace = backward.trace("x + exp(1000)", XSpec.of([1.0, 2.0]))         # x + inf
    add = next(s for s in trace.backward_steps if s.name == "AddBackward0")
    assert add.passes[0].local_latex == r"\frac{\partial \mathrm{z1}_{i}}{\partial x_{i}} = 1"
    assert not add.passes[0].departures


# ---- the highlighted step, the two modes, the order table ---------------------------------

def node_line(dot, node_id):
    return next(line for line in dot.splitlines() if line.startswith(f'  "{node_id}" ['))


def test_backward_step_highlights_the_running_node_and_hides_unknown_gradients():
    trace = seed_trace()
    dot = annotated_dot(trace, "en", "backward", 0)
    assert 'penwidth="5"' in node_line(dot, trace.backward_steps[0].node)
    assert sum('penwidth="5"' in line for line in dot.splitlines()) == 1
    assert 'label="▶ MeanBackward0' in node_line(dot, trace.backward_steps[0].node)
    assert dot.count("▶") == 1
    assert node_cells(dot, "z1")[-1] == "?" and "∂y/∂y = 1" in node_cells(dot, "y")
    last = annotated_dot(trace, "en", "backward", len(trace.backward_steps) - 1)
    assert "?" not in last and node_cells(last, "x")[3] == "∂y/∂x"
    middle = annotated_dot(trace, "en", "backward", 3)     # AddBackward0 of z1 = x + 1 ran
    assert node_cells(middle, "x")[3] == "∂y/∂x so far"
    assert node_cells(middle, "x")[-1] == "2"


def test_forward_step_shows_created_nodes_and_leaves_the_rest_pending():
    trace = exercise_3_trace()
    dot = annotated_dot(trace, "en", "forward", 1)          # z1 = sin(x)
    # the current step's node: marked in words (▶), not by its outline's colour alone
    assert node_cells(dot, "z1")[:3] == ["▶ z1ᵢ = sin(xᵢ)   shape (5)", "i", "z1"]
    for tensor in trace.tensors:                           # no gradient exists yet
        assert not any("∂y/∂" in cell for cell in node_cells(dot, tensor.name)), tensor
    assert 'label="z2"' in node_line(dot, "z2") and "dashed" in node_line(dot, "z2")
    assert 'penwidth="5"' in node_line(dot, "z1")
    assert trace.forward_steps[5].nodes == ("z5", "f7", "f8")          # 1/z4: two nodes
    assert [n.key for n in trace.forward_steps[5].notes] == ["inside_backward.reciprocal_times"]


def test_order_rows_grow_with_the_step():
    trace = exercise_3_trace()
    first = backward.order_rows(trace, "backward", 0)
    assert first == [("▶ 1", "MeanBackward0", "y", "1", "z6ᵢ")]
    rows = backward.order_rows(trace, "backward", 4)
    assert len(rows) == 5 and rows[-1][0] == "▶ 5" and rows[0][0] == "1"
    assert rows[4][3] == "[-0.0222222, -0.0125, -0.008, -0.00555556, -0.00408163]"
    assert backward.order_rows(trace, "forward", 2)[-1] == (
        "▶ 3", "z2", "z2 = torch.exp(x)", "[2.71828, 7.38906, 20.0855, 54.5981, 148.413]")


def test_legend_is_in_the_page_language_beneath_the_drawing_and_names_no_colours():
    trace = seed_trace()
    spanish = annotated_dot(trace, "es", "forward", 1, legend=True)
    english = annotated_dot(trace, "en", "backward", 1, legend=True)
    assert "Leyenda" in spanish and "tensor hoja x" in spanish and "aún sin calcular" in spanish
    assert "Legend" in english and "leaf tensor x" in english and "current step" in english
    assert "not computed yet" not in english                  # only the forward pass has it
    assert '"y" -> "legend_intermediate" [style=invis]' in english     # beneath y
    assert "Legend" not in annotated_dot(trace, "en")
    legend = english[english.index("subgraph cluster_legend"):]
    assert not re.search(r"blue|yellow|green|grey|gray|olive|orange", legend, re.I)


@pytest.mark.skipif(not drawing.dot_available(), reason="Graphviz's dot is not installed")
def test_svg_export_renders_the_annotated_graph():
    svg = drawing.export(annotated_dot(seed_trace(), "en", "backward", 2), "svg").decode()
    assert "<svg" in svg and "PowBackward0" in svg and "0.333333" in svg


def test_shown_code_runs_in_the_cell_and_prints_every_incoming_gradient():
    """Page 7's code keeps every intermediate tensor's gradient (retain_grad): after
    backward(), z.grad is the gradient z's backward node received on the page."""
    from lab.cell import run_program

    trace = exercise_3_trace()
    result = run_program(trace.code_for("en"))
    assert result.ok, result.error
    assert "tensor([  0.7290,   0.7163,  -3.4180, -15.4071, -20.0476])" in result.stdout
    for tensor in trace.tensors:
        if tensor.name.startswith("z"):
            assert f"{tensor.name}.grad = tensor(" in result.stdout
            printed = result.tensor(tensor.name).grad
            assert printed == pytest.approx(tensor.grad[:len(printed)], rel=1e-6)
    assert "# Guarda el gradiente" in trace.code_for("es")     # comments translated
    assert "# Keep the gradient" in trace.code_for("en")


def test_bad_input_raises_messages_not_tracebacks():
    with pytest.raises(FormulaError):
        backward.trace("x.__class__", XSpec.of([1.0]))
    with pytest.raises(InputError):
        backward.trace("x", XSpec.of([1.0]), dtype="int64")
    with pytest.raises(InputError):
        backward.trace("x", XSpec.of([]))


# ---- every operation of the registry, read back ---------------------------------------------

EVERY_OPERATION = ("2/x", "2 - x", "2**x", "x*x", "mean(x)*x", "2 + x", "x/2 - x", "x**x",
                   "-x", "sum(x)", "x", "sin(x) + cos(x) + tan(x)", "exp(x)*log(x)",
                   "sqrt(x) + abs(x)", "tanh(x)*sigmoid(x)", "relu(x - 1.5)",
                   "x**2 * sigmoid(x) - 1/x", "sum(x*x)/x",
                   # every function of the registry at once, whatever it holds
                   " + ".join(f"{name}(x)" for name in FUNCTIONS))


def test_every_operation_of_the_registry_is_covered():
    nodes = set()
    for text in EVERY_OPERATION:
        nodes |= {f.name for f in backward.trace(text, XSpec.of([0.5, 1.0, 2.0])).functions}
    assert {node for op in OPERATIONS.values() for node in op.nodes} <= nodes


@pytest.mark.parametrize("text", EVERY_OPERATION)
def test_every_local_derivative_read_back_equals_its_numbers(text):
    for values, reduce in (([0.5, 1.0, 2.0], "mean"), ([-1.5, 3.0], "sum")):
        trace = backward.trace(text, XSpec.of(values), reduce, "float64")
        assert check_page_latex(every_latex(trace)) > 0


# ---- random formulas over the whitelist ---------------------------------------------------

UNARY = FUNCTIONS + ("-",)
BINARY = ("+", "-", "*", "/", "**")


def formula_texts():
    leaves = st.one_of(st.just("x"), st.sampled_from(["1", "2", "0.5", "3", "pi"]))

    def grow(children):
        unary = st.tuples(st.sampled_from(UNARY), children).map(
            lambda t: f"-({t[1]})" if t[0] == "-" else f"{t[0]}({t[1]})")
        binary = st.tuples(children, st.sampled_from(BINARY), children).map(
            lambda t: f"({t[0]}) {t[1]} ({t[2]})")
        reduction = st.tuples(st.sampled_from(["mean", "sum"]), children).map(
            lambda t: f"{t[0]}({t[1]})")
        return st.one_of(unary, binary, binary, reduction)

    return st.recursive(leaves, grow, max_leaves=6).filter(lambda text: "x" in text)


def x_values():
    return st.lists(st.sampled_from([-2.0, -1.0, -0.5, 0.0, 0.5, 1.0, 1.5, 2.0, 3.0]),
                    min_size=1, max_size=4)


CONVENTIONS = ("PowBackward1", "PowBackward2")     # PyTorch's 0 for 0**0 and 0 * ln(0)


def real_autograd(text, values, reduce):
    """x.grad and the graph's node count from a fresh run, independent of lab.backward."""
    x = torch.tensor(values, requires_grad=True)
    y = forward(formulas.parse(text), x, reduce)["y"]
    seen, stack = set(), [y.grad_fn]
    while stack:
        node = stack.pop()
        if node is not None and node not in seen:
            seen.add(node)
            stack.extend(next_node for next_node, _ in node.next_functions)
    y.backward()
    return x.grad.tolist(), len(seen)


@settings(max_examples=60, deadline=None, suppress_health_check=[HealthCheck.filter_too_much])
@given(text=formula_texts(), values=x_values(), reduce=st.sampled_from(["mean", "sum"]))
def test_random_formulas_steps_match_autograd(text, values, reduce):
    try:
        formulas.parse(text)
    except FormulaError:
        return                                     # e.g. a formula that folds to a constant
    trace = backward.trace(text, XSpec.of(values), reduce, "float32")
    grad, node_count = real_autograd(text, values, reduce)
    assert len(trace.backward_steps) == len(trace.functions) == node_count
    assert trace.backward_steps[-1].name == "AccumulateGrad"
    assert close(list(trace.backward_steps[-1].x_grad), grad[:KEEP], rel=1e-5, abs_=1e-6)
    assert close(trace.x_grad, grad, rel=0, abs_=0)
    # every node's incoming gradient × the registry's local derivative is what it passed
    # on, except where the formula has no value and PyTorch takes a convention (0⁰, 0·ln 0,
    # 0·∞), which the page marks
    for step in trace.backward_steps:
        for one in step.passes:
            if not one.local or not one.passed:
                continue
            upstream = torch.tensor(step.upstream)
            local = torch.tensor(one.local)
            product = upstream * local if upstream.numel() > 1 else upstream[0] * local
            expected = product.sum().reshape(1) if one.summed else product
            passed = torch.tensor(one.passed)
            agree = torch.isclose(expected, passed, rtol=1e-4, atol=1e-5, equal_nan=True)
            for k in torch.nonzero(~agree).reshape(-1).tolist():
                assert k in one.departures, (step.name, one.local_latex, k)
                incoming = step.upstream[k if len(step.upstream) > 1 else 0]
                assert step.name in CONVENTIONS or not (
                    math.isfinite(one.local[k]) and math.isfinite(incoming)), step.name
    # and as the page shows them, read back (in float64: float32's rounding, 1 − tanh² near
    # 1 for instance, is larger than the six digits shown)
    check_page_latex(every_latex(backward.trace(text, XSpec.of(values), reduce, "float64")))


def test_kinds_differ_by_colour_and_by_shape_with_explicit_text_colours():
    from lab.annotated import INK, STYLES

    looks = {kind: (style["shape"], style.get("peripheries", "1")) for kind, style in
             STYLES.items()}
    assert len(set(looks.values())) == len(STYLES)                      # shapes differ
    assert len({style["fillcolor"] for style in STYLES.values()}) == len(STYLES)
    dot = annotated_dot(seed_trace())
    assert f'fontcolor="{INK}"' in dot.splitlines()[2]                 # node default
    assert 'bgcolor="transparent"' in dot and 'edge [' in dot


# ---- the command line's graph styles ------------------------------------------------------

def cli(capsys, *args):
    from lab import cli as command_line

    status = command_line.main(list(args))
    out, err = capsys.readouterr()
    return status, out, err


def test_cli_graph_draws_the_annotated_graph_by_default(capsys):
    status, out, err = cli(capsys, "graph", "(x + 1)**2 + 2", "--x", "0:3")
    assert status == 0 and not err
    assert out == annotated_dot(seed_trace(), legend=True)       # the page's graph, with legend
    status, same, _ = cli(capsys, "graph", "(x + 1)**2 + 2", "--x", "0:3", "--annotated")
    assert same == out
    status, spanish, _ = cli(capsys, "graph", "(x + 1)**2 + 2", "--x", "0:3", "--lang", "es")
    assert "Leyenda" in spanish


def test_cli_graph_torchviz_and_its_options(capsys):
    status, out, _ = cli(capsys, "graph", "(x + 1)**2 + 2", "--torchviz")
    assert status == 0 and "lightblue" in out and "∂y/∂" not in out
    status, out, _ = cli(capsys, "graph", "(x + 1)**2 + 2", "--show-saved")   # implies torchviz
    assert status == 0 and "orange" in out
    status, out, err = cli(capsys, "graph", "x", "--annotated", "--show-saved")
    assert status == 2 and not out and err.count("\n") == 1 and "--torchviz" in err
