"""Where a page's rerun CPU goes: the lab's own code, Streamlit's ``st.*`` commands, the rest.

    python -m bench.cpu_share                        # every page's default state, 15 s each
    python -m bench.cpu_share --pages playground --seconds 30

The lab runs (``Server()``); for each default scenario (bench/scenarios.py) one session
opens the page, warms it, then reruns the whole page over and over while py-spy samples
the server process, only threads that hold the GIL (``--gil``: the CPU is attributed to
the code that spent it, not to threads waiting for it). Each sample is put in one group:

- **lab**: the innermost lab frame (``lab/``, ``pages/``) is the sample's last frame, or
  calls into a library that is not Streamlit (torch, pyarrow, plotly, the standard
  library): the lab's own code and what it chooses to call;
- **streamlit commands**: the innermost lab frame calls into ``streamlit/``: the work of
  an ``st.*`` call (argument checks, proto conversion, widget registration, the queue);
- **script runner**: the script thread with no lab frame (the runner, ``st.navigation``);
- **event loop**: every other thread (sending the messages, the websocket, the sessions).

``lab`` is the most that making the lab's code free could remove from a rerun; the page's
rerun ratio (bench.rerun) times ``1 - lab`` is the best the page could reach with the
elements it sends. py-spy (a dev tool, in requirements-test.txt) reads the process with
ptrace: run as the server's user.
"""

from __future__ import annotations

import argparse
import collections
import re
import shutil
import subprocess
import sys
import tempfile
import time
from pathlib import Path

from bench.common import machine, save
from bench.protocol import Session
from bench.scenarios import SCENARIOS
from bench.server import Server

GROUPS = ("lab", "streamlit commands", "script runner", "event loop")
_FRAME = re.compile(r"^(?P<name>.*) \((?P<file>[^()]*?):\d+\)$")
ROOT = Path(__file__).resolve().parent.parent
# py-spy names a module by its path from the sys.path entry it was imported through:
# ``ui/views.py`` for lab/ui/views.py, ``5_playground.py`` for a page.
LAB_FILES = ({str(p.relative_to(ROOT / "lab")) for p in (ROOT / "lab").rglob("*.py")}
             | {p.name for p in (ROOT / "pages").glob("*.py")})


def _file(frame: str) -> str:
    match = _FRAME.match(frame)
    return match.group("file") if match else ""


def _is_lab(path: str) -> bool:
    if path.startswith(str(ROOT)):
        return "site-packages" not in path and not path.endswith("streamlit_app.py")
    return path in LAB_FILES or path.startswith(("lab/", "pages/"))


def group(stack: list[str]) -> str:
    """The group of one sample (its frames, outermost first)."""
    if not any("ScriptRunner._run_script " in frame for frame in stack):
        return "event loop"
    files = [_file(frame) for frame in stack]
    lab = [i for i, path in enumerate(files) if _is_lab(path)]
    if not lab:
        return "script runner"
    callee = files[lab[-1] + 1] if lab[-1] + 1 < len(files) else ""
    return "streamlit commands" if callee.startswith("streamlit/") else "lab"


def shares(raw: str) -> dict:
    """Each group's share of the samples in py-spy's ``--format raw`` output."""
    counts = collections.Counter()
    for line in raw.splitlines():
        stack, _, count = line.rpartition(" ")
        if stack and count.isdigit():
            counts[group(stack.split(";")[1:])] += int(count)    # [0]: the thread's name
    total = sum(counts.values())
    return {"samples": total,
            **{name: round(counts[name] / total, 3) if total else None for name in GROUPS}}


def measure(scenario, server: Server, seconds: float, spy: str, folder: Path) -> dict:
    out = folder / f"{scenario.page or 'home'}.txt"
    with Session(server.base, scenario.page, scenario.query_string) as session:
        first = session.open()
        for step in range(8):                           # warm: imports and caches
            session.move(scenario, step)
            session.rerun()
        record = subprocess.Popen(
            [spy, "record", "--pid", str(server.process.pid), "--duration", str(int(seconds)),
             "--rate", "500", "--format", "raw", "--output", str(out), "--gil",
             "--threads", "--nonblocking"],
            stdout=subprocess.DEVNULL, stderr=subprocess.PIPE, text=True)
        reruns, failures, end = 0, [] if first.ok else ["first load"], time.time() + seconds
        while time.time() < end:
            run = session.rerun()
            reruns += 1
            if not run.ok:
                failures.append(f"rerun: {run.status} {run.exceptions}")
        _, error = record.communicate(timeout=seconds + 60)
    if record.returncode != 0 or not out.exists():
        failures.append(f"py-spy: {error.strip()[-300:]}")
        return {"scenario": scenario.name, "reruns": reruns, "failures": failures}
    return {"scenario": scenario.name, "reruns": reruns, "failures": failures,
            **shares(out.read_text())}


def run(seconds: float = 15.0, pages: list[str] | None = None, out: str | None = None) -> dict:
    spy = shutil.which("py-spy") or str(Path(sys.executable).with_name("py-spy"))
    chosen = [s for s in SCENARIOS if s.state == "default" and (not pages or
                                                               (s.page or "home") in pages)]
    rows = []
    with tempfile.TemporaryDirectory() as folder, Server() as server:
        for scenario in chosen:
            row = measure(scenario, server, seconds, spy, Path(folder))
            rows.append(row)
            print(f"{row['scenario']:26} " + "  ".join(
                f"{name} {row.get(name, 0) or 0:5.1%}" for name in GROUPS)
                + f"  ({row.get('samples', 0)} samples, {row['reruns']} reruns)"
                + (f"  FAIL {row['failures']}" if row["failures"] else ""), flush=True)
    result = {"benchmark": "cpu_share", "seconds": seconds, "machine": machine(),
              "scenarios": rows, "failures": sum(len(r["failures"]) for r in rows)}
    print(f"saved {save(out or 'cpu-share', result)}")
    return result


def main(argv=None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--seconds", type=float, default=15.0, help="sampled per page")
    parser.add_argument("--pages", nargs="*", help="only these pages (home, backward, ...)")
    parser.add_argument("--out", help="result name under bench/results/ (no .json)")
    args = parser.parse_args(argv)
    return 1 if run(args.seconds, args.pages, args.out)["failures"] else 0


if __name__ == "__main__":
    sys.exit(main())
