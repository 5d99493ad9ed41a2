"""Rerun cost per page, over Streamlit's real websocket, next to an empty one-slider page.

    python -m bench.rerun                       # the lab's settings (.streamlit/config.toml)
    python -m bench.rerun --profile defaults    # Streamlit's defaults, for the "before"

Two servers run side by side with the same settings: the lab and bench/baseline_page.py
(one slider). For every page and state (bench/scenarios.py) one session opens the page
from its URL, moves its widget through every value twice (warming caches and imports),
then reruns ``--repeat`` times, each page rerun interleaved with a baseline rerun, so both
medians share the machine's noise. A rerun is timed from the BackMsg sent to the
``script_finished`` received: script, serialisation, the loopback socket and protobuf
parsing. The server's CPU per rerun is its process CPU time over the measured loop
(post-script GC included) divided by the reruns.
"""

from __future__ import annotations

import argparse
import statistics
import sys
import time

from bench.common import PROFILES, machine, save, summary_ms
from bench.protocol import Session
from bench.scenarios import BASELINE, SCENARIOS, check_coverage
from bench.server import BASELINE as BASELINE_SCRIPT
from bench.server import Server

GOAL_RATIO = 3.0
GOAL_FULL_CPU = 3.0          # a whole rerun's server CPU, against the empty page's
GOAL_SLIDER_CPU = 2.0        # a slider move's


def cpu_over(server: Server, action) -> tuple[float, object]:
    before = server.cpu_seconds()
    result = action()
    return server.cpu_seconds() - before, result


def measure(scenario, lab: Server, base: Server, baseline: Session, repeat: int) -> dict:
    started = time.perf_counter()
    with Session(lab.base, scenario.page, scenario.query_string) as session:
        first = session.open()
        failures = [] if first.ok else [f"first load: {first.status} {first.exceptions}"]
        if scenario.expect and not any(scenario.expect in text for text in session.texts):
            failures.append(f"the URL's state did not take: {scenario.expect!r} not shown")
        for step in range(2 * max(len(scenario.values), 2)):   # warm: imports and caches
            session.move(scenario, step)
        page_runs, base_runs, page_cpu, base_cpu = [], [], 0.0, 0.0
        for i in range(repeat):
            cpu, run = cpu_over(base, lambda: baseline.set(BASELINE.key,
                                                           BASELINE.values[i % 4]))
            base_cpu += cpu
            base_runs.append(run)
            cpu, run = cpu_over(lab, lambda: session.move(scenario, i))
            page_cpu += cpu
            page_runs.append(run)
        # A whole rerun of the page (a reload of its script, no widget moved), against the
        # baseline page's whole rerun.
        full_runs, full_cpu, base_full_cpu = [], 0.0, 0.0
        for i in range(repeat):
            cpu, _ = cpu_over(base, baseline.rerun)
            base_full_cpu += cpu
            cpu, run = cpu_over(lab, session.rerun)
            full_cpu += cpu
            full_runs.append(run)
        failures += [f"rerun: {r.status} {r.exceptions}" for r in page_runs + full_runs
                     if not r.ok]
    page_ms = statistics.median(r.seconds for r in page_runs) * 1000
    base_ms = statistics.median(r.seconds for r in base_runs) * 1000
    return {
        "scenario": scenario.name, "page": scenario.page or "home", "state": scenario.state,
        "widget": scenario.key or session.auto[0], "first_load_ms": round(first.seconds * 1000, 1),
        "rerun_ms": summary_ms(r.seconds for r in page_runs),
        "baseline_ms": summary_ms(r.seconds for r in base_runs),
        "ratio": round(page_ms / base_ms, 2),
        "cpu_ms_per_rerun": round(page_cpu / repeat * 1000, 1),
        "baseline_cpu_ms_per_rerun": round(base_cpu / repeat * 1000, 1),
        "slider_cpu_ratio": round(page_cpu / base_cpu, 2) if base_cpu else None,
        "full_rerun_ms": summary_ms(r.seconds for r in full_runs),
        "full_cpu_ms_per_rerun": round(full_cpu / repeat * 1000, 1),
        "baseline_full_cpu_ms_per_rerun": round(base_full_cpu / repeat * 1000, 1),
        "full_cpu_ratio": round(full_cpu / base_full_cpu, 2) if base_full_cpu else None,
        "messages_per_rerun": page_runs[-1].messages, "bytes_per_rerun": page_runs[-1].bytes,
        "failures": failures, "seconds": round(time.perf_counter() - started, 1),
    }


def run(profile: str = "config", repeat: int = 15, pages: list[str] | None = None,
        out: str | None = None, quiet: bool = False, root: str | None = None,
        nodelay: bool = True) -> dict:
    options = PROFILES[profile]
    env = {} if nodelay else {"LAB_TCP_NODELAY": "0"}
    chosen = [s for s in SCENARIOS if not pages or (s.page or "home") in pages]
    context = machine()
    rows = []
    with Server(options=options, env=env, root=root) as lab, \
            Server(BASELINE_SCRIPT, options=options, env=env) as base:
        with Session(base.base) as baseline:
            baseline.open()
            for scenario in chosen:
                row = measure(scenario, lab, base, baseline, repeat)
                rows.append(row)
                if not quiet:
                    print(f"{row['scenario']:26} rerun p50 {row['rerun_ms']['p50']:7.1f} ms"
                          f"  baseline {row['baseline_ms']['p50']:6.1f} ms"
                          f" cpu {row['baseline_cpu_ms_per_rerun']:4.1f}  ratio "
                          f"{row['ratio']:5.2f}  cpu {row['cpu_ms_per_rerun']:6.1f} ms"
                          f" ({row['slider_cpu_ratio']}x)  full cpu "
                          f"{row['full_cpu_ms_per_rerun']:6.1f} ms ({row['full_cpu_ratio']}x)"
                          f"  first {row['first_load_ms']:7.1f} ms"
                          f"{'  FAIL ' + '; '.join(row['failures']) if row['failures'] else ''}",
                          flush=True)
        idle = lab.cpu_seconds()
        time.sleep(1.0)
        idle_cpu_ms = (lab.cpu_seconds() - idle) * 1000
        rss = lab.rss_mb()
    defaults = [r for r in rows if r["state"] == "default"]
    result = {
        "benchmark": "rerun", "profile": profile, "options": options, "repeat": repeat,
        "lab_root": str(root or "."), "tcp_nodelay": nodelay,
        "machine_before": context, "loadavg_after": machine()["loadavg"],
        "server_idle_cpu_ms_per_s": round(idle_cpu_ms, 1), "server_rss_mb": round(rss),
        "uncovered_pages": check_coverage(), "scenarios": rows,
        "goal": {"default_ratio_at_most": GOAL_RATIO,
                 "worst_default_ratio": max((r["ratio"] for r in defaults), default=None),
                 "met": all(r["ratio"] <= GOAL_RATIO for r in defaults),
                 "full_cpu_ratio_at_most": GOAL_FULL_CPU,
                 "worst_full_cpu_ratio": max((r["full_cpu_ratio"] or 0 for r in defaults),
                                             default=None),
                 "slider_cpu_ratio_at_most": GOAL_SLIDER_CPU,
                 "worst_slider_cpu_ratio": max((r["slider_cpu_ratio"] or 0 for r in defaults),
                                               default=None)},
        "failures": sum(len(r["failures"]) for r in rows),
    }
    path = save(out or f"rerun-{profile}", result)
    if not quiet:
        print(f"worst default ratio {result['goal']['worst_default_ratio']} "
              f"(goal <= {GOAL_RATIO}); failures {result['failures']}; saved {path}")
    return result


def main(argv=None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--profile", choices=sorted(PROFILES), default="config")
    parser.add_argument("--repeat", type=int, default=15, help="measured reruns per scenario")
    parser.add_argument("--pages", nargs="*", help="only these pages (home, backward, ...)")
    parser.add_argument("--out", help="result name under bench/results/ (no .json)")
    parser.add_argument("--root", help="run the lab from this copy of the project (a 'before')")
    parser.add_argument("--no-nodelay", action="store_true",
                        help="LAB_TCP_NODELAY=0: keep Nagle's algorithm (lab/ui/network.py)")
    args = parser.parse_args(argv)
    result = run(args.profile, args.repeat, args.pages, args.out, root=args.root,
                 nodelay=not args.no_nodelay)
    return 1 if result["failures"] else 0


if __name__ == "__main__":
    sys.exit(main())
