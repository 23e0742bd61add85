"""The daily jobs: remind, expire and deadlines for the offices of one time zone (each runs
at its own local hour), and retention (DESIGN §6)."""

from __future__ import annotations

import logging
from collections.abc import Callable
from typing import Any

from tracker import lifecycle

log = logging.getLogger("jobs")
Work = Callable[[Any, dict[str, Any]], Any]


def remind(zone: str) -> Work:
    def run(session: Any, config: dict[str, Any]) -> dict[str, int]:
        return dict(lifecycle.remind(session, config, zone=zone))

    return run


def expire(zone: str) -> Work:
    def run(session: Any, config: dict[str, Any]) -> int:
        return lifecycle.expire(session, config, zone=zone)

    return run


def deadlines(zone: str) -> Work:
    def run(session: Any, _config: dict[str, Any]) -> dict[int, int]:
        counts = lifecycle.overdue_counts(session, zone=zone)
        for office_id, count in sorted(counts.items()):
            log.warning("office %s: %s requests past their service target", office_id, count)
        return counts

    return run


def retention(session: Any, config: dict[str, Any]) -> int:
    return lifecycle.anonymise(session, config)
