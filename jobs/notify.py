"""notify: send what is due in the outbox (one transaction per message)."""

from __future__ import annotations

from typing import Any

from tracker import delivery


def run(session: Any, config: dict[str, Any]) -> dict[str, int]:
    return dict(delivery.dispatch(session, config))
