"""announce: publish, per pickup point, what became ready since its last announcement; and
each office's morning digest, in its own time zone."""

from __future__ import annotations

import datetime as dt
from typing import Any

from tracker.announcements import operations as announce


def run(session: Any, _config: dict[str, Any], now: dt.datetime) -> int:
    return sum(a.count for a in announce.publish(session, now))


def digest(zone: str) -> Any:
    def run_digest(session: Any, _config: dict[str, Any], now: dt.datetime) -> int:
        return len(announce.digest(session, zone, now))

    return run_digest
