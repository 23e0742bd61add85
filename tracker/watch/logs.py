"""``LOG_FORMAT=json``: one JSON line per request (route rule, method, status, duration and
the request id, taken from ``X-Request-ID`` or made), with receipt numbers masked like every
other log line. The default (``text``) leaves the logs as they were."""

from __future__ import annotations

import datetime as dt
import json
import logging
import re
import sys
import uuid

from flask import Flask

from tracker.web.security import ReceiptMaskingFilter

LOGGER = "siapambil.requests"
REQUEST_ID_HEADER = "X-Request-ID"
# An id a proxy or a client sent is kept when it is short and plain; anything else is
# replaced by a new one, so that no header can break a log line or smuggle text into it.
_PLAIN_ID = re.compile(r"[A-Za-z0-9._:-]{1,100}")


def request_id(sent: str | None) -> str:
    if sent and _PLAIN_ID.fullmatch(sent):
        return sent
    return uuid.uuid4().hex


def install(app: Flask) -> logging.Logger | None:
    """The request logger of a JSON-logging app: a line to standard error per request, with
    receipt numbers masked; None when the app logs text."""
    if app.config["LOG_FORMAT"] != "json":
        return None
    logger = logging.getLogger(LOGGER)
    logger.setLevel(logging.INFO)
    logger.propagate = False
    if not logger.handlers:
        handler = logging.StreamHandler(sys.stderr)
        handler.setFormatter(JsonLines())
        logger.addHandler(handler)
    # Keyed by LOG_MASKING_KEY, as the other logs are, so that a tag outlives a new SECRET_KEY;
    # the latest app's filter replaces an earlier one (a process serves one app at a time).
    for earlier in [f for f in logger.filters if isinstance(f, ReceiptMaskingFilter)]:
        logger.removeFilter(earlier)
    logger.addFilter(ReceiptMaskingFilter(app.config["LOG_MASKING_KEY"]))
    return logger


class JsonLines(logging.Formatter):
    """The line's JSON with the record's time (UTC, ISO 8601) first."""

    def format(self, record: logging.LogRecord) -> str:
        when = dt.datetime.fromtimestamp(record.created, dt.UTC).isoformat(timespec="milliseconds")
        return json.dumps({"time": when.replace("+00:00", "Z"), **json.loads(record.getMessage())})


def line(*, route: str, method: str, status: int, seconds: float, request_id: str) -> str:
    return json.dumps(
        {
            "request_id": request_id,
            "method": method,
            "route": route,
            "status": status,
            "duration_ms": round(seconds * 1000, 2),
        },
        separators=(",", ":"),
    )
