"""A Streamlit client that speaks the browser's websocket protocol, for benchmarks.

It does what the frontend of Streamlit 1.67 does, no more: open ``/_stcore/stream`` with
the ``streamlit`` subprotocol, send ``BackMsg.rerun_script`` (a ``ClientState`` carrying the
page, the query string, the browser context and the widget states) and read ``ForwardMsg``
frames until ``script_finished``. Widgets are found by their ``key=`` in the deltas
(Streamlit's element ids end in ``-<key>``), so a benchmark changes "the slider ``n``" the
way a student does. A plain HTTP GET of ``/`` never runs a script and measures nothing.
"""

from __future__ import annotations

import time
from dataclasses import dataclass, field
from urllib.parse import parse_qsl, urlencode

import websocket
from streamlit.proto.BackMsg_pb2 import BackMsg
from streamlit.proto.ForwardMsg_pb2 import ForwardMsg
from streamlit.proto.WidgetStates_pb2 import WidgetState

FINISHED = {ForwardMsg.FINISHED_SUCCESSFULLY, ForwardMsg.FINISHED_FRAGMENT_RUN_SUCCESSFULLY}

# The wire type of each widget's value (streamlit/elements/widgets/*: ``value_type=``).
STRING_WIDGETS = {"radio", "selectbox", "text_input", "text_area"}


class ProtocolError(RuntimeError):
    """The server did not answer like Streamlit does, or the page raised."""


@dataclass
class Run:
    """One script run as the client saw it."""
    seconds: float                      # BackMsg sent -> script_finished received
    messages: int
    bytes: int
    status: int | None                  # ForwardMsg.ScriptFinishedStatus, None if never seen
    exceptions: list[str] = field(default_factory=list)

    @property
    def ok(self) -> bool:
        return self.status in FINISHED and not self.exceptions


def _widget_of(element) -> tuple[str, object] | None:
    """(element type, widget proto) when the element is a widget with an id."""
    kind = element.WhichOneof("type")
    if kind is None:
        return None
    proto = getattr(element, kind)
    widget_id = getattr(proto, "id", "")
    if isinstance(widget_id, str) and widget_id.startswith("$$ID-"):
        return kind, proto
    return None


def _default(proto):
    """A bound widget's default value, as the values benchmarks pass to ``Session.set``."""
    default = getattr(proto, "default", None)
    options = list(getattr(proto, "options", []) or [])
    if isinstance(default, int) and not isinstance(default, bool) and options \
            and isinstance(options[0], str):
        return [options[default]] if 0 <= default < len(options) else None
    if hasattr(default, "__iter__") and not isinstance(default, str):
        return list(default)
    return [default]


def _same(values, default) -> bool:
    try:
        return default is not None and len(values) == len(default) and all(
            float(a) == float(b) if not isinstance(a, (str, bool)) else a == b
            for a, b in zip(values, default))
    except (TypeError, ValueError):
        return False


def widget_state(kind: str, widget_id: str, value) -> WidgetState:
    """The WidgetState the frontend sends for a widget of ``kind`` set to ``value``."""
    state = WidgetState(id=widget_id)
    if kind == "slider":
        values = value if isinstance(value, (list, tuple)) else [value]
        state.double_array_value.data.extend(float(v) for v in values)
    elif kind == "checkbox":                    # st.checkbox and st.toggle
        state.bool_value = bool(value)
    elif kind in STRING_WIDGETS:
        state.string_value = str(value)
    elif kind == "number_input":
        state.double_value = float(value)
    elif kind == "button_group":               # st.segmented_control, st.pills
        state.string_array_value.data.extend([str(value)])
    elif kind == "button":
        state.trigger_value = True
    else:
        raise ProtocolError(f"no wire format known for a {kind} widget")
    return state


class Session:
    """One browser tab: a websocket, the page it shows, its URL and its widget states."""

    def __init__(self, base: str, page: str = "", query: str = "", locale: str = "en-US",
                 timeout: float = 60.0):
        self.base = base.rstrip("/")            # e.g. "http://127.0.0.1:8501"
        self.page = page                        # the URL path: "", "backward", ...
        self.query = query                      # without "?"
        self.locale = locale
        self.timeout = timeout
        self.page_script_hash = ""
        self.widgets: dict[str, tuple[str, str]] = {}      # key -> (kind, id)
        self.protos: dict[str, object] = {}                 # key -> its element's proto
        self.auto: tuple[str, tuple] | None = None          # the widget found to move
        self.fragments: dict[str, str] = {}                 # widget id -> its st.fragment
        self.bound: dict[str, tuple[str, object]] = {}      # widget id -> (URL key, default)
        self.states: dict[str, WidgetState] = {}           # id -> what we last sent
        self.texts: list[str] = []                         # markdown/metric text, last run
        self.runs: list[Run] = []
        self.ws: websocket.WebSocket | None = None

    # -- connection ---------------------------------------------------------------------
    def connect(self) -> float:
        started = time.perf_counter()
        url = self.base.replace("http://", "ws://", 1) + "/_stcore/stream"
        self.ws = websocket.create_connection(url, subprotocol=None, timeout=self.timeout,
                                              subprotocols=["streamlit"],
                                              enable_multithread=False)
        return time.perf_counter() - started

    def close(self) -> None:
        if self.ws is not None:
            try:
                self.ws.close()
            finally:
                self.ws = None

    def __enter__(self) -> Session:
        self.connect()
        return self

    def __exit__(self, *exc) -> None:
        self.close()

    # -- runs ---------------------------------------------------------------------------
    def open(self) -> Run:
        """The first run, as a browser opening ``/<page>?<query>`` sends it."""
        return self._rerun()

    def move(self, scenario, step: int) -> Run:
        """Move the scenario's widget to its ``step``-th value (found on the page for a
        scenario written with ``key=""``, see bench/scenarios.py)."""
        if not scenario.key:
            from bench.scenarios import widget_to_move

            self.auto = self.auto or widget_to_move(self)
            key, values = self.auto
        else:
            key, values = scenario.key, scenario.values
        return self.set(key, values[step % len(values)])

    def set(self, key: str, value) -> Run:
        """Change the widget with ``key=key`` to ``value`` and wait for the rerun."""
        if key not in self.widgets:
            raise ProtocolError(f"no widget with key {key!r} on page {self.page or 'home'}; "
                                f"seen: {sorted(self.widgets)}")
        kind, widget_id = self.widgets[key]
        self.states[widget_id] = widget_state(kind, widget_id, value)
        if widget_id in self.bound:
            self._bind(*self.bound[widget_id], value)
        # Like the browser: a widget inside an st.fragment reruns only that fragment.
        return self._rerun(self.fragments.get(widget_id, ""))

    def _bind(self, name: str, default, value) -> None:
        """Like the browser: a widget bound to the URL writes its value there (not defaults)."""
        values = value if isinstance(value, (list, tuple)) else [value]
        text = ["true" if v is True else "false" if v is False
                else f"{v:g}" if isinstance(v, float) else str(v) for v in values]
        pairs = [(k, v) for k, v in parse_qsl(self.query, keep_blank_values=True) if k != name]
        if not _same(values, default):
            pairs += [(name, v) for v in text]
        self.query = urlencode(pairs)

    def value_of(self, key: str):
        """What the client last sent for ``key`` (None if never changed)."""
        kind, widget_id = self.widgets[key]
        state = self.states.get(widget_id)
        if state is None:
            return None
        which = state.WhichOneof("value")
        value = getattr(state, which)
        return list(value.data) if hasattr(value, "data") else value

    def _client_state(self, back: BackMsg, fragment_id: str = "") -> None:
        client = back.rerun_script
        client.fragment_id = fragment_id
        client.query_string = self.query
        client.page_name = self.page
        client.page_script_hash = self.page_script_hash
        client.context_info.locale = self.locale
        client.context_info.timezone = "UTC"
        client.context_info.url = f"{self.base}/{self.page}"
        # Like the browser: the state of every widget on the page that it knows of.
        client.widget_states.widgets.extend(self.states.values())

    def rerun(self) -> Run:
        """The whole page run again with the widgets as they are (as Streamlit's "Rerun")."""
        return self._rerun()

    def _rerun(self, fragment_id: str = "") -> Run:
        if self.ws is None:
            self.connect()
        back = BackMsg()
        self._client_state(back, fragment_id)
        started = time.perf_counter()
        self.ws.send_binary(back.SerializeToString())
        run = self._read_until_finished(started, whole=not fragment_id)
        self.runs.append(run)
        return run

    def _read_until_finished(self, started: float, whole: bool = True) -> Run:
        messages = size = 0
        exceptions: list[str] = []
        texts: list[str] = []
        seen_ids: set[str] = set()
        deadline = started + self.timeout
        while True:
            if time.perf_counter() > deadline:
                raise ProtocolError(f"no script_finished within {self.timeout:g} s")
            frame = self.ws.recv()
            if not frame:
                raise ProtocolError("the server closed the websocket")
            messages += 1
            size += len(frame)
            msg = ForwardMsg()
            msg.ParseFromString(frame)
            kind = msg.WhichOneof("type")
            if kind == "new_session":
                self.page_script_hash = msg.new_session.page_script_hash
            elif kind == "navigation":      # the page that really runs (pages/ folder mode)
                self.page_script_hash = msg.navigation.page_script_hash
            elif kind == "page_info_changed":
                self.query = msg.page_info_changed.query_string
            elif kind == "delta" and msg.delta.WhichOneof("type") == "new_element":
                element = msg.delta.new_element
                if element.WhichOneof("type") == "exception":
                    exceptions.append(f"{element.exception.type}: {element.exception.message}")
                elif element.WhichOneof("type") in ("markdown", "metric", "alert"):
                    texts.append(getattr(element, element.WhichOneof("type")).body)
                elif element.WhichOneof("type") == "code":
                    texts.append(element.code.code_text)
                elif element.WhichOneof("type") == "graphviz_chart":
                    texts.append(element.graphviz_chart.spec)
                found = _widget_of(element)
                if found:
                    widget_kind, proto = found
                    key = proto.id.split("-", 2)[2] if proto.id.count("-") >= 2 else ""
                    if key and key != "None":        # widgets without key= end in -None
                        self.widgets[key] = (widget_kind, proto.id)
                        self.protos[key] = proto
                        seen_ids.add(proto.id)
                        if getattr(proto, "query_param_key", ""):
                            self.bound[proto.id] = (proto.query_param_key, _default(proto))
                        if msg.delta.fragment_id:
                            self.fragments[proto.id] = msg.delta.fragment_id
                        else:
                            self.fragments.pop(proto.id, None)
            elif kind == "script_finished":
                status = msg.script_finished
                if status == ForwardMsg.FINISHED_EARLY_FOR_RERUN:
                    continue            # an interrupted run: the next one follows
                if whole:   # like the frontend: forget the widgets that left the page
                    self.states = {i: s for i, s in self.states.items() if i in seen_ids}
                self.texts = texts
                return Run(time.perf_counter() - started, messages, size, status, exceptions)
            elif kind == "page_not_found":
                raise ProtocolError(f"page not found: {self.page!r}")
