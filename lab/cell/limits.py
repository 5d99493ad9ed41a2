"""What one run of a cell may use, and the counters that enforce it.

Every limit is checked *before* the work it guards: a tensor's number of elements is
known from shapes before PyTorch allocates it, an integer's size from its operands'
before Python multiplies them, a list's length from its parts' before it is built. The
run stops with ``Stopped`` (kind "limit") at the first limit it would cross.
"""

from __future__ import annotations

import collections
import contextlib
import math
import threading
import time
import warnings
from collections.abc import Callable
from dataclasses import dataclass

import torch

from lab import glosses
from lab.i18n import Message, Typed


@dataclass(frozen=True)
class Limits:
    """The bounds of one run (smaller values are fine, e.g. in tests)."""

    max_chars: int = 5_000            # characters of source
    max_lines: int = 200              # lines of source
    max_depth: int = 40               # nesting of the syntax tree
    max_steps: int = 20_000           # statements executed plus loop iterations
    max_elements: int = 10_000        # elements of any one tensor
    max_produced: int = 2_000_000     # elements produced over the run (tensors, list items,
    #                                   characters / 8, gradients computed by backward)
    max_int_bits: int = 4_096         # bits of a Python integer
    max_items: int = 10_000           # items of one list or tuple
    max_string: int = 100_000         # characters of one string
    max_output: int = 100_000         # characters printed over the run
    max_format: int = 1_000           # width and precision in a format spec
    max_graph_nodes: int = 5_000      # autograd nodes behind one backward()/grad()/make_dot
    # nodes make_dot may draw: torchviz walks the graph recursively (a few thousand nodes
    # reach Python's recursion limit), and a drawing of more is unreadable anyway
    max_drawn_nodes: int = 500
    max_nesting: int = 100            # lists inside lists, when printed or compared
    seconds: float = 2.0              # wall clock for the whole run


class Refused(Exception):
    """Something the cell does not allow (kind "refused")."""

    def __init__(self, message: Message):
        super().__init__(message.key)
        self.message = message


class Stopped(Exception):
    """A limit the run would cross (kind "limit")."""

    def __init__(self, message: Message):
        super().__init__(message.key)
        self.message = message


# warnings.catch_warnings swaps process-wide state: cells capture under one lock.
WARNINGS = threading.RLock()
# What CPython's default filters hide when a library (not __main__) warns.
HIDDEN_WARNINGS = (DeprecationWarning, PendingDeprecationWarning, ImportWarning,
                   ResourceWarning)
CHARS_PER_ELEMENT = 8                  # a string's characters charged as one element each 8


def span(shape) -> int:
    """Elements a shape stands for, a dimension of size 0 counted as 1.

    ``torch.zeros(0, 10**9)`` holds no element, but a reduction or a broadcast over it
    could make 10**9: the limit counts what its dimensions could become.
    """
    return math.prod(max(int(d), 1) for d in shape)


class Abandoned(Exception):
    """Whoever asked for the run has gone (a closed browser): it stops, with no result."""


ABANDON_EVERY = 64                     # steps between two asks whether the run is wanted


class Budget:
    """The counters of one run, each checked before the work it pays for."""

    def __init__(self, limits: Limits, abandon: Callable[[], bool] | None = None):
        self.limits = limits
        self.abandon = abandon
        self.deadline = time.monotonic() + limits.seconds
        self.steps = 0
        self.produced = 0
        self.output = 0

    # ---- time and steps ----------------------------------------------------------------

    def check_time(self) -> None:
        if time.monotonic() > self.deadline:
            raise Stopped(Message("cell.timeout", seconds=f"{self.limits.seconds:g}"))

    def step(self) -> None:
        """One statement or loop iteration."""
        self.steps += 1
        if self.steps > self.limits.max_steps:
            raise Stopped(Message("cell.too_many_steps", limit=self.limits.max_steps))
        self.check_time()
        if self.abandon is not None and self.steps % ABANDON_EVERY == 0 and self.abandon():
            raise Abandoned()

    def extend(self, seconds: float) -> None:
        """Give back time the process spent on a one-time start-up, not on this program."""
        self.deadline += seconds

    # ---- sizes ---------------------------------------------------------------------------

    def charge(self, elements: int) -> None:
        """Elements produced, counted against the whole run's budget."""
        self.produced += max(int(elements), 0)
        if self.produced > self.limits.max_produced:
            raise Stopped(Message("cell.too_much_work", limit=self.limits.max_produced))

    def tensor(self, shape_or_elements) -> None:
        """A tensor about to be made: its elements (``span`` of its shape) and their cost."""
        elements = (shape_or_elements if isinstance(shape_or_elements, int)
                    else span(shape_or_elements))
        if elements > self.limits.max_elements:
            raise Stopped(Message("cell.tensor_too_big", elements=elements,
                                  limit=self.limits.max_elements))
        self.charge(elements)

    def sequence(self, length: int, kind: str) -> None:
        """A list, tuple (``kind`` "list"/"tuple") or string ("str") about to be made."""
        limit = self.limits.max_string if kind == "str" else self.limits.max_items
        if length > limit:
            raise Stopped(Message("cell.sequence_too_long", kind=kind, length=length,
                                  limit=limit))
        self.charge(length // CHARS_PER_ELEMENT if kind == "str" else length)

    def int_bits(self, bits: int) -> None:
        if bits > self.limits.max_int_bits:
            raise Stopped(Message("cell.int_too_big", bits=bits, limit=self.limits.max_int_bits))

    def printed(self, characters: int) -> None:
        self.output += characters
        if self.output > self.limits.max_output:
            raise Stopped(Message("cell.output_too_long", limit=self.limits.max_output))

    def format_width(self, spec: str, width: int) -> None:
        if width > self.limits.max_format:
            raise Stopped(Message("cell.format_too_wide", spec=Typed(spec), width=width,
                                  limit=self.limits.max_format))

    # ---- containers and graphs -------------------------------------------------------------

    def weigh(self, value, cap: int | None = None, tensors: bool = True) -> int:
        """How many items a repr or a comparison of ``value`` would visit, lists within lists
        counted each time they appear; past ``cap`` items (characters of strings included)
        the run stops.

        ``tensors=False`` refuses a tensor inside a container (comparing two lists would
        compare their tensors with broadcasting, out of sight of the size checks).
        """
        cap = self.limits.max_output if cap is None else cap
        total = 0
        frames, path, ids = [iter((value,))], [], set()
        while frames:
            item = next(frames[-1], _END)
            if item is _END:
                frames.pop()
                if path:
                    ids.discard(path.pop())
                continue
            total += 1 + (len(item) if isinstance(item, str) else 0)
            if total > cap:
                raise Stopped(Message("cell.too_big_to_show", limit=cap))
            if isinstance(item, torch.Tensor) and not tensors and item is not value:
                raise Refused(Message("cell.compare_containers"))
            if isinstance(item, (list, tuple, dict)) and id(item) not in ids:
                if len(frames) > self.limits.max_nesting:
                    raise Stopped(Message("cell.too_nested", limit=self.limits.max_nesting))
                path.append(id(item))
                ids.add(id(item))
                frames.append(iter(item.values() if isinstance(item, dict) else item))
        return total

    def graph(self, roots) -> list:
        """The autograd nodes reachable from ``roots`` (grad_fn objects or None), each once,
        in breadth-first order; past ``max_graph_nodes`` the run stops. The gradients a
        backward pass through them computes are charged to the budget."""
        seen, order = set(), []
        queue = collections.deque(node for node in roots if node is not None)
        cost = 0
        while queue:
            node = queue.popleft()
            if id(node) in seen:
                continue
            seen.add(id(node))
            order.append(node)
            if len(order) > self.limits.max_graph_nodes:
                raise Stopped(Message("cell.graph_too_big", limit=self.limits.max_graph_nodes))
            cost += sum(span(meta.shape) for meta in node._input_metadata)
            queue.extend(child for child, _ in node.next_functions if child is not None)
        self.check_time()
        self.charge(cost)
        return order


_END = object()


@contextlib.contextmanager
def captured_warnings(into: list[str]):
    """Record the warnings raised inside (their message, once each) instead of printing
    them; the ones a plain Python run would not show either are left out."""
    with WARNINGS, warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always")
        try:
            yield
        finally:
            for warning in caught:
                text = glosses.shown(str(warning.message))
                if not issubclass(warning.category, HIDDEN_WARNINGS) and text not in into:
                    into.append(text)
