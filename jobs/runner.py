"""Running one job: its own app context, its lease, one transaction, one commit."""

from __future__ import annotations

import logging
import time
from collections.abc import Callable
from typing import Any

from flask import Flask

from jobs import lease
from tracker.db import get_session

log = logging.getLogger("jobs")
Work = Callable[[Any, dict[str, Any]], Any]


def run(app: Flask, name: str, work: Work, lease_seconds: int = 600) -> Any:
    """Run ``work(session, config)`` under the job's lease and commit; None when another run
    holds the lease. Errors are logged with their traceback and raised again."""
    with app.app_context():
        session = get_session(write=True)
        if not lease.take(session, name, lease_seconds):
            log.info("%s: another run holds the lease; skipped", name)
            return None
        started = time.perf_counter()
        try:
            result = work(session, app.config)
            session.commit()
        except Exception:
            session.rollback()
            log.exception("%s failed", name)
            raise
        finally:
            lease.give_back(session, name)
        log.info("%s: %s in %.2f s", name, result, time.perf_counter() - started)
        return result
