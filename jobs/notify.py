"""notify: send what is due in the outbox (one transaction per message)."""

from __future__ import annotations

import datetime as dt
from typing import Any

from tracker.outbox import dispatch


def run(_session: Any, config: dict[str, Any], now: dt.datetime) -> dict[str, int]:
    """The dispatcher opens a unit of work per message, not the run's."""
    return dict(dispatch.dispatch(config, now))
