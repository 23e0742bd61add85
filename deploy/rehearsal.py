"""The rehearsal on several hosts: builds them on this machine with network namespaces and
veth pairs on one bridge, runs the load with every fault in turn, checks that nothing was
lost, prints the figures, and tears everything down, even when it fails.

Hosts (namespaces ``sar-*``, addresses in 10.213.47.0/24, nothing routed off the machine):
``lb`` HAProxy (health checks on /readyz), ``web1`` and ``web2`` gunicorn (the repository's
``gunicorn.conf.py``, two workers each), ``sched1`` and ``sched2`` the scheduler, ``db`` a
PostgreSQL cluster of its own, ``redis`` its own redis-server, ``gw`` the SMS, WhatsApp and
e-mail receivers and the office's system that webhooks tell (it checks each signature),
``load`` locust headless (``deploy/rehearsal_locust.py``).

    deploy/rehearsal.sh --short        # about 2 minutes of load, under 5 minutes in all
    deploy/rehearsal.sh                # 10 minutes of load

Root only (``ip netns``, ``runuser``). It exits non-zero when a check fails.
"""

from __future__ import annotations

import argparse
import fcntl
import json
import os
import shutil
import signal
import subprocess
import sys
import tempfile
import time
from pathlib import Path
from typing import Any

sys.path.insert(0, str(Path(__file__).resolve().parent))

import rehearsal_report as report  # noqa: E402 (beside this file, not a package)
from rehearsal_hosts import RECEIVERS, ROOT, VENV, Hosts, ip, ns  # noqa: E402

# One rehearsal at a time on a machine: its lock file. $REHEARSAL_LOCK names another, for
# the test of the lock itself, which test runs side by side must not share with each other.
LOCK = Path(
    os.environ.get("REHEARSAL_LOCK")
    or Path("/run/lock" if Path("/run/lock").is_dir() else tempfile.gettempdir())
    / "siapambil-rehearsal.lock"
)


def say(text: str) -> None:
    print(time.strftime("%H:%M:%S"), text, flush=True)


def set_up(hosts: Hosts) -> dict[str, Any]:
    """The network, the services, the data; returns what the load needs."""
    began = time.monotonic()
    hosts.build_network()
    hosts.start_database()
    hosts.start_redis()
    for name in RECEIVERS:
        hosts.start_receiver(name)
    say(f"hosts, PostgreSQL, Redis and receivers up in {time.monotonic() - began:.0f} s")
    hosts.flask("init-db")
    hosts.flask("demo", "--requests", str(hosts.requests), "--seed", "16")
    say(f"demo data ({hosts.requests} requests) in {time.monotonic() - began:.0f} s")
    # The web and the schedulers start while the data for the load is chosen.
    for host in ("web1", "web2"):
        hosts.start_web(host)
    for host in ("sched1", "sched2"):
        hosts.start_scheduler(host)
    hosts.start_balancer()
    data = hosts.check("prepare")
    hosts.subscribe_webhook(data["office"])
    account = ["staff", "create", "rehearsal", "--office", data["office"], "--role", "operator"]
    hosts.flask(*account, "--name", "Petugas Gladi", input=hosts.password + "\n")
    data |= {"username": "rehearsal", "password": hosts.password}
    hosts.wait_for(f"http://{ip('lb')}/readyz", 60)
    for host in ("web1", "web2"):
        hosts.wait_for(f"http://{ip(host)}:8000/readyz", 30)
    return data


def load(hosts: Hosts, data: dict[str, Any], args: argparse.Namespace) -> list[dict[str, Any]]:
    """The load with the faults in turn; returns the phases with their times."""
    out = hosts.work / "load"
    out.mkdir()
    (out / "data.json").write_text(json.dumps(data))
    locust = [str(VENV / "locust"), "-f", str(ROOT / "deploy" / "rehearsal_locust.py")]
    locust += ["--headless", "-u", str(args.users), "-r", str(args.users)]
    locust += ["-t", f"{args.seconds}s", "-H", f"http://{ip('lb')}", "--csv", str(out / "locust")]
    locust += ["--only-summary", "--stop-timeout", "5"]
    hosts.start(
        "locust",
        "load",
        locust,
        REHEARSAL_DATA=str(out / "data.json"),
        REHEARSAL_RATE=str(args.rate),
    )
    phases = report.timeline(args.seconds)
    start = time.time()
    for phase in phases:
        _wait_until(start + phase["from"])
        phase["started"] = time.time()
        phase["storage_errors"] = hosts.storage_errors()
        if args.fail_on_purpose and phase["name"] == "web killed":
            raise RuntimeError("failing on purpose (--fail-on-purpose): the trap must clean up")
        fault(hosts, phase)
        phase["fault_end"] = time.time()
    hosts.processes["locust"].wait(timeout=args.seconds + 60)
    report.count_storage_errors(phases, hosts.storage_errors())
    return phases


def fault(hosts: Hosts, phase: dict[str, Any]) -> None:
    name, down = phase["name"], phase.get("down", 0)
    if name == "web killed":
        hosts.kill_web_master("web1")
    elif name == "database restarted":
        hosts.restart_database()
    elif name == "redis down":
        hosts.stop("redis")
        time.sleep(down)
        hosts.start_redis()
    elif name == "sms down":
        hosts.stop("sms")
        time.sleep(down)
        hosts.start_receiver("sms")


def _wait_until(moment: float) -> None:
    time.sleep(max(0.0, moment - time.time()))


def drain(hosts: Hosts, seconds: float) -> int:
    """Wait for the schedulers to announce and send what the load queued."""
    deadline = time.monotonic() + seconds
    while (left := hosts.check("waiting")["waiting"]) and time.monotonic() < deadline:
        time.sleep(3)
    return left


def verify(hosts: Hosts, phases: list[dict[str, Any]]) -> dict[str, Any]:
    faults = [
        [p["started"], p["fault_end"]]
        for p in phases
        if p["name"] in ("web killed", "database restarted")
    ]
    (hosts.work / "faults.json").write_text(json.dumps(faults))
    records = [str(hosts.work / f"{name}.jsonl") for name in RECEIVERS]
    found = hosts.check(
        "verify",
        str(hosts.work / "load" / "changes.jsonl"),
        str(hosts.work / "faults.json"),
        *records,
    )
    audit = subprocess.run(
        [*ns("load"), str(VENV / "flask"), "--app", "wsgi", "audit", "verify"],
        cwd=ROOT,
        env=hosts.env,
        capture_output=True,
        text=True,
        check=False,
    )
    found["audit"] = audit.stdout.strip() or audit.stderr.strip()
    if audit.returncode != 0:
        found["problems"].append(f"audit verify failed: {found['audit']}")
    # The jobs run on the scheduler hosts; their counts reach Prometheus through the web's.
    found["job_runs"] = hosts.scraped("siapambil_job_runs_total")
    for host, runs in found["job_runs"].items():
        if not runs:
            found["problems"].append(f"{host}'s /metrics serves no run of the schedulers' jobs")
    for phase in phases:
        counted = phase["storage_errors_counted"]
        if phase["name"] == "redis down" and not counted:
            found["problems"].append("Redis was down, yet no rate-limit storage error was counted")
        elif phase["name"] != "redis down" and counted:
            found["problems"].append(f"{counted:.0f} rate-limit storage errors in {phase['name']}")
    return found


def parse_arguments(argv: list[str]) -> argparse.Namespace:
    parser = argparse.ArgumentParser(description="The multi-host rehearsal (root only).")
    parser.add_argument("--short", action="store_true", help="about 2 minutes of load")
    parser.add_argument("--users", type=int, default=20, help="locust users")
    parser.add_argument("--rate", type=float, default=1.5, help="tasks a second per user")
    parser.add_argument(
        "--requests", type=int, default=None, help="demo requests to add (8000 short, 20000)"
    )
    parser.add_argument("--out", type=Path, default=None, help="where the table is written")
    parser.add_argument("--keep", action="store_true", help="keep the logs and records")
    parser.add_argument(
        "--fail-on-purpose",
        action="store_true",
        help="fail at the first fault, to see the trap tear everything down",
    )
    args = parser.parse_args(argv)
    args.seconds = 120 if args.short else 600
    args.requests = args.requests or (8000 if args.short else 20000)
    args.out = args.out or ROOT / "instance" / "rehearsal.md"
    return args


def main(argv: list[str]) -> int:
    args = parse_arguments(argv)
    if os.geteuid() != 0:
        print("The rehearsal needs root (ip netns, runuser).", file=sys.stderr)
        return 2
    # One rehearsal at a time: the hosts' names (sar-*) are fixed, and a run begins by removing
    # what a killed run left. The lock goes with the process, however it ends.
    lock = LOCK.open("w")
    try:
        fcntl.flock(lock, fcntl.LOCK_EX | fcntl.LOCK_NB)
    except BlockingIOError:
        print(f"Another rehearsal is running on this machine ({LOCK}); wait for it to end.",
              file=sys.stderr)  # fmt: skip
        return 2
    work = Path(tempfile.mkdtemp(prefix="siapambil-rehearsal-"))
    work.chmod(0o755)
    hosts = Hosts(work, args.requests)
    # The trap: SIGTERM and SIGINT end the run through the same teardown as a failure.
    for number in (signal.SIGTERM, signal.SIGINT, signal.SIGHUP):
        signal.signal(number, lambda got, _frame: sys.exit(f"stopped by signal {got}"))
    began = time.monotonic()
    try:
        data = set_up(hosts)
        say(f"set up in {time.monotonic() - began:.0f} s; load for {args.seconds} s")
        phases = load(hosts, data, args)
        say("load done; waiting for the outbox to drain")
        left = drain(hosts, 120 if not args.short else 60)
        for host in ("sched1", "sched2"):
            hosts.stop(host)
        say("checking")
        found = verify(hosts, phases)
        if left:
            found["problems"].append(f"{left} messages still waiting after the drain")
        table = report.write(work / "load" / "requests.csv", phases, args.seconds, found)
        args.out.parent.mkdir(parents=True, exist_ok=True)
        args.out.write_text(table)
        print(table)
        print(f"(also in {args.out}; logs in {work})" if args.keep else f"(also in {args.out})")
        return 1 if found["problems"] else 0
    finally:
        hosts.teardown()
        if not args.keep:
            shutil.rmtree(work, ignore_errors=True)
        print(f"torn down; {time.monotonic() - began:.0f} s in all", flush=True)


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
