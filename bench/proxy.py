"""deploy/nginx.conf for real: Debian's nginx in front of the replicas, on loopback.

The load test's ``--nginx`` runs the students through it, so the replica recipe of the
README is measured, not only written: the same file, with its ports replaced.
"""

from __future__ import annotations

import re
import shutil
import subprocess
import tempfile
import time
from pathlib import Path

import psutil

from bench.server import ROOT, free_port, wait_healthy

CONFIG = ROOT / "deploy" / "nginx.conf"


def available() -> bool:
    return shutil.which("nginx") is not None


def config(ports: list[int], listen: int, prefix: Path) -> str:
    """deploy/nginx.conf for these replica ports, wrapped as a whole nginx configuration."""
    site = CONFIG.read_text()
    upstream = "\n".join(f"    server 127.0.0.1:{port};" for port in ports)
    site, count = re.subn(r"(?m)^    server 127\.0\.0\.1:\d+;\n(    server 127\.0\.0\.1:\d+;\n)*",
                          upstream + "\n", site)
    if count != 1:
        raise RuntimeError("deploy/nginx.conf: no upstream server list to replace")
    site = site.replace("listen 80;", f"listen 127.0.0.1:{listen};")
    temp = "\n".join(f"    {name}_temp_path {prefix / name};"
                     for name in ("client_body", "proxy", "fastcgi", "uwsgi", "scgi"))
    return (f"daemon off;\nworker_processes 1;\npid {prefix / 'nginx.pid'};\n"
            f"error_log {prefix / 'error.log'} warn;\n"
            "events { worker_connections 4096; }\n"
            f"http {{\n    access_log off;\n{temp}\n{site}\n}}\n")


class Nginx:
    """nginx on a free loopback port in front of ``ports``; stopped on exit."""

    def __init__(self, ports: list[int], timeout: float = 30.0):
        self.ports = ports
        self.port = free_port()
        self.base = f"http://127.0.0.1:{self.port}"
        self.timeout = timeout
        self.prefix = Path(tempfile.mkdtemp(prefix="lab-nginx-"))
        self.process: subprocess.Popen | None = None

    def __enter__(self) -> Nginx:
        conf = self.prefix / "nginx.conf"
        conf.write_text(config(self.ports, self.port, self.prefix))
        self.process = subprocess.Popen(["nginx", "-p", str(self.prefix), "-c", str(conf),
                                         "-e", str(self.prefix / "error.log")],
                                        stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
        wait_healthy(self.base, self.process, time.perf_counter() + self.timeout, "nginx")
        return self

    def __exit__(self, *exc) -> None:
        if self.process is not None:
            self.process.terminate()
            try:
                self.process.wait(10)
            except subprocess.TimeoutExpired:
                self.process.kill()
        shutil.rmtree(self.prefix, ignore_errors=True)

    def cpu_seconds(self) -> float:
        """nginx's master and workers together."""
        try:
            master = psutil.Process(self.process.pid)
            total = 0.0
            for proc in [master, *master.children(recursive=True)]:
                times = proc.cpu_times()
                total += times.user + times.system
            return total
        except psutil.Error:
            return 0.0
