"""Running one job: its own app context, its lease, one transaction, one commit."""

from __future__ import annotations

import datetime as dt
import logging
import time
from collections.abc import Callable
from typing import Any

from flask import Flask

from jobs import lease
from tracker.db import get_session
from tracker.models import utcnow

log = logging.getLogger("jobs")
Work = Callable[[Any, dict[str, Any], dt.datetime], Any]


def run(app: Flask, name: str, work: Work, lease_seconds: int = 600) -> Any:
    """Run ``work(session, config, now)`` under the job's lease and commit; None when another
    run holds the lease. The clock is read once, here, and the run works at that instant.
    Errors are logged with their traceback and raised again."""
    now = utcnow()
    with app.app_context():
        session = get_session(write=True)
        if not lease.take(session, name, lease_seconds, now):
            log.info("%s: another run holds the lease; skipped", name)
            return None
        started = time.perf_counter()
        try:
            result = work(session, app.config, now)
            session.commit()
        except Exception:
            session.rollback()
            log.exception("%s failed", name)
            raise
        finally:
            lease.give_back(session, name, utcnow())
        log.info("%s: %s in %.2f s", name, result, time.perf_counter() - started)
        return result
