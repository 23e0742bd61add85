"""Rate limits: each app has its own limiter, and workers share one budget through Redis."""

from __future__ import annotations

import os
import subprocess
import sys
import time
import urllib.error
import urllib.request
import uuid
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Any

import pytest

from tracker import create_app

from .conftest import free_port, missing

ROOT = Path(__file__).resolve().parent.parent
BUDGET = 3  # look-ups per client, in a window far longer than the test
MALFORMED = "/cek?no=AAAA"  # a look-up that counts and needs no database


def made(app_config: dict[str, Any], **settings: Any) -> Any:
    return create_app({**app_config, "RATELIMIT_STORAGE_URI": "memory://", **settings})


def statuses(client: Any, times: int) -> list[int]:
    return [client.get(MALFORMED).status_code for _ in range(times)]


def test_two_apps_in_one_process_share_no_limit_settings_or_counts(app_config) -> None:
    strict = made(app_config, RATELIMIT_ENABLED=True, LOOKUP_RATE_LIMIT="2 per hour")
    loose = made(app_config, RATELIMIT_ENABLED=True, LOOKUP_RATE_LIMIT="4 per hour")
    unlimited = made(app_config, RATELIMIT_ENABLED=False)  # made last: switches no one off
    try:
        assert statuses(strict.test_client(), 3) == [400, 400, 429]
        # The strict app's two look-ups are not in the loose app's count, nor its limit.
        assert statuses(loose.test_client(), 5) == [400] * 4 + [429]
        assert statuses(unlimited.test_client(), 6) == [400] * 6
        assert statuses(strict.test_client(), 1) == [429]  # the strict app still counts
    finally:
        for app in (strict, loose, unlimited):
            app.extensions["siapambil.db"]["engine"].dispose()


@pytest.fixture
def redis_url() -> Iterator[str]:
    """A Redis database of this test's own choosing; the keys a test leaves are removed."""
    url = os.environ.get("TEST_REDIS_URL", "redis://127.0.0.1:6379/9")
    try:
        import redis

        connection = redis.Redis.from_url(url, socket_connect_timeout=2)
        connection.ping()
    except Exception:  # noqa: BLE001 - any failure to reach Redis is "missing"
        missing(f"Redis at {url}")
    yield url
    connection.close()


def remove_keys(url: str, prefix: str) -> int:
    """Remove the counts kept under this prefix; how many keys there were."""
    import redis

    connection = redis.Redis.from_url(url)
    keys = list(connection.scan_iter(match=f"*{prefix}*"))
    if keys:
        connection.delete(*keys)
    connection.close()
    return len(keys)


@contextmanager
def servers(count: int, env: dict[str, str]) -> Iterator[list[str]]:
    """``count`` gunicorn servers, each its own process with one worker; yields their URLs."""
    ports = [free_port() for _ in range(count)]
    processes = [
        subprocess.Popen(
            [
                sys.executable,
                "-m",
                "gunicorn",
                "--workers",
                "1",
                "--no-control-socket",
                "--bind",
                f"127.0.0.1:{port}",
                "wsgi:app",
            ],
            cwd=ROOT,
            env=env,
            stdout=subprocess.DEVNULL,
            stderr=subprocess.PIPE,
        )  # fmt: skip
        for port in ports
    ]
    try:
        urls = [f"http://127.0.0.1:{port}" for port in ports]
        for url, process in zip(urls, processes, strict=True):
            wait_until_serving(url, process)
        yield urls
    finally:
        for process in processes:
            process.terminate()
        for process in processes:
            process.wait(timeout=20)
            assert process.stderr is not None
            process.stderr.close()


def wait_until_serving(url: str, process: subprocess.Popen, seconds: float = 30) -> None:
    deadline = time.monotonic() + seconds
    while time.monotonic() < deadline:
        if process.poll() is not None:
            assert process.stderr is not None
            pytest.fail(f"the server at {url} stopped: {process.stderr.read().decode()[-2000:]}")
        try:
            with urllib.request.urlopen(url + "/", timeout=2) as answer:
                if answer.status == 200:
                    return
        except OSError:
            time.sleep(0.1)
    pytest.fail(f"the server at {url} did not answer within {seconds} s")


def status_of(url: str) -> int:
    try:
        with urllib.request.urlopen(url, timeout=10) as answer:
            return answer.status
    except urllib.error.HTTPError as error:
        error.close()
        return error.code


def look_ups_over(urls: list[str], times: int) -> list[int]:
    """One client (one address) spreading its look-ups over the servers in turn."""
    return [status_of(urls[number % len(urls)] + MALFORMED) for number in range(times)]


@pytest.mark.slow
@pytest.mark.parametrize(
    "storage", [pytest.param("redis", marks=pytest.mark.redis), "memory"]
)  # fmt: skip
def test_two_server_processes_share_one_look_up_budget_through_redis(
    request: pytest.FixtureRequest, tmp_path: Path, storage: str
) -> None:
    """With Redis the budget is one for the client across both processes; the control on
    ``memory://`` shows each process counting on its own, so more get through."""
    url = request.getfixturevalue("redis_url") if storage == "redis" else "memory://"
    prefix = f"siapambil-test-{uuid.uuid4().hex}"
    env = {
        **os.environ,
        "HOME": str(tmp_path),
        "SECRET_KEY": "test-secret",
        "DATABASE_URL": f"sqlite:///{tmp_path / 'unused.sqlite'}",  # malformed look-ups only
        "RATELIMIT_ENABLED": "on",
        "RATELIMIT_STORAGE_URI": url,
        "RATELIMIT_KEY_PREFIX": prefix,
        "LOOKUP_RATE_LIMIT": f"{BUDGET} per hour",
    }
    kept = 0
    try:
        with servers(2, env) as urls:
            answers = look_ups_over(urls, 2 * BUDGET + 2)
    finally:
        if storage == "redis":
            kept = remove_keys(url, prefix)
    assert set(answers) <= {400, 429}, answers
    assert kept == (1 if storage == "redis" else 0)  # one shared count, in this Redis
    if storage == "redis":
        assert answers == [400] * BUDGET + [429] * (BUDGET + 2)
    else:
        assert answers == [400] * (2 * BUDGET) + [429] * 2


def storage_errors() -> float:
    from tracker.watch.metrics import REGISTRY

    return REGISTRY.get_sample_value("siapambil_rate_limit_storage_errors_total") or 0.0


@pytest.mark.redis
def test_the_look_up_limit_fails_open_and_counts_it_while_redis_refuses(
    app_config, redis_url
) -> None:
    """Redis refusing connections (a closed port): every look-up is served and each is
    counted in the metric. The control, on the real Redis, is limited after the budget and
    counts no storage error."""
    prefix = f"siapambil-test-{uuid.uuid4().hex}"
    limited = {"RATELIMIT_ENABLED": True, "LOOKUP_RATE_LIMIT": f"{BUDGET} per hour",
               "RATELIMIT_KEY_PREFIX": prefix}  # fmt: skip
    refused = made(app_config, RATELIMIT_STORAGE_URI=f"redis://127.0.0.1:{free_port()}/0",
                   **limited)  # fmt: skip
    real = made(app_config, RATELIMIT_STORAGE_URI=redis_url, **limited)
    try:
        before = storage_errors()
        assert statuses(refused.test_client(), BUDGET + 3) == [400] * (BUDGET + 3)
        assert storage_errors() - before == BUDGET + 3
        assert statuses(real.test_client(), BUDGET + 1) == [400] * BUDGET + [429]
        assert storage_errors() - before == BUDGET + 3
    finally:
        remove_keys(redis_url, prefix)
        for app in (refused, real):
            app.extensions["siapambil.db"]["engine"].dispose()
