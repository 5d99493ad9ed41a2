"""Page states a student reaches by answering, running and revealing: the links that open
them (every control lives in the link). The classroom tests open each one on a laptop, a
phone and a projector, in both themes.

Each state shows what the page's defaults hide: answers revealed, feedback on a wrong
answer, PyTorch's errors with why and the fix, the cell's refusal, a refused formula,
graphs and plots drawn.
"""

from __future__ import annotations

from urllib.parse import urlencode

# Exercise 3 as a student writes it (the lab's own reference is lab.cell.grading's).
EXERCISE_3 = """import torch
from torchviz import make_dot

x = torch.arange(1, 6, dtype=torch.float32, requires_grad=True)
y = (torch.sin(x) * torch.exp(x) + 1 / (x + 2)).mean()
dot = make_dot(y, params={"x": x})
y.backward()
print(y)
print(x.grad)
"""
# Two leaves, a graph, a PyTorch error at its last line (backward through a freed graph).
TWO_LEAVES = """import torch
from torchviz import make_dot

a = torch.tensor(2.0, requires_grad=True)
b = torch.tensor(3.0, requires_grad=True)
y = a * b + b ** 2
dot = make_dot(y, params={"a": a, "b": b})
y.backward()
print(a.grad, b.grad)
y.backward()
"""
REFUSED = "import os\nprint(os.listdir('.'))\n"

MISTAKES = {"acc": "same", "twice": "error", "vec": "prints", "leaf": "none",
            "nograd": "error", "inplace": "shifted"}

# page id -> the link's parameters (several states of one page: page id, then "#n")
ANSWERED = {
    "tensors": {"dtype": "int64", "requires_grad": "true", "backward": "true",
                "cell": REFUSED},
    "backward": {"n": "4", "ex1_0": "0.5", "ex1_1": "9", "backward": "true"},
    "exercises": {"exercise": "2", "ex2_guess": "works", "ex2_check": "true"},
    "exercises#3": {"exercise": "3", "ex3_code": EXERCISE_3, "ex3_reference": "true"},
    "playground": {"f": "x^2 + foo(x)"},
    "code": {"program": TWO_LEAVES},
    "inside_backward": {"comp": "ex3", "step": "9"},
    "inside_backward#program": {"comp": "program", "program": TWO_LEAVES, "step": "4"},
    "mistakes": {**MISTAKES, **{f"{name}_run": "true" for name in MISTAKES},
                 **{f"{name}_fixed": "true" for name in MISTAKES}},
    "learning": {"reveal": "true", "guess": "converges_zigzag", "nozero": "true"},
}


def url_path(state: str) -> str:
    """The page's URL path of a state's name ("exercises#3" -> "exercises")."""
    return state.split("#")[0]


def query(state: str, **extra: str) -> str:
    return urlencode({**ANSWERED[state], **extra})
