"""Heavy work, told from its input before it runs, and rationed for the whole server.

A result the caches do not hold is computed by the first run that asks for it
(``lab.ui.cached``). When the input says the work is heavy (a formula of many operations on
many elements, a program with long loops: ``heavy_formula``, ``heavy_program``), the run
does it on the server's heavy lane (``FairLanes.heavy_work``, installed at start): it gives the
light lane up, so the class's runs go on, and heavy work from every session queues on one
lane that, while the class works, runs at most a set share of the time. Rationing the work
rather than the session means a client cannot dodge it by opening a new session for each
request. Work whose client has gone is stopped (``client_gone``).
"""

from __future__ import annotations

import ast
import contextlib
import math
from typing import Iterator

from lab.xvalues import XSpec

HEAVY_WORK = 60_000          # operations × elements of x above which a formula's run is heavy
HEAVY_STEPS = 2_000          # statements a program's loops may run before it is heavy
UNKNOWN_LOOP = 100           # iterations assumed of a loop whose length the text does not say

_lanes = None                # the server's FairLanes, once installed at its start


def install(lanes) -> None:
    global _lanes
    _lanes = lanes


@contextlib.contextmanager
def heavy() -> Iterator[None]:
    """Run the body on the heavy lane (as it is, outside a server with lanes)."""
    if _lanes is None:
        yield
        return
    with _lanes.heavy_work():
        yield


def step_aside() -> None:
    """Give the light lane up while this run waits for work another run is doing."""
    if _lanes is not None:
        _lanes.step_aside()


def heavy_formula(text: str, x_spec: XSpec) -> bool:
    """A formula's run is heavy when its operations times x's elements pass ``HEAVY_WORK``
    (the symbolic and numeric checks and the plot grow with both)."""
    operations = sum(text.count(symbol) for symbol in "+-*/(") + 1
    return operations * _elements(x_spec) >= HEAVY_WORK


def _elements(x_spec: XSpec) -> int:
    """How many elements x would have (the run itself refuses a bad range)."""
    if x_spec.values is not None:
        return len(x_spec.values)
    try:
        return max(0, math.ceil((x_spec.stop - x_spec.start) / x_spec.step))
    except (ZeroDivisionError, OverflowError, ValueError):
        return 0


def heavy_program(source: str) -> bool:
    """A program is heavy when its loops would run more than ``HEAVY_STEPS`` statements:
    ``range(N)`` with N written in the text counts N iterations, any other loop
    ``UNKNOWN_LOOP``; loops inside loops multiply. A program that does not parse is light
    (the cell refuses it at once)."""
    try:
        tree = ast.parse(source)
    except (SyntaxError, ValueError, RecursionError, MemoryError):
        return False
    return _steps(tree.body, 1) > HEAVY_STEPS


def _steps(body: list[ast.stmt], times: int) -> int:
    total = 0
    for statement in body:
        total += times
        if isinstance(statement, ast.For):
            total += _steps(statement.body, times * _iterations(statement.iter))
        elif isinstance(statement, (ast.If, ast.With)):
            total += _steps(statement.body, times) + _steps(getattr(statement, "orelse", []),
                                                            times)
        if total > HEAVY_STEPS:
            break
    return total


def _iterations(iterable: ast.expr) -> int:
    if (isinstance(iterable, ast.Call) and isinstance(iterable.func, ast.Name)
            and iterable.func.id == "range" and iterable.args):
        bounds = [arg.value for arg in iterable.args
                  if isinstance(arg, ast.Constant) and isinstance(arg.value, int)]
        if len(bounds) == len(iterable.args):
            start, stop = (0, bounds[0]) if len(bounds) == 1 else bounds[:2]
            step = bounds[2] if len(bounds) == 3 and bounds[2] else 1
            return max(0, min((stop - start) // step, 10 ** 6))
    return UNKNOWN_LOOP


def client_gone() -> bool:
    """Whether the session this run belongs to has been shut down (its browser closed or
    its socket dropped): Streamlit has asked its script to stop."""
    from streamlit.runtime.scriptrunner_utils.script_requests import ScriptRequestType
    from streamlit.runtime.scriptrunner_utils.script_run_context import get_script_run_ctx

    ctx = get_script_run_ctx(suppress_warning=True)
    requests = getattr(ctx, "script_requests", None)
    return getattr(requests, "_state", None) == ScriptRequestType.STOP
