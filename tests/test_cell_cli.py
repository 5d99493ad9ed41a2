"""``python -m lab run FILE``: what the program prints on stdout, an error on one line of
stderr, exit status 0 / 1 (the program raised) / 2 (refused, stopped, unreadable)."""

import json
import subprocess
import sys
from pathlib import Path

import pytest

from lab.cli import main

pytestmark = pytest.mark.quick

ROOT = Path(__file__).resolve().parent.parent
OK = "import torch\nx = torch.arange(3, dtype=torch.float32, requires_grad=True)\n" \
     "y = ((x + 1) ** 2 + 2).mean()\ny.backward()\nprint(y)\nprint(x.grad)\n"


def run(capsys, tmp_path, source: str, *args: str) -> tuple[int, str, str]:
    program = tmp_path / "program.py"
    program.write_text(source, encoding="utf-8")
    status = main(["run", str(program), *args])
    out, err = capsys.readouterr()
    return status, out, err


def test_a_program_prints_what_it_prints(capsys, tmp_path):
    status, out, err = run(capsys, tmp_path, OK)
    assert (status, err) == (0, "")
    assert out == "tensor(6.6667, grad_fn=<MeanBackward0>)\ntensor([0.6667, 1.3333, 2.0000])\n"


def test_a_pytorch_error_is_one_line_and_status_1(capsys, tmp_path):
    status, out, err = run(capsys, tmp_path, "import torch\nprint('before')\n"
                                             "x = torch.tensor([2, 3], requires_grad=True)\n")
    assert (status, out) == (1, "before\n")
    assert err == ("error: line 3, column 5: RuntimeError: Only Tensors of floating point and "
                   "complex dtype can require gradients\n")


@pytest.mark.parametrize("source,starts", [
    ("import os\n", "error: line 1, column 1: This import does not work in this cell: os."),
    ("!pip install torchviz\n", "error: line 1, column 1: torchviz is already installed"),
    ("for i in range(10 ** 9):\n    pass\n", "error: line 2, column 5: The program was stopped"),
    ("x = (\n", "error: line 1, column 5: Python cannot read this"),
])
def test_refused_or_stopped_is_one_line_and_status_2(capsys, tmp_path, source, starts):
    status, out, err = run(capsys, tmp_path, source)
    assert (status, out) == (2, "") and err.startswith(starts) and err.count("\n") == 1


def test_json_has_stdout_and_error(capsys, tmp_path):
    status, out, _ = run(capsys, tmp_path, OK, "--json")
    assert status == 0 and json.loads(out) == {
        "stdout": "tensor(6.6667, grad_fn=<MeanBackward0>)\ntensor([0.6667, 1.3333, 2.0000])\n",
        "error": None}
    status, out, _ = run(capsys, tmp_path, "print('a')\n1 / 0\n", "--json")
    assert status == 1 and json.loads(out) == {
        "stdout": "a\n", "error": {"kind": "pytorch", "line": 2, "column": 1,
                                   "message": "ZeroDivisionError: division by zero"}}
    status, out, _ = run(capsys, tmp_path, "import os\n", "--json", "--lang", "es")
    report = json.loads(out)
    assert status == 2 and report["error"]["kind"] == "refused"
    assert report["error"]["message"].startswith("Esta importación no funciona en esta celda")


def test_spanish_messages_and_warnings_on_stderr(capsys, tmp_path):
    source = "import torch\nx = torch.ones(2, requires_grad=True)\nz = x * 2\nprint(z.grad)\n" \
             "y = torch.randn(2)\n"
    status, out, err = run(capsys, tmp_path, source, "--lang", "es")
    lines = err.splitlines()
    assert status == 2 and out == "None\n" and len(lines) == 2
    assert lines[0].startswith("aviso: The .grad attribute of a Tensor that is not a leaf")
    assert lines[1].startswith("error: la línea 5, columna 5: `torch.randn` genera números")


def test_an_unreadable_file_is_status_2(capsys, tmp_path):
    status = main(["run", str(tmp_path / "missing.py"), "--lang", "es"])
    _, err = capsys.readouterr()
    assert status == 2 and err.startswith("error: no se puede leer /")
    assert err.endswith(": No such file or directory.\n") and err.count("\n") == 1
    binary = tmp_path / "binary.py"
    binary.write_bytes(b"\xff\xfe\x00")
    assert main(["run", str(binary)]) == 2
    huge = tmp_path / "huge.py"
    huge.write_text("x = 1\n" * 20_000)
    assert main(["run", str(huge)]) == 2
    assert "120000 characters" in capsys.readouterr().err


def test_run_in_a_subprocess_as_a_user_types_it(tmp_path):
    program = tmp_path / "exercise.py"
    program.write_text(OK + "print(x.grad.sum().item())\n1 / 0\n")
    done = subprocess.run([sys.executable, "-m", "lab", "run", str(program)], cwd=ROOT,
                          capture_output=True, text=True, timeout=120, check=False)
    assert done.returncode == 1 and done.stdout.endswith("4.0\n")
    assert done.stderr == "error: line 8, column 1: ZeroDivisionError: division by zero\n"
    assert "Traceback" not in done.stderr
