"""The benchmarks and the load test, each run to completion in a short smoke mode.

Every command of the README's "Performance" section runs here on a real server over
Streamlit's websocket, with a few sessions for a few seconds. The assertions are about
correctness only: no failure, every session saw each of its scripts finish, every page
of the lab was visited. Never about time: the full runs and their figures are in the
README.
"""

import json
import os
import re
import subprocess
import sys
from pathlib import Path

import pytest

from bench.scenarios import SCENARIOS, check_coverage

ROOT = Path(__file__).resolve().parent.parent
pytestmark = pytest.mark.load


def bench(tmp_path, module: str, *args: str, timeout: float = 300) -> dict:
    """Run ``python -m bench.<module> ...`` as the README says; its saved JSON result."""
    done = subprocess.run([sys.executable, "-m", f"bench.{module}", *args, "--out", module],
                          cwd=ROOT, capture_output=True, text=True, timeout=timeout,
                          env={**os.environ, "BENCH_RESULTS": str(tmp_path)})
    saved = tmp_path / f"{module}.json"
    assert saved.exists(), done.stdout[-2000:] + done.stderr[-3000:]
    return json.loads(saved.read_text())


def test_every_page_of_the_lab_has_a_scenario():
    assert check_coverage() == []


def test_load_smoke_every_student_sees_every_script_finish(tmp_path):
    """Every page and state, beside a noisy client sending the costliest formulas."""
    users = len(SCENARIOS)              # one student on each page and state
    result = bench(tmp_path, "load", "--users", str(users), "--ramp", "2", "--duration", "3",
                   "--grace", "120", "--states", "all", "--noisy", "1")
    assert result["failures"] == 0, result["failure_examples"]
    assert result["noise"]["runs"]["count"] >= 1 and result["noise"]["failures"] == 0, \
        result["noise"]["failure_examples"]
    assert result["sessions"] == {"started": users, "completed": users, "failed": 0,
                                  "dropped": 0}
    assert result["runs"]["finished"] == result["runs"]["sent"]
    assert result["first_load_ms"]["count"] == users
    assert result["interaction_ms"]["count"] >= users          # each moved a widget
    assert result["server"]["rss_mb"]["peak"] > 0


def test_load_smoke_through_nginx_reaches_both_replicas(tmp_path):
    """deploy/nginx.conf as it is (ports replaced), in front of two lab processes."""
    from bench import proxy

    if not proxy.available():
        if os.environ.get("CI"):
            pytest.fail("nginx is missing (apt-get install nginx-light); .ci/run installs it")
        pytest.skip("no nginx on this machine (apt-get install nginx-light)")
    users = 24             # each student's socket lands on a random replica: both get some
    result = bench(tmp_path, "load", "--users", str(users), "--ramp", "2", "--duration", "4",
                   "--grace", "120", "--replicas", "2", "--nginx")
    assert result["nginx"] is True
    assert result["failures"] == 0, result["failure_examples"]
    assert result["sessions"] == {"started": users, "completed": users, "failed": 0,
                                  "dropped": 0}
    assert result["runs"]["finished"] == result["runs"]["sent"]
    assert all(seconds >= 0.2 for seconds in result["server"]["cpu_seconds_each"])


def test_nginx_config_is_the_deploy_file_with_its_ports_replaced(tmp_path):
    from bench import proxy

    text = proxy.config([9001, 9002, 9003], 9100, tmp_path)
    assert "server 127.0.0.1:8501;" not in text and "listen 80;" not in text
    assert all(f"server 127.0.0.1:{port};" in text for port in (9001, 9002, 9003))
    assert "listen 127.0.0.1:9100;" in text
    assert "hash $lab_affinity consistent;" in text            # the affinity, unchanged


def test_rerun_smoke_compares_pages_with_the_empty_page(tmp_path):
    result = bench(tmp_path, "rerun", "--repeat", "2", "--pages", "home", "inside_backward")
    assert result["failures"] == 0, [r["failures"] for r in result["scenarios"]]
    names = [row["scenario"] for row in result["scenarios"]]
    assert names == ["home:default", "inside_backward:default", "inside_backward:heavy"]
    for row in result["scenarios"]:
        assert row["rerun_ms"]["count"] == row["baseline_ms"]["count"] == 2
        assert row["ratio"] > 0


def test_floor_smoke_replays_the_recorded_messages(tmp_path):
    """bench.floor sends a page's recorded deltas again through Streamlit with no lab code:
    the same deltas, path, kind and size, in the same order. Only two writes to one
    ``st.empty`` slot may reach the client as one (Streamlit's queue composes them when
    both wait in it), so fewer messages than recorded by at most the recording's
    composable ones; a replay that sent nothing fails here."""
    result = bench(tmp_path, "floor", "--repeat", "2", "--pages", "home")
    assert result["failures"] == 0, [r["failures"] for r in result["scenarios"]]
    (row,) = result["scenarios"]
    assert row["scenario"] == "home:default"
    for what in ("whole", "slider"):
        recorded, replayed = row[what]["recorded"], row[what]["replayed"]
        assert recorded["delta_messages"] >= 20, recorded
        assert row[what]["same_sequence"], what
        assert recorded["delta_messages"] - row[what]["composable"] \
            <= replayed["delta_messages"] <= recorded["delta_messages"], (what, row[what])
        assert abs(replayed["delta_bytes"] - recorded["delta_bytes"]) \
            <= 0.15 * recorded["delta_bytes"], (what, row[what])
    assert set(row["wall_ratios"]) == {"lab_whole", "floor_whole", "lab_slider",
                                       "floor_slider"}
    assert all(ratio > 0 for ratio in row["wall_ratios"].values()), row["wall_ratios"]
    # The CPU ratios are numbers, but two runs' CPU may read zero (a process's CPU time
    # moves in 10 ms clock ticks, the empty page's run takes ~2 ms): no sign asserted.
    for name in ("lab_whole_ratio", "floor_whole_ratio", "lab_slider_ratio",
                 "floor_slider_ratio"):
        assert row[name] is None or row[name] >= 0, (name, row[name])


def test_cpu_share_smoke_puts_each_sample_in_one_group(tmp_path):
    """bench.cpu_share samples a server with py-spy while the home page reruns: the lab's
    own code and Streamlit's commands both show, and the groups cover every sample."""
    result = bench(tmp_path, "cpu_share", "--seconds", "3", "--pages", "home")
    assert result["failures"] == 0, result["scenarios"]
    (row,) = result["scenarios"]
    assert row["samples"] > 50 and row["reruns"] > 10
    assert row["lab"] > 0 and row["streamlit commands"] > row["lab"]
    assert abs(sum(row[name] for name in ("lab", "streamlit commands", "script runner",
                                          "event loop")) - 1) < 0.01


def test_cold_start_smoke(tmp_path):
    result = bench(tmp_path, "cold_start", "--repeat", "1", "--gaps", "0")
    (round_,) = result["rounds"]
    after_home, deep_link = round_["servers"]
    assert after_home["gap_s"] == 0 and deep_link["gap_s"] is None
    assert 0 < after_home["healthy_s"] <= after_home["home_finished_s"] \
        <= after_home["torch_page_finished_s"]
    assert 0 < deep_link["healthy_s"] <= deep_link["torch_page_finished_s"]
    assert result["ratio_torch_page_to_home"] > 0


def test_ab_smoke_interleaves_the_variants(tmp_path):
    result = bench(tmp_path, "ab", "--variants", "fair", "unfair:LAB_FAIR=0", "--repeat", "1",
                   "--users", "2", "--ramp", "1", "--duration", "2", "--cold")
    assert [run["variant"] for run in result["runs"]] == ["fair", "unfair"]
    assert result["variants"][1]["env"] == {"LAB_FAIR": "0"}
    assert all(run["failures"] == 0 for run in result["runs"]), result["runs"]
    assert all((tmp_path / f"{run['saved']}.json").exists() for run in result["runs"])


def test_memory_smoke(tmp_path):
    result = bench(tmp_path, "memory", "--sessions", "2", "4", "--reruns", "12",
                   "--formulas", "6")
    assert result["failures"] == 0, result["failure_examples"]
    assert len(result["rss_during_reruns"]) == 4
    assert [k for k, _ in result["rss_during_formulas"]] == [3, 6]
    assert set(result["rss_mb"]) >= {"2_sessions", "4_sessions", "after_formulas", "peak",
                                     "after_closing_all"}


def test_memory_where_smoke_names_each_step(tmp_path):
    result = bench(tmp_path, "memory_where", "--formulas", "5")
    steps = [row["step"] for row in result["steps"]]
    assert steps[2] == "after 5 formulas" and len(steps) == 8
    assert all(row["rss_mb"] > 0 for row in result["steps"])


def test_memory_mix_smoke_reaches_every_page_of_the_mix(tmp_path):
    result = bench(tmp_path, "memory", "--sessions", "--reruns", "0", "--formulas", "8", "--mix")
    assert result["failures"] == 0, result["failure_examples"]
    assert result["mix"] == ["playground", "inside_backward", "learning", "code",
                             "inside_backward"]
    assert [k for k, _ in result["rss_during_formulas"]] == [2, 4, 6, 8]


def test_noisy_programs_from_fresh_sessions_smoke(tmp_path):
    """Noisy clients sending the costliest cell program, each request from a new session."""
    result = bench(tmp_path, "load", "--users", "2", "--ramp", "1", "--duration", "4",
                   "--noisy", "1", "--noisy-kind", "program", "--noisy-fresh")
    assert result["failures"] == 0 and result["sessions"]["dropped"] == 0
    noise = result["noise"]
    assert noise["kind"] == "program" and noise["fresh_sessions"] and noise["failures"] == 0
    assert noise["runs"]["count"] >= 1 and "for i in range(1800)" in noise["example"]


def test_every_page_widget_but_the_language_reruns_its_section_only(tmp_path):
    """Over the real websocket: the widget each scenario moves sits in an st.fragment, so
    its rerun sends the section, not the page frame (sidebar, navigation, title). A
    scenario written without a widget (``key=""``) finds one on the page. And the server,
    a real one, was tuned once at its start by the hook, on the Streamlit it was written
    for: its log says so in one line, and says nothing was refused."""
    from bench.protocol import Session
    from bench.scenarios import Scenario
    from bench.server import Server

    found = Scenario("tensors", "default", "")            # as for a page added later
    log = tmp_path / "server.log"
    with Server(log_path=log) as server:
        for scenario in SCENARIOS + (found,):
            if scenario.state != "default" or scenario.key == "lang":
                continue
            with Session(server.base, scenario.page, scenario.query_string) as session:
                opened = session.open()
                moved = session.move(scenario, 0)
                key = scenario.key or session.auto[0]
                assert opened.ok and moved.ok, (scenario.name, moved.exceptions)
                widget_id = session.widgets[key][1]
                assert session.fragments.get(widget_id), scenario.name
                assert moved.messages < opened.messages, scenario.name
    text = log.read_text()
    tuned = re.findall(r"lab: server tuned at start \(([^)]*)\)", text)
    assert len(tuned) == 1 and "lanes" in tuned[0].split(", "), text[-2000:]
    assert "not installed" not in text and "Traceback" not in text
