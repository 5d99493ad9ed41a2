"""What keeps the lab fast: a light home page, its settings, replies sent without delay."""

import json
import logging
import os
import socket
import subprocess
import sys
import threading
import time
import tomllib
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parent.parent


def probe_json(code: str, timeout: float) -> dict:
    """Run ``code`` in a fresh Python from the repository root; its last line, read as JSON."""
    done = subprocess.run([sys.executable, "-c", code], cwd=ROOT, capture_output=True,
                          text=True, timeout=timeout)
    assert done.returncode == 0, done.stderr[-2000:]
    return json.loads(done.stdout.strip().splitlines()[-1])


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
    seen = probe_json(probe, timeout=120)
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
    at = page("pages/2_backward.py", {"backward": "true"})
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


def test_the_tuning_is_written_for_the_installed_streamlit():
    """The pinned Streamlit (requirements.txt) is the one the replacements were written for:
    upgrading it fails here first, not silently in the server."""
    from lab.ui import process

    assert process.mismatches() == []


@pytest.fixture
def fresh_install(monkeypatch):
    """process as if the server had not installed anything yet (restored afterwards)."""
    from lab.ui import process

    monkeypatch.setattr(process, "lanes", None)
    monkeypatch.setitem(process._state, "refused_logged", False)
    monkeypatch.delenv("LAB_RUN_GATE", raising=False)
    return process


def test_the_tuning_refuses_a_mismatched_signature_and_says_so_once(fresh_install, monkeypatch,
                                                                   caplog):
    from streamlit.runtime.scriptrunner import script_runner

    def another_streamlit(func, ctx, run_descriptor=None):      # one argument more
        return func()

    monkeypatch.setattr(script_runner, "exec_func_with_error_handling", another_streamlit)
    with caplog.at_level(logging.WARNING, logger="lab.ui.process"):
        assert fresh_install.install_lanes() is False
        assert fresh_install.install_lanes() is False
    assert script_runner.exec_func_with_error_handling is another_streamlit    # untouched
    assert fresh_install.lanes is None
    refusals = [r for r in caplog.records if r.name == "lab.ui.process"]
    assert len(refusals) == 1 and "\n" not in refusals[0].getMessage()
    assert "run_descriptor" in refusals[0].getMessage()          # says what differs


def test_the_tuning_refuses_another_streamlit_version(fresh_install, monkeypatch, caplog):
    import streamlit
    from streamlit.runtime.scriptrunner import script_runner

    original = script_runner.exec_func_with_error_handling
    monkeypatch.setattr(streamlit, "__version__", "1.68.0")
    with caplog.at_level(logging.WARNING, logger="lab.ui.process"):
        assert fresh_install.install_lanes() is False
    assert script_runner.exec_func_with_error_handling is original
    assert "1.68.0" in caplog.text


def test_the_tuning_installs_on_the_streamlit_it_was_written_for(fresh_install, monkeypatch):
    from streamlit.runtime.scriptrunner import script_runner

    original = script_runner.exec_func_with_error_handling
    monkeypatch.setattr(script_runner, "exec_func_with_error_handling", original)
    assert fresh_install.install_lanes() is True
    assert script_runner.exec_func_with_error_handling == fresh_install.lanes.run
    assert fresh_install.lanes.original is original
    assert fresh_install.install_lanes() is False                # installed once


def test_script_events_wake_the_event_loop_once_per_burst_and_keep_their_order(monkeypatch):
    import gc
    import weakref

    from streamlit.runtime.app_session import AppSession

    from lab.ui import process

    # Only a weak reference here, as Streamlit's signals hold receivers: a runner connected
    # before the replacement is installed must still reach the original.
    original = weakref.ref(AppSession.__dict__["_on_scriptrunner_event"])
    monkeypatch.setitem(process._state, "coalescing", False)
    monkeypatch.setattr(process, "_replaced", [])
    monkeypatch.delenv("LAB_COALESCE", raising=False)

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


def test_the_coalescing_refuses_another_event_handler(fresh_install, monkeypatch):
    from streamlit.runtime.app_session import AppSession

    def another_streamlit(self, sender, event, forward_msg=None, extra=None):
        return None

    monkeypatch.setitem(fresh_install._state, "coalescing", False)
    monkeypatch.setattr(fresh_install, "_replaced", [])
    monkeypatch.delenv("LAB_COALESCE", raising=False)
    monkeypatch.setattr(AppSession, "_on_scriptrunner_event", another_streamlit)
    assert fresh_install.coalesce_script_events() is False
    assert AppSession._on_scriptrunner_event is another_streamlit          # untouched


def test_page_code_installs_nothing():
    """Rendering every page (AppTest, as the page tests do) patches nothing: the tuning is
    the server's, installed by st.App's lifespan only (bench smoke checks it in a real
    server), and no page or view calls into process."""
    probe = (
        "import gc, json, threading\n"
        "from streamlit.testing.v1 import AppTest\n"
        "from streamlit.runtime.scriptrunner import exec_code, script_runner\n"
        "from lab.site import PAGES\n"
        "at = AppTest.from_file('streamlit_app.py', default_timeout=60).run()\n"
        "errors = len(at.exception)\n"
        "for info in PAGES[1:]:\n"
        "    errors += len(at.switch_page(info.script).run().exception)\n"
        "from lab.ui import process\n"
        "print(json.dumps({'errors': errors, 'patched': script_runner.exec_func_with_error_handling\n"
        "                  is not exec_code.exec_func_with_error_handling,\n"
        "                  'started': process._state['started'], 'lanes': process.lanes is not None,\n"
        "                  'threads': [t.name for t in threading.enumerate()\n"
        "                              if t.name.startswith('lab-')],\n"
        "                  'frozen': gc.get_freeze_count()}))\n"
    )
    seen = probe_json(probe, timeout=300)
    assert seen == {"errors": 0, "patched": False, "started": False, "lanes": False,
                    "threads": [], "frozen": 0}
    callers = [path.name for path in [*(ROOT / "pages").glob("*.py"),
                                      *(ROOT / "lab" / "ui").glob("*.py")]
               if path.name != "process.py"
               and ("process." in path.read_text() or "import process" in path.read_text())]
    assert callers == []


def test_the_server_starts_in_st_apps_lifespan_and_no_package_runs_code_at_import():
    """``streamlit run streamlit_app.py`` finds ``app`` (an st.App) and runs its lifespan at
    process start; importing lab, lab.ui or lab.cell runs nothing."""
    from streamlit.web.server.app_discovery import discover_asgi_app

    found = discover_asgi_app(ROOT / "streamlit_app.py")
    assert found.is_asgi_app and found.import_string == "streamlit_app:app"
    import ast

    assert not (ROOT / "lab" / "__init__.py").exists()       # lab is a namespace package
    for package in ("lab/ui", "lab/cell"):
        tree = ast.parse((ROOT / package / "__init__.py").read_text())
        for node in tree.body:                  # a docstring, re-exports and __all__ only
            assert (isinstance(node, ast.Expr) and isinstance(node.value, ast.Constant)
                    or isinstance(node, ast.ImportFrom) and node.module.startswith("lab.")
                    or isinstance(node, ast.Assign) and node.targets[0].id == "__all__"), (
                package, ast.dump(node)[:80])


def test_the_lifespan_tunes_the_process_and_answers_only_once_ready():
    """In a fresh Python: the lifespan clears Streamlit's legacy pages-folder flag, installs
    the lanes, and enters its body (the server's first answer) only after the imports."""
    probe = (
        "import asyncio, json, time\n"
        "from streamlit.runtime.pages_manager import PagesManager\n"
        "from lab.ui import process\n"
        "PagesManager.uses_pages_directory = True\n"
        "order = []\n"
        "process.preload = lambda: time.sleep(0.3) or order.append('imports') or []\n"
        "process.warm_up = lambda: order.append('warm-up')\n"
        "async def serve():\n"
        "    async with process.lifespan(None):\n"
        "        order.append('serving')\n"
        "asyncio.run(serve())\n"
        "from streamlit.runtime.scriptrunner import script_runner\n"
        "print(json.dumps({'order': order, 'legacy': PagesManager.uses_pages_directory,\n"
        "                  'lanes': script_runner.exec_func_with_error_handling\n"
        "                           == process.lanes.run,\n"
        "                  'coalescing': process._state['coalescing']}))\n"
    )
    assert probe_json(probe, timeout=120) == {"order": ["imports", "warm-up", "serving"],
                                              "legacy": False, "lanes": True,
                                              "coalescing": True}


class FakeContext:
    def __init__(self, session_id: str):
        self.session_id = session_id


def run_through(lanes, session: str, work):
    """A script run of ``session`` through the lanes (the original just calls the script)."""
    return lanes.run(work, FakeContext(session))


@pytest.fixture
def lanes(monkeypatch):
    from lab.ui import process

    monkeypatch.setenv("LAB_GC_FREEZE", "0")
    return process.FairLanes(lambda func, ctx: func())


def test_light_runs_go_one_at_a_time(lanes):
    running, peak, lock = [0], [0], threading.Lock()

    def light_run():
        with lock:
            running[0] += 1
            peak[0] = max(peak[0], running[0])
        threading.Event().wait(0.02)                 # blocked, not burning CPU
        with lock:
            running[0] -= 1

    def failing_run():
        raise RuntimeError("a run that fails")

    with pytest.raises(RuntimeError):
        run_through(lanes, "a", failing_run)          # frees the gate
    threads = [threading.Thread(target=run_through, args=(lanes, f"s{i}", light_run))
               for i in range(6)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(10)
    assert peak[0] == 1 and running[0] == 0


def burn_cpu(seconds: float) -> None:
    started = time.thread_time()
    while time.thread_time() - started < seconds:
        pass


def test_a_session_whose_run_was_heavy_goes_to_the_heavy_lane(lanes):
    from lab.ui import process

    run_through(lanes, "student", lambda: burn_cpu(process.HEAVY_CPU_S * 1.5))  # a first load
    run_through(lanes, "student", lambda: None)
    for _ in range(process.HEAVY_AFTER):
        run_through(lanes, "noisy", lambda: burn_cpu(process.HEAVY_CPU_S * 1.5))
    assert lanes.heavy == {"noisy"}
    lanes.gate.acquire()                  # the light lane busy: only the heavy lane is free
    try:
        assert run_through(lanes, "noisy", lambda: "ran") == "ran"
    finally:
        lanes.gate.release()
    assert lanes.heavy == set()           # that run was light: back to the light lane


def test_the_fair_lane_admits_a_light_run_while_a_heavy_one_runs(lanes):
    lanes.heavy.add("noisy")
    heavy_started, heavy_may_end = threading.Event(), threading.Event()

    def heavy_run():
        heavy_started.set()
        heavy_may_end.wait(30)

    noisy = threading.Thread(target=run_through, args=(lanes, "noisy", heavy_run))
    noisy.start()
    try:
        assert heavy_started.wait(30)
        assert run_through(lanes, "student", lambda: "answered") == "answered"
        assert noisy.is_alive()                       # the heavy run is still running
    finally:
        heavy_may_end.set()
        noisy.join(30)


def test_a_light_run_past_its_slice_gives_the_gate_up(lanes):
    from lab.ui import process

    stop = threading.Event()

    def overrun():
        started = time.thread_time()
        while not stop.is_set() and time.thread_time() - started < 60:
            pass

    long_run = threading.Thread(target=run_through, args=(lanes, "new", overrun))
    long_run.start()
    try:
        for _ in range(3000):                     # until the watchdog sees it past its slice
            if lanes.released_early:
                break
            threading.Event().wait(0.01)
        assert lanes.released_early
        assert run_through(lanes, "student", lambda: "answered") == "answered"
    finally:
        stop.set()
        long_run.join(60)
    assert lanes.heavy_streak["new"] == 1 and not lanes.released_early
    assert process.SLICE_CPU_S <= process.HEAVY_CPU_S     # so it counts as heavy


def test_a_light_run_that_waited_owes_only_its_cpu(lanes):
    """A first load that waited for torch's import (or for another session computing the
    same cached value) must not make its student wait later: only CPU is charged."""
    from lab.ui import process

    run_through(lanes, "student", lambda: threading.Event().wait(process.BURST_S + 0.2))
    assert lanes.debt("student", time.monotonic()) < process.BURST_S / 2


def test_the_heavy_lane_closes_after_a_heavy_run_only_while_the_class_works(lanes):
    from lab.ui import process

    lanes.heavy.add("noisy")
    run_through(lanes, "noisy", lambda: burn_cpu(process.HEAVY_CPU_S * 1.5))
    closed_until = lanes.heavy_open_at
    assert closed_until > time.monotonic()                      # closed for a while...
    assert run_through(lanes, "noisy", lambda: "ran") == "ran"  # ...unless nobody else runs
    assert lanes.heavy_open_at <= closed_until + 1.0


def test_a_session_over_its_allowance_waits_only_while_the_class_is_busy(lanes):
    from lab.ui import process

    lanes._account("noisy", 0.0, process.BURST_S + 2.0)
    owed = lanes.debts["noisy"][1]
    assert lanes.debt("noisy", owed) == pytest.approx(process.BURST_S + 2.0)
    assert lanes.debt("noisy", owed + 10) == pytest.approx(process.BURST_S + 2.0
                                                           - 10 * process.SHARE)
    assert lanes.debt("noisy", owed + 1e6) == 0.0
    run_through(lanes, "noisy", lambda: None)     # its own light run does not count...
    assert not lanes.others_busy("noisy", time.monotonic())
    assert run_through(lanes, "noisy", lambda: "ran") == "ran"      # ...so it goes on
    lanes.heavy.add("student")
    run_through(lanes, "student", lambda: None)       # heavy lane: not the class's work
    assert not lanes.others_busy("noisy", time.monotonic())
    lanes.heavy.discard("student")
    run_through(lanes, "student", lambda: None)
    assert lanes.others_busy("noisy", time.monotonic())     # a student just ran: it waits


def test_the_background_imports_freeze_the_heap_and_survive_a_missing_module(monkeypatch):
    import gc

    from lab.ui import process

    monkeypatch.setattr(process, "_modules_at_freeze", 0)
    monkeypatch.delenv("LAB_GC_FREEZE", raising=False)
    try:
        failed = process.preload(("json", "lab.formula", "no_such_module_here"))
        assert failed == ["no_such_module_here: ModuleNotFoundError"]
        assert gc.get_freeze_count() > 0 and gc.isenabled()
    finally:
        gc.unfreeze()
    order = process.preload_order()
    assert order[0] == "torch" and "lab.ui.views" in order and "lab.cli" not in order
    assert order.index("lab.gradients") < order.index("sympy")     # torch pages first


def test_the_warm_up_caches_the_seed_chain_and_its_plot_without_torch_dynamo():
    """After the background imports, page 2's default run and plot are in the shared caches
    (the first student computes neither again), and the warm-up did not pay the ~1 s import
    of torch._dynamo that competed with a cold lecture hall."""
    probe = (
        "import sys, json\n"
        "from lab.ui import process, cached, views\n"
        "from lab import chain\n"
        "from lab.i18n import DEFAULT_LANGUAGE\n"
        "from lab.palette import SCREEN\n"
        "process.warm_up()\n"
        "calls = []\n"
        "run, scatter = chain.run_chain, views._scatter\n"
        "chain.run_chain = lambda *a, **k: calls.append('run') or run(*a, **k)\n"
        "views._scatter = lambda *a, **k: calls.append('plot') or scatter(*a, **k)\n"
        "result = cached.chain_run(n=3, a=1.0, p=2.0, c=2.0, reduce='mean')\n"
        "views.curve_figure(result.text, result.x_spec, result.dtype, DEFAULT_LANGUAGE,\n"
        "                   False, SCREEN, _curve=result.curve)\n"
        "cached.chain_run(n=3, a=1.5, p=2.0, c=2.0, reduce='mean')\n"
        "print(json.dumps({'computed': calls,\n"
        "                  'dynamo': 'torch._dynamo' in sys.modules}))\n"
    )
    # The last call (another a) is computed: the counting itself works.
    assert probe_json(probe, timeout=300) == {"computed": ["run"], "dynamo": False}


def test_a_figure_drawn_while_another_thread_imports_pandas_waits_for_it():
    """A cold server's first runs import at once. plotly takes pandas from ``sys.modules``
    even half imported ("partially initialized module 'pandas' has no attribute 'Series'"
    on page 8 of a cold lecture hall); the views import pandas first, so a thread drawing a
    figure waits until pandas is whole. Here one thread's import of pandas is held open
    while another imports the views and draws."""
    probe = (
        "import importlib.abc, importlib.machinery, json, sys, threading\n"
        "entered, release = threading.Event(), threading.Event()\n"
        "class Held(importlib.abc.MetaPathFinder):\n"
        "    def find_spec(self, name, path=None, target=None):\n"
        "        if name != 'pandas':\n"
        "            return None\n"
        "        sys.meta_path.remove(self)\n"
        "        spec = importlib.machinery.PathFinder.find_spec(name, path)\n"
        "        real = spec.loader\n"
        "        class Loader(importlib.abc.Loader):\n"
        "            def create_module(self, spec):\n"
        "                return real.create_module(spec)\n"
        "            def exec_module(self, module):\n"
        "                entered.set()\n"
        "                release.wait(60)\n"
        "                real.exec_module(module)\n"
        "        spec.loader = Loader()\n"
        "        return spec\n"
        "import plotly.graph_objects, streamlit, torch\n"       # what a page has by then
        "sys.meta_path.insert(0, Held())\n"
        "importer = threading.Thread(target=__import__, args=('pandas',))\n"
        "importer.start()\n"
        "entered.wait(60)\n"
        "outcome = {}\n"
        "def draw():\n"
        "    try:\n"
        "        from lab.ui import views\n"
        "        views.figure_spec([{'type': 'scatter', 'x': [0.0, 1.0], 'y': [1.0, 2.0]}], {})\n"
        "        outcome['drew'] = True\n"
        "    except Exception as problem:\n"
        "        outcome['drew'] = f'{type(problem).__name__}: {problem}'\n"
        "drawer = threading.Thread(target=draw)\n"
        "drawer.start()\n"
        "drawer.join(5)\n"
        "outcome['waited_for_pandas'] = drawer.is_alive()\n"
        "release.set()\n"
        "drawer.join(120)\n"
        "importer.join(120)\n"
        "print(json.dumps(outcome))\n"
    )
    assert probe_json(probe, timeout=300) == {"drew": True, "waited_for_pandas": True}
