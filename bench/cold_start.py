"""Cold start: a fresh server's first pages, next to importing torch and Streamlit.

    python -m bench.cold_start            # 3 rounds

Each round, in turn: ``python -c "import torch, streamlit"`` (the floor any torch app
pays), then fresh ``streamlit run streamlit_app.py`` servers, each timed from its process
start. On each, the first visitor opens the home page (its first run is the lab's start
hook, which starts importing what the pages need in the background), and the first torch
page (backward, the seed's chain) is opened ``gap`` seconds after the home page finished,
for every gap of ``--gaps`` (a student reading the home page before following a link);
one more server gets the torch page as its very first visit (a deep link: it waits for
the imports whatever the lab does). A page's first load is what its visitor waits:
connect + the first script run until ``script_finished``. The goal: the first torch
page's first load within 1.2x of the home page's (``ratio_torch_page_to_home``, at the
largest gap; every gap is reported).
"""

from __future__ import annotations

import argparse
import os
import statistics
import subprocess
import sys
import time

from bench.common import PROFILES, machine, save
from bench.protocol import ProtocolError, Session
from bench.server import Server


def import_seconds() -> float:
    started = time.perf_counter()
    subprocess.run([sys.executable, "-c", "import torch, streamlit"], check=True)
    return time.perf_counter() - started


def check(run, page: str) -> None:
    if not run.ok:
        raise ProtocolError(f"{page}: status {run.status}, exceptions {run.exceptions[:1]}")


def first_load(base: str, page: str) -> float:
    started = time.perf_counter()
    with Session(base, page, timeout=120) as session:
        check(session.open(), page or "home")
    return time.perf_counter() - started


def server_seconds(profile: str, root: str | None, gap: float | None,
                   env: dict | None = None) -> dict:
    """One fresh server: home then the torch page ``gap`` s later (None: torch page first)."""
    server = Server(options=PROFILES[profile], root=root, env=env)
    try:
        server.start()
        row = {"gap_s": gap, "healthy_s": round(time.perf_counter() - server.started_at, 2)}
        if gap is not None:
            row["home_first_load_s"] = round(first_load(server.base, ""), 3)
            row["home_finished_s"] = round(time.perf_counter() - server.started_at, 2)
            time.sleep(gap)
        row["torch_first_load_s"] = round(first_load(server.base, "backward"), 3)
        row["torch_page_finished_s"] = round(time.perf_counter() - server.started_at, 2)
        row["rss_mb"] = round(server.rss_mb())
        return row
    finally:
        server.stop()


def run(repeat: int = 3, profile: str = "config", root: str | None = None,
        out: str | None = "cold_start", quiet: bool = False, gaps=(0.0, 3.0),
        env: dict | None = None) -> dict:
    context = machine()
    rounds = []
    for _ in range(repeat):
        row = {"import_torch_streamlit_s": round(import_seconds(), 2), "servers": []}
        for gap in (*gaps, None):
            row["servers"].append(server_seconds(profile, root, gap, env))
        rounds.append(row)
        if not quiet:
            print(row, flush=True)

    def median(gap, key):
        values = [server[key] for r in rounds for server in r["servers"]
                  if server["gap_s"] == gap and key in server]
        return round(statistics.median(values), 3) if values else None

    by_gap = {}
    for gap in (*gaps, None):
        name = "deep_link" if gap is None else f"gap_{gap:g}s"
        by_gap[name] = {key: median(gap, key) for key in
                        ("home_first_load_s", "torch_first_load_s", "home_finished_s",
                         "torch_page_finished_s")}
        if gap is not None:
            by_gap[name]["ratio_torch_page_to_home"] = round(
                by_gap[name]["torch_first_load_s"] / by_gap[name]["home_first_load_s"], 2)
    imported = statistics.median(r["import_torch_streamlit_s"] for r in rounds)
    main_gap = by_gap[f"gap_{max(gaps):g}s"] if gaps else by_gap["deep_link"]
    result = {
        "benchmark": "cold_start", "profile": profile, "repeat": repeat, "gaps_s": list(gaps),
        "lab_root": str(root or "."), "lab_env": env or {},
        "machine_before": context, "loadavg_after": [round(v, 2) for v in os.getloadavg()],
        "rounds": rounds, "median_s": {"import_torch_streamlit_s": imported, **main_gap},
        "by_gap": by_gap,
        "ratio_torch_page_to_home": main_gap.get("ratio_torch_page_to_home"),
        "ratio_torch_page_to_import": round(main_gap["torch_page_finished_s"] / imported, 2),
        "goal": {"ratio_torch_page_to_home": 1.2},
    }
    if out:
        result["saved"] = str(save(out, result))
    if not quiet:
        print(f"import torch+streamlit {imported} s")
        for name, figures in by_gap.items():
            print(f"  {name}: {figures}")
        print(f"first torch page / home page: x{result['ratio_torch_page_to_home']} "
              f"(goal 1.2) {result.get('saved', '')}")
    return result


def main(argv=None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--repeat", type=int, default=3)
    parser.add_argument("--profile", choices=sorted(PROFILES), default="config")
    parser.add_argument("--root", help="run the lab from this copy of the project")
    parser.add_argument("--gaps", type=float, nargs="*", default=[0.0, 3.0],
                        help="seconds between the home page and the first torch page")
    parser.add_argument("--out", default="cold_start")
    args = parser.parse_args(argv)
    run(args.repeat, args.profile, args.root, args.out, gaps=tuple(args.gaps))
    return 0


if __name__ == "__main__":
    sys.exit(main())
