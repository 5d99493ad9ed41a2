"""A/B in one run: one benchmark on two or more variants of the lab, interleaved, repeated.

    python -m bench.ab --variants on off:LAB_RUN_GATE=0 --out ab-gate
    python -m bench.ab --variants fair unfair:LAB_FAIR=0 --users 100 --noisy 3 --out ab-fair
    python -m bench.ab --variants before@/tmp/before after --cold --out ab-cold
    python -m bench.ab --bench memory --variants on off:LAB_MALLOC=0 --formulas 3000

A variant is ``NAME[:ENV=VALUE,ENV=VALUE][@ROOT]``: the lab's server(s) get those
environment variables, and run from ROOT (another copy of the project) if given. Every
round runs each variant once, on its own fresh server, the order reversed every other
round (A B, B A, A B...), so that a machine growing busier or quieter hits both sides;
each run is saved as ``<out>-<variant>-<round>.json`` and the whole as ``<out>.json``,
with the median of each figure per variant and the load average before every run.
"""

from __future__ import annotations

import argparse
import os
import statistics
import sys

from bench.common import save

FIGURES = {
    "load": {"interaction_p50_ms": ("interaction_ms", "p50"),
             "interaction_p95_ms": ("interaction_ms", "p95"),
             "first_load_p95_ms": ("first_load_ms", "p95"),
             "cpu_ms_per_run": ("server", "cpu_ms_per_run"),
             "failures": ("failures",), "noisy_runs": ("noise", "runs", "count")},
    "memory": {"rss_peak_mb": ("rss_mb", "peak"),
               "rss_after_formulas_mb": ("rss_mb", "after_formulas"),
               "failures": ("failures",)},
    "cold_start": {"ratio_torch_page_to_home": ("ratio_torch_page_to_home",),
                   "home_first_load_s": ("median_s", "home_first_load_s"),
                   "torch_first_load_s": ("median_s", "torch_first_load_s"),
                   "torch_at_gap_0_s": ("by_gap", "gap_0s", "torch_first_load_s"),
                   "torch_deep_link_s": ("by_gap", "deep_link", "torch_first_load_s")},
}


def parse_variant(text: str) -> dict:
    text, _, root = text.partition("@")
    name, _, pairs = text.partition(":")
    env = dict(pair.split("=", 1) for pair in pairs.split(",") if pair)
    return {"name": name, "env": env, "root": root or None}


def figure(result: dict, path: tuple):
    value = result
    for key in path:
        if not isinstance(value, dict):
            return None
        value = value.get(key)
    return value


def run_once(bench: str, variant: dict, out: str, options: dict) -> dict:
    if bench == "load":
        from bench import load as module
    elif bench == "memory":
        from bench import memory as module
    else:
        from bench import cold_start as module
    return module.run(**options, env=variant["env"], root=variant["root"], out=out,
                      quiet=True)


def run(bench: str, variants: list[dict], repeat: int, out: str, options: dict) -> dict:
    runs = []
    for round_ in range(repeat):
        order = variants if round_ % 2 == 0 else variants[::-1]
        for variant in order:
            loadavg = [round(v, 2) for v in os.getloadavg()]
            name = f"{out}-{variant['name']}-{round_ + 1}"
            result = run_once(bench, variant, name, options)
            row = {"variant": variant["name"], "round": round_ + 1, "saved": name,
                   "loadavg_before": loadavg,
                   **{key: figure(result, path) for key, path in FIGURES[bench].items()}}
            runs.append(row)
            print(row, flush=True)
    medians = {}
    for variant in variants:
        rows = [row for row in runs if row["variant"] == variant["name"]]
        medians[variant["name"]] = {
            key: (round(statistics.median(v), 3) if (v := [row[key] for row in rows
                                                           if row[key] is not None]) else None)
            for key in FIGURES[bench]}
    summary = {"benchmark": f"ab-{bench}", "variants": variants, "repeat": repeat,
               "options": options, "runs": runs, "medians": medians}
    summary["saved"] = str(save(out, summary))
    for name, figures in medians.items():
        print(f"{name}: {figures}")
    return summary


def main(argv=None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--bench", choices=sorted(FIGURES), default="load")
    parser.add_argument("--variants", nargs="+", required=True,
                        help="NAME[:ENV=VALUE,...][@ROOT], two or more")
    parser.add_argument("--repeat", type=int, default=2)
    parser.add_argument("--out", default="ab")
    parser.add_argument("--users", type=int, default=150)
    parser.add_argument("--ramp", type=float, default=15.0)
    parser.add_argument("--duration", type=float, default=60.0)
    parser.add_argument("--noisy", type=int, default=0)
    parser.add_argument("--pages", nargs="+", default=())
    parser.add_argument("--cold", action="store_true")
    parser.add_argument("--formulas", type=int, default=3000)
    parser.add_argument("--rounds", type=int, default=1, help="cold_start: rounds per run")
    args = parser.parse_args(argv)
    if args.bench == "load":
        options = {"users": args.users, "ramp": args.ramp, "duration": args.duration,
                   "noisy": args.noisy, "pages": tuple(args.pages), "cold": args.cold}
    elif args.bench == "memory":
        options = {"milestones": (), "reruns": 0, "formulas": args.formulas}
    else:
        options = {"repeat": args.rounds}
    run(args.bench, [parse_variant(v) for v in args.variants], args.repeat, args.out,
        options)
    return 0


if __name__ == "__main__":
    sys.exit(main())
