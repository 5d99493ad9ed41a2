"""Start a real ``streamlit run`` server on a free loopback port, and watch its process."""

from __future__ import annotations

import os
import socket
import subprocess
import sys
import time
import urllib.request
from pathlib import Path

import psutil

ROOT = Path(__file__).resolve().parent.parent
APP = "streamlit_app.py"
BASELINE = "bench/baseline_page.py"

# The two settings DESIGN.md measured; each benchmark can run "before" (Streamlit's
# defaults) and "after" (the lab's .streamlit/config.toml) side by side.
DEFAULTS = {"runner.postScriptGC": "true", "server.fileWatcherType": "auto"}


def free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return probe.getsockname()[1]


def wait_healthy(base: str, process: subprocess.Popen, deadline: float, name: str) -> None:
    """Until ``base/_stcore/health`` answers ``ok`` (through a proxy too), or fail."""
    while time.perf_counter() < deadline:
        if process.poll() is not None:
            raise RuntimeError(f"{name} exited with {process.returncode}")
        try:
            with urllib.request.urlopen(f"{base}/_stcore/health", timeout=2) as reply:
                if reply.read().strip() == b"ok":
                    return
        except OSError:
            pass
        time.sleep(0.02)
    raise RuntimeError(f"{name} not healthy by its deadline")


class Server:
    """``python -m streamlit run <script>`` on 127.0.0.1, stopped on exit."""

    def __init__(self, script: str = APP, options: dict[str, str] | None = None,
                 timeout: float = 120.0, env: dict[str, str] | None = None,
                 root: str | Path | None = None, log_path: str | Path | None = None):
        self.script = script
        self.root = Path(root or ROOT)
        self.options = dict(options or {})
        self.env = {**os.environ, **(env or {})}
        self.timeout = timeout
        self.port = free_port()
        self.base = f"http://127.0.0.1:{self.port}"
        self.process: subprocess.Popen | None = None
        self.ps: psutil.Process | None = None
        self.started_at = 0.0
        self.log = None
        # The server's own output (its log), or nowhere; BENCH_SERVER_LOG for any benchmark.
        self.log_path = log_path or os.environ.get("BENCH_SERVER_LOG") or os.devnull

    def command(self) -> list[str]:
        flags = [f"--{name}={value}" for name, value in self.options.items()]
        return [sys.executable, "-m", "streamlit", "run", self.script,
                f"--server.port={self.port}", "--server.address=127.0.0.1",
                "--server.headless=true", "--browser.gatherUsageStats=false", *flags]

    def start(self) -> Server:
        self.log = open(self.log_path, "wb")
        self.started_at = time.perf_counter()
        self.process = subprocess.Popen(self.command(), cwd=self.root, stdout=self.log,
                                        stderr=subprocess.STDOUT, env=self.env)
        self.ps = psutil.Process(self.process.pid)
        self.wait_healthy()
        return self

    def wait_healthy(self) -> float:
        """Seconds from start until ``/_stcore/health`` answers ``ok``."""
        wait_healthy(self.base, self.process, self.started_at + self.timeout, "streamlit")
        return time.perf_counter() - self.started_at

    def cpu_seconds(self) -> float:
        times = self.ps.cpu_times()
        return times.user + times.system

    def rss_mb(self) -> float:
        return self.ps.memory_info().rss / 2**20

    def stop(self) -> None:
        if self.process is not None and self.process.poll() is None:
            self.process.terminate()
            try:
                self.process.wait(timeout=15)
            except subprocess.TimeoutExpired:
                self.process.kill()
                self.process.wait()
        if self.log is not None:
            self.log.close()
            self.log = None

    def __enter__(self) -> Server:
        return self.start()

    def __exit__(self, *exc) -> None:
        self.stop()
