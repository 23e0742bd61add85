"""The rehearsal's hosts: network namespaces with veth pairs on one bridge, the services
each runs (HAProxy, gunicorn, the scheduler, PostgreSQL, Redis, the receivers, locust), the
faults done to them, and the teardown of it all."""

from __future__ import annotations

import json
import os
import secrets
import shutil
import signal
import subprocess
import time
from pathlib import Path
from typing import Any

import rehearsal_report as report

ROOT = Path(__file__).resolve().parent.parent
VENV = ROOT / ".venv" / "bin"
NET = "10.213.47"
BRIDGE = "sar-br"
HOSTS = {
    "lb": 2,
    "web1": 11,
    "web2": 12,
    "sched1": 21,
    "sched2": 22,
    "db": 30,
    "redis": 31,
    "gw": 40,
    "load": 50,
}
RECEIVERS = {"sms": 9001, "whatsapp": 9002, "email": 9003, "webhook": 9004}
PG_BIN = (
    Path(sorted(Path("/usr/lib/postgresql").glob("*/bin"))[-1])
    if Path("/usr/lib/postgresql").exists()
    else Path("/usr/bin")
)
RESTART_SECONDS = 2  # as systemd's RestartSec would, shortened for the rehearsal


def ip(host: str) -> str:
    return f"{NET}.{HOSTS[host]}"


def ns(host: str) -> list[str]:
    return ["ip", "netns", "exec", f"sar-{host}"]


def run(command: list[str], **options: Any) -> subprocess.CompletedProcess[str]:
    """Run a command; when it fails, what it wrote is part of the error."""
    try:
        return subprocess.run(command, check=True, text=True, **options)
    except subprocess.CalledProcessError as error:
        said = "\n".join(filter(None, (error.stdout, error.stderr)))
        raise RuntimeError(f"{' '.join(command)} failed ({error.returncode}):\n{said}") from None


class Hosts:
    """The namespaces, the processes in them, and their teardown."""

    def __init__(self, work: Path, requests: int) -> None:
        self.work = work
        self.requests = requests
        self.processes: dict[str, subprocess.Popen[bytes]] = {}
        self.password = secrets.token_urlsafe(18)
        # Redis on a network address refuses clients without a password (protected mode).
        self.redis_password = secrets.token_hex(16)
        self.env = self._app_env()

    # The network -----------------------------------------------------------------------
    def build_network(self) -> None:
        remove_network()  # what a run killed with SIGKILL could not remove
        run(["ip", "link", "add", BRIDGE, "type", "bridge"])
        run(["ip", "link", "set", BRIDGE, "up"])
        for host, number in HOSTS.items():
            name, outside = f"sar-{host}", f"sar-{host}-h"
            run(["ip", "netns", "add", name])
            run(f"ip link add {outside} type veth peer name eth0 netns {name}".split())
            run(["ip", "link", "set", outside, "master", BRIDGE, "up"])
            run([*ns(host), "ip", "addr", "add", f"{NET}.{number}/24", "dev", "eth0"])
            run([*ns(host), "ip", "link", "set", "eth0", "up"])
            run([*ns(host), "ip", "link", "set", "lo", "up"])

    def teardown(self) -> None:
        """Every process, the database cluster, every namespace and the bridge; each step
        goes on when an earlier one fails."""
        for process in self.processes.values():
            _kill_group(process)
        if (self.work / "pg" / "data" / "postmaster.pid").exists():
            stop = ["runuser", "-u", "postgres", "--", str(PG_BIN / "pg_ctl"), "-D"]
            stop += [str(self.work / "pg" / "data"), "-m", "immediate", "-w", "stop"]
            subprocess.run(stop, check=False, capture_output=True)
        remove_network()

    # Processes ---------------------------------------------------------------------------
    def start(self, name: str, host: str, command: list[str], **env: str) -> None:
        log = (self.work / f"{name}.log").open("ab")
        self.processes[name] = subprocess.Popen(
            [*ns(host), *command],
            cwd=ROOT,
            env={**self.env, **env},
            stdout=log,
            stderr=subprocess.STDOUT,
            start_new_session=True,
        )

    def stop(self, name: str) -> None:
        process = self.processes.pop(name)
        _kill_group(process, signal.SIGTERM)

    def in_host(self, host: str, command: list[str], **options: Any) -> str:
        return run(
            [*ns(host), *command], cwd=ROOT, env=self.env, capture_output=True, **options
        ).stdout

    def flask(self, *arguments: str, **options: Any) -> str:
        return self.in_host("load", [str(VENV / "flask"), "--app", "wsgi", *arguments], **options)

    def check(self, *arguments: str) -> dict[str, Any]:
        script = str(ROOT / "deploy" / "rehearsal_check.py")
        return json.loads(self.in_host("load", [str(VENV / "python"), script, *arguments]))

    def _app_env(self) -> dict[str, str]:
        gw = ip("gw")
        keep = {k: v for k, v in os.environ.items() if k in ("PATH", "LANG", "HOME", "TERM")}
        return {
            **keep,
            "ENV": "production",
            "SECRET_KEY": secrets.token_hex(32),
            "AUDIT_HMAC_KEY": secrets.token_hex(32),
            "LOG_MASKING_KEY": secrets.token_hex(32),
            "WEBHOOK_SECRET_KEY": secrets.token_hex(32),
            "DATABASE_URL": f"postgresql+psycopg://postgres@{ip('db')}:5432/siapambil",
            "RATELIMIT_STORAGE_URI": f"redis://:{self.redis_password}@{ip('redis')}:6379",
            "RATELIMIT_KEY_PREFIX": "rehearsal",
            # One load host stands for many citizens: the limit is counted, never reached.
            "LOOKUP_RATE_LIMIT": "1000000 per minute",
            "PROXY_FIX_HOPS": "1",
            "PUBLIC_BASE_URL": f"http://{ip('lb')}",
            "METRICS_ALLOW": f"{NET}.0/24",
            "NOTIFY_QUIET_HOURS": "",  # the rehearsal runs at any hour
            "NOTIFY_SMS_URL": f"json://{gw}:{RECEIVERS['sms']}/sms?:to={{to}}"
            "&+Idempotency-Key={key}",
            "NOTIFY_WHATSAPP_URL": f"json://{gw}:{RECEIVERS['whatsapp']}/wa?:to={{to}}"
            "&+Idempotency-Key={key}",
            "NOTIFY_EMAIL_URL": f"json://{gw}:{RECEIVERS['email']}/mail?:to={{to}}"
            "&+Idempotency-Key={key}",
            "ANNOUNCE_SECONDS": "10",
            "NOTIFY_SECONDS": "3",
            "NOTIFY_CLAIM_SECONDS": "20",
            "JOB_LEASE_SECONDS": "60",
            "NOTIFY_BACKOFF_SECONDS": "2",
            "NOTIFY_BACKOFF_CAP_SECONDS": "8",
            "NOTIFY_MAX_ATTEMPTS": "60",
            "WEB_CONCURRENCY": "2",
        }

    # The hosts' services -----------------------------------------------------------------
    def start_database(self) -> None:
        """A cluster of its own (``initdb`` refuses root: it runs as postgres), listening on
        the database host's address only, its socket in the rehearsal's folder."""
        base = self.work / "pg"
        for folder in (base, base / "run"):
            folder.mkdir()
            shutil.chown(folder, "postgres", "postgres")
        as_postgres = ["runuser", "-u", "postgres", "--"]
        initdb = [str(PG_BIN / "initdb"), "-D", str(base / "data"), "-U", "postgres"]
        run([*as_postgres, *initdb, "--auth=trust", "-E", "UTF8"], capture_output=True)
        with (base / "data" / "pg_hba.conf").open("a") as hba:
            hba.write(f"host all all {NET}.0/24 trust\n")
        options = (
            f"-c listen_addresses={ip('db')} -c port=5432 -c unix_socket_directories={base}/run"
            " -c max_connections=200"
        )
        self.pg_ctl("-o", options, "start")
        createdb = [str(PG_BIN / "createdb"), "-h", ip("db"), "-U", "postgres", "siapambil"]
        self.in_host("load", createdb)

    def restart_database(self) -> None:
        self.pg_ctl("-m", "fast", "restart")

    def pg_ctl(self, *arguments: str) -> None:
        """pg_ctl as postgres on the database host; the server's output goes to its log, never
        to a pipe this script would wait on."""
        data, log = self.work / "pg" / "data", self.work / "pg" / "log"
        command = ["runuser", "-u", "postgres", "--", str(PG_BIN / "pg_ctl")]
        run(
            [*ns("db"), *command, "-D", str(data), "-l", str(log), "-w", *arguments],
            stdout=subprocess.DEVNULL,
            stderr=subprocess.DEVNULL,
        )

    def start_redis(self) -> None:
        command = ["redis-server", "--bind", ip("redis"), "--port", "6379", "--save", ""]
        command += ["--appendonly", "no", "--requirepass", self.redis_password]
        self.start("redis", "redis", command)

    def start_receiver(self, name: str) -> None:
        script = [str(VENV / "python"), str(ROOT / "deploy" / "rehearsal_receiver.py")]
        record = str(self.work / f"{name}.jsonl")
        where = ["--host", ip("gw"), "--port", str(RECEIVERS[name]), "--record", record]
        if name == "webhook":  # an office's system, checking each signature
            where += ["--secret-file", str(self.webhook_secret)]
        self.start(name, "gw", [*script, *where])

    @property
    def webhook_secret(self) -> Path:
        """Where the webhook receiver finds the secret ``webhook add`` printed."""
        return self.work / "webhook-secret"

    def subscribe_webhook(self, office: str) -> None:
        """The office's system subscribes to its events; the receiver gets the secret."""
        url = f"http://{ip('gw')}:{RECEIVERS['webhook']}/hook"
        events = "request.status_changed,announcement.published"
        printed = self.flask("webhook", "add", url, "--office", office, "--events", events)
        secret = next(word for word in printed.split() if word.startswith("whsec_"))
        self.webhook_secret.write_text(secret + "\n")

    def start_web(self, host: str) -> None:
        metrics = self.work / f"metrics-{host}"
        metrics.mkdir(exist_ok=True)
        gunicorn = [str(VENV / "gunicorn"), "-c", "gunicorn.conf.py"]
        serve = [*gunicorn, "-b", f"{ip(host)}:8000", "wsgi:app"]
        self.start(host, host, serve, PROMETHEUS_MULTIPROC_DIR=str(metrics))

    def kill_web_master(self, host: str) -> None:
        """``kill -9`` the master, then what systemd does: the rest of the unit is stopped
        (KillMode=mixed) and the unit is started again after RestartSec."""
        process = self.processes.pop(host)
        _signal(process.pid, signal.SIGKILL)
        process.wait()
        _kill_group(process, signal.SIGTERM)
        time.sleep(RESTART_SECONDS)
        self.start_web(host)

    def start_scheduler(self, host: str) -> None:
        self.start(host, host, [str(VENV / "flask"), "--app", "wsgi", "jobs", "run"])

    def start_balancer(self) -> None:
        config = self.work / "haproxy.cfg"
        config.write_text(HAPROXY.format(lb=ip("lb"), web1=ip("web1"), web2=ip("web2")))
        run(["haproxy", "-c", "-q", "-f", str(config)])
        self.start("lb", "lb", ["haproxy", "-db", "-f", str(config)])

    def storage_errors(self) -> dict[str, float]:
        """Each web host's count of requests served while the limits' storage failed."""
        return self.scraped("siapambil_rate_limit_storage_errors_total")

    def scraped(self, name: str) -> dict[str, float]:
        """Each web host's sum of a metric's samples, scraped from the load host (allowed by
        ``METRICS_ALLOW``, as a Prometheus on the private network would be)."""
        counts = {}
        for host in ("web1", "web2"):
            scrape = ["curl", "-s", "-m", "3", f"http://{ip(host)}:8000/metrics"]
            answer = subprocess.run([*ns("load"), *scrape], capture_output=True, text=True)
            counts[host] = report.metric(answer.stdout, name)
        return counts

    def status(self, host: str, url: str) -> int:
        answer = subprocess.run(
            [*ns(host), "curl", "-s", "-o", "/dev/null", "-m", "3", "-w", "%{http_code}", url],
            capture_output=True,
            text=True,
            check=False,
        )
        return int(answer.stdout or 0)

    def wait_for(self, url: str, seconds: float, want: int = 200) -> None:
        deadline = time.monotonic() + seconds
        while self.status("load", url) != want:
            if time.monotonic() > deadline:
                raise RuntimeError(f"{url} did not answer {want} within {seconds:.0f} s")
            time.sleep(0.5)


HAPROXY = """\
global
    maxconn 4096

defaults
    mode http
    option httplog
    option forwardfor
    option redispatch
    retries 3
    timeout connect 2s
    timeout client 30s
    timeout server 30s
    timeout http-request 10s

frontend siapambil
    bind {lb}:80
    http-request deny deny_status 404 if {{ path /metrics }} || {{ path_beg /metrics/ }}
    default_backend web

backend web
    balance roundrobin
    option httpchk
    http-check send meth GET uri /readyz ver HTTP/1.1 hdr Host rehearsal
    http-check expect status 200
    timeout check 5s
    default-server inter 2s fall 3 rise 2
    server web1 {web1}:8000 check
    server web2 {web2}:8000 check
"""


def _signal(pid: int, number: int) -> None:
    try:
        os.kill(pid, number)
    except ProcessLookupError:
        pass


def _kill_group(process: subprocess.Popen[bytes], first: int = signal.SIGKILL) -> None:
    """The process and every process of its group (gunicorn's workers, haproxy's)."""
    try:
        os.killpg(process.pid, first)
    except ProcessLookupError:
        return
    deadline = time.monotonic() + 10
    while time.monotonic() < deadline:
        try:
            os.killpg(process.pid, 0)
        except ProcessLookupError:
            break
        process.poll()
        time.sleep(0.2)
    else:
        try:
            os.killpg(process.pid, signal.SIGKILL)
        except ProcessLookupError:
            pass
    process.poll()


def remove_network() -> None:
    """Kill what still runs in the rehearsal's namespaces, then remove them and the bridge."""
    for host in HOSTS:
        for pid in _netns_pids(host):
            _signal(pid, signal.SIGKILL)
        subprocess.run(["ip", "netns", "del", f"sar-{host}"], check=False, capture_output=True)
        subprocess.run(["ip", "link", "del", f"sar-{host}-h"], check=False, capture_output=True)
    subprocess.run(["ip", "link", "del", BRIDGE], check=False, capture_output=True)


def _netns_pids(host: str) -> list[int]:
    found = subprocess.run(
        ["ip", "netns", "pids", f"sar-{host}"], capture_output=True, text=True, check=False
    )
    return [int(pid) for pid in found.stdout.split()]
