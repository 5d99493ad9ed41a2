"""Cold start: from ``streamlit run`` to the first page's script finished, next to importing.

    python -m bench.cold_start            # 3 rounds

Each round, in turn: ``python -c "import torch, streamlit"`` (the floor any torch app
pays), then a fresh ``streamlit run streamlit_app.py``, timed from the process start to
the ``script_finished`` of the home page over the websocket, and then to the
``script_finished`` of the first torch page (backward, the seed's chain) opened next.
Ratios are against the import time of the same round.
"""

from __future__ import annotations

import argparse
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


def server_seconds(profile: str, root: str | None) -> dict:
    server = Server(options=PROFILES[profile], root=root)
    try:
        server.start()
        healthy = time.perf_counter() - server.started_at
        with Session(server.base, "", timeout=120) as home:
            check(home.open(), "home")
        home_done = time.perf_counter() - server.started_at
        with Session(server.base, "backward", timeout=120) as page:
            check(page.open(), "backward")
        torch_done = time.perf_counter() - server.started_at
        return {"healthy_s": round(healthy, 2), "home_finished_s": round(home_done, 2),
                "torch_page_finished_s": round(torch_done, 2), "rss_mb": round(server.rss_mb())}
    finally:
        server.stop()


def run(repeat: int = 3, profile: str = "config", root: str | None = None,
        out: str | None = "cold_start", quiet: bool = False) -> dict:
    context = machine()
    rounds = []
    for _ in range(repeat):
        imported = import_seconds()
        served = server_seconds(profile, root)
        rounds.append({"import_torch_streamlit_s": round(imported, 2), **served})
        if not quiet:
            print(rounds[-1], flush=True)

    def median(key):
        return statistics.median(r[key] for r in rounds)

    result = {
        "benchmark": "cold_start", "profile": profile, "repeat": repeat,
        "machine_before": context, "rounds": rounds,
        "median_s": {key: round(median(key), 2) for key in rounds[0] if key != "rss_mb"},
        "ratio_home_to_import": round(median("home_finished_s")
                                      / median("import_torch_streamlit_s"), 2),
        "ratio_torch_page_to_import": round(median("torch_page_finished_s")
                                            / median("import_torch_streamlit_s"), 2),
    }
    if out:
        result["saved"] = str(save(out, result))
    if not quiet:
        print(f"import torch+streamlit {result['median_s']['import_torch_streamlit_s']} s; "
              f"server to home finished {result['median_s']['home_finished_s']} s "
              f"(x{result['ratio_home_to_import']}); to first torch page finished "
              f"{result['median_s']['torch_page_finished_s']} s "
              f"(x{result['ratio_torch_page_to_import']}) {result.get('saved', '')}")
    return result


def main(argv=None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--repeat", type=int, default=3)
    parser.add_argument("--profile", choices=sorted(PROFILES), default="config")
    parser.add_argument("--root", help="run the lab from this copy of the project")
    parser.add_argument("--out", default="cold_start")
    args = parser.parse_args(argv)
    run(args.repeat, args.profile, args.root, args.out)
    return 0


if __name__ == "__main__":
    sys.exit(main())
