"""Tuning of the server process the lab runs in, applied at the start of every full run.

One Streamlit process serves every session: each session's script runs in its own thread,
and one event-loop thread sends all replies, all under one GIL. Two changes, measured with
150 students in ``bench.load`` (README, "Performance"):

* **A frozen heap.** With torch, sympy, plotly and pandas loaded the process holds
  ~300,000 objects that live as long as it does, and a full (generation 2) collection walks
  all of them: ~300 ms with the GIL held, during which every session stalls. Python starts
  one by itself whenever enough objects have survived younger collections, every few
  seconds under a lecture hall's load. ``gc.freeze()`` moves every object alive now to a
  permanent generation that collections skip; a full collection then walks only what
  sessions created since. It runs again whenever the process has imported new modules (the
  first visit of a page that imports sympy, say), after one collection so that no garbage
  is frozen. ``LAB_GC_FREEZE=0`` turns it off.
* **One script run at a time.** With 150 sessions, dozens of script threads shared the GIL
  at once: every run progressed a little, all finished late and together, the students'
  next clicks arrived together, and the event loop that sends replies waited behind them.
  A gate lets one run execute at a time (the others wait their turn, without the GIL):
  runs finish in order, each as fast as alone, and the event loop keeps up. Every run here
  is bounded (formula limits, the 0.5 s sympy budget), so none holds the gate for long.
  ``LAB_RUN_GATE=<n>`` allows n at once (0: no gate); 2 and 4 measured no better than none.
* **One wake-up per burst of messages.** Streamlit 1.67 hands every element a script
  creates to the event loop with its own ``call_soon_threadsafe``: a write to the loop's
  wake-up socket and a GIL hand-off per element. The script thread now queues its events
  and wakes the loop only when no wake-up is pending; the loop handles everything queued,
  in order. ``LAB_COALESCE=0`` turns it off.
"""

from __future__ import annotations

import collections
import gc
import os
import sys
import threading

from lab.ui.network import send_replies_at_once

RUNS_AT_ONCE = 1

_modules_at_freeze = 0
_gate: threading.BoundedSemaphore | None = None


def freeze_after_imports() -> bool:
    """Freeze the heap if modules were imported since the last freeze; True if it did."""
    global _modules_at_freeze
    if len(sys.modules) == _modules_at_freeze or os.environ.get("LAB_GC_FREEZE") == "0":
        return False
    _modules_at_freeze = len(sys.modules)
    gc.collect()
    gc.freeze()
    return True


def gate_script_runs(limit: int) -> bool:
    """Let at most ``limit`` script runs of this process execute at once (0: no limit).

    Wraps the one function through which Streamlit 1.67's ScriptRunner executes every run
    (whole page or fragment); installed once, True when it installs it now.
    """
    global _gate
    if _gate is not None or limit <= 0:
        return False
    from streamlit.runtime.scriptrunner import script_runner

    original = getattr(script_runner, "exec_func_with_error_handling", None)
    if original is None:            # another Streamlit than 1.67: run ungated, not broken
        return False
    gate = threading.BoundedSemaphore(limit)

    def one_at_a_time(func, ctx):
        with gate:
            return original(func, ctx)

    script_runner.exec_func_with_error_handling = one_at_a_time
    _gate = gate
    return True


_coalescing = False
_replaced: list = []


def coalesce_script_events() -> bool:
    """Wake the event loop once per burst of a session's script events, not per event.

    Replaces ``AppSession._on_scriptrunner_event`` (Streamlit 1.67), which ScriptRunners
    call from their thread for every event (each element is one); installed once, True
    when it installs it now. Sessions connect it when they start their next run.
    """
    global _coalescing
    if _coalescing:
        return False
    from streamlit.runtime.app_session import AppSession

    needed = ("_on_scriptrunner_event", "_handle_scriptrunner_event_on_event_loop",
              "_call_soon_on_event_loop")
    if not all(hasattr(AppSession, name) for name in needed):   # another Streamlit than 1.67
        return False

    def on_event(session, sender, event, forward_msg=None, exception=None,
                 client_state=None, page_script_hash=None, fragment_ids_this_run=None,
                 pages=None, run_descriptor=None):
        pending = session.__dict__.setdefault("_lab_events", collections.deque())
        pending.append((sender, event, forward_msg, exception, client_state,
                        page_script_hash, fragment_ids_this_run, pages, run_descriptor))
        if not session.__dict__.get("_lab_wake_pending"):      # append first, then check
            session._lab_wake_pending = True
            session._call_soon_on_event_loop(lambda: _handle_queued(session))

    # Keep the original alive: runners already started hold it by weak reference
    # (WeakMethod), and the run that installs this one must still reach it.
    _replaced.append(AppSession._on_scriptrunner_event)
    AppSession._on_scriptrunner_event = on_event
    _coalescing = True
    return True


def _handle_queued(session) -> None:
    """On the event loop: every event queued so far, in order."""
    session._lab_wake_pending = False           # an event queued from now on wakes us again
    pending = session._lab_events
    try:
        while pending:
            session._handle_scriptrunner_event_on_event_loop(*pending.popleft())
    finally:
        if pending and not session._lab_wake_pending:    # an event raised: keep the rest
            session._lab_wake_pending = True
            session._call_soon_on_event_loop(lambda: _handle_queued(session))


def tune() -> None:
    """Every process-wide tuning; called at the start of every full run, cheap once done."""
    send_replies_at_once()          # TCP_NODELAY (lab/ui/network.py)
    freeze_after_imports()
    gate_script_runs(int(os.environ.get("LAB_RUN_GATE", RUNS_AT_ONCE)))
    if os.environ.get("LAB_COALESCE") != "0":
        coalesce_script_events()
