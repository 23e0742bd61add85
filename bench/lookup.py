"""Benchmark of the public look-up against a bare Flask endpoint, on SQLite or PostgreSQL.

What it measures, in one run:

1. Fill: a fresh database with ``--requests`` synthetic requests (default one million), made
   with ``flask --app wsgi init-db`` and ``flask --app wsgi demo --requests N --seed 1``; the
   wall-clock time and peak memory (max RSS) of the ``demo`` command are printed (goals: one
   million in under 2 min on SQLite, in under 500 MB on PostgreSQL). With ``--database
   postgresql`` the database is one of the benchmark's own on the server of
   ``--postgres-url`` (created, filled, and dropped at the end unless ``--keep``).
2. Throughput and latency, with ``wrk --latency`` over loopback, of three targets each served
   by gunicorn (``--workers`` sync workers, default 2), every request for a random one of
   ``--sample`` receipt numbers drawn from the table:

   - ``bare``: ``/bare/<receipt>`` of bench/bare_app.py (bare Flask + stdlib sqlite3, or
     psycopg in autocommit on PostgreSQL: one indexed row as JSON), on the same database;
   - ``json``: the product's ``/api/v1/requests/<receipt>``;
   - ``page``: the product's status page ``/s/<receipt>``.

   With ``--floor``, three more (bench/floor_app.py): the product app answering without a
   look-up, a constant JSON answer (``floor-json``) and the look-up form page
   (``floor-page``): what the app costs around an answer, before it reads anything; and the
   product app reading the bare endpoint's one row through its own engine of reads
   (``floor-row``): the ceiling of any look-up that reads a ready-made answer in one query.

   ``bare`` is measured first and again last (``bare2``); the ratios are to the mean of the
   two, and a warning says when they differ by more than 10% (the machine was not quiet:
   wrk and the servers share its CPUs, so anything else running skews the ratios). With
   ``--rounds N`` every target is measured N times, the rounds one after the other (each
   round measures every target in turn), and each target's figures are those of its median
   run by requests/s: a disturbance of the machine then spoils one round of each target
   rather than the whole of one target.
   Goals: ``json`` at least 0.8x and ``page`` at least 0.6x the requests/s of ``bare``.
   Beside requests/s, each target's server CPU time per answer (gunicorn's master and
   workers, from /proc) is printed: a figure that a busy machine disturbs far less.

Run from the repository root, with the virtualenv active::

    python bench/lookup.py                      # one million requests, 15 s per target
    python bench/lookup.py --keep               # reuse bench/results/lookup/bench.sqlite
    python bench/lookup.py --requests 50000 --duration 5
    python bench/lookup.py --database postgresql --keep   # database siapambil_bench_lookup
    python bench/lookup.py --database postgresql --keep --floor --rounds 3

The last lines printed are a Markdown table of the figures, ready for the README.

Raw wrk outputs, gunicorn logs and ``results.json`` are written to the work dir (default
bench/results/lookup/, which git ignores). The exit status is 0 whether or not the goals
are met, and non-zero when the benchmark itself fails (a command fails, a server does not
come up, or more than 1% of the answers are errors).
"""

from __future__ import annotations

import argparse
import contextlib
import datetime as dt
import json
import os
import platform
import random
import re
import resource
import signal
import socket
import sqlite3
import subprocess
import sys
import time
import urllib.error
import urllib.request
from collections.abc import Iterator
from dataclasses import asdict, dataclass, replace
from pathlib import Path
from typing import Any

from common import FILLED_POSTGRES  # bench/common.py (the script's own folder)

ROOT = Path(__file__).resolve().parent.parent
DEFAULT_WORKDIR = ROOT / "bench" / "results" / "lookup"
DB_NAME = "bench.sqlite"
RECEIPTS_NAME = "receipts.txt"
LUA_NAME = "random_receipt.lua"
WRK = "/usr/bin/wrk"
HOST = "127.0.0.1"
FILL_GOAL_SECONDS = 120.0
FILL_GOAL_REQUESTS = 1_000_000
FILL_GOAL_MB = 500
POSTGRES_URL = FILLED_POSTGRES
MAX_ERROR_SHARE = 0.01
START_TIMEOUT_SECONDS = 60.0
STOP_TIMEOUT_SECONDS = 10.0
PROBES = 20
MAX_BARE_DRIFT = 0.10


class BenchError(RuntimeError):
    """The benchmark could not be run or its results cannot be trusted."""


@dataclass(frozen=True)
class Target:
    name: str
    description: str
    app: str  # gunicorn's APP_MODULE
    prefix: str  # the path before the receipt number
    goal: float | None = None  # least share of the bare endpoint's requests/s


TARGETS = (
    Target("bare", "bare Flask + driver, one indexed row as JSON", "bench.bare_app:app", "/bare/"),
    Target("json", "product JSON look-up", "wsgi:app", "/api/v1/requests/", goal=0.8),
    Target("page", "product status page", "wsgi:app", "/s/", goal=0.6),
    Target("bare2", "bare again, to see the machine stayed quiet", "bench.bare_app:app", "/bare/"),
)
BARE_RUNS = ("bare", "bare2")
# --floor: the product app answering without looking anything up (bench/floor_app.py), measured
# between the product's targets and the second bare run
FLOORS = (
    Target("floor-json", "product app, constant JSON (no look-up)", "bench.floor_app:app",
           "/floor/json/"),
    Target("floor-page", "product app, look-up form page (no look-up)", "bench.floor_app:app",
           "/floor/page/"),
    Target("floor-row", "product app, the bare endpoint's one row", "bench.floor_app:app",
           "/floor/row/"),
)  # fmt: skip


def chosen_targets(floor: bool) -> tuple[Target, ...]:
    """The targets of a run, in the order measured."""
    return TARGETS[:-1] + FLOORS + TARGETS[-1:] if floor else TARGETS


def _target(name: str) -> Target:
    return next(t for t in TARGETS + FLOORS if t.name == name)


@dataclass(frozen=True)
class WrkSettings:
    threads: int
    connections: int
    duration: int
    warmup: int
    timeout: int

    def args(self, duration: int) -> list[str]:
        return [
            f"--threads={self.threads}",
            f"--connections={self.connections}",
            f"--duration={duration}s",
            f"--timeout={self.timeout}s",
        ]


@dataclass(frozen=True)
class WrkResult:
    requests: int
    seconds: float
    requests_per_second: float
    p50_ms: float
    p75_ms: float
    p90_ms: float
    p99_ms: float
    non_2xx_3xx: int
    socket_errors: int
    # CPU time (user + system) of gunicorn's master and workers per answer: a figure that a
    # busy machine disturbs far less than requests/s
    server_cpu_ms: float = 0.0

    @property
    def error_share(self) -> float:
        return (self.non_2xx_3xx + self.socket_errors) / max(self.requests, 1)


# ---------------------------------------------------------------------------------------------
# Processes


def child_env(**extra: str) -> dict[str, str]:
    """This environment without the app's SIAPAMBIL_* overrides, plus ``extra``."""
    env = {k: v for k, v in os.environ.items() if not k.startswith("SIAPAMBIL_")}
    env.update(extra)
    return env


def run_flask(store: Store, *args: str) -> tuple[float, float]:
    """Run ``flask --app wsgi ARGS`` against the store: its wall-clock seconds and the peak
    memory (max RSS, MB) of the largest command run so far."""
    command = [sys.executable, "-m", "flask", "--app", "wsgi", *args]
    print(f"$ DATABASE_URL={store.url} flask --app wsgi {' '.join(args)}", flush=True)
    started = time.perf_counter()
    done = subprocess.run(command, cwd=ROOT, env=store.env(), text=True, capture_output=True)
    took = time.perf_counter() - started
    for line in [line for line in done.stdout.splitlines() if line.strip()][:1]:
        print(f"  {line}")
    if done.returncode != 0:
        raise BenchError(f"flask {args[0]} failed ({done.returncode}):\n{done.stderr[-3000:]}")
    return took, resource.getrusage(resource.RUSAGE_CHILDREN).ru_maxrss / 1024


def free_port() -> int:
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as sock:
        sock.bind((HOST, 0))
        return sock.getsockname()[1]


def stop(process: subprocess.Popen[bytes]) -> None:
    """Stop a process started in its own session, and everything in its process group."""
    if process.poll() is not None:
        return
    for sig in (signal.SIGTERM, signal.SIGKILL):
        with contextlib.suppress(ProcessLookupError):
            os.killpg(process.pid, sig)
        try:
            process.wait(timeout=STOP_TIMEOUT_SECONDS)
            return
        except subprocess.TimeoutExpired:
            continue


@dataclass(frozen=True)
class Server:
    url: str
    process: subprocess.Popen[bytes]
    log: Path


@contextlib.contextmanager
def gunicorn(app: str, store: Store, workers: int, log: Path) -> Iterator[Server]:
    """A gunicorn serving ``app`` on a free loopback port, stopped on leaving the block."""
    port = free_port()
    command = [
        sys.executable,
        "-m",
        "gunicorn",
        "--workers",
        str(workers),
        "--worker-class",
        "sync",
        "--bind",
        f"{HOST}:{port}",
        "--error-logfile",
        str(log),
        "--no-control-socket",
        app,
    ]
    process = subprocess.Popen(
        command,
        cwd=ROOT,
        env=store.env(),
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
        start_new_session=True,
    )
    try:
        yield Server(f"http://{HOST}:{port}", process, log)
        if process.poll() is not None:
            raise BenchError(f"gunicorn for {app} died during the run; see {log}")
    finally:
        stop(process)


def wait_until_up(server: Server, path: str) -> None:
    """Poll ``path`` until it answers (any HTTP status), for at most START_TIMEOUT_SECONDS."""
    deadline = time.monotonic() + START_TIMEOUT_SECONDS
    while time.monotonic() < deadline:
        if server.process.poll() is not None:
            raise BenchError(f"gunicorn exited ({server.process.returncode}); see {server.log}")
        try:
            with urllib.request.urlopen(server.url + path, timeout=5):
                return
        except urllib.error.HTTPError:
            return
        except OSError:
            time.sleep(0.2)
    raise BenchError(
        f"{server.url} did not answer within {START_TIMEOUT_SECONDS:.0f} s; see {server.log}"
    )


def cpu_seconds(master: int) -> float:
    """CPU time (user + system) of a gunicorn master and its workers so far, from /proc:
    the live workers' own, and the master's waited-for children's (workers that
    ``max_requests`` replaced)."""
    ticks = os.sysconf("SC_CLK_TCK")
    children = Path(f"/proc/{master}/task/{master}/children").read_text().split()
    total = 0.0
    for pid in [master, *map(int, children)]:
        with open(f"/proc/{pid}/stat") as stat:
            fields = stat.read().rsplit(")", 1)[1].split()
        total += sum(map(int, fields[11:13])) / ticks  # utime, stime
        if pid == master:
            total += sum(map(int, fields[13:15])) / ticks  # cutime, cstime
    return total


def probe(base: str, prefix: str, receipts: list[str]) -> None:
    """Every probed receipt must answer 200, with a body: the run measures found requests."""
    for receipt in receipts[:PROBES]:
        url = f"{base}{prefix}{receipt}"
        try:
            with urllib.request.urlopen(url, timeout=10) as answer:
                if answer.status != 200 or not answer.read():
                    raise BenchError(f"GET {url} answered {answer.status} (or an empty body)")
        except urllib.error.HTTPError as error:
            raise BenchError(f"GET {url} answered {error.code}: {error.read()[:300]!r}") from None


# ---------------------------------------------------------------------------------------------
# Data


@dataclass(frozen=True)
class Fill:
    seconds: float
    peak_mb: float


class Store:
    """Where the benchmark's requests are: a SQLite file, or a PostgreSQL database of its own."""

    kind = "sqlite"

    def __init__(self, path: Path) -> None:
        self.path = path
        self.url = f"sqlite:///{path}"

    def env(self) -> dict[str, str]:
        return child_env(DATABASE_URL=self.url, RATELIMIT_ENABLED="0", SECRET_KEY="bench",
                         ENV="production", BARE_APP_DB=str(self.path))  # fmt: skip

    def exists(self) -> bool:
        return self.path.exists()

    def create(self) -> None:
        for suffix in ("", "-wal", "-shm", "-journal"):
            Path(f"{self.path}{suffix}").unlink(missing_ok=True)

    def drop(self) -> None:
        """Nothing to do: the file stays in the work dir for ``--keep``."""

    def rows(self, sql: str, params: tuple = ()) -> list[tuple]:
        with contextlib.closing(sqlite3.connect(self.path)) as conn:
            return conn.execute(sql.replace("%s", "?"), params).fetchall()

    def warm(self) -> None:
        """Read the database file once, so that the first target measured does not pay for
        pages the later ones find in the OS cache."""
        with self.path.open("rb") as file:
            while file.read(1 << 20):
                pass


class PostgresStore(Store):
    kind = "postgresql"

    def __init__(self, url: str) -> None:
        if "+psycopg" not in url.split("://", 1)[0]:
            raise BenchError(f"--postgres-url must be postgresql+psycopg://...: {url}")
        self.url = url
        self.dsn = url.replace("+psycopg", "", 1)
        self.name = self.dsn.rsplit("/", 1)[1].split("?", 1)[0]
        self.path = Path(self.name)
        if not re.fullmatch(r"[a-z_][a-z0-9_]*", self.name) or self.name in ("postgres", "test"):
            raise BenchError(f"{self.name!r} is not a database the benchmark may make and drop")

    def env(self) -> dict[str, str]:
        env = super().env()
        del env["BARE_APP_DB"]
        return {**env, "BARE_APP_DSN": self.dsn}

    def _admin(self, sql: str) -> list[tuple]:
        import psycopg

        with psycopg.connect(self.dsn.rsplit("/", 1)[0] + "/postgres", autocommit=True) as conn:
            cursor = conn.execute(sql)
            return cursor.fetchall() if cursor.description else []

    def exists(self) -> bool:
        return bool(self._admin(f"SELECT 1 FROM pg_database WHERE datname = '{self.name}'"))

    def create(self) -> None:
        self.drop()
        self._admin(f'CREATE DATABASE "{self.name}"')

    def drop(self) -> None:
        self._admin(f'DROP DATABASE IF EXISTS "{self.name}" WITH (FORCE)')

    def rows(self, sql: str, params: tuple = ()) -> list[tuple]:
        import psycopg

        with psycopg.connect(self.dsn) as conn:
            return conn.execute(sql, params).fetchall()

    def warm(self) -> None:
        """Read the table and its receipt index once, into the server's and the OS's caches."""
        self.rows("SELECT count(*), count(DISTINCT receipt) FROM requests")


def prepare_database(store: Store, count: int, keep: bool) -> Fill | None:
    """A database with ``count`` synthetic requests; the demo fill's figures, None if reused."""
    if keep and store.exists():
        print(f"Reusing {store.url} (--keep): the fill is not measured.")
        return None
    store.create()
    run_flask(store, "init-db")
    took, peak = run_flask(store, "demo", "--requests", str(count), "--seed", "1")
    print(
        f"Demo fill: {count:,} requests in {took:.1f} s wall clock "
        f"({count / took:,.0f} requests/s), peak memory {peak:,.0f} MB.",
        flush=True,
    )
    return Fill(took, peak)


def count_requests(store: Store) -> int:
    return store.rows("SELECT count(*) FROM requests")[0][0]


def sample_receipts(store: Store, size: int, seed: int) -> list[str]:
    """``size`` receipt numbers of rows picked at random (repeatably) across the table."""
    low, high = store.rows("SELECT min(id), max(id) FROM requests")[0]
    if low is None:
        raise BenchError(f"{store.url} has no requests")
    ids = random.Random(seed).sample(range(low, high + 1), min(size, high - low + 1))
    found: list[str] = []
    for start in range(0, len(ids), 500):
        chunk = ids[start : start + 500]
        marks = ",".join(["%s"] * len(chunk))
        rows = store.rows(f"SELECT receipt FROM requests WHERE id IN ({marks})", tuple(chunk))
        found.extend(receipt for (receipt,) in rows)
    random.Random(seed).shuffle(found)
    return found


LUA = """\
-- Written by bench/lookup.py. Usage: wrk ... -s this.lua URL -- PREFIX RECEIPTS_FILE
-- Every request is GET PREFIX<receipt> for a random line of RECEIPTS_FILE.
local prefix, receipts = "/", {}

function init(args)
  prefix = args[1] or prefix
  for line in io.lines(args[2]) do
    if #line > 0 then receipts[#receipts + 1] = line end
  end
  -- a different sequence in every thread
  math.randomseed(os.time() + tonumber(tostring(receipts):match("0x(%x+)") or "0", 16))
end

function request()
  return wrk.format("GET", prefix .. receipts[math.random(#receipts)])
end
"""


@dataclass(frozen=True)
class WrkInputs:
    script: Path
    receipts: Path


def write_wrk_inputs(workdir: Path, receipts: list[str]) -> WrkInputs:
    """The receipt numbers, one a line, and the Lua script that asks for them."""
    inputs = WrkInputs(workdir / LUA_NAME, workdir / RECEIPTS_NAME)
    inputs.receipts.write_text("\n".join(receipts) + "\n")
    inputs.script.write_text(LUA)
    return inputs


# ---------------------------------------------------------------------------------------------
# wrk

_UNITS_MS = {"us": 0.001, "ms": 1.0, "s": 1000.0, "m": 60_000.0, "h": 3_600_000.0}
_PERCENTILE = re.compile(r"^\s*(50|75|90|99)%\s+([\d.]+)(us|ms|s|m|h)\s*$", re.MULTILINE)
_TOTAL = re.compile(r"^\s*(\d+) requests in ([\d.]+)(us|ms|s|m|h),", re.MULTILINE)
_RATE = re.compile(r"^Requests/sec:\s+([\d.]+)", re.MULTILINE)
_NON_2XX = re.compile(r"Non-2xx or 3xx responses: (\d+)")
_SOCKET = re.compile(r"Socket errors: connect (\d+), read (\d+), write (\d+), timeout (\d+)")


def parse_wrk(output: str) -> WrkResult:
    """The figures of ``wrk --latency`` output."""
    percentiles = {p: float(v) * _UNITS_MS[u] for p, v, u in _PERCENTILE.findall(output)}
    total, rate = _TOTAL.search(output), _RATE.search(output)
    if total is None or rate is None or len(percentiles) != 4:
        raise BenchError(f"cannot read wrk's output:\n{output}")
    non_2xx = _NON_2XX.search(output)
    sockets = _SOCKET.search(output)
    return WrkResult(
        requests=int(total.group(1)),
        seconds=float(total.group(2)) * _UNITS_MS[total.group(3)] / 1000,
        requests_per_second=float(rate.group(1)),
        p50_ms=percentiles["50"],
        p75_ms=percentiles["75"],
        p90_ms=percentiles["90"],
        p99_ms=percentiles["99"],
        non_2xx_3xx=int(non_2xx.group(1)) if non_2xx else 0,
        socket_errors=sum(int(n) for n in sockets.groups()) if sockets else 0,
    )


def run_wrk(url: str, inputs: WrkInputs, prefix: str, settings: WrkSettings, duration: int) -> str:
    command = [
        WRK,
        *settings.args(duration),
        "--latency",
        f"--script={inputs.script}",
        url,
        "--",
        prefix,
        str(inputs.receipts),
    ]
    done = subprocess.run(
        command, text=True, capture_output=True, timeout=duration + settings.timeout + 30
    )
    if done.returncode != 0:
        raise BenchError(f"wrk failed ({done.returncode}): {done.stderr}")
    return done.stdout


def measure(
    target: Target,
    store: Store,
    receipts: list[str],
    inputs: WrkInputs,
    settings: WrkSettings,
    workers: int,
    workdir: Path,
    tag: str = "",
) -> WrkResult:
    """Serve the target, check it, warm it up and run wrk; the raw output is kept (its file
    named with ``tag``, the round, when there are several)."""
    log = workdir / f"gunicorn-{target.name}{tag}.log"
    log.unlink(missing_ok=True)
    with gunicorn(target.app, store, workers, log) as server:
        wait_until_up(server, target.prefix + receipts[0])
        probe(server.url, target.prefix, receipts)
        if settings.warmup:
            run_wrk(server.url, inputs, target.prefix, settings, settings.warmup)
        cpu = cpu_seconds(server.process.pid)
        output = run_wrk(server.url, inputs, target.prefix, settings, settings.duration)
        cpu = cpu_seconds(server.process.pid) - cpu
    (workdir / f"wrk-{target.name}{tag}.txt").write_text(output)
    result = parse_wrk(output)
    result = replace(result, server_cpu_ms=cpu * 1000 / max(result.requests, 1))
    if result.error_share > MAX_ERROR_SHARE:
        raise BenchError(
            f"{target.name}: {result.non_2xx_3xx} non-2xx/3xx answers and "
            f"{result.socket_errors} socket errors in {result.requests} requests:\n{output}"
        )
    return result


# ---------------------------------------------------------------------------------------------
# Report


def cpu_model() -> str:
    with contextlib.suppress(OSError):
        for line in Path("/proc/cpuinfo").read_text().splitlines():
            if line.startswith("model name"):
                return line.split(":", 1)[1].strip()
    return platform.processor() or "unknown CPU"


def reference(results: dict[str, WrkResult]) -> float:
    """The bare endpoint's requests/s: the mean of its runs before and after the product's."""
    return sum(results[name].requests_per_second for name in BARE_RUNS) / len(BARE_RUNS)


def bare_drift(results: dict[str, WrkResult]) -> float:
    """How far apart the bare runs are, as a share of the faster one."""
    rates = [results[name].requests_per_second for name in BARE_RUNS]
    return (max(rates) - min(rates)) / max(rates)


def median_run(found: list[WrkResult]) -> WrkResult:
    """The run with the median requests/s (of an even number, the lower of the middle two)."""
    ordered = sorted(found, key=lambda r: r.requests_per_second)
    return ordered[(len(ordered) - 1) // 2]


def print_rounds(runs: dict[str, list[WrkResult]]) -> None:
    """Each round's requests/s, to the mean of that round's two bare runs."""
    count = len(runs[BARE_RUNS[0]])
    bares = [
        sum(runs[name][i].requests_per_second for name in BARE_RUNS) / len(BARE_RUNS)
        for i in range(count)
    ]
    print("\nEach round, x its own bare runs (the table above: each target's median run):")
    for name, found in runs.items():
        ratios = ", ".join(
            f"{r.requests_per_second / b:.2f}" for r, b in zip(found, bares, strict=True)
        )
        print(f"  {name:<12} {ratios}")


def print_table(results: dict[str, WrkResult]) -> None:
    bare = reference(results)
    print(
        f"\n{'target':<34} {'req/s':>8} {'p50 ms':>7} {'p90 ms':>7} {'p99 ms':>7} "
        f"{'x bare':>7} {'errors':>7} {'cpu ms':>7}"
    )
    for target in map(_target, results):
        r = results[target.name]
        label = f"{target.name} {target.prefix}<receipt>"
        print(
            f"{label:<34} {r.requests_per_second:>8,.0f} {r.p50_ms:>7.2f} {r.p90_ms:>7.2f} "
            f"{r.p99_ms:>7.2f} {r.requests_per_second / bare:>7.2f} "
            f"{r.non_2xx_3xx + r.socket_errors:>7} {r.server_cpu_ms:>7.3f}"
        )


def judge(
    results: dict[str, WrkResult], fill: Fill | None, store: Store, count: int
) -> dict[str, bool]:
    """Print PASS/FAIL per goal and return them."""
    bare = reference(results)
    verdicts: dict[str, bool] = {}
    drift = bare_drift(results)
    if drift > MAX_BARE_DRIFT:
        print(
            f"\nWARNING: the two bare runs differ by {drift:.0%}: something else used the CPUs "
            "during the run, so the ratios below are not reliable. Run again on a quiet "
            "machine (--keep reuses the database)."
        )
    print("\nGoals:")
    for target in map(_target, results):
        if target.goal is None:
            continue
        ratio = results[target.name].requests_per_second / bare
        verdicts[target.name] = ratio >= target.goal
        print(
            f"  {'PASS' if verdicts[target.name] else 'FAIL'}  {target.description}: "
            f"{ratio:.2f}x bare (goal >= {target.goal}x)"
        )
    if fill is not None and count == FILL_GOAL_REQUESTS:
        verdicts["fill"] = fill.seconds < FILL_GOAL_SECONDS
        if store.kind == "postgresql":
            verdicts["fill"] = fill.peak_mb < FILL_GOAL_MB
        print(
            f"  {'PASS' if verdicts['fill'] else 'FAIL'}  demo fill of {count:,}: "
            f"{fill.seconds:.1f} s, {fill.peak_mb:,.0f} MB (goal < {FILL_GOAL_SECONDS:.0f} s on "
            f"SQLite, < {FILL_GOAL_MB} MB on PostgreSQL)"
        )
    else:
        print(
            f"  ----  demo fill: goal < {FILL_GOAL_SECONDS:.0f} s (SQLite) and < {FILL_GOAL_MB} MB "
            f"(PostgreSQL) for {FILL_GOAL_REQUESTS:,} requests, not judged in this run"
        )
    return verdicts


def print_markdown(results: dict[str, WrkResult], store: Store, rows: int, rounds: int) -> None:
    """The figures as a Markdown table, for the README."""
    bare = reference(results)
    each = f"each target's median run of {rounds}; " if rounds > 1 else ""
    print(
        f"\nOn {store.kind}, {rows:,} requests ({each}the bare endpoint: the mean of its two "
        "runs):\n"
    )
    print("| target | requests/s | p50 | p99 | of bare | goal | server CPU per answer |")
    print("|---|---|---|---|---|---|---|")
    for target in map(_target, results):
        r = results[target.name]
        goal = f"{target.goal}×" if target.goal else ""
        print(
            f"| {target.name}: {target.description} | {r.requests_per_second:,.0f} | "
            f"{r.p50_ms:.2f} ms | {r.p99_ms:.2f} ms | {r.requests_per_second / bare:.2f}× "
            f"| {goal} | {r.server_cpu_ms:.3f} ms |"
        )


def save(workdir: Path, report: dict[str, Any]) -> Path:
    path = workdir / "results.json"
    path.write_text(json.dumps(report, indent=2) + "\n")
    return path


# ---------------------------------------------------------------------------------------------
# Main


def parse_args(argv: list[str] | None) -> argparse.Namespace:
    parser = argparse.ArgumentParser(
        description=__doc__.split("\n\n")[0], formatter_class=argparse.ArgumentDefaultsHelpFormatter
    )
    parser.add_argument(
        "--requests", type=int, default=1_000_000, help="synthetic requests in the database"
    )
    parser.add_argument("--duration", type=int, default=15, help="seconds of wrk per target")
    parser.add_argument("--warmup", type=int, default=3, help="seconds of wrk before each run")
    parser.add_argument("--connections", type=int, default=8, help="wrk connections")
    parser.add_argument("--threads", type=int, default=2, help="wrk threads")
    parser.add_argument("--timeout", type=int, default=10, help="wrk request timeout, seconds")
    parser.add_argument("--workers", type=int, default=2, help="gunicorn sync workers")
    parser.add_argument("--sample", type=int, default=20_000, help="receipt numbers to ask for")
    parser.add_argument("--seed", type=int, default=1, help="seed of the receipt sample")
    parser.add_argument(
        "--workdir",
        type=Path,
        default=DEFAULT_WORKDIR,
        help="where the database, wrk inputs and outputs go",
    )
    parser.add_argument(
        "--keep",
        action="store_true",
        help="reuse the database if it exists (and keep a PostgreSQL one at the end)",
    )
    parser.add_argument(
        "--floor",
        action="store_true",
        help="also measure the product app answering without a look-up (bench/floor_app.py)",
    )
    parser.add_argument(
        "--rounds",
        type=int,
        default=1,
        help="measure every target this many times, in turn, and keep each one's median run",
    )
    parser.add_argument("--database", choices=("sqlite", "postgresql"), default="sqlite")
    parser.add_argument(
        "--postgres-url",
        default=POSTGRES_URL,
        help="the benchmark's own PostgreSQL database (made and dropped; never a shared one)",
    )
    args = parser.parse_args(argv)
    if (
        min(
            args.requests,
            args.duration,
            args.connections,
            args.threads,
            args.workers,
            args.sample,
            args.rounds,
        )
        < 1
        or args.connections < args.threads
    ):
        parser.error("counts must be positive, and --connections at least --threads")
    args.workdir = args.workdir.resolve()
    return args


def run(args: argparse.Namespace) -> None:
    args.workdir.mkdir(parents=True, exist_ok=True)
    if args.database == "postgresql":
        store: Store = PostgresStore(args.postgres_url)
    else:
        store = Store(args.workdir / DB_NAME)
    try:
        measure_all(args, store)
    finally:
        if not args.keep:
            store.drop()


def measure_all(args: argparse.Namespace, store: Store) -> None:
    settings = WrkSettings(args.threads, args.connections, args.duration, args.warmup, args.timeout)
    fill = prepare_database(store, args.requests, args.keep)
    store.warm()
    rows = count_requests(store)
    receipts = sample_receipts(store, args.sample, args.seed)
    inputs = write_wrk_inputs(args.workdir, receipts)
    cpus = len(os.sched_getaffinity(0))
    load = ", ".join(f"{x:.2f}" for x in os.getloadavg())
    print(
        f"\nMachine: nproc={cpus}, {cpu_model()}, Python {platform.python_version()}, "
        f"load average {load}"
    )
    print(f"Database: {store.url} ({rows:,} requests; {len(receipts):,} receipt numbers sampled)")
    print(
        f"wrk: {' '.join(settings.args(settings.duration))} --latency, "
        f"{settings.warmup} s warm-up; gunicorn: {args.workers} sync workers on {HOST}"
    )

    runs: dict[str, list[WrkResult]] = {}
    for number in range(1, args.rounds + 1):
        tag = f"-{number}" if args.rounds > 1 else ""
        if args.rounds > 1:
            print(f"Round {number} of {args.rounds}", flush=True)
        for target in chosen_targets(args.floor):
            print(f"Measuring {target.name}: {target.description} ({target.app}) ...", flush=True)
            runs.setdefault(target.name, []).append(
                measure(target, store, receipts, inputs, settings, args.workers, args.workdir, tag)
            )
    results = {name: median_run(found) for name, found in runs.items()}

    print_table(results)
    if args.rounds > 1:
        print_rounds(runs)
    verdicts = judge(results, fill, store, args.requests)
    report = {
        "when": dt.datetime.now(dt.UTC).isoformat(timespec="seconds"),
        "machine": {"nproc": cpus, "cpu": cpu_model(), "python": platform.python_version()},
        "load_average_before": os.getloadavg(),
        "database": {
            "kind": store.kind,
            "url": store.url,
            "requests": rows,
            "fill_seconds": fill.seconds if fill else None,
            "fill_peak_mb": fill.peak_mb if fill else None,
            "fill_requested": args.requests if fill is not None else None,
        },
        "wrk": asdict(settings),
        "gunicorn_workers": args.workers,
        "sample": len(receipts),
        "rounds": args.rounds,
        "results": {
            name: {
                **asdict(r),
                "ratio_to_bare": r.requests_per_second / reference(results),
                "rounds_requests_per_second": [run.requests_per_second for run in runs[name]],
            }
            for name, r in results.items()
        },
        "bare_requests_per_second": reference(results),
        "bare_drift": bare_drift(results),
        "reliable": bare_drift(results) <= MAX_BARE_DRIFT,
        "goals": verdicts,
    }
    print(f"\nRaw wrk outputs and results: {save(args.workdir, report)}")
    print_markdown(results, store, rows, args.rounds)


def _exit_on_sigterm(_signum: int, _frame: object) -> None:
    raise SystemExit(143)  # unwinds through the finally blocks that stop gunicorn


def main(argv: list[str] | None = None) -> int:
    args = parse_args(argv)
    signal.signal(signal.SIGTERM, _exit_on_sigterm)
    try:
        run(args)
    except BenchError as error:
        print(f"\nbench failed: {error}", file=sys.stderr)
        return 1
    except (OSError, subprocess.SubprocessError, sqlite3.Error, ImportError) as error:
        print(f"\nbench failed: {type(error).__name__}: {error}", file=sys.stderr)
        return 1
    except KeyboardInterrupt:
        print("\nbench interrupted", file=sys.stderr)
        return 130
    return 0


if __name__ == "__main__":
    sys.exit(main())
