"""Heavy work told from its input, rationed for the whole server; caches bounded in bytes;
work for a browser that has gone, stopped."""

from __future__ import annotations

import threading
import time
from types import SimpleNamespace

import pytest

from bench.scenarios import costliest_formula, costliest_program
from lab.cell import Abandoned, run_program
from lab.cell.examples import EXAMPLES, TENSORS
from lab.ui import lanes
from lab.ui.memo import Memo, Shared
from lab.ui.process import FairLanes
from lab.xvalues import XSpec

pytestmark = pytest.mark.quick


# ---- what is heavy, from the input alone -------------------------------------------------------

def test_the_costliest_inputs_are_heavy_and_a_lesson_s_are_light():
    assert lanes.heavy_formula(costliest_formula(7), XSpec.arange(0, 1000, 0.1))
    assert lanes.heavy_program(costliest_program(7))
    assert not lanes.heavy_formula("sin(x)*exp(x) + 1/(x+2)", XSpec.arange(1, 6))
    assert not lanes.heavy_formula(costliest_formula(7), XSpec.arange(0, 20))
    assert not lanes.heavy_program(TENSORS)
    assert not any(lanes.heavy_program(program) for program in EXAMPLES.values())


def test_loops_count_their_iterations_and_multiply():
    loop = "for i in range({n}):\n    x = i\n"
    assert not lanes.heavy_program(loop.format(n=100))
    assert lanes.heavy_program(loop.format(n=5000))
    nested = "for i in range(60):\n    for j in range(60):\n        x = i\n"
    assert lanes.heavy_program(nested)                           # 3,600 statements
    assert lanes.heavy_program("for i in range(len(xs)):\n" + "    x = i\n" * 25)   # unknown: 100
    assert not lanes.heavy_program("for i in (")                  # refused by the cell at once


# ---- caches bounded in bytes -------------------------------------------------------------------

def test_a_memo_keeps_at_most_its_bytes_least_recent_out():
    calls = []
    cache = Memo(lambda n: calls.append(n) or "x" * n, max_bytes=10_000, heavy=None)
    for n in range(1000, 2000, 100):
        assert cache(n) == "x" * n
    assert cache.bytes <= 10_000 and len(cache.entries) < 10
    kept = [key[0][0] for key in cache.entries]
    assert kept == sorted(kept) and kept[-1] == 1900              # the newest stay
    calls.clear()
    assert cache(1900) == "x" * 1900 and calls == []              # a hit computes nothing
    assert cache(3000) == "x" * 3000 and cache.entries.get(((3000,), ())) is None  # > 1/4


def test_a_shared_figure_is_kept_by_its_arguments_alone_least_recent_out():
    calls = []

    def figure(text: str, palette: XSpec, _points: list) -> dict:
        calls.append(text)
        return {"text": text, "points": list(_points)}

    cache = Shared(figure, max_entries=3)
    first = cache("a", XSpec.arange(0, 3), _points=[1.0])
    assert cache("a", XSpec.arange(0, 3), _points=[2.0]) is first        # _points: not a key
    assert calls == ["a"]
    assert cache("a", XSpec.arange(0, 4), _points=[1.0]) is not first    # another argument
    for text in "bcd":
        cache(text, XSpec.arange(0, 3), _points=[])
    assert len(cache.entries) == 3 and calls == ["a", "a", "b", "c", "d"]
    cache("a", XSpec.arange(0, 3), _points=[])                           # it had gone out
    assert calls[-1] == "a"
    cache.clear()
    assert not cache.entries


def test_a_memo_computes_a_missing_result_once_for_runs_that_ask_together():
    started, calls = threading.Event(), []

    def slow(n):
        calls.append(n)
        started.set()
        time.sleep(0.2)
        return n * 2

    cache = Memo(slow, max_bytes=1_000_000, heavy=None)
    results = []
    first = threading.Thread(target=lambda: results.append(cache(21)))
    first.start()
    started.wait()
    second = threading.Thread(target=lambda: results.append(cache(21)))
    second.start()
    first.join(), second.join()
    assert results == [42, 42] and calls == [21]


def test_a_failure_is_not_kept():
    attempts = []

    def flaky(n):
        attempts.append(n)
        if len(attempts) == 1:
            raise RuntimeError("first")
        return n

    cache = Memo(flaky, max_bytes=1_000, heavy=None)
    with pytest.raises(RuntimeError):
        cache(1)
    assert cache(1) == 1 and attempts == [1, 1]


# ---- the heavy lane, whichever session asks ----------------------------------------------------

def test_heavy_work_leaves_the_light_lane_to_the_class():
    """A run whose input is heavy gives the light gate up: another session's light run
    finishes while the heavy work is still going; and a second heavy piece of work, from a
    new session, waits for the first (one lane for the whole server)."""
    fair = FairLanes(lambda func, ctx: func())
    lanes.install(fair)
    inside, release, order = threading.Event(), threading.Event(), []

    def heavy_page(name):
        def body():
            with lanes.heavy():
                order.append(f"{name} heavy starts")
                inside.set()
                release.wait(5)
                order.append(f"{name} heavy ends")
        return body

    def light_page():
        order.append("light ran")

    try:
        a = threading.Thread(target=fair.run, args=(heavy_page("a"), SimpleNamespace(session_id="a")))
        a.start()
        assert inside.wait(5)
        inside.clear()
        b = threading.Thread(target=fair.run, args=(heavy_page("b"), SimpleNamespace(session_id="b")))
        b.start()
        light = threading.Thread(target=fair.run, args=(light_page, SimpleNamespace(session_id="c")))
        light.start()
        light.join(5)
        assert order == ["a heavy starts", "light ran"]          # b waits for the lane
        release.set()
        a.join(5), b.join(5)
        assert order[2:] == ["a heavy ends", "b heavy starts", "b heavy ends"]
    finally:
        release.set()
        lanes.install(None)


# ---- a run whose browser has gone ---------------------------------------------------------------

def test_a_program_stops_when_its_browser_has_gone():
    program = "s = 0\nfor i in range(5000):\n    s = s + i\nprint(s)\n"
    assert run_program(program, abandon=lambda: False).stdout == "12497500\n"
    asked = []
    with pytest.raises(Abandoned):
        run_program(program, abandon=lambda: asked.append(1) or len(asked) > 3)
    assert len(asked) == 4


def test_outside_a_script_run_no_client_has_gone():
    assert lanes.client_gone() is False
