"""What a student does on each page, for the benchmarks and the load test.

A scenario is a page opened with a URL (its widgets are bound to the query string, so the
URL sets the state) and one widget the student then moves through a few values. "default"
opens the page as the sidebar link does; "heavy" opens the largest state the page allows
(home and mistakes have no size to grow, so they have a default state only).
"""

from __future__ import annotations

from dataclasses import dataclass
from urllib.parse import urlencode

LONGEST_FORMULA = "*".join(["x"] * 61)                  # 60 operations: the formula limit
TWENTY_VALUES = ", ".join(f"{i / 10:g}" for i in range(1, 21))


@dataclass(frozen=True)
class Scenario:
    page: str                     # URL path ("" = home)
    state: str                    # "default" or "heavy"
    key: str                      # the widget the student moves
    values: tuple                 # ...through these values, in turn
    query: dict | None = None     # the URL's parameters
    expect: str = ""              # a text the page must show in this state (checks the URL took)

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
    Scenario("backward", "heavy", "a", (1.5, 2.0, 2.5, 1.0), {"n": "20", "p": "3.5"},
             expect="arange(20"),
    Scenario("torchviz", "default", "a", (1.5, 2.0, 2.5, 1.0)),
    Scenario("torchviz", "heavy", "a", (1.5, 2.0, 2.5, 1.0),
             {"n": "20", "show_attrs": "true", "show_saved": "true"}, expect="show_saved=True"),
    Scenario("exercises", "default", "ex1_n", (4, 5, 6, 3)),
    Scenario("exercises", "heavy", "ex1_n", (4, 5, 3, 6),
             {"ex1_n": "6", "ex3_range": ["-6", "10"], "ex3_dtype": "float64"},
             expect="float64"),
    Scenario("playground", "default", "x1", (4.0, 5.0, 6.0, 3.0)),
    Scenario("playground", "heavy", "r", ("sum", "mean"),
             {"f": "sin(x)*exp(x) + 1/(x+2)", "x0": "0", "x1": "1000", "dx": "0.1"},
             expect="10000"),
    Scenario("inside_backward", "default", "step", (2, 3, 4, 5, 6, 7, 8, 1)),
    Scenario("inside_backward", "heavy", "step", tuple(range(2, 63, 6)) + (1,),
             {"comp": "f(x)", "f": LONGEST_FORMULA, "xs": TWENTY_VALUES},
             expect="of 62"),
    Scenario("mistakes", "default", "twice", (False, True)),
    # Page 8 opens with the run hidden (ask first); its heavy state is revealed, at the
    # most steps, without zero_grad (two more table columns), with torch.optim.SGD (whose
    # first use imports torch._dynamo: the warm-up and the memory figures include it).
    Scenario("learning", "default", "w0", (-0.5, 0.0, 0.5, -1.0)),
    Scenario("learning", "heavy", "w0", (-0.5, 0.0, 0.5, -1.0),
             {"reveal": "true", "steps": "200", "nozero": "true", "update": "torch.optim.SGD"},
             expect="optimizer = torch.optim.SGD"),
)

PAGES = tuple(dict.fromkeys(s.page for s in SCENARIOS))


def scenario(page: str, state: str = "default") -> Scenario:
    return next(s for s in SCENARIOS if s.page == page and s.state == state)


def check_coverage() -> list[str]:
    """Pages of the lab that no scenario opens (the lab's registry is the reference)."""
    from lab.ui.shell import PAGES as LAB_PAGES

    return [info.url for info in LAB_PAGES if info.url not in PAGES]


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
