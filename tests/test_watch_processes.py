"""Watching the service with real processes: gunicorn with ``gunicorn.conf.py`` and two
workers sums a counter across both (and keeps it when a worker exits), and ``promtool``
finds nothing wrong in its ``/metrics``; ``/readyz`` turns 503 within 2 s of a PostgreSQL
server going away and back to 200 when it returns, on a private cluster started for the
test (never the machine's shared server)."""

from __future__ import annotations

import glob
import os
import shutil
import signal
import subprocess
import sys
import tempfile
import time
import urllib.error
import urllib.request
from collections.abc import Iterator
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path
from typing import Any

import pytest
from prometheus_client import CollectorRegistry, multiprocess
from prometheus_client.parser import text_string_to_metric_families

from tracker import create_app, receipts, schema
from tracker.db import make_engine

from .conftest import free_port, missing

ROOT = Path(__file__).resolve().parent.parent
pytestmark = pytest.mark.slow
HOME = {"route": "/", "method": "GET", "status": "200"}


def fetch(url: str) -> tuple[int, str]:
    try:
        with urllib.request.urlopen(url, timeout=10) as answer:
            return answer.status, answer.read().decode()
    except urllib.error.HTTPError as error:
        body = error.read().decode()
        error.close()
        return error.code, body


def sample(text: str, name: str, labels: dict[str, str]) -> float:
    for family in text_string_to_metric_families(text):
        for each in family.samples:
            if each.name == name and each.labels == labels:
                return each.value
    return 0.0


def per_worker(directory: Path) -> dict[str, float]:
    """The home page's count in each worker's own file, read apart from the others."""
    found = {}
    for path in sorted(directory.glob("counter_*.db")):
        alone = Path(tempfile.mkdtemp())
        try:
            shutil.copy(path, alone / path.name)
            registry = CollectorRegistry()
            multiprocess.MultiProcessCollector(registry, path=str(alone))
            for family in registry.collect():
                for each in family.samples:
                    if each.name == "siapambil_http_requests_total" and each.labels == HOME:
                        found[path.name] = each.value
        finally:
            shutil.rmtree(alone)
    return found


def wait_for_status(url: str, want: int, seconds: float, process: Any = None) -> float:
    """Poll ``url`` until it answers ``want``; how long it took."""
    started = time.monotonic()
    while time.monotonic() - started < seconds:
        if process is not None and process.poll() is not None:
            pytest.fail(f"the server stopped: {process.stderr.read().decode()[-2000:]}")
        try:
            if fetch(url)[0] == want:
                return time.monotonic() - started
        except OSError:
            pass
        time.sleep(0.05)
    pytest.fail(f"{url} did not answer {want} within {seconds} s")


@pytest.fixture
def gunicorn(database_url: str, tmp_path: Path) -> Iterator[tuple[str, Path, Any]]:
    """gunicorn as production starts it (reading ``gunicorn.conf.py``) with two workers."""
    metrics_dir = tmp_path / "metrics"
    metrics_dir.mkdir()
    (metrics_dir / "counter_999999.db").write_bytes(b"left by an earlier run")
    port = free_port()
    env = {**os.environ, "DATABASE_URL": database_url, "SECRET_KEY": "test-secret",
           "PROMETHEUS_MULTIPROC_DIR": str(metrics_dir), "WEB_CONCURRENCY": "2",
           "RATELIMIT_ENABLED": "off"}  # fmt: skip
    process = subprocess.Popen(
        [sys.executable, "-m", "gunicorn", "--bind", f"127.0.0.1:{port}", "wsgi:app"],
        cwd=ROOT, env=env, stdout=subprocess.PIPE, stderr=subprocess.PIPE,
    )  # fmt: skip
    url = f"http://127.0.0.1:{port}"
    try:
        wait_for_status(url + "/healthz", 200, 30, process)
        # The master forks its workers from the loaded app a moment apart: wait for both.
        deadline = time.monotonic() + 10
        while len(live_workers(process.pid)) < 2:
            assert time.monotonic() < deadline, "the second worker did not start"
            time.sleep(0.05)
        yield url, metrics_dir, process
    finally:
        process.terminate()
        process.wait(timeout=30)
        assert process.stderr is not None and process.stdout is not None
        process.stderr.close()
        process.stdout.close()


def test_two_workers_sum_one_counter_and_promtool_finds_nothing_wrong(gunicorn) -> None:
    url, metrics_dir, process = gunicorn
    assert not (metrics_dir / "counter_999999.db").exists()  # emptied at start
    times = 200
    with ThreadPoolExecutor(max_workers=8) as pool:
        statuses = list(pool.map(lambda _: fetch(url + "/")[0], range(times)))
    assert statuses == [200] * times
    status, scrape = fetch(url + "/metrics")
    assert status == 200
    assert sample(scrape, "siapambil_http_requests_total", HOME) == times
    workers = per_worker(metrics_dir)
    assert len([n for n in workers.values() if n > 0]) == 2, workers  # both served
    assert sum(workers.values()) == times
    promtool = shutil.which("promtool")
    if promtool is None:
        missing("promtool (apt-get install prometheus)")
    checked = subprocess.run(
        [promtool, "check", "metrics"], input=scrape, capture_output=True, text=True, timeout=30
    )
    assert checked.returncode == 0, checked.stdout + checked.stderr
    assert checked.stdout.strip() == "" and checked.stderr.strip() == ""
    # Control: promtool does find what is wrong in a broken exposition.
    broken = scrape + "# TYPE siapambil_broken counter\nsiapambil_broken 1\n"
    flagged = subprocess.run(
        [promtool, "check", "metrics"], input=broken, capture_output=True, text=True, timeout=30
    )
    assert flagged.returncode != 0
    # The access log (standard output) shows the receipt number as its tag only.
    number = receipts.generate()
    assert fetch(f"{url}/s/{receipts.format_grouped(number)}")[0] == 404
    process.terminate()
    process.wait(timeout=30)
    access = process.stdout.read().decode()
    assert '"GET / HTTP/1.1" 200' in access
    assert "/s/R:" in access
    assert number not in access and receipts.format_grouped(number) not in access


def test_a_worker_that_exits_takes_no_count_with_it(gunicorn) -> None:
    url, _metrics_dir, process = gunicorn
    times = 50
    with ThreadPoolExecutor(max_workers=8) as pool:
        statuses = list(pool.map(lambda _: fetch(url + "/")[0], range(times)))
    assert statuses == [200] * times
    assert len(live_workers(process.pid)) == 2
    # A worker that exits (the master is told to keep one fewer) takes nothing with it.
    os.kill(process.pid, signal.SIGTTOU)
    deadline = time.monotonic() + 20
    while len(live_workers(process.pid)) > 1:
        assert time.monotonic() < deadline, "a worker did not exit"
        time.sleep(0.1)
    status, scrape = fetch(url + "/metrics")
    assert sample(scrape, "siapambil_http_requests_total", HOME) == times


def job_series(scrape: str, job: str) -> dict[str, float]:
    """The job's runs, failures and duration count in one scrape (absent: missing)."""
    names = {"siapambil_job_runs_total", "siapambil_job_failures_total",
             "siapambil_job_duration_seconds_count"}  # fmt: skip
    return {
        each.name: each.value
        for family in text_string_to_metric_families(scrape)
        for each in family.samples
        if each.name in names and each.labels == {"job": job}
    }


def test_the_web_serves_the_job_runs_of_a_scheduler_in_another_process(
    gunicorn, database_url: str
) -> None:
    """The scheduler is a process of its own (in production a unit of its own, often on
    another host), with no share in the web workers' metrics files: a job it runs is counted
    in the database, and gunicorn's ``/metrics`` serves the count. The control is the scrape
    before the run, which has none; the job's process is given no metrics directory at all.
    The scrape with the jobs' series in it passes ``promtool check metrics``."""
    url, metrics_dir, _process = gunicorn
    assert job_series(fetch(url + "/metrics")[1], "announce") == {}
    env = {k: v for k, v in os.environ.items() if k != "PROMETHEUS_MULTIPROC_DIR"}
    env.update(DATABASE_URL=database_url, SECRET_KEY="test-secret")
    for _ in range(2):
        done = subprocess.run(
            [sys.executable, "-m", "flask", "--app", "wsgi", "jobs", "run-once", "announce"],
            cwd=ROOT, env=env, capture_output=True, text=True, timeout=120,
        )  # fmt: skip
        assert done.returncode == 0, done.stdout + done.stderr
    assert not any("announce" in p.read_bytes().decode("latin-1") for p in metrics_dir.iterdir())
    status, scrape = fetch(url + "/metrics")
    assert status == 200
    assert job_series(scrape, "announce") == {
        "siapambil_job_runs_total": 2,
        "siapambil_job_failures_total": 0,
        "siapambil_job_duration_seconds_count": 2,
    }
    assert sample(scrape, "siapambil_job_last_duration_seconds", {"job": "announce"}) > 0
    promtool = shutil.which("promtool")
    if promtool is None:
        missing("promtool (apt-get install prometheus)")
    checked = subprocess.run(
        [promtool, "check", "metrics"], input=scrape, capture_output=True, text=True, timeout=30
    )
    assert checked.returncode == 0 and not (checked.stdout + checked.stderr).strip(), (
        checked.stdout + checked.stderr
    )


def test_web_bind_takes_several_addresses_and_metrics_answer_only_those_allowed(
    database_url: str,
) -> None:
    """``WEB_BIND`` with two addresses (as a host behind nginx that Prometheus scrapes from
    elsewhere is set up): gunicorn listens on both, and ``/metrics`` answers the scraper's
    network only (``METRICS_ALLOW``). The control: the address left out of it gets a 404."""
    ports = free_port(), free_port()
    env = {**os.environ, "DATABASE_URL": database_url, "SECRET_KEY": "test-secret",
           "WEB_CONCURRENCY": "1", "RATELIMIT_ENABLED": "off",
           "WEB_BIND": f"127.0.0.1:{ports[0]}, 127.0.0.2:{ports[1]}",
           "METRICS_ALLOW": "127.0.0.2/32"}  # fmt: skip
    env.pop("PROMETHEUS_MULTIPROC_DIR", None)
    process = subprocess.Popen(
        [sys.executable, "-m", "gunicorn", "wsgi:app"],
        cwd=ROOT, env=env, stdout=subprocess.DEVNULL, stderr=subprocess.PIPE,
    )  # fmt: skip
    try:
        first, second = f"http://127.0.0.1:{ports[0]}", f"http://127.0.0.2:{ports[1]}"
        wait_for_status(first + "/healthz", 200, 30, process)
        wait_for_status(second + "/healthz", 200, 10, process)
        scraper = urllib.request.build_opener(SourceAddress("127.0.0.2"))
        with scraper.open(second + "/metrics", timeout=10) as answer:
            assert answer.status == 200
            assert b"siapambil_http_requests_total" in answer.read()
        assert fetch(first + "/metrics")[0] == 404  # from 127.0.0.1: not allowed
    finally:
        process.terminate()
        process.wait(timeout=30)
        assert process.stderr is not None
        process.stderr.close()


class SourceAddress(urllib.request.HTTPHandler):
    """Connects from a given local address (a scraper on another host, in effect)."""

    def __init__(self, address: str) -> None:
        super().__init__()
        self.address = address

    def http_open(self, req: Any) -> Any:
        import http.client

        address = self.address

        class Connection(http.client.HTTPConnection):
            def __init__(self, *args: Any, **kwargs: Any) -> None:
                super().__init__(*args, source_address=(address, 0), **kwargs)

        return self.do_open(Connection, req)


def live_workers(master: int) -> list[str]:
    children = Path(f"/proc/{master}/task/{master}/children")
    return children.read_text().split() if children.exists() else []


# /readyz against a private PostgreSQL cluster -------------------------------------------


def pg_binary(name: str) -> str | None:
    found = sorted(glob.glob(f"/usr/lib/postgresql/*/bin/{name}"))
    return found[-1] if found else None


@pytest.fixture
def private_postgres(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Any]:
    """A PostgreSQL cluster of this test's own on a free port, as the postgres user; yields
    its URL and the functions that stop and start it."""
    initdb, pg_ctl = pg_binary("initdb"), pg_binary("pg_ctl")
    runuser = shutil.which("runuser")
    if not (initdb and pg_ctl and runuser) or os.geteuid() != 0:
        missing("a private PostgreSQL cluster (initdb, pg_ctl, runuser as root)")
    base = Path(tempfile.mkdtemp(prefix="siapambil-pg-"))
    shutil.chown(base, "postgres")
    data, log = base / "data", base / "server.log"
    port = free_port()

    def as_postgres(*command: str) -> None:
        subprocess.run([runuser, "-u", "postgres", "--", *command], check=True,
                       capture_output=True, timeout=120)  # fmt: skip

    def start() -> None:
        as_postgres(pg_ctl, "-D", str(data), "-l", str(log), "-w", "-o",
                    f"-p {port} -k {base} -c listen_addresses=127.0.0.1", "start")  # fmt: skip

    def stop() -> None:
        as_postgres(pg_ctl, "-D", str(data), "-m", "fast", "-w", "stop")

    try:
        as_postgres(initdb, "-D", str(data), "-U", "postgres", "--auth=trust", "-E", "UTF8")
        start()
        yield f"postgresql+psycopg://postgres@127.0.0.1:{port}/postgres", stop, start
    finally:
        subprocess.run([runuser, "-u", "postgres", "--", pg_ctl, "-D", str(data), "-m",
                        "immediate", "stop"], capture_output=True, timeout=60)  # fmt: skip
        shutil.rmtree(base, ignore_errors=True)


def migrated_app(url: str) -> Any:
    """An app over the private cluster's database, migrated to head."""
    engine = make_engine(url)
    schema.upgrade(engine)
    engine.dispose()
    return create_app({"TESTING": True, "SECRET_KEY": "test-secret", "DATABASE_URL": url,
                       "RATELIMIT_ENABLED": False})  # fmt: skip


def test_readyz_turns_503_within_two_seconds_of_the_database_going_away_and_back(
    private_postgres, tmp_path
) -> None:
    url, stop, start = private_postgres
    app = migrated_app(url)
    client = app.test_client()
    assert client.get("/readyz").status_code == 200
    stop()
    gone = time.monotonic()
    while (answer := client.get("/readyz")).status_code != 503:
        assert time.monotonic() - gone < 2, "still ready 2 s after the database went away"
        time.sleep(0.05)
    assert time.monotonic() - gone < 2
    assert answer.get_json()["checks"]["database"]["ok"] is False
    assert client.get("/healthz").status_code == 200  # alive all the same
    start()
    back = time.monotonic()
    while client.get("/readyz").status_code != 200:
        assert time.monotonic() - back < 10, "not ready 10 s after the database came back"
        time.sleep(0.05)
    app.extensions["siapambil.db"]["engine"].dispose()


def test_lookups_survive_a_database_restart_without_a_ping_per_checkout(private_postgres) -> None:
    """The look-up's pool pings nothing on checkout: after a restart its first query finds a
    dead connection, drops the pool and asks again, so the citizen gets an answer at once,
    where a bare pool without ping fails that first query."""
    import psycopg
    from sqlalchemy import create_engine

    from tracker.db import get_read_engine

    url, stop, start = private_postgres
    app = migrated_app(url)
    client = app.test_client()
    unknown = f"/api/v1/requests/{receipts.generate()}"
    bare = create_engine(url, isolation_level="AUTOCOMMIT", pool_pre_ping=False)

    def ask_bare() -> None:
        connection = bare.raw_connection()
        try:
            connection.cursor().execute("SELECT 1")
        finally:
            connection.close()

    assert client.get(unknown).status_code == 404  # the pool holds a connection now
    ask_bare()
    stop()
    start()
    assert client.get(unknown).status_code == 404  # answered at once, no 500
    with pytest.raises(psycopg.OperationalError):  # control: the dead connection, unnoticed
        ask_bare()
    bare.dispose()
    with app.app_context():
        get_read_engine().dispose()
    app.extensions["siapambil.db"]["engine"].dispose()


def test_a_database_that_is_away_gets_503_with_retry_after_not_500(private_postgres) -> None:
    """While PostgreSQL is down, a page and an API call say the service is away for a moment
    (503, ``Retry-After``, in the reader's language), not that something broke; once it is
    back they answer as before. The control: the same addresses before the stop."""
    url, stop, start = private_postgres
    app = migrated_app(url)
    client = app.test_client()
    page, api = f"/s/{receipts.generate()}", f"/api/v1/requests/{receipts.generate()}"
    open311 = f"/open311/v2/requests/{receipts.generate()}.json"
    assert client.get(page).status_code == 404 and client.get(api).status_code == 404
    assert client.get(open311).status_code == 404
    stop()
    try:
        answer = client.get(open311)  # the spec's own errors, as openapi.yaml says
        assert answer.status_code == 503 and answer.headers["Retry-After"] == "5"
        assert answer.get_json()[0]["code"] == 503
        answer = client.get(page)
        assert answer.status_code == 503
        assert answer.headers["Retry-After"] == "5"
        assert "Layanan belum dapat membuka datanya" in answer.get_data(as_text=True)
        answer = client.get(api)
        assert answer.status_code == 503 and answer.headers["Retry-After"] == "5"
        assert answer.get_json()["error"]["code"] == "unavailable"
    finally:
        start()
    assert client.get(page).status_code == 404 and client.get(api).status_code == 404
    assert client.get(open311).status_code == 404
    with app.app_context():
        from tracker.db import get_read_engine

        get_read_engine().dispose()
    app.extensions["siapambil.db"]["engine"].dispose()
