"""``Idempotency-Key``: a write call sent again gets the first answer, and does not act again.

The key is optional (a call without one simply acts) and scoped to the API key: two bridges
may use the same text. What was answered is kept with the SHA-256 of the call (method, path
and body): the same key with the same call gets the stored status and body back; the same
key with another call is refused (``IdempotencyMismatch``). Successes and refusals alike are
kept, so a retry sees what the first call saw; a 5xx is never kept. Answers are kept for
24 hours (``KEPT``): the rows of the key older than that are deleted at each write
(``expire``), those of every key by the daily retention job (``forget``: a bridge that
writes no more keeps no answers, which may name people), and an older row is never
replayed.
"""

from __future__ import annotations

import datetime as dt
import hashlib
import re

from sqlalchemy import delete, select
from sqlalchemy.orm import Session

from tracker.errors import FieldRefused, IdempotencyMismatch
from tracker.models import ApiIdempotency

HEADER = "Idempotency-Key"
KEPT = dt.timedelta(hours=24)
WELL_FORMED = re.compile(r"[\x21-\x7e]{1,200}")


def checked_key(text: str | None) -> str | None:
    """The header's key, or None without one; 1 to 200 visible ASCII characters."""
    if text is None:
        return None
    if not WELL_FORMED.fullmatch(text.strip()):
        raise FieldRefused(field=HEADER, rule="idempotency_key")
    return text.strip()


def call_hash(method: str, path: str, body: bytes) -> str:
    digest = hashlib.sha256()
    for part in (method.upper().encode(), path.encode(), body):
        digest.update(len(part).to_bytes(8, "big") + part)
    return digest.hexdigest()


def expire(session: Session, api_key_id: int, now: dt.datetime) -> None:
    """Forget this key's answers older than 24 hours."""
    session.execute(
        delete(ApiIdempotency)
        .where(ApiIdempotency.api_key_id == api_key_id, ApiIdempotency.created_at <= now - KEPT)
        .execution_options(synchronize_session=False)
    )


def forget(session: Session, now: dt.datetime) -> int:
    """Forget every key's answers older than 24 hours (the retention job)."""
    result = session.execute(
        delete(ApiIdempotency)
        .where(ApiIdempotency.created_at <= now - KEPT)
        .execution_options(synchronize_session=False)
    )
    return result.rowcount


def stored(
    session: Session, api_key_id: int, key: str, hashed: str, now: dt.datetime
) -> ApiIdempotency | None:
    """The answer kept for this key and call (None: act); IdempotencyMismatch when the key
    was used, within 24 hours, for another call."""
    found = session.scalars(
        select(ApiIdempotency).where(
            ApiIdempotency.api_key_id == api_key_id,
            ApiIdempotency.key == key,
            ApiIdempotency.created_at > now - KEPT,
        )
    ).first()
    if found is None:
        return None
    if found.request_hash != hashed:
        raise IdempotencyMismatch(key=key[:40])
    return found


def keep(
    session: Session,
    api_key_id: int,
    key: str,
    hashed: str,
    status: int,
    body: str,
    now: dt.datetime,
) -> None:
    """Keep what was answered (never a 5xx), in place of an answer over 24 hours old (whose
    deletion a refusal's rollback may have undone)."""
    if status >= 500:
        return
    expire(session, api_key_id, now)
    session.add(
        ApiIdempotency(
            api_key_id=api_key_id, key=key, request_hash=hashed, status_code=status,
            response_body=body, created_at=now,
        )
    )  # fmt: skip
    session.flush()
