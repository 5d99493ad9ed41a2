"""The lab served by `streamlit run` and read through headless Chromium (Playwright).

Plain helpers, no fixtures: `LabServer` starts and stops one server; the functions read
what a student sees (alerts, metrics, tables, graphs, plots) from a Playwright page.
"""

from __future__ import annotations

import json
import os
import shutil
import socket
import subprocess
import sys
import time
import urllib.request
from pathlib import Path
from urllib.parse import parse_qs, urlsplit

ROOT = Path(__file__).resolve().parents[2]
SCREENSHOTS = ROOT / "docs" / "screenshots"
CHROMIUM = os.environ.get("LAB_CHROMIUM", "/usr/bin/chromium")
CHROMIUM_ARGS = ["--headless", "--no-sandbox", "--disable-gpu", "--disable-background-networking",
                 "--disable-component-update", "--no-first-run", "--disable-quic",
                 "--disable-sync"]
VIEWPORT = {"width": 1280, "height": 900}
PHONE = {"width": 390, "height": 844}
PROJECTOR = {"width": 1920, "height": 1080}
LOAD_TIMEOUT_MS = 90_000          # a cold first run imports torch, sympy, plotly...


def free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return probe.getsockname()[1]


def path_without(program: str, path: str | None = None) -> str:
    """PATH minus every folder holding ``program`` (Debian's /bin is /usr/bin: drop both)."""
    folders = (path if path is not None else os.environ.get("PATH", "")).split(os.pathsep)
    return os.pathsep.join(folder for folder in folders
                           if folder and shutil.which(program, path=folder) is None)


class ServerExited(RuntimeError):
    """streamlit stopped before it answered /_stcore/health (e.g. its port was taken)."""


class LabServer:
    """``python -m streamlit run streamlit_app.py`` on a free port, from the repository root."""

    def __init__(self, log_dir: Path, name: str, env: dict | None = None):
        self.port = free_port()
        self.url = f"http://127.0.0.1:{self.port}"
        self.log = log_dir / f"streamlit-{name}.log"
        self.visited: set[str] = set()
        command = [sys.executable, "-m", "streamlit", "run", "streamlit_app.py",
                   "--server.port", str(self.port), "--server.headless", "true"]
        with open(self.log, "wb") as log:
            self.process = subprocess.Popen(command, cwd=ROOT, env=env, stdout=log,
                                            stderr=subprocess.STDOUT)

    def wait_healthy(self, timeout: float = 120.0) -> None:
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            if self.process.poll() is not None:
                raise ServerExited(f"streamlit exited with {self.process.returncode}:\n"
                                   + self.log_tail())
            try:
                with urllib.request.urlopen(f"{self.url}/_stcore/health", timeout=2) as reply:
                    if reply.read().decode().strip() == "ok":
                        return
            except OSError:
                pass
            time.sleep(0.2)
        raise RuntimeError(f"/_stcore/health never answered ok in {timeout:.0f} s:\n"
                           + self.log_tail())

    def log_tail(self, lines: int = 40) -> str:
        return "\n".join(self.log.read_text(errors="replace").splitlines()[-lines:])

    def page_url(self, url_path: str, query: str = "") -> str:
        return f"{self.url}/{url_path}" + (f"?{query}" if query else "")

    def resident_memory(self) -> int:
        import psutil

        process = psutil.Process(self.process.pid)
        return process.memory_info().rss + sum(
            child.memory_info().rss for child in process.children(recursive=True))

    def stop(self) -> None:
        if self.process.poll() is None:
            self.process.terminate()
            try:
                self.process.wait(timeout=15)
            except subprocess.TimeoutExpired:
                self.process.kill()
                self.process.wait(timeout=15)


# ---- reading the page -----------------------------------------------------------------------

SETTLED = """() => {
  const app = document.querySelector('[data-testid="stApp"]');
  return app && app.dataset.testScriptState === 'notRunning'
    && app.dataset.testConnectionState === 'CONNECTED'
    && !document.querySelector('[data-testid="stSkeleton"]')
    && document.querySelector('[data-testid="stMain"] [data-testid="stElementContainer"]') !== null;
}"""


def settle(page) -> None:
    """Wait until the script run is over and every element is drawn (no skeletons)."""
    page.wait_for_selector('[data-testid="stAppViewContainer"]', timeout=LOAD_TIMEOUT_MS)
    page.wait_for_function(SETTLED, timeout=LOAD_TIMEOUT_MS, polling=100)


def open_page(page, server: LabServer, url_path: str, query: str = "") -> None:
    page.goto(server.page_url(url_path, query), timeout=LOAD_TIMEOUT_MS)
    settle(page)
    server.visited.add(url_path)


def after_change(page, changed: str, timeout: int = LOAD_TIMEOUT_MS) -> None:
    """Wait for a JS condition that says the rerun happened, then for the run to end."""
    page.wait_for_function(changed, timeout=timeout, polling=100)
    settle(page)


def shows_metric(value: str) -> str:
    """A condition for ``after_change``: some st.metric shows exactly ``value``."""
    return ("() => [...document.querySelectorAll('[data-testid=\"stMetricValue\"]')]"
            f".some(m => m.innerText.trim() === {json.dumps(value)})")


def shows_text(fragment: str) -> str:
    """A condition for ``after_change``: the page body contains ``fragment``."""
    return ("() => document.querySelector('[data-testid=\"stMain\"]').innerText"
            f".includes({json.dumps(fragment)})")


def query(page) -> dict[str, list[str]]:
    return parse_qs(urlsplit(page.url).query)


def words(text: str) -> str:
    """Text with its whitespace collapsed, as markdown renders it."""
    return " ".join(text.split())


def alerts(page, kind: str) -> list[str]:
    """Texts of the alert boxes of one kind ("Error", "Warning", "Info", "Success")."""
    return [text.strip() for text in page.locator(
        f'[data-testid="stAlertContent{kind}"] [data-testid="stMarkdownContainer"]'
    ).all_inner_texts()]


def metric_values(page) -> list[str]:
    return [text.strip() for text in
            page.locator('[data-testid="stMetricValue"]').all_inner_texts()]


def open_link_box(page, lang: str = "en", holding: str = "://") -> None:
    """Open the sidebar's "Link to this state" (folded: its link arrives with the rerun
    that opening asks for) and wait for a link in the sidebar that holds ``holding``."""
    from lab.i18n import t

    page.locator('[data-testid="stSidebar"] summary', has_text=t("app.share", lang)).click()
    page.wait_for_function(
        "h => [...document.querySelectorAll('[data-testid=\"stSidebar\"] code')]"
        ".some(c => c.textContent.includes(h))", arg=holding, timeout=LOAD_TIMEOUT_MS)


def code_blocks(page) -> list[str]:
    return [text.strip() for text in
            page.locator('[data-testid="stCode"] code').all_text_contents()]


def table_rows(page, index: int = 0) -> list[list[str]]:
    """A st.dataframe as rows of cell texts, header first.

    The grid is drawn on a canvas; its accessibility table (hidden, but in the DOM) holds
    the same texts.
    """
    grid = page.locator('[data-testid="stDataFrame"]').nth(index)
    grid.locator("table[role=grid] td").first.wait_for(state="attached",
                                                       timeout=LOAD_TIMEOUT_MS)
    return grid.locator("table[role=grid]").evaluate(
        "t => [...t.querySelectorAll('tr')].map(r => [...r.children].map(c => c.innerText))")


def exception_count(page) -> int:
    return page.locator('[data-testid="stException"]').count()


def graphs_drawn(page) -> list[dict]:
    """For every graph: whether the browser laid it out as SVG, with nodes and edges."""
    return page.locator('[data-testid="stGraphVizChart"]').evaluate_all(
        """charts => charts.map(c => ({svg: c.querySelector('svg') !== null,
                                      nodes: c.querySelectorAll('svg g.node').length,
                                      edges: c.querySelectorAll('svg g.edge').length}))""")


def table_becomes(page, expected: list[list[str]], index: int = 0,
                  timeout: float = LOAD_TIMEOUT_MS / 1000) -> list[list[str]]:
    """The table's rows once they equal ``expected`` (the grid redraws after the run ends),
    or as they are when ``timeout`` seconds have passed."""
    deadline = time.monotonic() + timeout
    rows = table_rows(page, index)
    while rows != expected and time.monotonic() < deadline:
        page.wait_for_timeout(100)
        rows = table_rows(page, index)
    return rows


def wait_for_graphs(page) -> None:
    page.wait_for_function(
        """() => [...document.querySelectorAll('[data-testid="stGraphVizChart"]')]
                 .every(c => c.querySelector('svg g.node'))""", timeout=LOAD_TIMEOUT_MS)


# A drawn trace: plotly.js gives scatter traces a g.trace, contour traces a g.contour.
DRAWN_TRACE = ".main-svg g.trace, .main-svg .contourlayer > g.contour"


def wait_for_plots(page) -> None:
    """Visible plotly charts have drawn their traces (charts in hidden tabs draw when shown)."""
    page.wait_for_function(
        f"""() => [...document.querySelectorAll('[data-testid="stPlotlyChart"]')]
                 .filter(c => c.offsetParent !== null)
                 .every(c => c.querySelector({json.dumps(DRAWN_TRACE)}))""",
        timeout=LOAD_TIMEOUT_MS)


def plots_drawn(page) -> list[int]:
    """Number of traces drawn by each visible plotly chart."""
    return page.locator('[data-testid="stPlotlyChart"]').evaluate_all(
        f"""charts => charts.filter(c => c.offsetParent !== null)
                     .map(c => c.querySelectorAll({json.dumps(DRAWN_TRACE)}).length)""")


def background_luminance(page) -> float:
    """Relative luminance (0 black .. 1 white) of the app's background colour."""
    rgb = page.locator('[data-testid="stApp"]').evaluate(
        "e => getComputedStyle(e).backgroundColor.match(/\\d+(\\.\\d+)?/g).slice(0, 3).map(Number)")
    return relative_luminance(rgb)


def relative_luminance(rgb) -> float:
    """WCAG 2 relative luminance of an (r, g, b) colour in 0..255."""
    def linear(channel: float) -> float:
        c = channel / 255
        return c / 12.92 if c <= 0.03928 else ((c + 0.055) / 1.055) ** 2.4

    r, g, b = (linear(c) for c in rgb)
    return 0.2126 * r + 0.7152 * g + 0.0722 * b


def screenshot_wanted() -> bool:
    return os.environ.get("LAB_SCREENSHOTS", "") not in ("", "0")


def screenshot(page, name: str) -> Path | None:
    """Redraw docs/screenshots/<name>.png, only when asked: LAB_SCREENSHOTS=1 (a plain test
    run leaves the committed pictures alone)."""
    if not screenshot_wanted():
        return None
    SCREENSHOTS.mkdir(parents=True, exist_ok=True)
    target = SCREENSHOTS / f"{name}.png"
    page.screenshot(path=str(target), animations="disabled", caret="hide")
    return target


TABLES_DRAWN = """() => [...document.querySelectorAll('[data-testid="stDataFrame"]')]
  .filter(g => g.checkVisibility() && !g.closest('details:not([open])'))
  .every(g => g.querySelector('table[role="grid"] td'))"""


def ready(page) -> None:
    """Graphs laid out, plots drawn, every visible data grid's cells in the page, fonts
    loaded: what a screenshot or a measurement should see."""
    wait_for_graphs(page)
    wait_for_plots(page)
    page.wait_for_function(TABLES_DRAWN, timeout=LOAD_TIMEOUT_MS, polling=100)
    page.evaluate("() => document.fonts.ready.then(() => true)")


DARK_BACKGROUND = """() => {
  const [r, g, b] = getComputedStyle(document.querySelector('[data-testid="stApp"]'))
    .backgroundColor.match(/\\d+/g).map(Number);
  return r + g + b < 150;
}"""


def to_dark(page, redraw: bool = True) -> None:
    """The browser asks for the dark theme. With no ``base`` in config.toml the lab follows
    it live; plotly charts keep the grid colours they were drawn with (their text follows
    the theme: lab/ui/css/base.css), so a page with charts is reloaded unless ``redraw`` is
    False (as a student who switches sees it)."""
    page.emulate_media(color_scheme="dark")
    if redraw and page.locator('[data-testid="stPlotlyChart"]').count():
        page.reload(timeout=LOAD_TIMEOUT_MS)
        settle(page)
    page.wait_for_function(DARK_BACKGROUND, timeout=LOAD_TIMEOUT_MS)
    ready(page)


def figures(page) -> list[tuple[str | None, str | None]]:
    """(role, accessible name) of every visible plot and graph."""
    return page.locator('[data-testid="stPlotlyChart"], [data-testid="stGraphVizChart"]'
                        ).evaluate_all(
        """charts => charts.filter(c => c.checkVisibility())
                      .map(c => [c.getAttribute('role'), c.getAttribute('aria-label')])""")


WATCH_RUNS = """() => {
  const app = document.querySelector('[data-testid="stApp"]');
  window.labRuns = 0;
  window.labRunWatch?.disconnect();
  window.labRunWatch = new MutationObserver(() => {
    if (app.dataset.testScriptState === 'running') window.labRuns += 1; });
  window.labRunWatch.observe(app, {attributes: true, attributeFilter: ['data-test-script-state']});
}"""


def rerun_after(page, action) -> None:
    """Do ``action`` (a key press, a click) and wait for the script run it starts to end.

    The run is seen starting by an observer installed before the action, so a run that
    starts and ends between two polls is not missed. A run of a few milliseconds (a refused
    formula) can still start and end within one render of the page, never showing its
    "running" state: after 3 s without one, ``settle`` decides.
    """
    from playwright.sync_api import TimeoutError as PlaywrightTimeout

    page.evaluate(WATCH_RUNS)
    action()
    try:
        page.wait_for_function("() => window.labRuns > 0", timeout=3000, polling=50)
    except PlaywrightTimeout:
        pass
    settle(page)
