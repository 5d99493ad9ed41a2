"""What a student does on each page, for the benchmarks and the load test.

A scenario is a page opened with a URL (its widgets are bound to the query string, so the
URL sets the state) and one widget the student then moves through a few values. "default"
opens the page as the sidebar link does; "heavy" opens the largest state the page allows
(home and mistakes have no size to grow, so they have a default state only). A page of
the lab (``lab.site.PAGES``) written after these scenarios gets a default one whose
widget is found when it opens (``key=""``: ``widget_to_move``).

The noisy client of ``bench.load --noisy`` sends ``costliest_formula(k)`` to the
playground at 10,000 elements: 59 operations (the limit is 60) nested 29 deep, a distinct
constant each time so that no cache answers, and a derivative whose sympy work runs into
the 0.5 s budget.
"""

from __future__ import annotations

from dataclasses import dataclass
from urllib.parse import urlencode

LONGEST_FORMULA = "*".join(["x"] * 61)                  # 60 operations: the formula limit
TWENTY_VALUES = ", ".join(f"{i / 10:g}" for i in range(1, 21))
EXERCISE_3_SOLVED = ("import torch\nfrom torchviz import make_dot\n"
                     "x = torch.arange(1, 6, dtype=torch.float32, requires_grad=True)\n"
                     "y = (torch.sin(x) * torch.exp(x) + 1 / (x + 2)).mean()\n"
                     "make_dot(y, params={'x': x})\ny.backward()\nprint(y, x.grad)\n")


@dataclass(frozen=True)
class Scenario:
    page: str                     # URL path ("" = home)
    state: str                    # "default" or "heavy"
    key: str                      # the widget the student moves ("": one found on the page)
    values: tuple = ()            # ...through these values, in turn
    query: dict | None = None     # the URL's parameters
    expect: str = ""              # a text the page shows in this state, outside a folded panel
                                  # (checks the URL took)

    @property
    def name(self) -> str:
        return f"{self.page or 'home'}:{self.state}"

    @property
    def query_string(self) -> str:
        return urlencode(self.query or {}, doseq=True)


BASELINE = Scenario("", "default", "n", (4, 5, 6, 7))

SCENARIOS = (
    Scenario("", "default", "lang", ("es", "en")),
    Scenario("tensors", "default", "requires_grad", (True, False)),
    Scenario("tensors", "heavy", "requires_grad", (True, False),
             {"values": ", ".join(f"{i}." for i in range(60)), "backward": "true"},
             expect="59."),
    Scenario("backward", "default", "a", (1.5, 2.0, 2.5, 1.0)),
    Scenario("backward", "heavy", "a", (1.5, 2.0, 2.5, 1.0),
             {"n": "20", "p": "3.5", "backward": "true"}, expect="i = 0 … 19"),
    Scenario("torchviz", "default", "a", (1.5, 2.0, 2.5, 1.0)),
    Scenario("torchviz", "heavy", "a", (1.5, 2.0, 2.5, 1.0),
             {"n": "20", "show_attrs": "true", "show_saved": "true"}, expect="fillcolor=orange"),
    Scenario("exercises", "default", "ex2_check", (True, False), {"exercise": "2"}),
    Scenario("exercises", "heavy", "ex3_reference", (False, True),
             {"exercise": "3", "ex3_code": EXERCISE_3_SOLVED, "ex3_reference": "true"},
             expect="SinBackward0"),
    Scenario("playground", "default", "x1", (4.0, 5.0, 6.0, 3.0)),
    Scenario("playground", "heavy", "r", ("sum", "mean"),
             {"f": "sin(x)*exp(x) + 1/(x+2)", "x0": "0", "x1": "1000", "dx": "0.1"},
             expect="10000"),
    Scenario("code", "default", "program",
             ("import torch\nx = torch.tensor([1.0, 2.0], requires_grad=True)\n"
              "(x ** 2).sum().backward()\nprint(x.grad)\n",
              "import torch\nx = torch.tensor([3.0], requires_grad=True)\n"
              "y = torch.sin(x) * x\ny.backward()\nprint(x.grad)\n")),
    Scenario("inside_backward", "default", "step", (2, 3, 4, 5, 6, 7, 8, 1)),
    Scenario("inside_backward", "heavy", "step", tuple(range(2, 63, 6)) + (1,),
             {"comp": "formula", "f": LONGEST_FORMULA, "xs": TWENTY_VALUES},
             expect="of 62"),
    Scenario("mistakes", "default", "twice_run", (True, False)),
    # Page 8 opens with the run hidden (ask first); its heavy state is revealed, at the
    # most steps, without zero_grad (two more table columns), with torch.optim.SGD (whose
    # first use imports torch._dynamo: the warm-up and the memory figures include it).
    Scenario("learning", "default", "w0", (-0.5, 0.0, 0.5, -1.0)),
    Scenario("learning", "heavy", "w0", (-0.5, 0.0, 0.5, -1.0),
             {"reveal": "true", "steps": "200", "nozero": "true", "update": "torch.optim.SGD"},
             expect="holds the **sum**"),
)

NOISY = Scenario("playground", "noisy", "f", (),
                 {"x0": "0", "x1": "1000", "dx": "0.1"}, expect="10000")
NOISY_PROGRAM = Scenario("code", "noisy", "program", ())
FUNCTIONS = ("sin", "cos", "exp", "tanh", "sigmoid")


def costliest_formula(k: int) -> str:
    """The k-th of the costliest formulas the playground accepts (see the docstring)."""
    nested = [FUNCTIONS[(i + k) % len(FUNCTIONS)] for i in range(29)]
    return "".join(f"{name}(x*" for name in nested) + f"(x+{k})" + ")" * len(nested)


def costliest_program(k: int) -> str:
    """The k-th of the costliest programs the cell accepts: ten statements of four tensor
    operations each, run 1,800 times (19,800 steps of the cell's 20,000), ~1.8 s of the 2 s
    a run may take here, with distinct constants so that no cache answers."""
    line = "    s = torch.sin(s) * torch.cos(s) + torch.exp(-s) - torch.tanh(s) * {c}\n"
    body = "".join(line.format(c=1 + (k * 10 + j) / 1e6) for j in range(10))
    return f"import torch\ns = torch.tensor([0.5])\nfor i in range(1800):\n{body}print(s)\n"


def lab_pages() -> tuple[str, ...]:
    """The URL of every page of the lab, from its registry (``lab.site.PAGES``)."""
    from lab.site import PAGES as LAB_PAGES

    return tuple(info.url for info in LAB_PAGES)


WRITTEN = tuple(dict.fromkeys(s.page for s in SCENARIOS))
SCENARIOS += tuple(Scenario(url, "default", "") for url in lab_pages() if url not in WRITTEN)
PAGES = tuple(dict.fromkeys(s.page for s in SCENARIOS))


def widget_to_move(session) -> tuple[str, tuple]:
    """For a scenario with ``key=""``: a widget of the opened page and values to move it
    through (a toggle or checkbox flipped, a slider stepped, a radio's options in turn),
    preferring one inside a section (an st.fragment), as the written scenarios do."""
    found = []
    for key, (kind, widget_id) in session.widgets.items():
        proto = session.protos.get(key)
        values = _values_for(kind, proto)
        if values:
            found.append((widget_id not in session.fragments, key, values))
    if not found:
        raise LookupError(f"no widget to move on page {session.page!r}")
    _, key, values = min(found, key=lambda item: item[0])
    return key, values


def _values_for(kind: str, proto) -> tuple:
    if proto is None:
        return ()
    if kind == "checkbox":
        return (not proto.default, bool(proto.default))
    if kind == "slider" and len(proto.default) == 1 and not proto.options:
        low, high, step, start = proto.min, proto.max, proto.step or 1, proto.default[0]
        moved = start + step if start + step <= high else start - step
        return (moved, start) if low <= moved <= high else ()
    if kind == "radio" and len(proto.options) > 1:
        return tuple(proto.options[1:]) + (proto.options[0],)
    return ()


def scenario(page: str, state: str = "default") -> Scenario:
    return next(s for s in SCENARIOS if s.page == page and s.state == state)


def check_coverage() -> list[str]:
    """Pages of the lab that no scenario opens (the lab's registry is the reference)."""
    return [url for url in lab_pages() if url not in PAGES]


def warm_up(base: str) -> list[str]:
    """The instructor opens every page and state once (imports, caches); returns problems."""
    from bench.protocol import ProtocolError, Session

    problems = []
    for scenario in SCENARIOS:
        try:
            with Session(base, scenario.page, scenario.query_string, timeout=120) as session:
                run = session.open()
                if not run.ok:
                    problems.append(f"warm-up {scenario.name}: {run.exceptions[:1]}")
        except (ProtocolError, OSError) as problem:
            problems.append(f"warm-up {scenario.name}: {problem}")
    return problems
