"""Shared by the benchmarks: server settings profiles, statistics, the machine, results."""

from __future__ import annotations

import json
import os
import platform
import statistics
import time
from importlib.metadata import version
from pathlib import Path

# Raw results land here (the smoke tests point BENCH_RESULTS at a temporary folder).
RESULTS = Path(os.environ.get("BENCH_RESULTS") or Path(__file__).resolve().parent / "results")

# Server settings compared by the benchmarks (command-line flags override config.toml).
# "config" passes nothing: what .streamlit/config.toml says, i.e. what the lab deploys.
PROFILES = {
    "defaults": {"runner.postScriptGC": "true", "server.fileWatcherType": "auto"},
    "nogc": {"runner.postScriptGC": "false", "server.fileWatcherType": "auto"},
    "nowatch": {"runner.postScriptGC": "true", "server.fileWatcherType": "none"},
    "tuned": {"runner.postScriptGC": "false", "server.fileWatcherType": "none"},
    "config": {},
}


def percentile(values, q: float) -> float | None:
    """The q-th percentile (0-100), linear between ranks; None for no values."""
    data = sorted(values)
    if not data:
        return None
    rank = (len(data) - 1) * q / 100
    low = int(rank)
    high = min(low + 1, len(data) - 1)
    return data[low] + (data[high] - data[low]) * (rank - low)


def summary_ms(seconds) -> dict:
    """p50/p95/max/mean/count of durations given in seconds, in milliseconds."""
    ms = [s * 1000 for s in seconds]
    if not ms:
        return {"count": 0}
    return {"count": len(ms), "p50": round(percentile(ms, 50), 1),
            "p95": round(percentile(ms, 95), 1), "max": round(max(ms), 1),
            "mean": round(statistics.fmean(ms), 1)}


def machine() -> dict:
    """What else the machine was doing: the load average and its size."""
    import psutil

    return {"loadavg": [round(v, 2) for v in os.getloadavg()], "cpus": os.cpu_count(),
            "memory_gb": round(psutil.virtual_memory().total / 2**30, 1),
            "python": platform.python_version(), "streamlit": version("streamlit"),
            "torch": version("torch"), "time": time.strftime("%Y-%m-%dT%H:%M:%S")}


def save(name: str, data: dict) -> Path:
    RESULTS.mkdir(parents=True, exist_ok=True)
    path = RESULTS / f"{name}.json"
    path.write_text(json.dumps(data, indent=2, default=str) + "\n")
    return path


def slope(xs, ys) -> float | None:
    """Least-squares slope of ys over xs."""
    if len(xs) < 2:
        return None
    mx, my = statistics.fmean(xs), statistics.fmean(ys)
    den = sum((x - mx) ** 2 for x in xs)
    return sum((x - mx) * (y - my) for x, y in zip(xs, ys)) / den if den else None
