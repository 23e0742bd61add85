"""The daily jobs: remind, expire and deadlines for the offices of one time zone (each runs
at its own local hour), and retention (DESIGN §6)."""

from __future__ import annotations

import datetime as dt
import logging
from collections.abc import Callable
from typing import Any
from zoneinfo import ZoneInfo

from tracker.audit import trail as audit
from tracker.requests import lifecycle
from tracker.statistics import figures as statistics

log = logging.getLogger("jobs")
Work = Callable[[Any, dict[str, Any], dt.datetime], Any]


def remind(zone: str) -> Work:
    def run(session: Any, config: dict[str, Any], now: dt.datetime) -> dict[str, int]:
        return dict(lifecycle.remind(session, config, now, zone=zone))

    return run


def expire(zone: str) -> Work:
    def run(session: Any, config: dict[str, Any], now: dt.datetime) -> int:
        return lifecycle.expire(session, config, now, zone=zone)

    return run


def deadlines(zone: str) -> Work:
    """The overdue list for supervisors, then yesterday's figures for the public statistics
    (run after the zone's local midnight, so that yesterday is complete), and the audit
    trail's head in the log, for an operator to keep elsewhere (``audit verify --expect``)."""

    def run(session: Any, _config: dict[str, Any], now: dt.datetime) -> dict[str, Any]:
        counts = lifecycle.overdue_counts(session, now, zone=zone)
        for office_id, count in sorted(counts.items()):
            log.warning("office %s: %s requests past their service target", office_id, count)
        rolled = statistics.roll_up(session, zone, now.astimezone(ZoneInfo(zone)).date())
        digest, rows = audit.head(session)
        log.info("audit trail head %s:%d (audit verify --expect checks it)", digest, rows)
        return {"overdue": counts, "days": rolled.days, "figures": rolled.rows}

    return run


def retention(session: Any, config: dict[str, Any], now: dt.datetime) -> int:
    return lifecycle.anonymise(session, config, now)
