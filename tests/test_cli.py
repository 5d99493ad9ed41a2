"""``python -m lab``: the JSON contract, exit statuses and the single error line.

A few runs go through a real subprocess (``sys.executable -m lab``, as a user types it;
each pays torch's import); the rest call ``lab.cli.main`` in-process.
"""

import json
import os
import shutil
import subprocess
import sys
from pathlib import Path

import pytest

from lab.ops import function_list

from lab import cli

ROOT = Path(__file__).resolve().parent.parent
SEED = "(x + 1)**2 + 2"
EXERCISE_3 = "sin(x)*exp(x) + 1/(x+2)"


def python_m_lab(*args: str, env: dict | None = None) -> subprocess.CompletedProcess:
    return subprocess.run([sys.executable, "-m", "lab", *args], cwd=ROOT, capture_output=True,
                          text=True, timeout=120, env=env)


def main(capsys, *args: str) -> tuple[int, str, str]:
    status = cli.main(list(args))
    out, err = capsys.readouterr()
    return status, out, err


# --- through a subprocess -------------------------------------------------------------

def test_json_contract_in_a_subprocess():
    done = python_m_lab("grad", EXERCISE_3, "--x", "1,2,3,4,5", "--json")
    assert done.returncode == 0 and done.stderr == ""
    report = json.loads(done.stdout)
    assert {"expression", "x", "reduce", "dtype", "y", "grad", "symbolic_grad",
            "numeric_grad"} <= set(report)
    assert report["expression"] == EXERCISE_3 and report["x"] == [1, 2, 3, 4, 5]
    assert (report["reduce"], report["dtype"]) == ("mean", "float32")
    assert round(report["y"], 4) == -34.1407
    assert [round(g, 4) for g in report["grad"]] == [0.7290, 0.7163, -3.4180, -15.4071,
                                                     -20.0476]
    for key in ("symbolic_grad", "numeric_grad"):
        assert report[key] == pytest.approx(report["grad"], rel=1e-5)
    assert report["agrees_symbolic"] == report["agrees_numeric"] == [True] * 5


def test_refused_formula_in_a_subprocess_is_one_line_and_status_2():
    done = python_m_lab("grad", "__import__('os').system('echo hacked')", "--x", "1,2")
    assert done.returncode == 2 and done.stdout == ""
    assert done.stderr.count("\n") == 1 and "Traceback" not in done.stderr
    assert done.stderr.startswith("error: “.system” is not allowed: nothing can be reached")
    assert done.stderr.endswith("(column 17)\n")


def test_bad_option_in_a_subprocess_is_one_line_in_spanish():
    done = python_m_lab("grad", "x", "--reduce", "max", "--lang", "es")
    assert done.returncode == 2 and done.stdout == ""
    assert done.stderr == "error: --reduce no puede ser «max»: elige entre mean, sum.\n"


def test_svg_without_graphviz_says_so(tmp_path):
    env = {**os.environ, "PATH": str(tmp_path)}           # no `dot` on this PATH
    target = tmp_path / "graph.svg"
    done = python_m_lab("graph", SEED, "--format", "svg", "-o", str(target), env=env)
    assert done.returncode == 2 and not target.exists()
    assert done.stderr.count("\n") == 1 and "Graphviz" in done.stderr


# --- in-process ---------------------------------------------------------------------

def test_text_output_prints_y_and_grad_as_pytorch_does(capsys):
    status, out, err = main(capsys, "grad", SEED)                 # default x = arange(3)
    assert status == 0 and err == ""
    lines = out.splitlines()
    assert lines[:2] == ["y = tensor(6.6667, grad_fn=<MeanBackward0>)",
                         "x.grad = tensor([0.6667, 1.3333, 2.0000])"]
    assert (r"derivative (sympy, LaTeX): \frac{\partial y}{\partial x_{i}} = "
            r"\frac{2}{n} \left(x_{i} + 1\right)") in lines
    assert any(line.startswith("symbolic: ") and "3 agree, 0 disagree" in line for line in lines)


def test_range_form_and_options(capsys):
    status, out, _ = main(capsys, "grad", "x**2", "--x", "0:1:0.25", "--reduce", "sum",
                          "--dtype", "float64", "--json")
    report = json.loads(out)
    assert status == 0 and report["x"] == [0, 0.25, 0.5, 0.75]
    assert report["grad"] == [0, 0.5, 1.0, 1.5] and report["dtype"] == "float64"
    assert report["reduce"] == "sum" and report["y"] == pytest.approx(0.875)


def test_non_finite_numbers_stay_valid_json(capsys):
    status, out, _ = main(capsys, "grad", "log(x) + 1/x", "--x=-1,0,1", "--json")
    assert status == 0
    report = json.loads(out)                  # strict JSON: no bare NaN or Infinity
    assert "NaN" not in out and "Infinity" not in out
    assert report["y"] == "nan" and report["grad"][1] in ("inf", "-inf", "nan")
    assert report["agrees_symbolic"][1] is None
    assert any("log" in note for note in report["notes"])


@pytest.mark.parametrize("args, starts", [
    (["grad", "x**9**9"], "error: The exponent 9**9 is too large"),
    (["grad", "2x"], "error: “2x” is neither a number nor a name"),
    (["grad", "x", "--x", "1,a"], "error: Value 2 (“a”) is not a number"),
    (["grad", "x", "--x", "1:2:3:4"], "error: --x “1:2:3:4” is not a range"),
    (["grad", "x", "--x", "0:20000"], "error: x would have 20000 elements"),
    (["grad", "x", "--x", "3:0"], "error: arange(3, 0, 1) is empty"),
    (["grad", "x", "--dtype", "int64"], "error: --dtype cannot be “int64”"),
    (["grad", "x", "--x"], "error: --x needs a value"),
    (["grad", "x", "--bogus"], "error: unknown arguments: --bogus"),
    (["grad"], "error: missing formula"),
    ([], "error: missing grad|graph"),
    (["plot", "x"], "error: grad|graph|run cannot be “plot”"),
    (["graph", "x", "--style", "fancy"], "error: --style cannot be “fancy”"),
    (["graph", "x", "-o", "/nonexistent/dir/g.dot"], "error: cannot write /nonexistent/dir/g.dot"),
])
def test_every_refusal_is_one_line_on_stderr_with_status_2(capsys, args, starts):
    status, out, err = main(capsys, *args)
    assert status == 2 and out == ""
    assert err.startswith(starts) and err.count("\n") == 1


def test_spanish_messages(capsys):
    _, _, err = main(capsys, "grad", "x + foo(x)", "--lang", "es")
    assert err == (f"error: «foo» no es una función disponible. Disponibles: "
                   f"{function_list()}. (columna 5)\n")
    status, out, _ = main(capsys, "grad", EXERCISE_3, "--x", "1:6", "--lang=es")
    assert status == 0 and "simbólica: " in out and "5 coinciden" in out


def test_graph_writes_dot_to_a_file_and_to_stdout(capsys, tmp_path):
    target = tmp_path / "seed.dot"
    status, out, err = main(capsys, "graph", SEED, "--format", "dot", "-o", str(target))
    assert status == 0 and err == "" and str(target) in out
    dot = target.read_text()
    assert dot.startswith("digraph") and "PowBackward0" in dot and "MeanBackward0" in dot
    status, out, _ = main(capsys, "graph", SEED, "--show-saved")
    assert status == 0 and out.startswith("digraph") and "orange" in out


@pytest.mark.skipif(shutil.which("dot") is None, reason="needs Graphviz's dot")
@pytest.mark.parametrize("fmt, magic", [("svg", b"<?xml"), ("png", b"\x89PNG")])
def test_graph_renders_svg_and_png(capsys, tmp_path, fmt, magic):
    target = tmp_path / f"graph.{fmt}"
    status, _, _ = main(capsys, "graph", EXERCISE_3, "--x", "1:6", "-o", str(target))
    assert status == 0 and target.read_bytes().startswith(magic)   # format from the name


def test_graph_refuses_a_formula_before_drawing(capsys, tmp_path):
    target = tmp_path / "g.dot"
    status, _, err = main(capsys, "graph", "open('x')", "-o", str(target))
    assert status == 2 and not target.exists() and "“open”" in err


def test_graph_styles_are_a_registry():
    assert "torchviz" in cli.GRAPH_STYLES
    parser = cli.build_parser("en")
    args = parser.parse_args(["graph", "x", "--style", "torchviz"])
    assert args.style == "torchviz"
