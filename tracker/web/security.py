"""Headers that every answer carries, and the log filter that keeps receipt numbers out of logs."""

from __future__ import annotations

import hashlib
import hmac
import logging
import re
from urllib.parse import unquote_plus

from flask import Flask, Response, request

from tracker import receipts
from tracker.errors import ReceiptMistyped

CONTENT_SECURITY_POLICY = "; ".join(
    [
        "default-src 'none'",
        "script-src 'self'",
        "style-src 'self'",
        "img-src 'self'",
        "font-src 'self'",
        "connect-src 'self'",
        "form-action 'self'",
        "base-uri 'none'",
        "frame-ancestors 'none'",
    ]
)
# Sent on every answer as they are; a view may set its own Content-Security-Policy and
# Cache-Control (the QR code is cacheable), so those two are defaults only.
FIXED_HEADERS = {
    "Referrer-Policy": "no-referrer",
    "X-Content-Type-Options": "nosniff",
    "X-Frame-Options": "DENY",
    "Cross-Origin-Opener-Policy": "same-origin",
    "Cross-Origin-Resource-Policy": "same-origin",
    "Permissions-Policy": "camera=(), microphone=(), geolocation=(), interest-cohort=()",
}
_FIXED = list(FIXED_HEADERS.items())
# WhatsApp's verification handshake carries WHATSAPP_VERIFY_TOKEN in its query string: the
# request lines of the access logs show it hidden.
_SECRET_ARGUMENT = re.compile(r"(hub\.verify_token=)[^&\s\"']*")
# Receipt-shaped tokens: 12 characters of the receipt alphabet (and its look-alikes) in three
# groups of four, with or without what people and browsers put between the groups: dashes,
# spaces (``+``, ``%20``), dots, other dashes and invisible characters (a phone's en dash, a
# zero-width space), as sent (percent-encoded: gunicorn's request line) or decoded (the
# development server's). Whether a token is a receipt number is left to ``receipts.parse``.
_GAP = r"(?:[\s+._\-\u00b7\u2010-\u2015\u2212\u200b-\u200f\u2060\ufeff]|%[0-9A-Fa-f]{2}){0,9}"
_RECEIPT_SHAPE = re.compile(
    r"(?:(?<![0-9A-Za-z])|(?<=%[0-9A-Fa-f]{2}))"
    rf"[0-9A-Za-z]{{4}}{_GAP}[0-9A-Za-z]{{4}}{_GAP}[0-9A-Za-z]{{4}}(?![0-9A-Za-z])"
)


def add_headers(response: Response) -> Response:
    """Security headers on every answer; nothing is stored by caches unless a view said so."""
    headers = response.headers
    headers.extend(_FIXED)
    headers.setdefault("Content-Security-Policy", CONTENT_SECURITY_POLICY)
    headers.setdefault("Cache-Control", "no-store")
    if request.is_secure:
        headers.setdefault("Strict-Transport-Security", "max-age=31536000")
    return response


# Where a request line carries what was typed, in whatever shape (full-width, dotted, grouped
# six and six): the segment after a look-up's or the console's path to one request, and the
# query arguments of the look-up form, the counter, Open311, the staff search (a NIK, a name)
# and the sign-in's way back; a path where a request line or a URL has one. The proxies' logs
# leave these out the same way (deploy/).
_PLACED = re.compile(
    r"((?:^|[\s\"'(=])(?:https?://[^/\s\"']+)?/(?:s|staff/r|api/v1/requests|open311/v2/requests)/)"
    r"(?!<)([^/?#\s\"']+)"  # not a route's rule (``/s/<receipt>``, in the JSON log)
)
_TYPED_ARGUMENT = re.compile(
    r"([?&](?:no|q|service_request_id|receipts|next)=)([^&#\s\"]*)", re.IGNORECASE
)
_LISTED = re.compile(r",|%2C", re.IGNORECASE)


class ReceiptMaskingFilter(logging.Filter):
    """Replaces receipt numbers in log lines with a keyed tag (``R:3fa9c1``): the same number
    gives the same tag, so a request can be followed in the logs without showing it. Where a
    request line carries what someone typed (``_PLACED``, ``_TYPED_ARGUMENT``) each value is
    a tag, or ``-`` when it is no receipt number (a NIK or a name searched for, a mistyped
    number); elsewhere receipt-shaped tokens are. The WhatsApp handshake's verify token is
    hidden too."""

    def __init__(self, key: str) -> None:
        super().__init__()
        self._key = key.encode()

    def _tag_of(self, typed: str) -> str | None:
        """The tag of the receipt number in ``typed`` (as sent: percent-encoded or not);
        None when it is none."""
        try:
            number = receipts.parse(unquote_plus(typed))
        except ReceiptMistyped:
            return None
        return "R:" + hmac.new(self._key, number.encode(), hashlib.sha256).hexdigest()[:6]

    def _tag(self, match: re.Match[str]) -> str:
        token = match.group(0)
        return self._tag_of(token) or token  # not a receipt number: its check does not fit

    def _typed(self, match: re.Match[str]) -> str:
        """A typed value as a tag, or ``-``; each of a list (``A,B``) on its own."""
        shown = [(self._tag_of(part) or "-") if part else part
                 for part in _LISTED.split(match.group(2))]  # fmt: skip
        return match.group(1) + ",".join(shown)

    def filter(self, record: logging.LogRecord) -> bool:
        message = record.getMessage()
        masked = _SECRET_ARGUMENT.sub(r"\1***", message)
        masked = _TYPED_ARGUMENT.sub(self._typed, _PLACED.sub(self._typed, masked))
        masked = _RECEIPT_SHAPE.sub(self._tag, masked)
        if masked != message:
            record.msg, record.args = masked, None
        return True


def install_log_filter(app: Flask) -> None:
    """Mask receipt numbers in the app's, the development server's and gunicorn's logs, keyed
    by ``LOG_MASKING_KEY`` (not ``SECRET_KEY``, so that a tag outlives a key rotation). The
    latest app's filter replaces an earlier one: a process serves one app at a time."""
    masking = ReceiptMaskingFilter(app.config["LOG_MASKING_KEY"])
    for name in (app.logger.name, "werkzeug", "gunicorn.access", "gunicorn.error"):
        logger = logging.getLogger(name)
        for earlier in [f for f in logger.filters if isinstance(f, ReceiptMaskingFilter)]:
            logger.removeFilter(earlier)
        logger.addFilter(masking)
