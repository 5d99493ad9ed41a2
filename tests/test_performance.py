"""What keeps the lab fast: a light home page, its settings, replies sent without delay."""

import json
import os
import socket
import subprocess
import sys
import tomllib
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parent.parent


def test_home_page_runs_without_importing_torch():
    """The home page (and the frame of every page) must not pay torch's import.

    (plotly and pandas are not checked: Streamlit 1.67 imports them itself.)
    """
    probe = (
        "import sys, json\n"
        "from streamlit.testing.v1 import AppTest\n"
        "at = AppTest.from_file('streamlit_app.py', default_timeout=60).run()\n"
        "heavy = [m for m in ('torch', 'sympy', 'torchviz') if m in sys.modules]\n"
        "print(json.dumps({'exceptions': len(at.exception), 'heavy': heavy,\n"
        "                  'title': at.title[0].value if at.title else None}))\n"
    )
    done = subprocess.run([sys.executable, "-c", probe], cwd=ROOT, capture_output=True,
                          text=True, timeout=120)
    assert done.returncode == 0, done.stderr[-2000:]
    seen = json.loads(done.stdout.strip().splitlines()[-1])
    assert seen["exceptions"] == 0
    assert seen["title"] == "Autograd Lab"          # the home page really ran
    assert seen["heavy"] == []


def test_settings_measured_in_the_load_test_are_deployed():
    config = tomllib.loads((ROOT / ".streamlit" / "config.toml").read_text())
    assert config["runner"]["postScriptGC"] is False
    assert config["server"]["fileWatcherType"] == "none"


@pytest.mark.skipif(not os.path.isdir("/proc/self/fd"), reason="Linux /proc only")
def test_tcp_nodelay_reaches_the_listener_and_open_connections():
    from lab.ui.network import tcp_nodelay_everywhere

    # Like Streamlit 1.67: a listening socket made with protocol 0, so asyncio skips it.
    listener = socket.socket(socket.AF_INET)
    listener.bind(("127.0.0.1", 0))
    listener.listen()
    early = socket.create_connection(listener.getsockname())
    accepted_early, _ = listener.accept()
    with listener, early, accepted_early:
        assert accepted_early.getsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY) == 0
        assert tcp_nodelay_everywhere() >= 2
        late = socket.create_connection(listener.getsockname())
        accepted_late, _ = listener.accept()
        with late, accepted_late:
            assert accepted_early.getsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY) == 1
            assert accepted_late.getsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY) == 1


def decoded(array) -> list[float]:
    """A plotly JSON array: a list, or a base64 typed array {"dtype", "bdata"}."""
    import base64

    import numpy as np

    if isinstance(array, dict):
        return np.frombuffer(base64.b64decode(array["bdata"]), dtype=array["dtype"]).tolist()
    return list(array)


def test_curve_chart_sends_autograd_values_as_typed_arrays(page):
    """The plot is built from plain dicts (no plotly validation): still autograd's numbers."""
    at = page("pages/2_backward.py")
    figure = json.loads(at.get("plotly_chart")[0].proto.spec)
    f_trace, df_trace, points_f, points_df = figure["data"][:4]
    assert isinstance(f_trace["x"], dict) and "bdata" in f_trace["x"]     # typed, compact
    # the seed: x = 0, 1, 2; f(x) = (x + 1)² + 2 and f′(x) = 2 (x + 1), by autograd
    assert decoded(points_f["x"]) == [0.0, 1.0, 2.0]
    assert decoded(points_f["y"]) == [3.0, 6.0, 11.0]
    assert decoded(points_df["y"]) == [2.0, 4.0, 6.0]
    assert len(decoded(df_trace["y"])) == len(decoded(f_trace["x"])) > 100
    assert figure["layout"]["title"]["text"] and figure["layout"]["height"] == 380


def test_the_heap_is_frozen_again_only_after_new_imports():
    import gc
    import importlib

    from lab.ui import process

    fresh = next(name for name in ("tabnanny", "pyclbr", "filecmp", "netrc")
                 if name not in sys.modules)
    try:
        process.freeze_after_imports()
        assert gc.get_freeze_count() > 0
        assert process.freeze_after_imports() is False          # nothing new imported
        importlib.import_module(fresh)
        assert process.freeze_after_imports() is True           # a new module: freeze again
    finally:
        gc.unfreeze()
        sys.modules.pop(fresh, None)


def test_the_gate_lets_one_script_run_at_a_time():
    """The wrapped runner function admits one run at a time, and a run that raises frees it."""
    import threading
    import time

    from streamlit.runtime.scriptrunner import script_runner

    from lab.ui import process

    saved_function, saved_gate = script_runner.exec_func_with_error_handling, process._gate
    running, peak, lock = [0], [0], threading.Lock()

    def fake_run(func, ctx):
        with lock:
            running[0] += 1
            peak[0] = max(peak[0], running[0])
        time.sleep(0.02)
        with lock:
            running[0] -= 1
        if ctx == "raise":
            raise RuntimeError("a run that fails")
        return ctx

    try:
        script_runner.exec_func_with_error_handling = fake_run
        process._gate = None
        assert process.gate_script_runs(1) is True
        assert process.gate_script_runs(1) is False              # installed once
        gated = script_runner.exec_func_with_error_handling
        with pytest.raises(RuntimeError):
            gated(None, "raise")
        threads = [threading.Thread(target=gated, args=(None, i)) for i in range(6)]
        for thread in threads:
            thread.start()
        for thread in threads:
            thread.join(5)
        assert peak[0] == 1 and running[0] == 0
    finally:
        script_runner.exec_func_with_error_handling = saved_function
        process._gate = saved_gate


def test_script_events_wake_the_event_loop_once_per_burst_and_keep_their_order():
    import gc

    from streamlit.runtime.app_session import AppSession

    from lab.ui import process

    import weakref

    # Only a weak reference here, as Streamlit's signals hold receivers: the runner that
    # is running while the replacement is installed must still reach the original.
    original = weakref.ref(AppSession.__dict__["_on_scriptrunner_event"])
    saved_flag = process._coalescing

    class FakeSession:
        def __init__(self):
            self.wake_ups, self.handled = [], []

        def _call_soon_on_event_loop(self, callback):
            self.wake_ups.append(callback)

        def _handle_scriptrunner_event_on_event_loop(self, sender, event, *rest):
            if event == "boom":
                raise RuntimeError("a handler that fails")
            self.handled.append(event)

    try:
        process._coalescing = False
        assert process.coalesce_script_events() is True
        assert process.coalesce_script_events() is False           # installed once
        gc.collect()
        assert original() is not None
        on_event = AppSession._on_scriptrunner_event
        session = FakeSession()
        for event in range(5):                       # a script's burst of elements
            on_event(session, None, event)
        assert len(session.wake_ups) == 1 and session.handled == []
        session.wake_ups.pop()()                     # the event loop's turn
        assert session.handled == [0, 1, 2, 3, 4]
        on_event(session, None, 5)                   # the next burst wakes it again
        on_event(session, None, "boom")
        on_event(session, None, 6)
        assert len(session.wake_ups) == 1
        with pytest.raises(RuntimeError):
            session.wake_ups.pop()()
        assert session.handled == [0, 1, 2, 3, 4, 5] and len(session.wake_ups) == 1
        session.wake_ups.pop()()                     # what followed the failure still runs
        assert session.handled == [0, 1, 2, 3, 4, 5, 6]
    finally:
        AppSession._on_scriptrunner_event = original()
        process._coalescing = saved_flag
