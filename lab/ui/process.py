"""The server process's start and tuning: ``lifespan``, which ``streamlit_app.py`` hands to
Streamlit 1.67's ``st.App``, runs once at process start, before any visitor.

One Streamlit process serves every session: each session's script runs in its own thread,
and one event-loop thread sends all replies, all under one GIL. What Streamlit has no
setting for is done here, each part kept because an A/B in one run measured it
(docs/performance.md):

* **Pages through st.navigation from the first visitor.** A ``pages/`` folder beside the
  entry script makes Streamlit start in its legacy multipage mode until some run calls
  ``st.navigation``: a fresh server's first visitors deep-linking ``/backward`` got the
  page without the entry script (checked in a browser). The flag is cleared here first.
* **TCP_NODELAY** on the server's sockets (``lab/ui/network.py``).
* **Ready when warm.** torch, pandas, plotly, every lab module, sympy and torchviz are
  imported, and the seed's chain run once (``warm_up``), before the lifespan yields: until
  then the server's socket holds arriving requests in its queue (Streamlit binds it before
  the lifespan runs), so ``/_stcore/health`` answers ``ok`` only once a page runs warm, and
  a student who arrives during those seconds waits once instead of finding a page that
  imports torch itself. ``LAB_PRELOAD=0`` skips it (``LAB_WARM_UP=0`` only the warm-up).
  Once torch is loaded it gets one intra-op thread (``one_torch_thread``).
* **A frozen heap.** With torch, sympy and plotly loaded the process holds ~300,000
  objects that live as long as it does; a full garbage collection walked them all (~300 ms
  with the GIL held, every few seconds under load). ``gc.freeze()`` moves them to a
  permanent generation, once the start-up imports are done and again whenever a run finds
  new modules imported. ``LAB_GC_FREEZE=0`` turns it off.
* **Fair lanes** around the one function through which Streamlit 1.67 runs every script
  or fragment (``FairLanes``): one light run at a time, heavy runs on a rationed lane
  beside it, and an allowance per session, so that no client sending the costliest inputs
  can take the class's time. ``LAB_RUN_GATE=0``: no gate at all; ``LAB_FAIR=0``: one gate
  for every run.

* **One event-loop wake-up per burst of a session's script events**
  (``coalesce_script_events``): Streamlit 1.67 hands each element a script sends to the event loop with its own
  ``call_soon_threadsafe`` (a write to the loop's wake-up socket and a GIL hand-off per
  element); the replacement queues a session's events and wakes the loop only when no wake-up
  is pending, and the loop handles all that is queued, in order. Dropped once as within noise
  in the load test; ``bench.rerun``'s CPU per rerun measures it: 6-16 % less per rerun
  (docs/performance.md). ``LAB_COALESCE=0`` turns it off.

Tried and dropped: capping glibc's arenas or trimming its free memory after runs (no lower
RSS over 3,000 formulas); see docs/performance.md.

Every replacement is checked against the exact Streamlit it was written for (version and
signature); on a mismatch nothing is replaced and one line says so in the log.
"""

from __future__ import annotations

import asyncio
import collections
import gc
import importlib
import inspect
import logging
import os
import pkgutil
import sys
import threading
import time
from contextlib import asynccontextmanager, contextmanager

from lab.ui.network import send_replies_at_once

log = logging.getLogger(__name__)

STREAMLIT_VERSION = "1.67.0"
# str(inspect.signature(...)) of what each replacement wraps, in Streamlit 1.67.0.
RUNNER_SIGNATURE = ("(func: 'Callable[[], Any]', ctx: 'ScriptRunContext') -> "
                    "'tuple[Any | None, bool, RerunData | None, bool, Exception | None]'")
EVENT_SIGNATURE = ("(self, sender: 'ScriptRunner | None', event: 'ScriptRunnerEvent', "
                   "forward_msg: 'ForwardMsg | None' = None, exception: 'BaseException | None' "
                   "= None, client_state: 'ClientState | None' = None, page_script_hash: "
                   "'str | None' = None, fragment_ids_this_run: 'list[str] | None' = None, "
                   "pages: 'dict[PageHash, PageInfo] | None' = None, run_descriptor: "
                   "'RunDescriptor | None' = None) -> 'None'")

# The lanes' figures (LAB_FAIR_SHARE, LAB_HEAVY_DUTY, LAB_HEAVY_AFTER, LAB_SLICE_CPU_S
# override them for A/B runs; docs/performance.md).
HEAVY_CPU_S = 0.15       # runs above this much CPU, HEAVY_AFTER in a row (a first load of
HEAVY_AFTER = 2          # a page alone is not enough), send a session to the heavy lane
SLICE_CPU_S = 0.15       # a light run past this much CPU gives the gate up
HEAVY_DUTY = 0.1         # the heavy lane runs at most this share of the time, all together
SHARE = 0.025            # of a second per second: what a session's debt drains at...
BURST_S = 0.5            # ...and the debt under which its next run may start,
IDLE_S = 1.0             # unless no other session started a light run for this long
# torch first (every page but home needs it), then what Streamlit imports the first time a
# page shows a plot or a table (pandas alone: 0.4 s, 350 modules), the lab's modules, and
# what only some pages need (sympy: the symbolic check; torchviz: the torchviz page).
PRELOAD_FIRST = ("torch", "pandas", "plotly.graph_objects", "plotly.io", "plotly.offline")
PRELOAD_LAST = ("sympy", "lab.symbolic", "torchviz")
PRELOAD_SKIP = ("lab.__main__", "lab.cli")

_state = {"started": False, "refused_logged": False, "coalescing": False}
_replaced: list = []             # the original event handler, kept alive (see below)
_modules_at_freeze = 0
lanes: FairLanes | None = None


# -- checks -------------------------------------------------------------------------------
def signature_of(func) -> str:
    try:
        return str(inspect.signature(func))
    except (TypeError, ValueError):
        return "?"


def mismatches() -> list[str]:
    """Why the replacements do not fit this Streamlit (empty: they fit). What is already
    replaced is judged by the original it replaced."""
    import streamlit
    from streamlit.runtime.scriptrunner import script_runner

    if streamlit.__version__ != STREAMLIT_VERSION:
        return [f"Streamlit {streamlit.__version__}, written for {STREAMLIT_VERSION}"]
    runner = getattr(script_runner, "exec_func_with_error_handling", None)
    if lanes is not None and runner == lanes.run:
        runner = lanes.original
    if runner is None:
        return ["script_runner.exec_func_with_error_handling is missing"]
    if signature_of(runner) != RUNNER_SIGNATURE:
        return [f"exec_func_with_error_handling{signature_of(runner)}"]
    from streamlit.runtime.app_session import AppSession

    handler = _replaced[0] if _replaced else getattr(AppSession, "_on_scriptrunner_event", None)
    if handler is None or signature_of(handler) != EVENT_SIGNATURE:
        return [f"AppSession._on_scriptrunner_event{signature_of(handler)}"]
    if not all(hasattr(AppSession, name) for name in ("_handle_scriptrunner_event_on_event_loop",
                                                       "_call_soon_on_event_loop")):
        return ["AppSession's event loop handlers are missing"]
    return []


def refuse_once(reasons: list[str]) -> None:
    if not _state["refused_logged"]:
        _state["refused_logged"] = True
        log.warning("lab: server tuning not installed (%s); the lab runs on Streamlit's "
                    "defaults", "; ".join(reasons))


def use_navigation() -> bool:
    """Serve the pages through ``st.navigation`` from the first visitor on (see above)."""
    from streamlit.runtime.pages_manager import PagesManager

    if not hasattr(PagesManager, "uses_pages_directory"):
        refuse_once(["PagesManager.uses_pages_directory is missing"])
        return False
    PagesManager.uses_pages_directory = False
    return True


# -- start ----------------------------------------------------------------------------------
def start() -> bool:
    """Tune this process once; True when it did now."""
    if _state["started"]:
        return False
    _state["started"] = True
    from streamlit.logger import get_logger

    get_logger(__name__)                # our lines in the server's log, as Streamlit's
    send_replies_at_once()
    done = {"navigation": use_navigation(), "lanes": install_lanes(),
            "coalescing": coalesce_script_events()}
    log.info("lab: server tuned at start (%s)",
             ", ".join(name for name, ok in done.items() if ok) or "nothing")
    return True


@asynccontextmanager
async def lifespan(app):
    """``st.App``'s lifespan (``streamlit_app.py``): tune the process, then import and warm
    what the pages need before the server answers anyone (``ready``)."""
    start()
    if os.environ.get("LAB_PRELOAD") != "0":
        started = time.monotonic()
        failed = await asyncio.to_thread(ready)
        log.info("lab: ready in %.1f s%s", time.monotonic() - started,
                 f" (failed: {', '.join(failed)})" if failed else "")
    yield


def ready() -> list[str]:
    """Imports, then the warm-up (``LAB_WARM_UP=0`` skips it); returns what failed."""
    failed = preload()
    if not failed and os.environ.get("LAB_WARM_UP") != "0":
        warm_up()
    return failed


def install_lanes() -> bool:
    """Wrap Streamlit's run function with the fair lanes, if it is the one expected."""
    global lanes
    if os.environ.get("LAB_RUN_GATE") == "0" or lanes is not None:
        return False
    reasons = mismatches()
    if reasons:
        refuse_once(reasons)
        return False
    from streamlit.runtime.scriptrunner import script_runner

    lanes = FairLanes(script_runner.exec_func_with_error_handling,
                      fair=os.environ.get("LAB_FAIR") != "0")
    script_runner.exec_func_with_error_handling = lanes.run
    from lab.ui import lanes as heavy_work

    heavy_work.install(lanes)
    return True


def coalesce_script_events() -> bool:
    """Wake the event loop once per burst of a session's script events, not per event.

    Replaces ``AppSession._on_scriptrunner_event`` (Streamlit 1.67), which a ScriptRunner
    calls from its thread for every event (each element is one); installed once, True when
    it installs it now. Sessions connect it when they start their next run.
    """
    if _state["coalescing"] or os.environ.get("LAB_COALESCE") == "0":
        return False
    reasons = mismatches()
    if reasons:
        refuse_once(reasons)
        return False
    from streamlit.runtime.app_session import AppSession

    def on_event(session, sender, event, forward_msg=None, exception=None,
                 client_state=None, page_script_hash=None, fragment_ids_this_run=None,
                 pages=None, run_descriptor=None):
        pending = session.__dict__.setdefault("_lab_events", collections.deque())
        pending.append((sender, event, forward_msg, exception, client_state,
                        page_script_hash, fragment_ids_this_run, pages, run_descriptor))
        if not session.__dict__.get("_lab_wake_pending"):      # append first, then check
            session._lab_wake_pending = True
            session._call_soon_on_event_loop(lambda: _handle_queued(session))

    # Keep the original alive: Streamlit's signals hold their receivers by weak reference,
    # and a runner connected before the replacement must still reach it.
    _replaced.append(AppSession._on_scriptrunner_event)
    AppSession._on_scriptrunner_event = on_event
    _state["coalescing"] = True
    return True


def _handle_queued(session) -> None:
    """On the event loop: every event queued so far, in order."""
    session._lab_wake_pending = False           # an event queued from now on wakes it again
    pending = session._lab_events
    try:
        while pending:
            session._handle_scriptrunner_event_on_event_loop(*pending.popleft())
    finally:
        if pending and not session._lab_wake_pending:    # an event raised: keep the rest
            session._lab_wake_pending = True
            session._call_soon_on_event_loop(lambda: _handle_queued(session))


def lab_modules() -> list[str]:
    """Every module of ``lab`` and ``lab.ui`` (core first), but the command line."""
    import lab
    import lab.ui

    names = [f"lab.{m.name}" for m in pkgutil.iter_modules(lab.__path__) if not m.ispkg]
    names += [f"lab.ui.{m.name}" for m in pkgutil.iter_modules(lab.ui.__path__)]
    return [name for name in names if name not in PRELOAD_SKIP]


def preload_order() -> list[str]:
    return [*PRELOAD_FIRST, *(name for name in lab_modules() if name not in PRELOAD_LAST),
            *PRELOAD_LAST]


def preload(modules: tuple[str, ...] | None = None) -> list[str]:
    """Import what the pages need, then freeze the heap; returns what failed to import.

    The collector is off while importing (torch alone makes it walk a growing heap a dozen
    times): one collection at the end, then the freeze.
    """
    was_enabled = gc.isenabled()
    gc.disable()
    failed = []
    try:
        for name in modules or preload_order():
            try:
                importlib.import_module(name)
            except Exception as problem:  # noqa: BLE001 - the page shows its own error
                failed.append(f"{name}: {type(problem).__name__}")
    finally:
        if was_enabled:
            gc.enable()
        one_torch_thread()
        freeze_after_imports()
    if failed:
        log.warning("lab: background imports failed: %s", ", ".join(failed))
    return failed


def warm_up() -> None:
    """The seed's chain at its defaults and its plot, once, into the shared caches.

    After the imports, a page's first run would still pay for torch's first autograd run,
    the first sympy printing and plotly's first figure, several times a warm first load
    (docs/performance.md). Not the playground's f″ through abs (torch._dynamo, ~1 s): it
    would compete with the arriving students.
    """
    from lab.chain import DEFAULTS
    from lab.i18n import DEFAULT_LANGUAGE
    from lab.palette import SCREEN
    from lab.ui import cached, views

    try:
        result = cached.chain_run(**DEFAULTS, reduce="mean")
        views.curve_figure(result.text, result.x_spec, result.dtype, DEFAULT_LANGUAGE,
                           False, SCREEN, _curve=result.curve)
    except Exception as problem:  # noqa: BLE001 - a page shows its own error
        log.warning("lab: warm-up failed: %s", type(problem).__name__)


def one_torch_thread() -> None:
    """One intra-op thread for torch in the server.

    Tensors here hold at most 10,000 elements, too few for splitting an operation across
    threads to pay, and when the cores are busy (other sessions, other processes) the
    threads wait on each other: measured on this 2-core machine under load, one tan() on
    10,000 float32 values took 0.1 ms with one thread and up to 8 ms with two; a whole
    20-operation run at 10,000 elements, 0.07 s against 0.13-0.9 s.
    """
    torch = sys.modules.get("torch")
    if torch is not None:
        torch.set_num_threads(1)


def freeze_after_imports() -> bool:
    """Freeze the heap if modules were imported since the last freeze; True if it did."""
    global _modules_at_freeze
    if len(sys.modules) == _modules_at_freeze or os.environ.get("LAB_GC_FREEZE") == "0":
        return False
    _modules_at_freeze = len(sys.modules)
    gc.collect()
    gc.freeze()
    return True


# -- scheduling -----------------------------------------------------------------------------
class FairLanes:
    """Who may run a script now: one light run at a time, heavy work beside it, rationed.

    * **One light run at a time** (the gate): with 150 students, dozens of script threads
      sharing the GIL all finished late and together; one at a time, each finishes about
      as fast as alone.
    * **Heavy work on its own lane**: a session whose last ``HEAVY_AFTER`` runs each used
      more than ``HEAVY_CPU_S`` of CPU runs its next ones on a second lane until one is
      light, so no light run waits behind it; a light run the watchdog finds past
      ``SLICE_CPU_S`` of CPU gives the gate up and finishes beside the next one. A heavy
      run shares the GIL with the class, so the lane runs one at a time and, while the
      class works, at most ``HEAVY_DUTY`` of the time, whatever the number of heavy
      sessions.
    * **An allowance per session**: a session's runs add their cost to its debt (the CPU
      of its thread; on the heavy lane, the run's duration),
      which drains at ``SHARE`` of a second per second; a run starts once the debt is
      under ``BURST_S`` (its session waits, holding no lane and no GIL), or at once if no
      other session started a light run in the last ``IDLE_S`` (alone on the server,
      nobody waits). A student, a few tens of ms every few seconds, never waits; a client
      sending the costliest formulas back to back while the class works runs about
      ``SHARE`` of the time, and the class has the rest.
    """

    def __init__(self, original, fair: bool = True):
        self.original = original
        self.fair = fair
        self.share = float(os.environ.get("LAB_FAIR_SHARE", SHARE))    # for measuring
        self.duty = float(os.environ.get("LAB_HEAVY_DUTY", HEAVY_DUTY))
        self.heavy_after = int(os.environ.get("LAB_HEAVY_AFTER", HEAVY_AFTER))
        self.slice_s = float(os.environ.get("LAB_SLICE_CPU_S", SLICE_CPU_S))
        self.heavy_open_at = 0.0               # monotonic: when the heavy lane reopens
        self.gate = threading.Lock()           # the light lane
        self.heavy_lane = threading.Lock()     # the heavy lane
        self.lock = threading.Lock()           # guards the fields below
        self.debts: dict[str, tuple[float, float]] = {}    # session -> (CPU s, when)
        self.heavy: set[str] = set()           # sessions on the heavy lane
        self.heavy_streak: dict[str, int] = {}  # session -> its last runs that were heavy
        self.holder: tuple | None = None       # (CPU clock, run number, CPU at start)
        self.released_early: set[int] = set()
        self.runs = 0
        self.light_started: dict[str, float] = {}  # session -> its last light run's start
        self.watchdog: threading.Thread | None = None
        self.local = threading.local()         # this thread's run: its session, its lane

    # The replacement of exec_func_with_error_handling(func, ctx).
    def run(self, func, ctx):
        self._start_watchdog()
        session = getattr(ctx, "session_id", "")
        self.local.session, self.local.me, self.local.on_heavy = session, None, False
        freeze_after_imports()
        if not self.fair:
            with self.gate:
                return self._timed(func, ctx, session)
        self._wait_for_allowance(session)
        if session in self.heavy:
            return self._heavy(func, ctx, session)
        return self._light(func, ctx, session)

    def _heavy(self, func, ctx, session: str):
        """The heavy lane: one run at a time, and while the class works, busy at most
        ``HEAVY_DUTY`` of the time: after a heavy run of d seconds it stays closed for
        d * (1 / HEAVY_DUTY - 1), however many sessions are heavy."""
        with self.heavy_lane:
            self._wait_for_duty(session)
            started = time.monotonic()
            self.local.on_heavy = True
            try:
                return self._timed(func, ctx, session, charge_wall=True)
            finally:
                ended = time.monotonic()
                self.heavy_open_at = ended + (ended - started) * (1 / self.duty - 1)

    def _wait_for_duty(self, session: str) -> None:
        while True:
            now = time.monotonic()
            if now >= self.heavy_open_at or not self.others_busy(session, now):
                return
            time.sleep(min(self.heavy_open_at - now, 0.1))

    def step_aside(self) -> None:
        """This thread's light run gives the gate up (it finishes beside the next run)."""
        me = getattr(self.local, "me", None)
        with self.lock:
            if me is not None and self.holder == me:
                self.holder = None
                self.released_early.add(me[1])
                self.gate.release()

    @contextmanager
    def heavy_work(self):
        """Work that a run's input says is heavy (lab.ui.lanes), whichever session asks:
        the run gives the light gate up, so the class's runs go on, and the work waits for
        the heavy lane, shared by the whole server, busy at most ``HEAVY_DUTY`` of the time
        while the class works. A run already on the heavy lane just does it."""
        if not self.fair or getattr(self.local, "on_heavy", False):
            yield
            return
        self.step_aside()
        session = getattr(self.local, "session", "")
        with self.heavy_lane:
            self._wait_for_duty(session)
            started = time.monotonic()
            self.local.on_heavy = True
            try:
                yield
            finally:
                self.local.on_heavy = False
                ended = time.monotonic()
                self.heavy_open_at = ended + (ended - started) * (1 / self.duty - 1)

    def _timed(self, func, ctx, session: str, charge_wall: bool = False):
        cpu, wall = time.thread_time(), time.monotonic()
        try:
            return self.original(func, ctx)
        finally:
            cpu = time.thread_time() - cpu
            self._account(session, cpu, time.monotonic() - wall if charge_wall else cpu)

    def debt(self, session: str, now: float) -> float:
        """The session's debt now, in seconds of running, after draining."""
        owed, since = self.debts.get(session, (0.0, now))
        return max(0.0, owed - (now - since) * self.share)

    def others_busy(self, session: str, now: float) -> bool:
        """Whether another session started a light run in the last ``IDLE_S``."""
        with self.lock:
            recent = {key: when for key, when in self.light_started.items()
                      if now - when < IDLE_S}
            self.light_started = recent
        return any(key != session for key in recent)

    def _wait_for_allowance(self, session: str) -> None:
        """Wait while the session owes more than its burst and the class is busy."""
        while True:
            now = time.monotonic()
            over = self.debt(session, now) - BURST_S
            if over <= 0 or not self.others_busy(session, now):
                return
            time.sleep(min(over / self.share, 0.1))

    def _account(self, session: str, cpu: float, charge: float) -> None:
        """After a run: the session owes ``charge`` seconds (its thread's CPU; a heavy-lane
        run's whole duration, the GIL it kept from the class), and is heavy by its CPU.
        A light run's duration is not charged: it may have waited for an import, a cache
        being computed by another session, or the GIL."""
        now = time.monotonic()
        with self.lock:
            self.debts[session] = (self.debt(session, now) + charge, now)
            streak = self.heavy_streak.get(session, 0) + 1 if cpu > HEAVY_CPU_S else 0
            self.heavy_streak[session] = streak
            if streak >= self.heavy_after:
                self.heavy.add(session)
            elif not streak:
                self.heavy.discard(session)
            if len(self.debts) > 2000:          # forget the sessions that owe nothing
                self.debts = {key: value for key, value in self.debts.items()
                              if self.debt(key, now) > 0}
                self.heavy &= set(self.debts)
                self.heavy_streak = {key: self.heavy_streak.get(key, 0) for key in self.debts}

    def _light(self, func, ctx, session: str):
        self.gate.acquire()
        with self.lock:
            self.light_started[session] = time.monotonic()
            self.runs += 1
            me = (_cpu_clock(), self.runs, time.thread_time())
            self.holder = me
            self.local.me = me
        try:
            return self._timed(func, ctx, session)
        finally:
            with self.lock:
                if self.holder == me:
                    self.holder = None
                if me[1] in self.released_early:
                    self.released_early.discard(me[1])
                else:
                    self.gate.release()

    def _start_watchdog(self) -> None:
        if self.watchdog is None:
            with self.lock:
                if self.watchdog is None:
                    self.watchdog = threading.Thread(target=self._watch, name="lab-lanes",
                                                     daemon=True)
                    self.watchdog.start()

    def _watch(self) -> None:
        """Give the gate up for a light run past its CPU slice (it finishes beside)."""
        while True:
            time.sleep(0.02)
            holder = self.holder
            if holder is None:
                continue
            if holder[0] is None:
                continue                        # no per-thread clocks here
            try:
                cpu = time.clock_gettime(holder[0])
            except OSError:                     # that thread has ended
                continue
            if cpu - holder[2] > self.slice_s:
                with self.lock:
                    if self.holder == holder:
                        self.holder = None
                        self.released_early.add(holder[1])
                        self.gate.release()


def _cpu_clock() -> int | None:
    """This thread's CPU clock, readable from another thread (None where there is none)."""
    try:
        return time.pthread_getcpuclockid(threading.get_ident())
    except (AttributeError, OSError):
        return None
