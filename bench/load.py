"""A lecture hall on one server: simulated students over Streamlit's websocket, with Locust.

    python -m bench.load                          # 150 students, 15 s ramp, 60 s each
    python -m bench.load --profile defaults       # the same on Streamlit's default settings
    python -m bench.load --users 3 --ramp 1 --duration 4     # a smoke run
    python -m bench.load --cold                   # a lecture hall on a fresh server
    python -m bench.load --users 100 --noisy 3    # 100 students beside 3 noisy clients
    python -m bench.load --users 100 --noisy 3 --noisy-kind program --noisy-fresh

Each student (a Locust user speaking bench/protocol.py) opens one page of the lab from
its URL, spread over every page at its default state (``--states all``: every page and
state of bench/scenarios.py, heavy ones included), then moves that page's
widget every 2-4 s (mean 3 s) for ``--duration`` seconds and leaves. A "first load" is
connect + the first script run; an "interaction" is one widget change until its
``script_finished``. A student who saw an error, an exception on the page, a timeout or
a closed socket is a failed session; one still running at the deadline is dropped.
Before the students arrive the instructor opens every page once (``--cold`` skips
this), as a lecturer does before class: the first visitor of the server pays the imports
(torch, sympy, plotly), not the students. ``--replicas N`` starts N lab processes and
spreads the students over them, as a load balancer with session affinity does; with
``--nginx`` they all connect to one address, nginx running deploy/nginx.conf
(bench/proxy.py). ``--noisy N`` adds N clients that, from the first student on, submit
the costliest formulas the playground accepts (bench/scenarios.py ``costliest_formula``,
10,000 elements; ``--noisy-kind program``: the costliest program the cell accepts,
``costliest_program``), each a new one as soon as the last finished, until the students'
time is up (``--noisy-fresh``: each from a new session that closes after its run); the goals are the students' figures, the noisy runs are reported apart. Server CPU
(all replicas, and nginx) and RSS (all replicas) are sampled every second with psutil.
Loopback only; bounded by ramp + duration + ``--grace``.
"""

from __future__ import annotations

import gevent                      # noqa: I001 - Locust patches the standard library first
from gevent import monkey

monkey.patch_all()

import argparse                    # noqa: E402
import contextlib                  # noqa: E402
import itertools                   # noqa: E402
import logging                     # noqa: E402
import os                          # noqa: E402
import sys                         # noqa: E402
import time                        # noqa: E402
from collections import defaultdict  # noqa: E402
from urllib.parse import urlencode  # noqa: E402

import psutil                      # noqa: E402
from locust import User, between, events, task   # noqa: E402
from locust.env import Environment  # noqa: E402
from locust.exception import StopUser  # noqa: E402

from bench.common import PROFILES, machine, save, summary_ms   # noqa: E402
from bench.protocol import ProtocolError, Session   # noqa: E402
from bench.scenarios import (NOISY, NOISY_PROGRAM, SCENARIOS, costliest_formula,  # noqa: E402
                             costliest_program, warm_up)
from bench.server import Server                     # noqa: E402

GOALS = {"interaction_p95_ms": 250, "first_load_p95_ms": 1000, "failures": 0,
         "peak_rss_mb": 1024}


class Tally:
    """What every student saw, kept apart from Locust's rounded statistics."""

    def __init__(self):
        self.first_loads: list[float] = []
        self.interactions: list[float] = []
        self.interactions_at: list[tuple[float, float]] = []     # (when it ended, seconds)
        self.first_loads_at: list[tuple[float, float, str]] = []   # (arrived, seconds, page)
        self.by_page: dict[str, list[float]] = defaultdict(list)
        self.failures: list[str] = []
        self.started = self.completed = self.failed = 0
        self.finished_runs = self.runs_sent = 0
        self.active = 0

    def run(self, name: str, seconds: float, ok: bool, first: bool, error: str = "") -> None:
        self.runs_sent += 1
        if ok:
            self.finished_runs += 1
            (self.first_loads if first else self.interactions).append(seconds)
            ended = time.perf_counter() - samples_origin[0]
            if first:
                self.first_loads_at.append((ended - seconds, seconds, name))
            else:
                self.by_page[name].append(seconds)
                self.interactions_at.append((ended, seconds))
        events.request.fire(request_type="first_load" if first else "interaction", name=name,
                            response_time=seconds * 1000, response_length=0,
                            exception=None if ok else ProtocolError(error), context={})


TALLY = Tally()
COUNTER = itertools.count()


class Student(User):
    """One student's browser tab on one page of the lab."""

    wait_time = between(2, 4)
    duration = 60.0
    timeout = 60.0

    scenarios = SCENARIOS
    hosts: tuple[str, ...] = ()

    def on_start(self):
        index = next(COUNTER)
        self.scenario = self.scenarios[index % len(self.scenarios)]
        # With replicas, whole rounds of pages go to each in turn (the balancer's affinity).
        self.host = self.hosts[(index // len(self.scenarios)) % len(self.hosts)]
        self.step = 0
        self.broken = False
        TALLY.started += 1
        TALLY.active += 1
        self.session = Session(self.host, self.scenario.page, self.scenario.query_string,
                               timeout=self.timeout)
        started = time.perf_counter()
        try:
            self.session.connect()
            run = self.session.open()
            self._record(time.perf_counter() - started, run, first=True)
        except StopUser:
            pass                                 # recorded; the first task ends the user
        except Exception as problem:            # a refused socket, a timeout...
            try:
                self._fail(f"first load: {type(problem).__name__}: {problem}", first=True)
            except StopUser:
                pass
        self.began = time.monotonic()

    @task
    def move_widget(self):
        if self.broken:
            raise StopUser()
        if time.monotonic() - self.began >= self.duration:
            TALLY.completed += 1
            raise StopUser()
        self.step += 1
        try:
            run = self.session.move(self.scenario, self.step)
            self._record(run.seconds, run, first=False)
        except StopUser:
            raise
        except Exception as problem:
            self._fail(f"interaction: {type(problem).__name__}: {problem}", first=False)

    def on_stop(self):
        TALLY.active -= 1
        self.session.close()

    def _record(self, seconds: float, run, first: bool) -> None:
        if run.ok:
            TALLY.run(self.scenario.name, seconds, True, first)
        else:
            self._fail(f"{'first load' if first else 'interaction'}: status {run.status}, "
                       f"exceptions {run.exceptions[:1]}", first)

    def _fail(self, error: str, first: bool) -> None:
        TALLY.run(self.scenario.name, 0.0, False, first, error)
        TALLY.failures.append(f"{self.scenario.name}: {error}")
        if not self.broken:
            TALLY.failed += 1
            self.broken = True
        raise StopUser()


class Noise:
    """What the noisy clients got: their runs, kept apart from the students'."""

    def __init__(self):
        self.runs: list[float] = []
        self.failures: list[str] = []
        self.cpu_s = 0.0


NOISE = Noise()


NOISY_KINDS = {"formula": (NOISY, costliest_formula), "program": (NOISY_PROGRAM, costliest_program)}


def noisy_client(host: str, index: int, deadline: float, timeout: float = 120.0,
                 kind: str = "formula", fresh: bool = False) -> None:
    """Submit the costliest accepted inputs (playground formulas or cell programs), a new
    one as soon as the last one's run finished, until ``deadline`` (``time.perf_counter``).
    ``fresh``: each from a new session, the input in the address of its first run, the
    socket closed once the run ends (nothing a session keeps can ration it)."""
    scenario, costliest = NOISY_KINDS[kind]
    k = 1000 * (index + 1)
    session = None
    try:
        while time.perf_counter() < deadline:
            k += 1
            if fresh or session is None:
                query = dict(scenario.query or {})
                if fresh:
                    query[scenario.key] = costliest(k)
                session = Session(host, scenario.page, urlencode(query), timeout=timeout)
                session.connect()
                run = session.open()
            if not fresh:
                run = session.set(scenario.key, costliest(k))
            if run.ok:
                NOISE.runs.append(run.seconds)
            else:
                NOISE.failures.append(f"status {run.status}, {run.exceptions[:1]}")
            if fresh:
                session.close()
    except Exception as problem:            # a timeout, a closed socket...
        NOISE.failures.append(f"{type(problem).__name__}: {problem}")
    finally:
        if session is not None:
            session.close()


class Fleet:
    """One or more replicas of the lab, watched as one (CPU and RSS summed)."""

    def __init__(self, servers: list[Server]):
        self.servers = servers
        self.proxy = None           # bench.proxy.Nginx, when the students go through it

    def cpu_seconds(self) -> float:
        proxy = self.proxy.cpu_seconds() if self.proxy is not None else 0.0
        return proxy + sum(server.cpu_seconds() for server in self.servers)

    def rss_mb(self) -> float:
        return sum(server.rss_mb() for server in self.servers)

    def rss_each(self) -> list[int]:
        return [round(server.rss_mb()) for server in self.servers]


def monitor(server: Fleet, samples: list, stop: list) -> None:
    """Server CPU (% of one core, all replicas) and RSS, once a second."""
    last_cpu, last_t = server.cpu_seconds(), time.perf_counter()
    while not stop:
        gevent.sleep(1.0)
        try:
            cpu, now, rss = server.cpu_seconds(), time.perf_counter(), server.rss_mb()
        except psutil.Error:
            return
        samples.append({"t": round(now - samples_origin[0], 1),
                        "cpu_percent": round((cpu - last_cpu) / (now - last_t) * 100, 1),
                        "rss_mb": round(rss, 1), "active": TALLY.active})
        last_cpu, last_t = cpu, now


samples_origin = [0.0]


def run(users: int = 150, ramp: float = 15.0, duration: float = 60.0, grace: float = 60.0,
        profile: str = "config", cold: bool = False, root: str | None = None,
        out: str | None = "load", nodelay: bool = True, quiet: bool = False,
        states: str = "default", replicas: int = 1, nginx: bool = False,
        noisy: int = 0, pages: tuple[str, ...] = (), env: dict | None = None,
        noisy_kind: str = "formula", noisy_fresh: bool = False) -> dict:
    global TALLY, NOISE
    TALLY, NOISE = Tally(), Noise()
    Student.scenarios = tuple(s for s in SCENARIOS if (states == "all" or s.state == states)
                              and (not pages or (s.page or "home") in pages))
    logging.getLogger("locust").setLevel(logging.WARNING)
    Student.duration = duration
    context = machine()
    samples: list[dict] = []
    stop: list[bool] = []
    env_vars = {**(env or {}), **({} if nodelay else {"LAB_TCP_NODELAY": "0"})}
    client = psutil.Process()
    with contextlib.ExitStack() as stack:
        server = Fleet([stack.enter_context(Server(options=PROFILES[profile], env=env_vars,
                                                   root=root)) for _ in range(replicas)])
        rss_start = server.rss_mb()
        warm_problems = [] if cold else [problem for replica in server.servers
                                         for problem in warm_up(replica.base)]
        rss_warm = server.rss_mb()
        Student.hosts = tuple(replica.base for replica in server.servers)
        if nginx:               # one address, as the class sees it; nginx spreads them
            from bench.proxy import Nginx

            server.proxy = stack.enter_context(
                Nginx([replica.port for replica in server.servers]))
            Student.hosts = (server.proxy.base,)
        env = Environment(user_classes=[Student], events=events)
        runner = env.create_local_runner()
        samples_origin[0] = time.perf_counter()
        watcher = gevent.spawn(monitor, server, samples, stop)
        cpu_before, client_cpu_before = server.cpu_seconds(), sum(client.cpu_times()[:2])
        cpu_before_each = [replica.cpu_seconds() for replica in server.servers]
        proxy_before = server.proxy.cpu_seconds() if server.proxy else 0.0
        started = time.perf_counter()
        noise = [gevent.spawn(noisy_client, Student.hosts[i % len(Student.hosts)], i,
                              started + ramp + duration, kind=noisy_kind, fresh=noisy_fresh)
                 for i in range(noisy)]
        runner.start(users, spawn_rate=users / ramp if ramp > 0 else users)
        deadline = started + ramp + duration + grace
        while time.perf_counter() < deadline:
            gevent.sleep(0.5)
            everyone_left = (TALLY.started >= users and TALLY.active == 0)
            if everyone_left:
                break
        dropped = TALLY.active
        runner.quit()
        gevent.joinall(noise, timeout=max(0.0, deadline - time.perf_counter()) + 5)
        elapsed = time.perf_counter() - started
        server_cpu = server.cpu_seconds() - cpu_before
        cpu_each = [round(replica.cpu_seconds() - before, 1)
                    for replica, before in zip(server.servers, cpu_before_each)]
        proxy_cpu = round(server.proxy.cpu_seconds() - proxy_before, 1) if server.proxy else 0.0
        client_cpu = sum(client.cpu_times()[:2]) - client_cpu_before
        rss_end = server.rss_mb()
        rss_end_each = server.rss_each()
        gevent.sleep(3.0)
        rss_after = server.rss_mb()
        stop.append(True)
        watcher.join(timeout=3)
    peak = max([s["rss_mb"] for s in samples] + [rss_end, rss_warm])
    interactions = summary_ms(TALLY.interactions)
    first_loads = summary_ms(TALLY.first_loads)
    failures = TALLY.failed + len(warm_problems)
    result = {
        "benchmark": "load", "profile": profile, "options": PROFILES[profile],
        "tcp_nodelay": nodelay, "lab_root": str(root or "."), "warm_up": not cold,
        "users": users, "replicas": replicas, "nginx": nginx, "states": states,
        "lab_env": env or {}, "noisy_clients": noisy,
        "pages": [s.name for s in Student.scenarios],
        "ramp_s": ramp, "duration_s": duration, "wait_s": [2, 4],
        "machine_before": context, "loadavg_after": [round(v, 2) for v in os.getloadavg()],
        "elapsed_s": round(elapsed, 1),
        "interaction_ms": interactions, "first_load_ms": first_loads,
        "interaction_p50_by_page_ms": {name: summary_ms(v)["p50"]
                                       for name, v in sorted(TALLY.by_page.items())},
        "interaction_p95_by_10s_ms": by_window(TALLY.interactions_at, 10.0),
        "first_loads_over_goal": over_goal(TALLY.first_loads_at,
                                           GOALS["first_load_p95_ms"] / 1000),
        "sessions": {"started": TALLY.started, "completed": TALLY.completed,
                     "failed": TALLY.failed, "dropped": dropped},
        "runs": {"sent": TALLY.runs_sent, "finished": TALLY.finished_runs},
        "failures": failures, "failure_examples": (warm_problems + TALLY.failures)[:20],
        "server": {"cpu_seconds": round(server_cpu, 1), "cpu_seconds_each": cpu_each,
                   "nginx_cpu_seconds": proxy_cpu,
                   "cpu_percent_of_one_core": round(server_cpu / elapsed * 100, 1),
                   "cpu_ms_per_run": round(server_cpu / max(TALLY.runs_sent, 1) * 1000, 1),
                   "rss_mb": {"start": round(rss_start), "after_warm_up": round(rss_warm),
                              "peak": round(peak), "end": round(rss_end),
                              "end_per_replica": rss_end_each,
                              "3s_after_end": round(rss_after)}},
        "client_cpu_percent": round(client_cpu / elapsed * 100, 1),
        "noise": {"runs": summary_ms(NOISE.runs), "failures": len(NOISE.failures),
                  "failure_examples": NOISE.failures[:5],
                  "kind": noisy_kind, "fresh_sessions": noisy_fresh,
                  "example": NOISY_KINDS[noisy_kind][1](1001)} if noisy else None,
        "samples": samples,
    }
    result["goals"] = {
        "interaction_p95_ms": [GOALS["interaction_p95_ms"], interactions.get("p95")],
        "first_load_p95_ms": [GOALS["first_load_p95_ms"], first_loads.get("p95")],
        "failures": [0, failures], "peak_rss_mb": [GOALS["peak_rss_mb"], round(peak)],
        "met": bool(interactions.get("p95") is not None
                    and interactions["p95"] < GOALS["interaction_p95_ms"]
                    and first_loads["p95"] < GOALS["first_load_p95_ms"]
                    and failures == 0 and dropped == 0 and peak < GOALS["peak_rss_mb"]),
    }
    if out:
        result["saved"] = str(save(out, result))
    if not quiet:
        report(result)
    return result


def report(result: dict) -> None:
    i, f, s = result["interaction_ms"], result["first_load_ms"], result["sessions"]
    rss = result["server"]["rss_mb"]
    print(f"{result['users']} students on {result['replicas']} replica(s)"
          f"{' behind nginx' if result['nginx'] else ''}, "
          f"profile {result['profile']}, {result['states']} states: "
          f"interaction p50 {i.get('p50')} p95 {i.get('p95')} max {i.get('max')} ms "
          f"({i['count']}); first load p50 {f.get('p50')} p95 {f.get('p95')} ms")
    print(f"sessions {s}; failures {result['failures']}; server CPU "
          f"{result['server']['cpu_percent_of_one_core']}% of a core, "
          f"{result['server']['cpu_ms_per_run']} ms/run; RSS peak {rss['peak']} MB, "
          f"end {rss['end']} MB; client CPU {result['client_cpu_percent']}%")
    for example in result["failure_examples"][:5]:
        print("  failure:", example)
    if result.get("noise"):
        noise = result["noise"]
        print(f"{result['noisy_clients']} noisy clients: runs {noise['runs']}, "
              f"failures {noise['failures']}")
    slow = result["first_loads_over_goal"]
    if slow["count"]:
        print(f"first loads over the goal: {slow['count']} of {slow['of']}, arrived "
              f"{slow['arrived_s'][0]}-{slow['arrived_s'][1]} s after the first student, "
              f"on {slow['pages']}")
    print("goals met:", result["goals"]["met"], result.get("saved", ""))


def over_goal(loads: list[tuple[float, float, str]], goal_s: float) -> dict:
    """The first loads longer than the goal: how many, when they arrived, on which pages."""
    slow = [(arrived, page) for arrived, seconds, page in loads if seconds > goal_s]
    arrived = [when for when, _ in slow]
    return {"count": len(slow), "of": len(loads),
            "arrived_s": [round(min(arrived), 1), round(max(arrived), 1)] if slow else None,
            "pages": {page: sum(1 for _, p in slow if p == page)
                      for page in sorted({p for _, p in slow})}}


def by_window(timed: list[tuple[float, float]], width: float) -> dict[str, float]:
    """Interaction p95 per ``width``-second window of the run (where the tail happens)."""
    windows: dict[int, list[float]] = defaultdict(list)
    for when, seconds in timed:
        windows[int(when // width)].append(seconds)
    return {f"{int(w * width)}-{int((w + 1) * width)}s": summary_ms(v)["p95"]
            for w, v in sorted(windows.items())}


def parse_env(pairs) -> dict[str, str]:
    return dict(pair.split("=", 1) for pair in pairs)


def main(argv=None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--users", type=int, default=150)
    parser.add_argument("--ramp", type=float, default=15.0, help="seconds to start them all")
    parser.add_argument("--duration", type=float, default=60.0, help="seconds each stays")
    parser.add_argument("--grace", type=float, default=60.0,
                        help="extra seconds before the run is cut (then: dropped)")
    parser.add_argument("--profile", choices=sorted(PROFILES), default="config")
    parser.add_argument("--cold", action="store_true", help="no instructor warm-up")
    parser.add_argument("--replicas", type=int, default=1,
                        help="lab processes; students spread over them (like a balancer)")
    parser.add_argument("--states", choices=("default", "all"), default="default",
                        help="students on the default state of every page (a lecture's "
                             "usual), or also on each page's heavy state")
    parser.add_argument("--nginx", action="store_true",
                        help="students reach the replicas through nginx with "
                             "deploy/nginx.conf (Debian's nginx; bench/proxy.py)")
    parser.add_argument("--noisy-kind", choices=sorted(NOISY_KINDS), default="formula",
                        help="what the noisy clients send: the costliest playground formula "
                             "or the costliest program the cell accepts")
    parser.add_argument("--noisy-fresh", action="store_true",
                        help="each noisy request from a new session (its input in the page's "
                             "address), closed once its run ends")
    parser.add_argument("--noisy", type=int, default=0,
                        help="clients submitting the costliest accepted playground formulas "
                             "continuously, beside the students")
    parser.add_argument("--pages", nargs="+", default=(),
                        help="students only on these pages (URL paths, home for the home page)")
    parser.add_argument("--env", nargs="+", default=(), metavar="NAME=VALUE",
                        help="environment of the lab's server(s), e.g. LAB_FAIR=0")
    parser.add_argument("--root", help="run the lab from this copy of the project")
    parser.add_argument("--no-nodelay", action="store_true", help="LAB_TCP_NODELAY=0")
    parser.add_argument("--out", default="load", help="result name under bench/results/")
    args = parser.parse_args(argv)
    result = run(args.users, args.ramp, args.duration, args.grace, args.profile, args.cold,
                 args.root, args.out, not args.no_nodelay, states=args.states,
                 replicas=args.replicas, nginx=args.nginx, noisy=args.noisy,
                 noisy_kind=args.noisy_kind, noisy_fresh=args.noisy_fresh,
                 pages=tuple(args.pages), env=parse_env(args.env))
    return 0 if result["failures"] == 0 and result["sessions"]["dropped"] == 0 else 1


if __name__ == "__main__":
    sys.exit(main())
