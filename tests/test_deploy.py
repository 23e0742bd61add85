"""The deploy files hold: the alert rules pass promtool and fire on the series they watch,
every alert leads to a section of the runbook and every section has an alert, the systemd
units are valid, the audit check writes the metric its alert reads, and the proxies' access
logs carry no receipt number."""

from __future__ import annotations

import contextlib
import datetime as dt
import gzip
import json
import os
import re
import shutil
import socket
import subprocess
import sys
import threading
import time
import urllib.error
import urllib.request
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
import yaml
from sqlalchemy import text

from tests.conftest import free_port, missing
from tracker.db import make_engine
from tracker.status import Status
from tracker.webhooks import delivery
from tracker.webhooks.subscriptions import make_secret

ROOT = Path(__file__).resolve().parent.parent
DEPLOY = ROOT / "deploy"
RUNBOOK = ROOT / "docs" / "runbook.md"


def tool(name: str, package: str) -> str:
    found = shutil.which(name)
    if found is None:
        missing(f"{name} (apt-get install {package})")
    return found


def test_the_alert_rules_pass_promtool_and_fire_on_what_they_watch(tmp_path: Path) -> None:
    promtool = tool("promtool", "prometheus")
    for check in (["check", "rules", "alerts.yml"], ["test", "rules", "alerts.test.yml"]):
        done = subprocess.run([promtool, *check], cwd=DEPLOY, capture_output=True, text=True)
        assert done.returncode == 0, done.stdout + done.stderr
    # Control: a rule that cannot be read is refused, and a test that expects an alert that
    # does not fire fails.
    broken = tmp_path / "alerts.yml"
    broken.write_text((DEPLOY / "alerts.yml").read_text().replace("> 300", "> > 300"))
    assert subprocess.run([promtool, "check", "rules", str(broken)], capture_output=True).returncode
    quiet = tmp_path / "alerts.test.yml"
    shutil.copy(DEPLOY / "alerts.yml", tmp_path / "alerts.yml")
    quiet.write_text((DEPLOY / "alerts.test.yml").read_text().replace('"1x30 0x30"', '"1x60"'))
    assert subprocess.run([promtool, "test", "rules", str(quiet)], capture_output=True).returncode


def anchors(markdown: str) -> set[str]:
    """GitHub's anchors of the second-level headings."""
    return {
        re.sub(r"[^a-z0-9 -]", "", heading.lower()).replace(" ", "-")
        for heading in re.findall(r"^## (.+)$", markdown, re.M)
    }


def test_every_alert_leads_to_a_runbook_section_and_every_section_has_one() -> None:
    rules = yaml.safe_load((DEPLOY / "alerts.yml").read_text())["groups"][0]["rules"]
    sections = anchors(RUNBOOK.read_text())
    assert sections == {
        "dead-letters",
        "a-stale-scheduler",
        "a-growing-outbox",
        "redis-unreachable",
        "a-broken-audit-chain",
    }
    named = {rule["annotations"]["runbook"].removeprefix("docs/runbook.md#") for rule in rules}
    assert named == sections
    assert anchors("## A stale scheduler\n## What's up?\n") == {"a-stale-scheduler", "whats-up"}


UNITS = [
    "siapambil-web.service",
    "siapambil-scheduler.service",
    "siapambil-backup.service",
    "siapambil-backup.timer",
    "siapambil-audit-verify.service",
    "siapambil-audit-verify.timer",
]


def unit_complaints(folder: Path) -> list[str]:
    """What ``systemd-analyze verify`` finds wrong, but that the programs are not installed
    here (they are under /opt/siapambil on a server)."""
    done = subprocess.run(
        [tool("systemd-analyze", "systemd"), "verify", "--man=no", *[f"./{u}" for u in UNITS]],
        cwd=folder,
        capture_output=True,
        text=True,
        env={**os.environ, "SYSTEMD_LOG_LEVEL": "warning"},
    )
    return [
        line
        for line in (done.stdout + done.stderr).splitlines()
        if line.strip() and "is not executable: No such file or directory" not in line
    ]


def test_the_systemd_units_are_valid(tmp_path: Path) -> None:
    for unit in UNITS:
        shutil.copy(DEPLOY / unit, tmp_path / unit)
    assert unit_complaints(tmp_path) == []
    # Control: a misspelt option is reported.
    web = tmp_path / "siapambil-web.service"
    web.write_text(web.read_text().replace("NoNewPrivileges=yes", "NoNewPrivilege=yes"))
    assert any("NoNewPrivilege" in line for line in unit_complaints(tmp_path))


@pytest.mark.slow
def test_the_audit_check_writes_an_intact_then_a_broken_chain(tmp_path: Path) -> None:
    url = f"sqlite:///{tmp_path / 'audit.sqlite'}"
    state, textfiles = tmp_path / "state", tmp_path / "textfiles"
    state.mkdir()
    textfiles.mkdir()
    env = {
        **os.environ,
        "DATABASE_URL": url,
        "SECRET_KEY": "test-secret",
        "FLASK": str(Path(sys.executable).parent / "flask"),
        "STATE_DIRECTORY": str(state),
        "TEXTFILE_DIRECTORY": str(textfiles),
    }
    flask = [env["FLASK"], "--app", "wsgi"]
    assert subprocess.run([*flask, "demo", "--per-status", "1"], cwd=ROOT, env=env).returncode == 0

    def check() -> tuple[int, str]:
        done = subprocess.run([DEPLOY / "audit-verify-metric.sh"], cwd=ROOT, env=env)
        return done.returncode, (textfiles / "siapambil_audit.prom").read_text()

    code, metrics = check()
    assert code == 0 and "siapambil_audit_chain_intact 1" in metrics
    assert re.fullmatch(r"[0-9a-f]{64}:\d+\n", (state / "audit-head").read_text())
    assert re.search(r"^siapambil_audit_verify_timestamp_seconds \d+$", metrics, re.M)
    engine = make_engine(url)
    with engine.begin() as connection:  # a row changed behind the product's back
        connection.execute(text("UPDATE audit_trail SET actor = 'someone' WHERE id = 2"))
    engine.dispose()
    code, metrics = check()
    assert code == 1 and "siapambil_audit_chain_intact 0" in metrics
    # A result that cannot be left for node_exporter fails the check, intact or not.
    env["TEXTFILE_DIRECTORY"] = str(tmp_path / "no-such-directory")
    (state / "audit-head").unlink()
    engine = make_engine(url)
    with engine.begin() as connection:
        connection.execute(text("UPDATE audit_trail SET actor = 'system' WHERE id = 2"))
    engine.dispose()
    done = subprocess.run(
        [DEPLOY / "audit-verify-metric.sh"], cwd=ROOT, env=env, capture_output=True, text=True
    )
    assert "Audit trail intact" in done.stdout  # control: the chain itself is intact again
    assert done.returncode == 2, done.stdout + done.stderr
    assert "no-such-directory" in done.stderr and "step 10" in done.stderr


def read_as_the_guide_does(env_file: Path) -> dict[str, str]:
    """The environment a shell gives after ``set -a && . FILE && set +a``, as the production
    guide's ``siapambil`` function reads the settings (systemd's ``EnvironmentFile=`` reads
    the same file)."""
    done = subprocess.run(
        ["sh", "-c", 'set -a && . "$1" && set +a && env -0', "sh", str(env_file)],
        env={"PATH": os.environ["PATH"]}, capture_output=True, timeout=30,
    )  # fmt: skip
    assert done.returncode == 0, done.stderr
    return dict(item.split("=", 1) for item in done.stdout.decode().split("\0") if "=" in item)


def test_the_env_example_reads_whole_and_starts_the_service(tmp_path: Path, monkeypatch) -> None:
    """Every line of ``deploy/siapambil.env.example`` reaches the processes as written when a
    shell reads the file, names a setting the service knows, and the service starts from it
    (with its keys filled in and a database of the test's own). The control: a list written
    with spaces after its commas, which the shell splits into a command and a lost value."""
    from tracker import create_app
    from tracker.config import ENV_KEYS

    example = DEPLOY / "siapambil.env.example"
    written = dict(
        line.split("=", 1)
        for line in example.read_text().splitlines()
        if line and not line.startswith("#")
    )
    read = read_as_the_guide_does(example)
    assert {key: read.get(key) for key in written} == written
    gunicorn_reads = set(
        re.findall(r'environ\.get\("(\w+)"', (ROOT / "gunicorn.conf.py").read_text())
    )
    known = set(ENV_KEYS) | gunicorn_reads
    assert "WEB_BIND" in gunicorn_reads
    assert set(written) <= known, sorted(set(written) - known)
    assert {"BACKUP_KEY_FALLBACKS", "METRICS_ALLOW", "WEB_BIND"} <= set(written)
    filled = {k: ("k" * 48 if v == "CHANGE-ME" else v) for k, v in written.items()}
    filled["DATABASE_URL"] = f"sqlite:///{tmp_path / 'env.sqlite'}"
    for key in [k for k in os.environ if k.startswith("SIAPAMBIL_") or k in ENV_KEYS]:
        monkeypatch.delenv(key)
    for key, value in filled.items():
        monkeypatch.setenv(key, value)
    app = create_app()
    assert app.config["ENV"] == "production"
    assert app.config["METRICS_ALLOW"] == written["METRICS_ALLOW"]
    spaced = tmp_path / "spaced.env"
    spaced.write_text("METRICS_ALLOW=127.0.0.1, ::1\n")
    assert (
        subprocess.run(
            ["sh", "-c", 'set -a && . "$1"', "sh", str(spaced)], capture_output=True
        ).returncode
        != 0
    )


ALERT_SERIES = re.compile(r"\bsiapambil_[a-z_]+\b")


def written_series(app: Any) -> set[str]:
    """Every series name the service's ``/metrics`` serves once it has answered a request and
    run a job (and so counted one in the database), with those the audit check writes."""
    from jobs import runner, work

    runner.run(app, "announce", work.announce)
    client = app.test_client()
    client.get("/")
    scrape = client.get("/metrics").get_data(as_text=True)
    script = (DEPLOY / "audit-verify-metric.sh").read_text()
    lines = scrape.splitlines() + re.findall(r'echo "(siapambil_\w+ )', script)
    return {line.split("{")[0].split()[0] for line in lines if line.startswith("siapambil_")}


def test_every_series_an_alert_reads_is_one_the_service_writes(app) -> None:
    """An alert on a series nobody writes never fires, and promtool's own tests cannot see it
    (they feed the series they are given). The control: the name the outbox alerts once read,
    which is nowhere."""
    written = written_series(app)
    rules = (DEPLOY / "alerts.yml").read_text()
    read = set(ALERT_SERIES.findall(rules))
    assert read, rules
    assert read <= written, sorted(read - written)
    assert {"siapambil_job_failures_total", "siapambil_audit_verify_timestamp_seconds"} <= read
    assert "siapambil_outbox_oldest_due_seconds" not in written
    tested = set(ALERT_SERIES.findall((DEPLOY / "alerts.test.yml").read_text()))
    assert tested <= written, sorted(tested - written)


def test_warming_compiles_every_template_and_loads_each_catalogue(app) -> None:
    """What gunicorn's master does once before it forks (``when_ready``): every template is
    compiled and each language's catalogue loaded, for every worker to inherit. The control:
    a fresh app has not compiled them all. (The catalogues' cache belongs to the process's
    one Babel, which other tests' apps may have filled already.)"""
    from flask_babel import get_babel

    from tracker import warm

    names = app.jinja_env.list_templates()
    assert len(app.jinja_env.cache) < len(names)
    warm(app)
    assert len(app.jinja_env.cache) == len(names)
    cached = get_babel(app).instance.domain_instance.cache
    assert {language for language, _domain in cached} == set(app.config["LANGUAGES"])


def namespaces() -> set[str]:
    listed = subprocess.run(["ip", "netns", "list"], capture_output=True, text=True, check=False)
    return {line.split()[0] for line in listed.stdout.splitlines() if line.strip()}


def test_a_second_rehearsal_is_refused_while_one_runs(tmp_path: Path) -> None:
    """The rehearsal's hosts have fixed names and a run starts by removing what a killed run
    left, so a second run at once would pull the network from under the first: it is refused
    while another holds the lock, and builds nothing. Control: once the lock is free, it can
    be taken. The lock is one of this test's own ($REHEARSAL_LOCK), so that test runs side
    by side (CI's two instants) do not take the machine's from each other."""
    import fcntl

    if os.geteuid() != 0 or shutil.which("ip") is None:
        missing("root and iproute2 (the rehearsal)")
    lock = tmp_path / "rehearsal.lock"
    before = namespaces()
    with lock.open("w") as held:
        fcntl.flock(held, fcntl.LOCK_EX | fcntl.LOCK_NB)
        refused = subprocess.run(
            [sys.executable, str(DEPLOY / "rehearsal.py"), "--short"],
            capture_output=True, text=True, timeout=60, cwd=ROOT,
            env={**os.environ, "REHEARSAL_LOCK": str(lock)},
        )  # fmt: skip
    assert refused.returncode == 2, refused.stdout + refused.stderr
    assert "Another rehearsal is running" in refused.stderr and str(lock) in refused.stderr
    assert namespaces() == before  # nothing built, nothing removed
    with lock.open("w") as free:
        fcntl.flock(free, fcntl.LOCK_EX | fcntl.LOCK_NB)  # raises if a run still held it


# --- the proxies' access logs -----------------------------------------------------------------

RECEIPT = "7KQ2M9XA4RTN"
NIK = "3673015507900002"
ASKED = [
    f"/s/{RECEIPT}",
    f"/s/{RECEIPT}/qr.svg",
    f"/s/{RECEIPT}/qr.png",
    "/cek?no=7KQ2+M9XA+4RTN",
    f"/api/v1/requests/{RECEIPT}",
    f"/open311/v2/requests/{RECEIPT}.json",
    f"/staff/r/{RECEIPT}",
    f"/staff/search?q={NIK}",
    "/siapambil/s/7KQ2-M9XA-4RTN",  # under a path of an office's site
    "/board/srg-dinas",
]
LOGGED = ["/s/-", "/s/-/qr.svg", "/s/-/qr.png", "/cek", "/api/v1/requests/-",
          "/open311/v2/requests/-", "/staff/r/-", "/staff/search", "/siapambil/s/-",
          "/board/srg-dinas"]  # fmt: skip


def _ask_through(port: int) -> None:
    for path in ASKED:
        try:
            urllib.request.urlopen(f"http://127.0.0.1:{port}{path}", timeout=10).read()
        except urllib.error.HTTPError:
            pass


@contextlib.contextmanager
def _haproxy(tmp_path: Path, frontend: list[str], backend: int) -> Iterator[tuple[int, list[str]]]:
    """HAProxy on a free port with ``frontend``'s lines, in front of ``backend``: yields its
    port and a list that holds what it logged once it has stopped."""
    port = free_port()
    config = tmp_path / "haproxy.cfg"
    config.write_text("\n".join([
        "global", "    log stdout format raw local0",
        "defaults", "    mode http", "    log global", "    option httplog",
        "    timeout connect 5s", "    timeout client 10s", "    timeout server 10s",
        "frontend f", f"    bind 127.0.0.1:{port}", *frontend,
        "    default_backend b",
        "backend b", f"    server s1 127.0.0.1:{backend}", "",
    ]))  # fmt: skip
    haproxy = tool("haproxy", "haproxy")
    subprocess.run([haproxy, "-c", "-q", "-f", str(config)], check=True, timeout=30)
    process = subprocess.Popen([haproxy, "-db", "-f", str(config)], stdout=subprocess.PIPE,
                               stderr=subprocess.STDOUT, text=True)  # fmt: skip
    logged: list[str] = []
    try:
        _wait_listening(port)
        yield port, logged
        time.sleep(0.3)
    finally:
        process.terminate()
        out, _ = process.communicate(timeout=30)
        logged.append(out)


@contextlib.contextmanager
def _nginx(tmp_path: Path, http: str, server: str) -> Iterator[int]:
    """nginx on a free port with ``http``'s lines in its http block and ``server``'s in its
    server block: yields the port."""
    port = free_port()
    (tmp_path / "nginx.conf").write_text(f"""
worker_processes 1;
pid {tmp_path}/nginx.pid;
error_log {tmp_path}/error.log;
events {{}}
http {{
    {http}
    server {{
        listen 127.0.0.1:{port};
        {server}
    }}
}}
""")
    nginx = tool("nginx", "nginx-light")
    run = [nginx, "-p", str(tmp_path), "-c", str(tmp_path / "nginx.conf")]
    subprocess.run([*run, "-t", "-q"], check=True, timeout=30)
    subprocess.run(run, check=True, timeout=30)
    try:
        _wait_listening(port)
        yield port
    finally:
        subprocess.run([*run, "-s", "quit"], check=True, timeout=30)
        deadline = time.monotonic() + 10
        while (tmp_path / "nginx.pid").exists() and time.monotonic() < deadline:
            time.sleep(0.05)


def _haproxy_log(tmp_path: Path, backend: int, shipped: bool) -> str:
    """HAProxy with the shipped file's logging lines (or, the control, httplog's own format)
    in front of ``backend``, asked every path of ASKED; what it logged."""
    lines = (DEPLOY / "haproxy-siapambil.cfg").read_text().splitlines()
    logs = re.compile(r"\s+(http-request set-var\(txn\.logged\)|log-format) ")
    logging_lines = [line for line in lines if logs.match(line)]
    assert len(logging_lines) == 2
    with _haproxy(tmp_path, logging_lines if shipped else [], backend) as (port, logged):
        _ask_through(port)
    return logged[0]


def _nginx_log(tmp_path: Path, backend: int, shipped: bool) -> str:
    """nginx with the shipped file's map and log format (or, the control, its default
    ``combined``) in front of ``backend``, asked every path of ASKED; what it logged."""
    text = (DEPLOY / "nginx-siapambil.conf").read_text()
    mapped = re.search(r"^map \$uri \$siapambil_logged_path \{.*?^\}", text, re.M | re.S)
    formatted = re.search(r"^log_format siapambil .*?;$", text, re.M | re.S)
    assert mapped and formatted
    assert text.count("access_log /var/log/nginx/siapambil.access.log siapambil;") == 2
    log = tmp_path / "access.log"
    server = f"""access_log {log} {"siapambil" if shipped else "combined"};
        location / {{ proxy_pass http://127.0.0.1:{backend}; }}"""
    with _nginx(tmp_path, f"{mapped.group(0)}\n    {formatted.group(0)}", server) as port:
        _ask_through(port)
    return log.read_text()


def _wait_listening(port: int) -> None:
    deadline = time.monotonic() + 10
    while True:
        try:
            socket.create_connection(("127.0.0.1", port), timeout=1).close()
            return
        except OSError:
            assert time.monotonic() < deadline, f"nothing listens on {port}"
            time.sleep(0.05)


@pytest.mark.parametrize("proxy", [_haproxy_log, _nginx_log], ids=["haproxy", "nginx"])
def test_the_proxies_access_logs_carry_no_receipt_number_nor_search(
    tmp_path: Path, httpserver: Any, proxy: Any
) -> None:
    """The shipped HAProxy and nginx files log each request's path with a receipt's segment
    written "-" and without its query string. The control: the proxy's own format logs the
    receipt number and the NIK searched for."""
    httpserver.expect_request(re.compile(".*")).respond_with_data("ok")
    (tmp_path / "shipped").mkdir()
    (tmp_path / "own").mkdir()
    shipped = proxy(tmp_path / "shipped", httpserver.port, True)
    for needle in (RECEIPT, "7KQ2", "M9XA", NIK):
        assert needle not in shipped, needle
    for path in LOGGED:
        assert f'GET {path}"' in shipped, (path, shipped)
    own = proxy(tmp_path / "own", httpserver.port, False)
    assert RECEIPT in own and NIK in own and "7KQ2+M9XA+4RTN" in own


# --- the proxies' compression -----------------------------------------------------------------


@contextlib.contextmanager
def _compressing(proxy: str, tmp_path: Path, backend: int) -> Iterator[int]:
    """The shipped file's compression lines of ``proxy`` in front of ``backend``: its port."""
    text = (DEPLOY / f"{proxy}-siapambil.{'cfg' if proxy == 'haproxy' else 'conf'}").read_text()
    if proxy == "haproxy":
        shipped = re.findall(r"^ +(?:compression |http-request del-header Accept).*$", text, re.M)
        assert len(shipped) == 3
        with _haproxy(tmp_path, shipped, backend) as (port, _logged):
            yield port
        return
    zipping = re.findall(r"^    gzip[a-z_]* .*;$", text, re.M)
    console = re.search(r"^    location \^~ /staff \{.*?^    \}", text, re.M | re.S)
    assert len(zipping) >= 6 and console and "gzip off;" in console.group(0)
    server = "\n".join([*zipping, console.group(0), "location / { proxy_pass http://siapambil; }"])
    with _nginx(
        tmp_path, "", server.replace("http://siapambil", f"http://127.0.0.1:{backend}")
    ) as port:
        yield port


def _get(url: str, headers: dict[str, str]) -> tuple[int, Any, bytes]:
    """Status, headers (any case: HAProxy writes them in lower case) and body of a GET."""
    ask = urllib.request.Request(url, headers=headers)
    try:
        with urllib.request.urlopen(ask, timeout=10) as answer:
            return answer.status, answer.headers, answer.read()
    except urllib.error.HTTPError as error:
        return error.code, error.headers, error.read()


@pytest.mark.parametrize("proxy", ["haproxy", "nginx"])
def test_the_proxies_compress_public_answers_and_never_the_console(
    tmp_path: Path, live_server: str, make_request: Any, session: Any, proxy: str
) -> None:
    """Through the shipped lines, a citizen's page and a board's JSON come gzipped when the
    browser asks, and the same once unpacked; the board's poll with the tag the proxy made
    weak is a 304. The console's pages (a CSRF token beside what staff typed: BREACH) never
    are. Control: a client that does not ask gets the plain answer."""
    for _ in range(12):
        make_request(Status.READY, point="srg-cipocok")
    session.commit()
    backend = int(live_server.rsplit(":", 1)[1])
    gzipped = {"Accept-Encoding": "gzip"}
    with _compressing(proxy, tmp_path, backend) as port:
        base = f"http://127.0.0.1:{port}"
        for path in ("/", "/api/v1/points/srg-cipocok/board", "/static/css/site.css"):
            status, headers, body = _get(base + path, gzipped)
            assert status == 200 and headers.get("Content-Encoding") == "gzip", path
            _, plain_headers, plain = _get(base + path, {})
            assert "Content-Encoding" not in plain_headers, path  # the control
            assert gzip.decompress(body) == plain and len(body) < len(plain), path
        _, headers, _ = _get(base + "/api/v1/points/srg-cipocok/board", gzipped)
        assert headers["ETag"].startswith("W/")
        status, _, _ = _get(
            base + "/api/v1/points/srg-cipocok/board", {**gzipped, "If-None-Match": headers["ETag"]}
        )
        assert status == 304
        status, headers, body = _get(base + "/staff/login", gzipped)
        assert status == 200 and b"csrf_token" in body
        assert "Content-Encoding" not in headers


def test_the_rehearsal_s_webhook_receiver_checks_each_signature(tmp_path: Path) -> None:
    """The rehearsal counts a webhook delivery as arrived only if the receiver verified it
    with the secret ``webhook add`` printed: a delivery signed with it verifies; one signed
    with another secret does not; an SMS gateway's message is not a webhook at all."""
    sys.path.insert(0, str(DEPLOY))
    try:
        import rehearsal_receiver as receiver  # noqa: PLC0415 (beside the rehearsal)
    finally:
        sys.path.remove(str(DEPLOY))
    secret, stranger = make_secret(), make_secret()
    (tmp_path / "secret").write_text(secret + "\n")
    record = tmp_path / "webhook.jsonl"
    server = receiver.ThreadingHTTPServer(
        ("127.0.0.1", 0), receiver.handler_for(record, tmp_path / "secret")
    )
    threading.Thread(target=server.serve_forever, daemon=True).start()
    url = f"http://127.0.0.1:{server.server_port}/hook"
    now = dt.datetime.now(dt.UTC)  # the receiver checks the timestamp against its own clock
    try:
        for msg_id, signing in (("msg_good", [secret]), ("msg_forged", [stranger]),
                                ("msg_both", [stranger, secret])):  # fmt: skip
            sent = delivery.post(url, msg_id, '{"a": 1}', signing, now=now, timeout=5)
            assert sent.error is None
        sms = urllib.request.Request(url, data=b'{"to": "0812"}', method="POST",
                                     headers={"Idempotency-Key": "k1"})  # fmt: skip
        urllib.request.urlopen(sms, timeout=5).close()
    finally:
        server.shutdown()
    lines = [json.loads(line) for line in record.read_text().splitlines()]
    assert {line["key"]: line["signed"] for line in lines} == {
        "msg_good": True, "msg_forged": False, "msg_both": True, "k1": None,
    }  # fmt: skip
