"""The floor: what a page's messages cost Streamlit alone, with no lab code, per rerun.

    python -m bench.floor                          # every page's default state
    python -m bench.floor --heavy --repeat 100     # and the heavy states
    python -m bench.floor --pages home playground --out floor-home

bench.rerun measures each page's server CPU per warm rerun against an empty one-slider
page. The floor asks how much of that is Streamlit's own per-element work, which no change
to the lab can remove:

1. **Record.** The lab runs (``Server()``); for each scenario (bench/scenarios.py) one
   session opens the page, warms it as bench.rerun does, then the raw ForwardMsg frames of
   one slider move (a fragment rerun, ``Session.move``) and one whole rerun
   (``Session.rerun``) are kept, read off the session's websocket, and saved as a pickle
   of frame bytes in a temporary folder (``LAB_FLOOR_DIR``).
2. **Replay.** bench/replay_page.py, served like bench/baseline_page.py (``st.App`` with
   the lab's lifespan), reads ``?rec=<name>``, loads that recording once per process and
   hands every message back to Streamlit in recorded order (``play``): ``new_element`` to
   ``DeltaGenerator._enqueue`` (with the element's width, height and text-alignment
   configs), ``add_block`` to ``DeltaGenerator._block``, each at its recorded delta path
   (the parent block's cursor is set to the recorded index, so elements that replace an
   ``st.empty`` slot replace it here too). A path whose parent block the recording does
   not contain (a fragment rerun writes into blocks of the earlier whole run) gets a
   DeltaGenerator whose cursor points at that parent, without sending anything
   ("adopted"). Messages that are not deltas and that the lab sends on top of what any
   run sends (``page_config_changed``, ``navigation``, ``page_info_changed``) go to the
   run's queue as they were (``ScriptRunContext.enqueue``); the ones every run sends by
   itself (``new_session``, ``session_status_changed``, ``script_finished``) are not
   replayed: the replay page's run sends its own, as the baseline's does.
3. **Measure.** Three servers with the same settings (``PROFILES["config"]``): the lab,
   the replay page and the baseline page. For each scenario, ``--repeat`` rounds, each a
   baseline rerun, a lab rerun and a replay rerun, so the three share the machine's noise;
   the CPU of each server process over its runs (bench.rerun's ``cpu_over``) divided by
   the baseline's gives the lab's ratio and the floor's ratio from the same run. Whole
   reruns against the baseline's whole rerun; slider moves (the lab's fragment rerun; the
   replay of its recording as a whole run of the replay page) against the baseline's
   slider move.

The replay is checked: one captured replay run must send the recorded deltas (path, kind
and size of each) in the recorded order (``same_sequence``), once Streamlit's queue
composing is applied to both (``composed``: two writes to one ``st.empty`` slot may or may
not meet in the queue). Delta bytes differ by the fragment ids the lab's messages carry.

The floor UNDERESTIMATES Streamlit's real cost: no ``st.*`` command runs, so no argument
checking, no conversion to the proto (a plotly figure's JSON, a dataframe's Arrow bytes,
markdown's dedent), no widget registration or session-state work (widget ids are sent as
recorded, nothing registers them), no ``st.fragment`` bookkeeping, no ``st.navigation``
page building (the replay's ``new_session`` is smaller than the lab's, which lists the
pages), no media files. It is Streamlit's delta path alone: ForwardMsg building and
hashing, the queue, serialisation and the websocket send. A page whose floor ratio is
above the goal cannot meet it without sending fewer or smaller elements; the lab's ratio
minus the floor's is the most that making the lab's own code free could win.
"""

from __future__ import annotations

import argparse
import collections
import os
import pickle
import statistics
import sys
import tempfile
import time
from dataclasses import dataclass, field
from pathlib import Path

from streamlit.proto.ForwardMsg_pb2 import ForwardMsg

ENV = "LAB_FLOOR_DIR"
REPLAY_SCRIPT = "bench/replay_page.py"
# Sent by every script run on its own (the baseline's and the replay page's runs too).
EVERY_RUN = frozenset({"new_session", "session_status_changed", "script_finished"})
GOAL_FULL = 3.0          # bench.rerun's goals: a whole rerun's CPU against the empty page's
GOAL_SLIDER = 2.0        # a slider move's
WARM_RERUNS = 3          # whole reruns after the widget moves, before recording
REPLAY_WARM = 5          # replay runs before measuring (loading, first-run imports)


# -- reading frames (client side) -------------------------------------------------------
def capture(session, action):
    """Run ``action`` and keep every ForwardMsg frame the session's websocket received."""
    frames: list[bytes] = []
    recv = session.ws.recv

    def keeping():
        frame = recv()
        frames.append(frame)
        return frame

    session.ws.recv = keeping
    try:
        run = action()
    finally:
        session.ws.recv = recv
    return run, frames


def parse(frame: bytes) -> ForwardMsg:
    msg = ForwardMsg()
    msg.ParseFromString(frame)
    return msg


def kind_of(msg: ForwardMsg) -> str:
    """"delta:new_element:markdown", "delta:add_block:column", "navigation", ..."""
    kind = msg.WhichOneof("type")
    if kind != "delta":
        return kind or "none"
    delta = msg.delta.WhichOneof("type")
    inner = getattr(msg.delta, delta)
    sub = inner.WhichOneof("type") if delta in ("new_element", "add_block") else None
    return f"delta:{delta}:{sub}" if sub else f"delta:{delta}"


def composed(sequence: list[tuple]) -> list[tuple]:
    """A run's deltas as Streamlit's ForwardMsgQueue would send them if nothing were
    flushed before the run's end: a message at the path of an element still in the queue
    takes that element's place (``_maybe_compose_delta_msgs``; blocks are never replaced).
    Whether two writes to one path meet in the queue depends on when the event loop
    flushes it, so a recording and its replay are compared in this form."""
    queue: list[tuple] = []
    at: dict[tuple, int] = {}
    for item in sequence:
        path, kind = item[0], item[1]
        index = at.get(path)
        if index is not None and not queue[index][1].startswith("delta:add_block"):
            queue[index] = item
            continue
        at[path] = len(queue)
        queue.append(item)
    return queue


def census(frames: list[bytes]) -> dict:
    """What a run sent: its delta messages (count, bytes, kinds, in order) and the rest."""
    deltas, others, sequence = collections.Counter(), collections.Counter(), []
    delta_bytes = 0
    for frame in frames:
        msg = parse(frame)
        kind = kind_of(msg)
        if kind.startswith("delta"):
            deltas[kind.split(":", 1)[1]] += 1
            delta_bytes += len(frame)
            body = getattr(msg.delta, msg.delta.WhichOneof("type"))
            sequence.append((tuple(msg.metadata.delta_path), kind, body.ByteSize()))
        else:
            others[kind] += 1
    return {"messages": len(frames), "bytes": sum(len(f) for f in frames),
            "delta_messages": sum(deltas.values()), "delta_bytes": delta_bytes,
            "deltas": dict(sorted(deltas.items())), "others": dict(sorted(others.items())),
            "sequence": sequence}


# -- the player (server side: bench/replay_page.py) -------------------------------------
@dataclass
class Step:
    """One recorded message, ready to hand to Streamlit."""
    how: str                       # "element", "block" or "raw"
    root: int = 0                  # RootContainer: 0 main, 1 sidebar, 2 event, 3 bottom
    parent: tuple = ()             # the parent block's path inside its root container
    index: int = 0
    kind: str = ""                 # the element's proto field ("markdown", ...)
    proto: object = None           # the element's proto, the Block, or the raw ForwardMsg
    layout: object = None          # LayoutConfig for _enqueue, or None
    one_shot: bool = False


@dataclass
class Plan:
    steps: list[Step] = field(default_factory=list)
    adopted: list[tuple] = field(default_factory=list)   # parents no recorded block opened
    raw: collections.Counter = field(default_factory=collections.Counter)
    skipped: collections.Counter = field(default_factory=collections.Counter)
    layout_dropped: int = 0        # configs that could not be turned back into arguments


def _size(config, name: str):
    """A WidthConfig/HeightConfig back into the ``width=``/``height=`` it came from."""
    from streamlit.elements.lib.layout_utils import SIZE_TO_REM_MAPPING

    which = config.WhichOneof(f"{name}_spec")
    if which == "use_stretch":
        return "stretch"
    if which == "use_content":
        return "content"
    if which == f"pixel_{name}":
        return getattr(config, which)
    if which == f"rem_{name}":
        rem = getattr(config, which)
        return next((size for size, value in SIZE_TO_REM_MAPPING.items() if value == rem),
                    None)
    return None


def _layout(element):
    """The LayoutConfig that makes ``_enqueue`` write the element's recorded configs, and
    whether some config could not be written back."""
    from streamlit.elements.lib.layout_utils import LayoutConfig
    from streamlit.proto.TextAlignmentConfig_pb2 import TextAlignmentConfig

    width = _size(element.width_config, "width") if element.HasField("width_config") \
        else None
    height = _size(element.height_config, "height") if element.HasField("height_config") \
        else None
    align = None
    if element.HasField("text_alignment_config"):
        name = TextAlignmentConfig.Alignment.Name(element.text_alignment_config.alignment)
        align = name.lower() if name != "UNSPECIFIED" else None
    lost = ((element.HasField("width_config") and width is None)
            + (element.HasField("height_config") and height is None)
            + (element.HasField("text_alignment_config") and align is None))
    if width is None and height is None and align is None:
        return None, lost
    return LayoutConfig(width=width, height=height, text_alignment=align), lost


def plan(frames: list[bytes]) -> Plan:
    """The steps that send a recording's messages again (also used by the client to say
    what a replay adopts, sends raw and skips)."""
    result = Plan()
    opened = {(root,) for root in range(4)}           # the root containers
    for frame in frames:
        msg = parse(frame)
        kind = msg.WhichOneof("type")
        if kind in EVERY_RUN:
            result.skipped[kind] += 1
            continue
        if kind != "delta" or msg.delta.WhichOneof("type") not in ("new_element",
                                                                   "add_block"):
            raw = ForwardMsg()
            raw.CopyFrom(msg)
            raw.ClearField("hash")                    # computed again by enqueue
            result.steps.append(Step("raw", proto=raw))
            result.raw[kind_of(msg)] += 1
            continue
        path = tuple(msg.metadata.delta_path)
        root, parent, index = path[0], path[1:-1], path[-1]
        if (root, *parent) not in opened and (root, *parent) not in result.adopted:
            result.adopted.append((root, *parent))
        if msg.delta.WhichOneof("type") == "add_block":
            result.steps.append(Step("block", root, parent, index, proto=msg.delta.add_block))
            opened.add(path)
            continue
        element = msg.delta.new_element
        element_kind = element.WhichOneof("type")
        layout, lost = _layout(element)
        result.layout_dropped += lost
        result.steps.append(Step("element", root, parent, index, element_kind,
                                 getattr(element, element_kind), layout,
                                 element.HasField("has_one_shot_effect")
                                 and element.has_one_shot_effect))
    return result


_PLANS: dict[str, Plan] = {}       # recording name -> its plan, once per process


def load(name: str) -> Plan:
    if name not in _PLANS:
        folder = Path(os.environ[ENV])
        path = (folder / f"{name}.pickle").resolve()
        if path.parent != folder.resolve():
            raise ValueError(f"no such recording: {name!r}")
        _PLANS[name] = plan(pickle.loads(path.read_bytes()))
    return _PLANS[name]


def play(name: str) -> None:
    """Send recording ``name`` again through Streamlit's DeltaGenerator (one script run)."""
    from streamlit.cursor import RunningCursor
    from streamlit.delta_generator import DeltaGenerator
    from streamlit.delta_generator_singletons import get_dg_singleton_instance
    from streamlit.runtime.scriptrunner_utils.script_run_context import get_script_run_ctx

    steps = load(name).steps
    roots = get_dg_singleton_instance()
    main = roots.main_dg
    blocks = {(0,): main, (1,): roots.sidebar_dg, (2,): roots.event_dg,
              (3,): roots.bottom_dg}
    ctx = get_script_run_ctx()
    for step in steps:
        if step.how == "raw":
            msg = ForwardMsg()
            msg.CopyFrom(step.proto)
            ctx.enqueue(msg)
            continue
        key = (step.root, *step.parent)
        parent = blocks.get(key)
        if parent is None:              # a block of an earlier run (see the docstring)
            parent = blocks[key] = DeltaGenerator(
                root_container=step.root,
                cursor=RunningCursor(root_container=step.root, parent_path=step.parent),
                parent=main)
        parent._cursor._index = step.index          # the recorded position
        if step.how == "block":
            blocks[(*key, step.index)] = parent._block(step.proto)
        else:
            parent._enqueue(step.kind, step.proto, step.layout,
                            has_one_shot_effect=step.one_shot)


# -- measuring (client side) ------------------------------------------------------------
def replay_session(base: str, name: str):
    """A session on the replay page showing recording ``name``. Its URL stays
    ``?rec=<name>``: the recorded ``page_info_changed`` (a lab widget bound to the URL)
    is sent again, and a browser, like ``Session``, would take the lab's URL from it."""
    from bench.protocol import Session

    class ReplaySession(Session):
        @property
        def query(self) -> str:
            return f"rec={name}"

        @query.setter
        def query(self, value: str) -> None:
            pass

    return ReplaySession(base)


def _ratio(cpu: float, base: float) -> float | None:
    return round(cpu / base, 2) if base else None


def measure(scenario, lab, replay, base, baseline, folder: Path, repeat: int,
            with_lab: bool = True) -> dict:
    from bench.protocol import Session
    from bench.rerun import cpu_over
    from bench.scenarios import BASELINE

    started = time.perf_counter()
    failures: list[str] = []
    name = scenario.name.replace(":", "-")
    with Session(lab.base, scenario.page, scenario.query_string) as session:
        first = session.open()
        if not first.ok:
            failures.append(f"first load: {first.status} {first.exceptions}")
        warm = 2 * max(len(scenario.values), 2)
        for step in range(warm):                          # as bench.rerun warms
            session.move(scenario, step)
        for _ in range(WARM_RERUNS):
            session.rerun()
        recorded = {}
        for what, action in (("slider", lambda: session.move(scenario, warm)),
                             ("whole", session.rerun)):
            run, frames = capture(session, action)
            if not run.ok:
                failures.append(f"recorded {what}: {run.status} {run.exceptions}")
            (folder / f"{name}-{what}.pickle").write_bytes(pickle.dumps(frames))
            recorded[what] = frames

        replays = {what: replay_session(replay.base, f"{name}-{what}") for what in recorded}
        try:
            rows = {}
            for what, player in replays.items():
                player.connect()
                for _ in range(REPLAY_WARM):
                    player.rerun()
                run, frames = capture(player, player.rerun)
                if not run.ok:
                    failures.append(f"replay {what}: {run.status} {run.exceptions}")
                want, got = census(recorded[what]), census(frames)
                steps = plan(recorded[what])
                rows[what] = {
                    "recorded": {k: v for k, v in want.items() if k != "sequence"},
                    "replayed": {k: v for k, v in got.items() if k != "sequence"},
                    # The same deltas (path, kind, size) in the same order, once the
                    # queue's composing is applied to both (``composed``).
                    "same_sequence": composed(want["sequence"]) == composed(got["sequence"]),
                    "composable": want["delta_messages"] - len(composed(want["sequence"])),
                    "adopted_parents": [list(p) for p in steps.adopted],
                    "sent_raw": dict(steps.raw), "not_replayed": dict(steps.skipped),
                    "layout_configs_dropped": steps.layout_dropped,
                }
                if not rows[what]["same_sequence"]:
                    failures.append(f"replay {what}: not the recorded deltas "
                                    f"({got['delta_messages']} sent, "
                                    f"{want['delta_messages']} recorded)")

            cpu = collections.Counter()
            runs = collections.defaultdict(list)

            def interleave(actions) -> None:
                """``repeat`` rounds, each running ``actions(i)``'s (label, server, action)
                in turn, so the three servers share the machine's noise."""
                for i in range(repeat):
                    for label, server, action in actions(i):
                        if label.startswith("lab_") and not with_lab:
                            continue
                        spent, run = cpu_over(server, action)
                        cpu[label] += spent
                        runs[label].append(run)

            # Slider moves: baseline slider, lab slider (a fragment rerun), replay of it.
            interleave(lambda i: (
                ("base_slider", base, lambda: baseline.set(
                    BASELINE.key, BASELINE.values[i % len(BASELINE.values)])),
                ("lab_slider", lab, lambda: session.move(scenario, i)),
                ("floor_slider", replay, replays["slider"].rerun)))
            # Whole reruns: baseline, lab, replay of the lab's whole rerun.
            interleave(lambda i: (("base_whole", base, baseline.rerun),
                                  ("lab_whole", lab, session.rerun),
                                  ("floor_whole", replay, replays["whole"].rerun)))
        finally:
            for player in replays.values():
                player.close()
    for label, done in runs.items():
        failures += [f"{label}: {r.status} {r.exceptions}" for r in done if not r.ok][:3]
    ms = {label: round(spent / repeat * 1000, 2) for label, spent in sorted(cpu.items())}
    wall = {label: round(statistics.median(r.seconds for r in done) * 1000, 2)
            for label, done in sorted(runs.items())}
    return {
        "scenario": scenario.name, "page": scenario.page or "home", "state": scenario.state,
        "widget": scenario.key or session.auto[0],
        "cpu_ms_per_run": ms, "wall_ms_p50": wall,
        "lab_whole_ratio": _ratio(cpu["lab_whole"], cpu["base_whole"]) if with_lab else None,
        "floor_whole_ratio": _ratio(cpu["floor_whole"], cpu["base_whole"]),
        "lab_slider_ratio": _ratio(cpu["lab_slider"], cpu["base_slider"]) if with_lab
        else None,
        "floor_slider_ratio": _ratio(cpu["floor_slider"], cpu["base_slider"]),
        "floor_share_whole": _ratio(cpu["floor_whole"], cpu["lab_whole"]) if with_lab
        else None,
        "floor_share_slider": _ratio(cpu["floor_slider"], cpu["lab_slider"]) if with_lab
        else None,
        # Time from BackMsg to script_finished (medians), as bench.rerun's "ratio": a
        # client's view, and the only one above zero for a few runs (the CPU clock ticks
        # every 10 ms, the empty page's run takes ~2 ms).
        "wall_ratios": {label: _ratio(wall[label], wall[f"base_{label.split('_')[1]}"])
                        for label in wall if not label.startswith("base")},
        "whole": rows["whole"], "slider": rows["slider"],
        "failures": failures, "seconds": round(time.perf_counter() - started, 1),
    }


def run(repeat: int = 15, pages: list[str] | None = None, heavy: bool = False,
        out: str | None = None, with_lab: bool = True, quiet: bool = False) -> dict:
    from bench.common import PROFILES, machine, save
    from bench.protocol import Session
    from bench.scenarios import SCENARIOS
    from bench.server import BASELINE as BASELINE_SCRIPT
    from bench.server import Server

    options = PROFILES["config"]
    chosen = [s for s in SCENARIOS if (not pages or (s.page or "home") in pages)
              and (heavy or s.state == "default")]
    context = machine()
    rows = []
    with tempfile.TemporaryDirectory(prefix="lab-floor-") as folder, \
            Server(options=options) as lab, \
            Server(REPLAY_SCRIPT, options=options, env={ENV: folder}) as replay, \
            Server(BASELINE_SCRIPT, options=options) as base:
        with Session(base.base) as baseline:
            baseline.open()
            for scenario in chosen:
                row = measure(scenario, lab, replay, base, baseline, Path(folder), repeat,
                              with_lab)
                rows.append(row)
                if not quiet:
                    print(line(row), flush=True)
    floors = [r for r in rows if r["state"] == "default"]
    result = {
        "benchmark": "floor", "profile": "config", "options": options, "repeat": repeat,
        "with_lab": with_lab, "machine_before": context, "loadavg_after": machine()["loadavg"],
        "scenarios": rows,
        "above_goal_with_no_lab_code": {
            "whole_ratio_above": GOAL_FULL, "slider_ratio_above": GOAL_SLIDER,
            "whole": [r["scenario"] for r in floors if (r["floor_whole_ratio"] or 0) > GOAL_FULL],
            "slider": [r["scenario"] for r in floors
                       if (r["floor_slider_ratio"] or 0) > GOAL_SLIDER]},
        "failures": sum(len(r["failures"]) for r in rows),
    }
    path = save(out or "floor", result)
    if not quiet:
        print(f"failures {result['failures']}; saved {path}")
    return result


def _x(ratio) -> str:
    return "    -" if ratio is None else f"{ratio:5.2f}"


def line(row: dict) -> str:
    ms = row["cpu_ms_per_run"]
    whole, slider = row["whole"], row["slider"]
    return (f"{row['scenario']:24} whole lab {_x(row['lab_whole_ratio'])} floor "
            f"{_x(row['floor_whole_ratio'])}  slider lab {_x(row['lab_slider_ratio'])} floor "
            f"{_x(row['floor_slider_ratio'])}"
            f"  deltas {whole['recorded']['delta_messages']}/"
            f"{whole['replayed']['delta_messages']}"
            f" & {slider['recorded']['delta_messages']}/{slider['replayed']['delta_messages']}"
            f"  bytes {whole['recorded']['bytes']}/{whole['replayed']['bytes']}"
            f"  base {ms['base_whole']:.2f}/{ms['base_slider']:.2f} ms"
            f"{'' if whole['same_sequence'] and slider['same_sequence'] else '  ORDER DIFFERS'}"
            f"{'  FAIL ' + '; '.join(row['failures']) if row['failures'] else ''}")


def main(argv=None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--repeat", type=int, default=15, help="measured runs per scenario")
    parser.add_argument("--pages", nargs="*", help="only these pages (home, backward, ...)")
    parser.add_argument("--heavy", action="store_true", help="the heavy states too")
    parser.add_argument("--no-lab", action="store_true",
                        help="measure the replay and the baseline only, not the lab's runs")
    parser.add_argument("--out", help="result name under bench/results/ (no .json)")
    args = parser.parse_args(argv)
    result = run(args.repeat, args.pages, args.heavy, args.out, with_lab=not args.no_lab)
    return 1 if result["failures"] else 0


if __name__ == "__main__":
    sys.exit(main())
