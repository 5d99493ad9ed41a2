"""Memory per session and leaks: RSS with 10, 50, 150 open sessions, over 2,000 reruns,
then over 3,000 distinct playground formulas.

    python -m bench.memory
    python -m bench.memory --sessions --reruns 0 --formulas 3000      # the formulas only
    python -m bench.memory --sessions --reruns 0 --formulas 3000 --mix   # over five views

After the instructor's warm-up (every page opened once), sessions open one after
another, spread over every page and state of bench/scenarios.py, and stay connected;
the server's RSS is read (psutil) once 10, 50 and 150 are open, after a short settle.
Per-session memory is the slope between 10 and 150. Then ``--reruns`` widget changes
run round-robin over the first 20 sessions while RSS is sampled every 100 reruns: the
least-squares slope over the second half says whether memory keeps growing (MB per
1,000 reruns). Then one more session opens the playground at 10,000 elements and submits
``--formulas`` distinct formulas (``distinct_formula``: four families with varying
constants, every 20th one of the costliest), RSS sampled every 100: what caches, sympy and
the allocator keep as a class types formula after formula. Last, every session closes and
RSS is read again. ``rss_mb.peak`` is the highest sample of the whole run.
"""

from __future__ import annotations

import argparse
import os
import sys
import time
from urllib.parse import urlencode

from bench.common import PROFILES, machine, save, slope
from bench.protocol import ProtocolError, Session
from bench.scenarios import (NOISY, SCENARIOS, TWENTY_VALUES, costliest_formula,
                             costliest_program, warm_up)
from bench.server import Server


def settle_rss(server: Server, seconds: float = 2.0) -> float:
    time.sleep(seconds)
    return round(server.rss_mb(), 1)


TEMPLATES = ("sin({a}*x)*exp(x/{b}) + 1/(x+{c})", "tanh({a}*x - {b})**2 + x/{c}",
             "sigmoid(x*{a})*cos(x+{b}) - {c}*x**2", "log(x**2 + {a})*sin(x/{b}) + {c}")


def distinct_formula(k: int) -> str:
    """The k-th of a stream of distinct formulas (see the module docstring)."""
    if k % 20 == 19:
        return costliest_formula(k)
    a, b, c = k % 7 + 1, k // 7 % 11 + 2, k // 77 + 1
    return TEMPLATES[k % len(TEMPLATES)].format(a=a, b=b, c=c)


def submit_formulas(server: Server, count: int, sample_every: int, failures: list,
                    quiet: bool) -> list[tuple[int, float]]:
    samples = []
    with Session(server.base, NOISY.page, NOISY.query_string, timeout=120) as session:
        session.open()
        for k in range(count):
            run_ = session.set(NOISY.key, distinct_formula(k))
            if not run_.ok:
                failures.append(f"formula {k}: {run_.exceptions[:1]}")
            if (k + 1) % sample_every == 0:
                samples.append((k + 1, round(server.rss_mb(), 1)))
                if not quiet and (k + 1) % (sample_every * 5) == 0:
                    print(f"{k + 1:5} formulas: RSS {samples[-1][1]} MB", flush=True)
    return samples


# --mix: each distinct input goes to one of these in turn, as a class spreads over the lab.
# (page, query, widget, the k-th distinct value)
MIX = (
    ("playground", NOISY.query, "f", distinct_formula),
    ("inside_backward", {"comp": "formula", "xs": TWENTY_VALUES}, "f", distinct_formula),
    ("learning", {"reveal": "true"}, "steps", lambda k: 1 + k % 200),
    ("code", {}, "program", lambda k: costliest_program(k) if k % 20 == 19 else (
        "import torch\nx = torch.linspace(-2, 2, 200, requires_grad=True)\n"
        f"y = (torch.sin(x * {1 + k / 1000}) * x).sum()\ny.backward()\nprint(x.grad[:3])\n")),
    # page 7 stepping through a program: its trace and a step's drawing are cached too
    ("inside_backward", {"comp": "program"}, "program", lambda k: (
        "import torch\nw = torch.tensor(2.0, requires_grad=True)\n"
        "b = torch.tensor(-1.0, requires_grad=True)\nx = torch.linspace(0, 1, 20)\n"
        f"y = torch.sigmoid(w * x + b * {1 + k / 1000}).mean()\ny.backward()\n")),
)


def submit_mix(server: Server, count: int, sample_every: int, failures: list,
               quiet: bool) -> list[tuple[int, float]]:
    """``count`` distinct inputs spread over ``MIX``: formulas on the playground and inside
    backward(), training runs on the learning page, programs in the cell and stepped on page
    7. Each page's k-th
    input is the k-th of its stream (the learning page's w0 moves on every 200)."""
    samples, sessions = [], []
    try:
        for page, query, _, _ in MIX:
            session = Session(server.base, page, urlencode(query), timeout=120)
            session.connect()
            session.open()
            sessions.append(session)
        for k in range(count):
            page, _, key, value = MIX[k % len(MIX)]
            session = sessions[k % len(MIX)]
            j = k // len(MIX)
            if page == "learning" and j % 200 == 0:
                session.set("w0", -5.0 + 0.5 * (j // 200 % 21))
            run_ = session.set(key, value(j))
            if not run_.ok:
                failures.append(f"{page} {k}: {run_.exceptions[:1]}")
            if (k + 1) % sample_every == 0:
                samples.append((k + 1, round(server.rss_mb(), 1)))
                if not quiet and (k + 1) % (sample_every * 5) == 0:
                    print(f"{k + 1:5} inputs: RSS {samples[-1][1]} MB", flush=True)
    finally:
        for session in sessions:
            session.close()
    return samples


def run(milestones=(10, 50, 150), reruns: int = 2000, sample_every: int = 100,
        profile: str = "config", root: str | None = None, out: str | None = "memory",
        quiet: bool = False, settle: float = 2.0, formulas: int = 3000,
        env: dict | None = None, mix: bool = False) -> dict:
    context = machine()
    sessions: list[tuple[Session, object]] = []
    failures: list[str] = []
    rss_at: dict[int, float] = {}
    samples: list[tuple[int, float]] = []
    formula_samples: list[tuple[int, float]] = []
    with Server(options=PROFILES[profile], root=root, env=env) as server:
        rss_start = server.rss_mb()
        failures += warm_up(server.base)
        rss_at[0] = settle_rss(server, settle)
        try:
            for target in milestones:
                while len(sessions) < target:
                    scenario = SCENARIOS[len(sessions) % len(SCENARIOS)]
                    session = Session(server.base, scenario.page, scenario.query_string)
                    session.connect()
                    run_ = session.open()
                    if not run_.ok:
                        failures.append(f"open {scenario.name}: {run_.exceptions[:1]}")
                    sessions.append((session, scenario))
                rss_at[target] = settle_rss(server, settle)
                if not quiet:
                    print(f"{target:4} sessions: RSS {rss_at[target]} MB", flush=True)
            active = sessions[:20]
            cpu_before = server.cpu_seconds()
            for i in range(reruns if active else 0):
                session, scenario = active[i % len(active)]
                run_ = session.move(scenario, i // len(active))
                if not run_.ok:
                    failures.append(f"rerun {scenario.name}: {run_.exceptions[:1]}")
                if (i + 1) % sample_every == 0:
                    samples.append((i + 1, round(server.rss_mb(), 1)))
            cpu_ms = (server.cpu_seconds() - cpu_before) / max(reruns, 1) * 1000
            if formulas:
                submit = submit_mix if mix else submit_formulas
                formula_samples = submit(server, formulas, sample_every, failures, quiet)
        except (ProtocolError, OSError) as problem:
            failures.append(f"{type(problem).__name__}: {problem}")
            cpu_ms = None
        finally:
            for session, _ in sessions:
                session.close()
        rss_closed = settle_rss(server, max(settle, 5.0))
    half = [s for s in samples if s[0] > reruns / 2]
    loadavg_after = [round(v, 2) for v in os.getloadavg()]
    late_slope = slope([s[0] for s in half], [s[1] for s in half])
    first, last = (milestones[0], milestones[-1]) if milestones else (0, 0)
    per_session = ((rss_at[last] - rss_at[first]) / (last - first)
                   if last in rss_at and first in rss_at and last > first else None)
    every = [rss for _, rss in samples + formula_samples] + list(rss_at.values())
    result = {
        "benchmark": "memory", "profile": profile, "machine_before": context,
        "lab_root": str(root or "."), "lab_env": env or {},
        "rss_mb": {"server_started": round(rss_start, 1), "after_warm_up": rss_at[0],
                   **{f"{n}_sessions": rss_at[n] for n in milestones if n in rss_at},
                   "after_formulas": formula_samples[-1][1] if formula_samples else None,
                   "peak": max(every + [rss_closed]),
                   "after_closing_all": rss_closed},
        "formulas": formulas, "mix": [page for page, *_ in MIX] if mix else ["playground"],
        "rss_during_formulas": formula_samples,
        "formula_examples": [distinct_formula(k) for k in range(4)] + [distinct_formula(19)],
        "mb_per_session": round(per_session, 2) if per_session is not None else None,
        "reruns": reruns, "rerun_cpu_ms": round(cpu_ms, 1) if cpu_ms else None,
        "rss_during_reruns": samples,
        "slope_mb_per_1000_reruns_second_half": (round(late_slope * 1000, 2)
                                                 if late_slope is not None else None),
        "growth_over_reruns_mb": (round(samples[-1][1] - samples[0][1], 1)
                                  if len(samples) > 1 else None),
        "failures": len(failures), "failure_examples": failures[:10],
        "loadavg_after": loadavg_after,
    }
    if out:
        result["saved"] = str(save(out, result))
    if not quiet:
        print(f"MB per session {result['mb_per_session']}; over {reruns} reruns slope "
              f"{result['slope_mb_per_1000_reruns_second_half']} MB/1000 (second half), "
              f"growth {result['growth_over_reruns_mb']} MB; after {formulas} formulas "
              f"{result['rss_mb']['after_formulas']} MB, peak {result['rss_mb']['peak']} MB; "
              f"after closing "
              f"{rss_closed} MB; failures {len(failures)} {result.get('saved', '')}")
    return result


def main(argv=None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--sessions", type=int, nargs="*", default=[10, 50, 150])
    parser.add_argument("--reruns", type=int, default=2000)
    parser.add_argument("--formulas", type=int, default=3000,
                        help="distinct playground formulas at 10,000 elements (0: none)")
    parser.add_argument("--env", nargs="+", default=(), metavar="NAME=VALUE",
                        help="environment of the lab's server, e.g. LAB_MALLOC=0")
    parser.add_argument("--profile", choices=sorted(PROFILES), default="config")
    parser.add_argument("--root", help="run the lab from this copy of the project")
    parser.add_argument("--mix", action="store_true",
                        help="the distinct inputs spread over the playground, inside "
                             "backward(), the learning page and the cell (MIX)")
    parser.add_argument("--out", default="memory")
    args = parser.parse_args(argv)
    result = run(tuple(args.sessions), args.reruns,
                 max(1, min(100, max(args.reruns, args.formulas) // 4)), args.profile,
                 args.root, args.out, formulas=args.formulas,
                 env=dict(pair.split("=", 1) for pair in args.env), mix=args.mix)
    return 1 if result["failures"] else 0


if __name__ == "__main__":
    sys.exit(main())
