"""The formula language: what it accepts, what it refuses (message, column, caret), its
bounds, and the engine's three-way checks on formulas with known answers."""

import math

import pytest
import torch

from lab import formula as formulas
from lab import symbolic
from lab.formula import FormulaError, parse, parse_number
from lab.formula import forward
from lab.gradients import run
from lab.xvalues import InputError, XSpec, parse_values
from lab.i18n import LANGUAGES, MISSING

pytestmark = pytest.mark.quick


def refusal(text: str) -> FormulaError:
    with pytest.raises(FormulaError) as caught:
        parse(text)
    return caught.value


# --- what the language accepts -----------------------------------------------------

@pytest.mark.parametrize("name", formulas.FUNCTIONS + formulas.REDUCTIONS)
def test_every_whitelisted_function_parses_and_runs(name):
    formula = parse(f"{name}(x + 2)")
    assert [step.op for step in formula.steps] == ["add", name]
    values = forward(formula, torch.tensor([0.5, 1.5], dtype=torch.float64), "sum")
    expected = formulas.apply(name, [torch.tensor([2.5, 3.5], dtype=torch.float64)])
    assert torch.allclose(values[formula.steps[-1].name], expected)


def test_the_seed_formula_becomes_the_seed_chain():
    formula = parse("(x + 1)**2 + 2")
    assert [(s.name, s.op, s.args) for s in formula.steps] == [
        ("z1", "add", ("x", 1.0)), ("z2", "pow", ("z1", 2.0)), ("z3", "add", ("z2", 2.0))]
    assert formula.output == formula.body == "z3"
    assert formula.reduction is None and formula.elementwise


def test_constants_operators_and_unary_signs():
    formula = parse("-x**2 + pi*x - e/x + +x")
    x = torch.tensor([1.5], dtype=torch.float64)
    value = forward(formula, x, "sum")["y"].item()
    assert value == pytest.approx(-1.5 ** 2 + math.pi * 1.5 - math.e / 1.5 + 1.5)
    assert formula.constants == {"pi": math.pi, "e": math.e}


def test_constant_parts_are_folded_in_float64():
    formula = parse("x * (2/3 + 1)**2")
    assert formula.steps == (formulas.Step("z1", "mul", ("x", (2 / 3 + 1) ** 2)),)


def test_reductions_top_level_and_inner():
    top = parse("mean(sin(x))")
    assert top.reduction == "mean" and top.body == "z1" and top.elementwise
    inner = parse("x - mean(x)")
    assert inner.reduction is None and not inner.elementwise


def test_long_chains_are_not_nesting():
    # 59 additions in a row: many operations, but no nesting at all.
    formula = parse("+".join(["x"] * 60))
    assert formula.operations == 59


def test_whitespace_and_tabs_keep_columns_right():
    error = refusal("  \tx + foo(x)")
    assert error.column == 7 and error.piece == "foo"


def test_parse_number_and_values():
    assert parse_number("2/3") == pytest.approx(2 / 3)
    assert parse_number(" -pi/2 ") == pytest.approx(-math.pi / 2)
    assert parse_values("1, 2.5; -3, 2/3, 1e3") == (1.0, 2.5, -3.0, pytest.approx(2 / 3), 1000.0)
    for bad in ("", "1,,2", "1, x", "1, sin(x)", "1, __import__('os')"):
        with pytest.raises(InputError):
            parse_values(bad)


# --- refusals: message, offending piece, column and caret ---------------------------

REFUSALS = [
    # text, catalogue key, column (0-based), piece
    ("x.__class__", "formula.attribute", 1, ".__class__"),
    ("exp(x).__reduce__()", "formula.attribute", 6, ".__reduce__"),
    ("__import__('os')", "formula.unknown_function", 0, "__import__"),
    ("x + foo(x)", "formula.unknown_function", 4, "foo"),
    ("x + y", "formula.unknown_name", 4, "y"),
    ("x^2", "formula.hint_caret", 1, "^"),
    ("x // 2", "formula.operator_not_allowed", 2, "//"),
    ("x % 2", "formula.operator_not_allowed", 2, "%"),
    ("sin(x, 1)", "formula.one_argument", 0, "sin"),
    ("sin(x=1)", "formula.one_argument", 0, "sin"),
    ("x[0]", "formula.not_allowed", 0, "x[0]"),
    ("lambda: x", "formula.not_allowed", 0, "lambda: x"),
    ("x if x else 1", "formula.not_allowed", 0, "x if x else 1"),
    ("x < 1", "formula.not_allowed", 0, "x < 1"),
    ("'x'", "formula.not_allowed", 0, "'x'"),
    ("1j*x", "formula.not_allowed", 0, "1j"),
    ("x**9**9", "formula.exponent_too_big", 3, "9**9"),
    ("x ** 101", "formula.exponent_too_big", 5, "101"),
    ("1e13*x", "formula.literal_too_big", 0, "1e13"),
    ("ｘ + 1", "formula.bad_character", 0, "ｘ"),
    ("x +\x07 1", "formula.bad_character", 3, "\x07"),
    ("x # comment", "formula.bad_character", 2, "#"),
    ("x**", "formula.incomplete", 1, "**"),
    ("x +", "formula.incomplete", 2, "+"),
    ("sin(x", "formula.unclosed", 3, "("),
    ("sin(x))", "formula.unmatched", 6, ")"),
    ("2x + 1", "formula.glued", 0, "2x"),
    ("x 2", "formula.syntax", 2, "2"),
    ("3", "formula.no_x", 0, "3"),
    ("  pi * 2", "formula.no_x", 2, "pi * 2"),
]


@pytest.mark.parametrize("text, key, column, piece", REFUSALS)
def test_refusals_name_the_piece_and_its_column(text, key, column, piece):
    error = refusal(text)
    assert error.message.key == key
    assert (error.column, error.piece) == (column, piece)
    caret = error.pointer().splitlines()[1]
    assert caret.index("^") == column
    for lang in LANGUAGES:
        rendered = error.render(lang)
        assert MISSING.format(error.message.key) not in rendered
        assert f"{column + 1})" in rendered                  # "(column 5)" / "(columna 5)"
        assert "\n" not in rendered


def test_the_caret_sits_under_the_piece():
    assert refusal("x + foo(x)").pointer() == "x + foo(x)\n    ^^^"


def test_empty_text_is_refused_with_its_own_message():
    for text in ("", "   ", "\t"):
        assert refusal(text).message.key == "formula.empty"


@pytest.mark.parametrize("text", ["x + foo(x)", "x**9**9", "2x", "x**"])
def test_refusals_read_well_in_spanish(text):
    assert "(columna" in refusal(text).render("es")


# --- bounds ---------------------------------------------------------------------------

def test_length_bound():
    assert parse("x+" * 29 + "x")                            # 59 characters
    error = refusal("x" + " " * formulas.MAX_LENGTH)
    assert error.message.key == "formula.too_long" and error.column == formulas.MAX_LENGTH - 1


def test_depth_bound_on_parentheses_calls_and_signs():
    depth = formulas.MAX_DEPTH
    assert parse("(" * depth + "x" + ")" * depth)
    assert parse("sin(" * depth + "x" + ")" * depth)
    assert refusal("(" * (depth + 1) + "x" + ")" * (depth + 1)).message.key == "formula.too_deep"
    assert refusal("-" * (depth + 1) + "x").message.key == "formula.too_deep"
    too_deep = refusal("sin(" * (depth + 1) + "x" + ")" * (depth + 1))
    assert (too_deep.column, too_deep.piece) == (4 * depth + 3, "(")   # the 31st bracket


def test_operations_bound_points_at_the_first_operation_too_many():
    limit = formulas.MAX_OPERATIONS
    assert parse("+".join(["x"] * (limit + 1))).operations == limit
    error = refusal("+".join(["x"] * (limit + 2)))
    assert error.message.key == "formula.too_many_operations"
    assert error.column == 0 and error.message.values["limit"] == limit


def test_exponent_and_literal_bounds():
    assert parse(f"x**{formulas.MAX_EXPONENT}")
    assert parse(f"x**-{formulas.MAX_EXPONENT}")
    assert refusal("x**(2**10)").message.key == "formula.exponent_too_big"
    assert refusal("x**(1/0)").message.key == "formula.exponent_too_big"
    assert parse("1e12*x")


def test_x_size_bound():
    assert XSpec.arange(0, 10_000).tensor(torch.float32).numel() == 10_000
    for spec in (XSpec.arange(0, 10_001), XSpec.of([1.0] * 10_001),
                 XSpec.arange(-1e308, 1e308, 1e-300)):      # the last one overflows a count
        with pytest.raises(InputError) as caught:
            run("x", spec)
        assert caught.value.message.key == "x.too_many"


# --- the run: values, notes and the three checks --------------------------------------

def test_seed_numbers_and_three_way_agreement():
    result = run("(x + 1)**2 + 2", XSpec.arange(0, 3))
    assert result.y_repr == "tensor(6.6667, grad_fn=<MeanBackward0>)"
    assert result.shown.derivative == (r"\frac{\partial y}{\partial x_{i}} = "
                                       r"\frac{2}{n} \left(x_{i} + 1\right)")
    assert result.shown.y == (r"y = \frac{1}{n} \sum_{i=0}^{n - 1} "
                              r"\left(\left(x_{i} + 1\right)^{2} + 2\right)")
    assert result.symbolic == pytest.approx([2 / 3, 4 / 3, 2.0])
    assert result.numeric == pytest.approx([2 / 3, 4 / 3, 2.0])
    assert result.symbolic_marks() == result.numeric_marks() == [True] * 3


def derivative_of(result) -> str:
    return result.shown.derivative.split(" = ", 1)[1]


def test_symbolic_latex_keeps_pi_e_fractions_and_the_lessons_functions():
    assert derivative_of(run("e**x + pi*x", XSpec.of([1.0]), "sum")) == r"e^{x_{i}} + \pi"
    assert derivative_of(run("x**(1/3)", XSpec.of([8.0]), "sum")) == (
        r"\frac{1}{3 x_{i}^{\frac{2}{3}}}")
    sigmoid = run("sigmoid(x)", XSpec.of([0.0]), "sum", "float64")
    assert derivative_of(sigmoid) == (r"\left(1 - \sigma\left(x_{i}\right)\right) "
                                      r"\sigma\left(x_{i}\right)")
    assert sigmoid.grad == [0.25] and sigmoid.symbolic == [0.25]


def test_domain_errors_are_marked_and_explained_not_raised():
    result = run("log(x) + 1/x", XSpec.of([-1.0, 0.0, 1.0]), "sum", "float64")
    assert math.isnan(result.y)
    assert result.notes[0].key == "nonfinite.log" and result.notes[0].values["where"] == "-1, 0"
    # At -1 the value is nan but the formal derivative 1/x - 1/x**2 is finite: compared.
    assert result.symbolic_marks() == [True, None, True]


def test_an_infinite_slope_at_a_finite_value_is_explained():
    result = run("sqrt(x)", XSpec.of([0.0, 4.0]), "sum", "float64")
    assert math.isinf(result.grad[0])
    assert [n.key for n in result.notes] == ["nonfinite.gradient"]


def test_corners_are_noted_and_not_compared():
    result = run("relu(x) + abs(x - 1)", XSpec.of([-1.0, 0.0, 1.0, 2.0]), "sum", "float64")
    assert result.kinks == [False, True, True, False]
    assert [n.key for n in result.notes] == ["checks.kink"]
    assert result.symbolic_marks() == [True, None, None, True]
    assert result.numeric_marks() == [True, None, None, True]


def test_finite_differences_that_straddle_a_pole_are_not_compared():
    result = run("1/x", XSpec.of([-1e-7, 1.0]), "sum", "float64")
    assert result.numeric_error[0] is None and result.numeric_marks() == [None, True]


def test_numeric_check_allows_for_its_own_error():
    # A big constant makes finite differences lose digits; their estimated error says so.
    result = run("1e6*(x - 1)**2 + 1e12", XSpec.of([1.5, 3.0]), "sum", "float64")
    error = result.numeric_error
    assert error[0] > 1e-4                       # digits lost to the 1e12
    assert abs(result.numeric[0] - result.grad[0]) <= error[0] + 1e-7 * 1e6
    assert result.numeric_marks() == [True, True]


def test_float32_precision_is_noted_where_it_shows():
    result = run("sin(1000*x)", XSpec.of([1.1, 2.3]), "sum", "float32")
    gap = [n for n in result.notes if n.key == "checks.precision_gap"]
    assert gap and gap[0].values["where"] in ("1.1", "2.3")
    quiet = run("(x + 1)**2 + 2", XSpec.arange(-5, 5, 0.01), "mean", "float32")
    assert not [n for n in quiet.notes if n.key == "checks.precision_gap"]


def test_inner_reductions_are_checked_element_by_element():
    result = run("(x - mean(x))**2", XSpec.arange(0, 4), "sum", "float64")
    assert result.grad == pytest.approx([-3.0, -1.0, 1.0, 3.0])
    assert result.symbolic_marks() == result.numeric_marks() == [True] * 4
    assert result.shown.derivative.startswith(r"\frac{\partial y}{\partial x_{0}} = ")


def test_inner_reductions_that_would_explode_are_skipped():
    result = run("mean(x*mean(x*mean(x*mean(x))))", XSpec.arange(1, 9), "sum", "float64")
    assert "checks.symbolic_too_big" in [n.key for n in result.notes]
    assert result.numeric_marks() == [True] * 8


def test_sympy_never_meets_exact_powers_of_big_numbers():
    # x cancels out, so sympy would see 2**(10**12) and 3**(100**3): computed by torch.
    for text in ("2**(0*x + 1e12) + x", "((3**(0*x + 100))**(0*x + 100))**(0*x + 100) + x"):
        result = run(text, XSpec.of([1.0]), "sum", "float64")
        assert result.grad == [1.0] or math.isnan(result.grad[0])


def test_symbolic_work_past_its_budget_is_skipped_and_the_run_goes_on(monkeypatch):
    monkeypatch.setattr(symbolic, "BUDGET_SECONDS", 0.0)
    monkeypatch.setattr(symbolic, "_TIMED_OUT", {})
    result = run("tan(sin(x)) * 3", XSpec.of([0.5]), "sum", "float64")
    assert [n.key for n in result.notes] == ["checks.symbolic_timeout"]
    assert result.symbolic is None and result.numeric_marks() == [True]


def test_one_run_buys_one_budget_and_a_spent_one_blames_no_formula(monkeypatch):
    """The check, the formulas shown and f″ share one budget (``shared_budget``): once it
    is spent the rest is skipped at once, and the formula is not marked as too costly."""
    monkeypatch.setattr(symbolic, "_TIMED_OUT", {})
    with symbolic.shared_budget(0.0):
        with pytest.raises(symbolic.SymbolicTimeout):
            with symbolic.budget(("probe", "x")):
                pass
    assert symbolic._TIMED_OUT == {}
    with symbolic.budget(("probe", "x")):          # a whole budget again outside it
        pass
    spent = []
    original = symbolic.time_limit

    def recording(seconds):
        spent.append(seconds)
        return original(seconds)

    monkeypatch.setattr(symbolic, "time_limit", recording)
    run("sin(x)*exp(x) + 1/(x+2)", XSpec.arange(1, 6), second=True)
    assert len(spent) == 3 and spent[0] <= symbolic.BUDGET_SECONDS
    assert all(later < earlier for earlier, later in zip(spent, spent[1:]))


def test_time_limit_stops_pure_python_and_leaves_nothing_behind():
    with pytest.raises(symbolic.SymbolicTimeout):
        with symbolic.time_limit(0.05):
            while True:
                pass
    with symbolic.time_limit(5):
        total = sum(range(1000))
    assert total == 499500


def test_bad_options_are_input_errors():
    for reduce, dtype in (("max", "float32"), ("mean", "int64")):
        with pytest.raises(InputError):
            run("x", XSpec.of([1.0]), reduce, dtype)


def test_one_run_holds_every_view_of_it():
    """The plot's points and torchviz's drawing come from the run itself (one forward pass
    for the drawing and backward(), autograd for the plot), only when asked for."""
    plain = run("sin(x)*exp(x) + 1/(x+2)", XSpec.arange(1, 6))
    full = run("sin(x)*exp(x) + 1/(x+2)", XSpec.arange(1, 6), plot=True, graph=True)
    assert plain.curve is None and not plain.drawing
    assert full.grad == plain.grad and full.y == plain.y
    assert full.curve.x == full.x and len(full.curve.t) == 201
    # f′ at the points, by autograd in float64, is x.grad times n (mean)
    assert full.curve.dfx == pytest.approx([g * 5 for g in full.grad], rel=1e-5)
    assert "SinBackward0" in full.drawing.dot() and "AccumulateGrad" in full.drawing.dot()
    assert run("mean(x)*x", XSpec.arange(1, 4), plot=True).curve is None
