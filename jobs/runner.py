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
from tracker.watch import metrics

log = logging.getLogger("jobs")
Work = Callable[[Any, dict[str, Any], dt.datetime], Any]


def run(app: Flask, name: str, work: Work, lease_seconds: int = 600) -> Any:
    """Run ``work(session, config, now)`` under the job's lease, in one unit of work; None
    when another run holds the lease. The clock is read once, here, and the run works at
    that instant. Errors are logged with their traceback and raised again."""
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
        except Exception:
            log.exception("%s failed", name)
            raise
        finally:
            metrics.observe_job(name, time.perf_counter() - started, failed)
            with unit_of_work() as session:
                lease.give_back(session, name, utcnow())
        log.info("%s: %s in %.2f s", name, result, time.perf_counter() - started)
        return result
