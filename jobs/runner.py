"""Running one job: its own app context, its lease, and one unit of work around the run."""

from __future__ import annotations

import datetime as dt
import logging
import time
from collections.abc import Callable
from typing import Any

from flask import Flask

from jobs import lease
from tracker.db import unit_of_work
from tracker.models import utcnow
from tracker.requests import changes

log = logging.getLogger("jobs")
Work = Callable[[Any, dict[str, Any], dt.datetime], Any]


def run(app: Flask, name: str, work: Work, lease_seconds: int = 600) -> Any:
    """Run ``work(session, config, now)`` under the job's lease, in one unit of work; None
    when another run holds the lease. The clock is read once, here, and the run works at
    that instant (read again only when the run is over: to relist what a long unit changed,
    and to hand the lease back). Errors are logged with their traceback and raised again."""
    now = utcnow()
    with app.app_context():
        with unit_of_work() as session:
            taken = lease.take(session, name, lease_seconds, now)
        if not taken:
            log.info("%s: another run holds the lease; skipped", name)
            return None
        started = time.perf_counter()
        failed = True
        try:
            with unit_of_work() as session:
                result = work(session, app.config, now)
            failed = False
            _relist_if_late(app, name, now)
        except Exception:
            log.exception("%s failed", name)
            raise
        finally:
            with unit_of_work() as session:
                lease.count_run(session, name, time.perf_counter() - started, failed)
                lease.give_back(session, name, utcnow())
        log.info("%s: %s in %.2f s", name, result, time.perf_counter() - started)
        return result


def _relist_if_late(app: Flask, name: str, now: dt.datetime) -> None:
    """A run's unit stamps what it changes ``now`` and is seen when it commits; one that took
    longer than ``CHANGES_SETTLE_SECONDS`` (a week's backlog of late documents after an
    outage) could land behind a bridge's cursor, so its changes are listed again as changed
    at the moment it ended."""
    ended = utcnow()
    if not changes.committed_late(now, ended, app.config["CHANGES_SETTLE_SECONDS"]):
        return
    with unit_of_work() as session:
        relisted = changes.relist(session, now, ended)
    if relisted:
        log.warning(
            "%s: its unit took longer than CHANGES_SETTLE_SECONDS; %d requests it changed are "
            "listed to other systems again as changed at %s",
            name, relisted, ended.isoformat(timespec="seconds"),
        )  # fmt: skip
