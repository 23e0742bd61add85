"""The rehearsal's timeline and its figures: throughput, errors per phase, and p50, p95 and
p99 per kind of request, as a Markdown table ready to paste into the README."""

from __future__ import annotations

import csv
import math
import re
from collections import defaultdict
from pathlib import Path
from typing import Any


def timeline(seconds: int) -> list[dict[str, Any]]:
    """The phases of a load of ``seconds``: the long run's timings (600 s: Redis down 30 s,
    the SMS receiver 60 s) scaled to the length, each fault at the start of its phase."""
    scale = seconds / 600
    return [
        {"name": "steady", "from": 0},
        {"name": "web killed", "from": 0.10 * seconds},
        {"name": "database restarted", "from": 0.25 * seconds},
        {"name": "redis down", "from": 0.40 * seconds, "down": max(10.0, 30 * scale)},
        {"name": "sms down", "from": 0.60 * seconds, "down": max(20.0, 60 * scale)},
        {"name": "after", "from": 0.85 * seconds},
    ]


def metric(text: str, name: str) -> float:
    """The sum of a metric's samples in a Prometheus text answer."""
    return sum(
        float(value)
        for value in re.findall(rf"^{re.escape(name)}(?:{{[^}}]*}})? (\S+)$", text, re.M)
    )


def count_storage_errors(phases: list[dict[str, Any]], final: dict[str, float]) -> None:
    """Each phase's rate-limit storage errors, from the web hosts' counts scraped at its start
    and at the next phase's; a host whose count fell was restarted and counts from zero."""
    ends = [p["storage_errors"] for p in phases[1:]] + [final]
    for phase, end in zip(phases, ends, strict=True):
        begin = phase["storage_errors"]
        phase["storage_errors_counted"] = sum(
            value - begin.get(host, 0) if value >= begin.get(host, 0) else value
            for host, value in end.items()
        )


def percentile(values: list[float], share: float) -> float:
    """Nearest-rank percentile of sorted ``values``."""
    if not values:
        return 0.0
    rank = max(1, math.ceil(share * len(values)))
    return values[rank - 1]


def read(path: Path) -> list[tuple[float, str, float, bool]]:
    with path.open(newline="", encoding="utf-8") as rows:
        return [
            (float(r["at"]), r["kind"], float(r["ms"]), r["failed"] == "1")
            for r in csv.DictReader(rows)
        ]


def _per_host(counts: dict[str, float]) -> str:
    return ", ".join(f"{host} {value:.0f}" for host, value in sorted(counts.items())) or "none"


def write(path: Path, phases: list[dict[str, Any]], seconds: int, found: dict[str, Any]) -> str:
    """The report as Markdown."""
    rows = read(path) if path.exists() else []
    lines = [f"Load of {seconds} s: {len(rows)} requests, {len(rows) / seconds:.1f} per second."]
    lines += ["", *_phase_table(rows, phases, seconds), "", *_kind_table(rows), ""]
    changes = found.get("changes", {})
    audit = " ".join(found.get("audit", "").split())
    lines.append(
        f"Staff changes answered 2xx or 303 (each looked for in the database): "
        f"{changes.get('ready', 0)} documents marked ready, {changes.get('collected', 0)} "
        f"handed over. Webhook deliveries, each signature verified by the receiver: "
        f"{found.get('webhooks', 0)}. The schedulers' job runs, as each web host's "
        f"`/metrics` serves them: {_per_host(found.get('job_runs', {}))}. `audit verify`: {audit}"
    )
    problems = found.get("problems", [])
    lines.append(f"Checks: {'all hold' if not problems else f'{len(problems)} problems'}")
    lines += [f"- {problem}" for problem in problems[:50]]
    return "\n".join(lines) + "\n"


def _phase_table(
    rows: list[tuple[float, str, float, bool]], phases: list[dict[str, Any]], seconds: int
) -> list[str]:
    table = [
        "| phase | fault | seconds | requests | per second | errors | limit storage errors |",
        "|---|---|---|---|---|---|---|",
    ]
    first = phases[0]["started"]
    for index, phase in enumerate(phases):
        start = phase["started"]
        end = phases[index + 1]["started"] if index + 1 < len(phases) else first + seconds
        inside = [r for r in rows if start <= r[0] < end]
        errors = sum(r[3] for r in inside)
        length = max(end - start, 0.001)
        what = _fault(phase)
        storage = phase.get("storage_errors_counted", 0)
        table.append(
            f"| {phase['name']} | {what} | {length:.0f} | {len(inside)} | "
            f"{len(inside) / length:.1f} | {errors} | {storage:.0f} |"
        )
    return table


def _fault(phase: dict[str, Any]) -> str:
    return {
        "steady": "none",
        "web killed": "kill -9 of web1's gunicorn master, restarted",
        "database restarted": "pg_ctl restart -m fast",
        "redis down": f"redis-server stopped {phase.get('down', 0):.0f} s",
        "sms down": f"SMS receiver stopped {phase.get('down', 0):.0f} s",
        "after": "none",
    }[phase["name"]]


def _kind_table(rows: list[tuple[float, str, float, bool]]) -> list[str]:
    by_kind: dict[str, list[float]] = defaultdict(list)
    failed: dict[str, int] = defaultdict(int)
    for _at, kind, ms, bad in rows:
        by_kind[kind].append(ms)
        failed[kind] += bad
    table = ["| request | count | errors | p50 ms | p95 ms | p99 ms |", "|---|---|---|---|---|---|"]
    for kind in sorted(by_kind):
        values = sorted(by_kind[kind])
        table.append(
            f"| {kind} | {len(values)} | {failed[kind]} | {percentile(values, 0.50):.0f} | "
            f"{percentile(values, 0.95):.0f} | {percentile(values, 0.99):.0f} |"
        )
    return table
