"""What each job does: a thin call into the operations, with the session of the run's unit of
work, the settings and the instant the run works at. ``jobs/scheduler.py`` says when.

- ``announce``: publish, per pickup point, what became ready since its last announcement;
  ``digest``: each office's morning digest, in its own time zone;
- ``notify``: send what is due in the outbox (the dispatcher opens a unit of work per
  message);
- ``remind``, ``expire``, ``deadlines`` for the offices of one time zone (each at its own
  local hour), and ``retention`` (DESIGN §6).
"""

from __future__ import annotations

import datetime as dt
import logging
from collections.abc import Callable
from typing import Any
from zoneinfo import ZoneInfo

from tracker.announcements import operations as announcements
from tracker.api import idempotency
from tracker.audit import trail as audit
from tracker.outbox import dispatch
from tracker.outbox import operations as outbox
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
    """The personal data of requests that ended ``RETENTION_DAYS`` ago (their count is the
    result), of the replies to citizens' questions queued as long ago, and the API's kept
    answers past their 24 hours."""
    before = now - dt.timedelta(days=config["RETENTION_DAYS"])
    anonymised = lifecycle.anonymise(session, config, now)
    replies = outbox.scrub_replies(session, before)
    answers = idempotency.forget(session, now)
    log.info("retention: %d replies scrubbed, %d kept API answers forgotten", replies, answers)
    return anonymised


def announce(session: Any, _config: dict[str, Any], now: dt.datetime) -> int:
    return sum(a.count for a in announcements.publish(session, now))


def digest(zone: str) -> Any:
    def run_digest(session: Any, _config: dict[str, Any], now: dt.datetime) -> int:
        return len(announcements.digest(session, zone, now))

    return run_digest


def notify(_session: Any, config: dict[str, Any], now: dt.datetime) -> dict[str, int]:
    """The dispatcher opens a unit of work per message, not the run's."""
    return dict(dispatch.dispatch(config, now))
