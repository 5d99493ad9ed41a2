"""The README's performance tables, from the raw results in bench/results/*.json.

    python -m bench.summary
"""

from __future__ import annotations

import json
import sys

from bench.common import RESULTS


def load(name: str) -> dict | None:
    path = RESULTS / f"{name}.json"
    return json.loads(path.read_text()) if path.exists() else None


def rerun_table(names: list[str]) -> str:
    runs = [(name, load(name)) for name in names]
    runs = [(name, data) for name, data in runs if data]
    if not runs:
        return ""
    header = "| page:state | " + " | ".join(
        f"{name}: p50 ms (x empty) / CPU ms" for name, _ in runs) + " |"
    lines = [header, "|---" * (len(runs) + 1) + "|"]
    scenarios = [row["scenario"] for row in runs[-1][1]["scenarios"]]
    for scenario in scenarios:
        cells = []
        for _, data in runs:
            row = next((r for r in data["scenarios"] if r["scenario"] == scenario), None)
            cells.append("—" if row is None else
                         f"{row['rerun_ms']['p50']} (x{row['ratio']}) / "
                         f"{row['cpu_ms_per_rerun']}")
        lines.append(f"| {scenario} | " + " | ".join(cells) + " |")
    empty = [f"{statistics_median([r['baseline_ms']['p50'] for r in data['scenarios']])} ms"
             for _, data in runs]
    lines.append("| empty page (median) | " + " | ".join(empty) + " |")
    return "\n".join(lines)


def statistics_median(values):
    import statistics

    return round(statistics.median(values), 1)


def load_table(names: list[str]) -> str:
    lines = ["| run | students | interaction p50 / p95 / max ms | first load p50 / p95 ms "
             "| failed / dropped | server CPU (% of a core) | CPU ms per run "
             "| RSS peak / end MB |",
             "|---|---|---|---|---|---|---|---|"]
    for name in names:
        data = load(name)
        if not data:
            continue
        i, f, s = data["interaction_ms"], data["first_load_ms"], data["sessions"]
        rss = data["server"]["rss_mb"]
        lines.append(
            f"| {name} ({data['profile']}, {data['replicas']} replica(s), {data['states']}) "
            f"| {data['users']} | {i.get('p50')} / {i.get('p95')} / {i.get('max')} "
            f"| {f.get('p50')} / {f.get('p95')} | {s['failed']} / {s['dropped']} "
            f"| {data['server']['cpu_percent_of_one_core']} "
            f"| {data['server']['cpu_ms_per_run']} | {rss['peak']} / {rss['end']} |")
    return "\n".join(lines)


def main(argv=None) -> int:
    names = sorted(path.stem for path in RESULTS.glob("*.json"))
    print("## Rerun cost\n")
    print(rerun_table([n for n in names if n.startswith("rerun")]))
    print("\n## Load\n")
    print(load_table([n for n in names if n.startswith("load")]))
    for name in ("memory", "cold_start"):
        data = load(name)
        if data:
            data = {k: v for k, v in data.items() if k not in ("rss_during_reruns", "rounds")}
            print(f"\n## {name}\n\n{json.dumps(data, indent=1, default=str)}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
