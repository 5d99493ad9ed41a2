"""Results shared by every session, bounded in bytes; figures shared by every session.

``memo(max_bytes)`` caches a function of plain, hashable arguments: each result is kept
pickled (what it costs in memory is its pickled size, counted exactly; a cached copy is as
good as a fresh run because results hold plain data only), least recently used first out
once the total passes ``max_bytes``. A result larger than a quarter of the budget is
returned but not kept. Two runs that ask for the same missing result at once compute it
once: the second waits for the first. On a miss, ``heavy(*args)`` says whether the work is
heavy (lab.ui.lanes), and then it runs on the server's heavy lane.

``shared(max_entries)`` keeps what a function makes (a plot's figure dict, never changed once
made) as it is, for every session, at most ``max_entries`` of them.
"""

from __future__ import annotations

import functools
import pickle
import threading
from collections import OrderedDict
from contextlib import nullcontext
from typing import Callable

from lab.ui import lanes

MEMOS: list["Memo"] = []        # every cache, for the memory benchmark and the tests


class Memo:
    def __init__(self, func: Callable, max_bytes: int, heavy: Callable[..., bool] | None):
        self.func = func
        self.max_bytes = max_bytes
        self.heavy = heavy
        self.entries: OrderedDict[tuple, bytes] = OrderedDict()
        self.bytes = 0
        self.lock = threading.Lock()
        self.pending: dict[tuple, threading.Event] = {}
        functools.update_wrapper(self, func)

    def __call__(self, *args, **kwargs):
        key = (args, tuple(sorted(kwargs.items())))
        while True:
            with self.lock:
                data = self.entries.get(key)
                if data is not None:
                    self.entries.move_to_end(key)
                    return pickle.loads(data)
                waiting = self.pending.get(key)
                if waiting is None:
                    self.pending[key] = threading.Event()
                    break
            lanes.step_aside()         # another run computes it: wait without the light lane,
            waiting.wait()             # then read it (or compute it, if that run failed)
        try:
            heavy = self.heavy is not None and self.heavy(*args, **kwargs)
            with lanes.heavy() if heavy else nullcontext():
                value = self.func(*args, **kwargs)
            self._keep(key, pickle.dumps(value, protocol=pickle.HIGHEST_PROTOCOL))
            return value
        finally:
            with self.lock:
                self.pending.pop(key).set()

    def _keep(self, key: tuple, data: bytes) -> None:
        if len(data) > self.max_bytes // 4:
            return
        with self.lock:
            self.entries[key] = data
            self.bytes += len(data)
            while self.bytes > self.max_bytes:
                _, dropped = self.entries.popitem(last=False)
                self.bytes -= len(dropped)

    def clear(self) -> None:
        with self.lock:
            self.entries.clear()
            self.bytes = 0


def memo(max_bytes: int, heavy: Callable[..., bool] | None = None):
    def decorate(func: Callable) -> Memo:
        cache = Memo(func, max_bytes, heavy)
        MEMOS.append(cache)
        return cache
    return decorate


class Shared:
    """What ``func`` made for each input, as it is: shared by every session, never changed
    once made (a plot's figure dict: a marker is added to a copy), least recently used first
    out past ``max_entries``.

    The key is the arguments themselves (strings, numbers, frozen dataclasses: hashable);
    an argument whose name starts with "_" follows from the others, is passed by keyword
    and is not part of the key. ``st.cache_resource`` hashed each argument its own way on
    every call, ~0.5 ms for one with a dataclass (two figures: a tenth of page 9's run).
    Two runs missing the same figure at once may both make it; the figures are equal.
    """

    def __init__(self, func: Callable, max_entries: int):
        self.func = func
        self.max_entries = max_entries
        self.entries: OrderedDict[tuple, object] = OrderedDict()
        self.lock = threading.Lock()
        functools.update_wrapper(self, func)

    def __call__(self, *args, **kwargs):
        key = (args, tuple(sorted((name, value) for name, value in kwargs.items()
                                  if not name.startswith("_"))))
        with self.lock:
            if key in self.entries:
                self.entries.move_to_end(key)
                return self.entries[key]
        value = self.func(*args, **kwargs)
        with self.lock:
            self.entries[key] = value
            while len(self.entries) > self.max_entries:
                self.entries.popitem(last=False)
        return value

    def clear(self) -> None:
        with self.lock:
            self.entries.clear()


def shared(max_entries: int):
    def decorate(func: Callable) -> Shared:
        return Shared(func, max_entries)
    return decorate
