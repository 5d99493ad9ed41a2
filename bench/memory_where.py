"""Where a server's memory goes over distinct formulas: the lab's cached calls in this
process, then each cache dropped in turn, RSS read after every step.

    python -m bench.memory_where --formulas 3000

No server and no websocket: the playground's cached work (``cached.gradient_run`` and
the plot's ``views.curve_figure``) runs for ``--formulas`` distinct formulas of
``bench.memory`` at 10,000 elements, each call in a new thread as Streamlit runs every
script run in one. Then glibc's ``malloc_trim`` alone (what the allocator kept of the
memory already freed), and one after another Streamlit's st.cache_data entries cleared,
its st.cache_resource entries, the lab's lru caches (lab/symbolic.py) and sympy's own
cache, each followed by a collection and a trim: the RSS a step gives back is what that
part held. What remains is torch, sympy, plotly and Streamlit themselves and the
allocator's fragmentation. ``--arenas N`` caps glibc's arenas first (``mallopt``; the server does not: it gave no
lower RSS).
"""

from __future__ import annotations

import argparse
import ctypes
import gc
import logging
import sys
import threading
import time

import psutil

from bench.common import machine, save
from bench.memory import distinct_formula


def rss() -> float:
    return round(psutil.Process().memory_info().rss / 2**20, 1)


def run(formulas: int = 3000, arenas: int = 0, out: str | None = "memory-where",
        quiet: bool = False) -> dict:
    logging.getLogger("streamlit").setLevel(logging.ERROR)     # "no runtime" warnings
    libc = ctypes.CDLL("libc.so.6")
    if arenas:
        libc.mallopt(-8, arenas)                                # M_ARENA_MAX
    steps = [("python + streamlit", rss())]
    import sympy
    import torch  # noqa: F401

    from lab import derivation, formula, second, symbolic
    from lab.gradients import XSpec
    from lab.palette import SCREEN
    from lab.ui import cached, views
    steps.append(("imports: torch, sympy, plotly, the lab", rss()))
    spec = XSpec.arange(0, 1000, 0.1)
    started = time.perf_counter()

    def one(k: int) -> None:
        result = cached.gradient_run(distinct_formula(k), spec, "mean", "float32", plot=True,
                                     graph=True)
        views.curve_figure(result.text, spec, "float32", "en", True, SCREEN,
                           _curve=result.curve)

    samples = []
    for k in range(formulas):
        thread = threading.Thread(target=one, args=(k,))
        thread.start()
        thread.join()
        if (k + 1) % 100 == 0:
            samples.append((k + 1, rss()))
            if not quiet and (k + 1) % 500 == 0:
                print(f"{k + 1:5} formulas: RSS {samples[-1][1]} MB", flush=True)
    steps.append((f"after {formulas} formulas", rss()))

    def step(name: str, drop) -> None:
        drop()
        gc.collect()
        libc.malloc_trim(0)           # so that what was freed leaves the RSS now
        steps.append((name, rss()))

    step("malloc_trim only: free memory the allocator kept", lambda: None)
    step("the runs' cache cleared (cached.gradient_run)", cached.gradient_run.clear)
    step("the figures' cache cleared (views.curve_figure)", views.curve_figure.clear)
    step("lab's lru caches cleared (symbolic, derivation, second, formula)",
         lambda: (symbolic.derivative_of_text.cache_clear(),
                  symbolic.per_element_derivatives.cache_clear(), symbolic._TIMED_OUT.clear(),
                  derivation._elementwise.cache_clear(), derivation._mixing.cache_clear(),
                  derivation.at_points.cache_clear(), second.second_of_text.cache_clear(),
                  formula._parse.cache_clear()))
    step("sympy's own cache cleared", sympy.core.cache.clear_cache)
    table = [{"step": name, "rss_mb": value,
              "change_mb": round(value - steps[i - 1][1], 1) if i else None}
             for i, (name, value) in enumerate(steps)]
    result = {"benchmark": "memory_where", "formulas": formulas, "arenas": arenas or "glibc",
              "machine_before": machine(), "seconds": round(time.perf_counter() - started),
              "steps": table, "rss_during_formulas": samples}
    if out:
        result["saved"] = str(save(out, result))
    if not quiet:
        for row in table:
            print(f"{row['rss_mb']:8.1f} MB {row['change_mb'] or '':>8}  {row['step']}")
    return result


def main(argv=None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--formulas", type=int, default=3000)
    parser.add_argument("--arenas", type=int, default=0, help="cap glibc's arenas (0: no)")
    parser.add_argument("--out", default="memory-where")
    args = parser.parse_args(argv)
    run(args.formulas, args.arenas, args.out)
    return 0


if __name__ == "__main__":
    sys.exit(main())
