"""notify: send what is due in the outbox (one transaction per message)."""

from __future__ import annotations

import datetime as dt
from typing import Any

from tracker.outbox import dispatch


def run(session: Any, config: dict[str, Any], now: dt.datetime) -> dict[str, int]:
    return dict(dispatch.dispatch(session, config, now))
