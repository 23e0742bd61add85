"""Readiness and job health, each a set of named checks answered as JSON.

Readiness (``/readyz``) is for a load balancer: the database answers within a second and
its schema is at the migrations' head, or past it: a revision this release does not know is
a later release's, whose migrations ran first in an upgrade and add before they take away,
so the web of the release before keeps serving until its host restarts. Job health
(``/healthz/jobs``) is for monitoring: the scheduler's heartbeat (the last run any job
finished, from the lease rows every run updates) is younger than twice the shortest job
interval, and no due message has waited in the outbox longer than
``OUTBOX_MAX_AGE_SECONDS``. Liveness (``/healthz``) has no checks at all: it touches nothing.
"""

from __future__ import annotations

import datetime as dt
import logging
import threading
import time
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from functools import cache
from typing import Any

from alembic.runtime.migration import MigrationContext
from alembic.script import ScriptDirectory
from sqlalchemy import Engine, text
from sqlalchemy.exc import SQLAlchemyError
from sqlalchemy.orm import Session

from tracker import schema
from tracker.config import JOB_INTERVALS
from tracker.watch.metrics import heartbeat, oldest_due, seconds_between

log = logging.getLogger("siapambil.watch")
DATABASE_TIMEOUT_SECONDS = 1.0


@dataclass
class Report:
    """Named checks; ``ok`` when every one passed."""

    checks: dict[str, dict[str, Any]] = field(default_factory=dict)

    @property
    def ok(self) -> bool:
        return all(check["ok"] for check in self.checks.values())

    def as_json(self) -> dict[str, Any]:
        return {"status": "ok" if self.ok else "fail", "checks": self.checks}


@cache
def head_revision() -> str | None:
    return ScriptDirectory.from_config(schema.alembic_config()).get_current_head()


@cache
def known_revisions() -> frozenset[str]:
    """Every revision of this release's migrations."""
    scripts = ScriptDirectory.from_config(schema.alembic_config())
    return frozenset(script.revision for script in scripts.walk_revisions())


def migrations_check(revision: str | None, head: str | None) -> dict[str, Any]:
    """Ready at head, and past it (a revision this release does not know: a later one's);
    not behind it, nor on an empty database."""
    check: dict[str, Any] = {"ok": revision == head, "current": revision, "head": head}
    if revision is not None and revision != head and revision not in known_revisions():
        check.update(ok=True, newer=True)
    return check


def _probe(engine: Engine) -> tuple[float, str | None]:
    """Ask the database for one row; on PostgreSQL the statement may take a second at
    most. The time it took, and the schema's revision."""
    started = time.perf_counter()
    with engine.connect() as connection:
        if connection.dialect.name == "postgresql":
            connection.execute(text("SET LOCAL statement_timeout = 1000"))
        connection.execute(text("SELECT 1"))
        seconds = time.perf_counter() - started
        revision = MigrationContext.configure(connection).get_current_revision()
    return seconds, revision


def in_time(work: Callable[[Engine], Any], engine: Engine, timeout: float) -> Any:
    """``work(engine)`` in a thread of its own, so that the answer never waits longer than
    ``timeout`` on a database that does not answer (TimeoutError then). A probe left behind
    ends on its own: the probe engine's connect timeout and the statement timeout bound it."""
    outcome: dict[str, Any] = {}

    def probe() -> None:
        try:
            outcome["value"] = work(engine)
        except BaseException as error:  # noqa: BLE001 - handed to the caller's thread
            outcome["error"] = error

    thread = threading.Thread(target=probe, name="readyz", daemon=True)
    thread.start()
    thread.join(timeout)
    if thread.is_alive():
        raise TimeoutError(f"no answer within {timeout:g} s")
    if "error" in outcome:
        raise outcome["error"]
    return outcome["value"]


def readiness(engine: Engine, timeout: float = DATABASE_TIMEOUT_SECONDS) -> Report:
    """The database within ``timeout`` seconds, and the migrations at head."""
    report = Report()
    head = head_revision()
    try:
        seconds, revision = in_time(_probe, engine, timeout)
    except TimeoutError:
        report.checks["database"] = {"ok": False, "error": f"no answer within {timeout:g} s"}
    except (SQLAlchemyError, OSError) as error:
        log.warning("readiness: the database cannot be reached: %s", error)
        report.checks["database"] = {"ok": False, "error": error.__class__.__name__}
    else:
        report.checks["database"] = {"ok": True, "seconds": round(seconds, 4)}
        report.checks["migrations"] = migrations_check(revision, head)
        return report
    report.checks["migrations"] = {"ok": False, "current": None, "head": head}
    return report


def shortest_interval(config: Mapping[str, Any]) -> int:
    """The shortest interval of the scheduler's interval jobs, in seconds."""
    return min(int(config[setting]) for setting in JOB_INTERVALS.values())


def job_health(session: Session, now: dt.datetime, config: Mapping[str, Any]) -> Report:
    """The heartbeat and the outbox, as of ``now``."""
    report = Report()
    limit = 2 * shortest_interval(config)
    beat = heartbeat(session)
    age = None if beat is None else seconds_between(beat, now)
    report.checks["heartbeat"] = {
        "ok": age is not None and age <= limit,
        "last_run": None if beat is None else _iso(beat),
        "age_seconds": None if age is None else round(age, 1),
        "limit_seconds": limit,
    }
    oldest = oldest_due(session, now)
    waited = seconds_between(oldest, now)
    report.checks["outbox"] = {
        "ok": waited <= config["OUTBOX_MAX_AGE_SECONDS"],
        "oldest_due_age_seconds": round(waited, 1),
        "limit_seconds": config["OUTBOX_MAX_AGE_SECONDS"],
    }
    return report


def unreachable(names: tuple[str, ...], error: Exception) -> Report:
    """Every check failed because the database could not be asked."""
    log.warning("job health: the database cannot be reached: %s", error)
    return Report({name: {"ok": False, "error": error.__class__.__name__} for name in names})


def _iso(moment: dt.datetime) -> str:
    if moment.tzinfo is None:
        moment = moment.replace(tzinfo=dt.UTC)
    return moment.astimezone(dt.UTC).isoformat().replace("+00:00", "Z")
