"""API keys: making one (shown once), recognising one, revoking one.

A key is ``sa_live_`` and 32 random bytes in base32 (52 characters). Only its SHA-256 is
kept, with ``sa_live_`` and its first eight characters (``prefix``) to recognise it in lists.
The key has 256 random bits, so a fast hash is right (a password hash would add nothing
but cost on every call). A call's key is found by its prefix and compared by digest in
constant time.

These are operations: they take the session, ``now`` and the ``Actor``, flush only, and
write the audit row of what they did.
"""

from __future__ import annotations

import base64
import datetime as dt
import hashlib
import hmac
import re
import secrets
from collections.abc import Iterable
from dataclasses import dataclass

from sqlalchemy import or_, select, update
from sqlalchemy.orm import Session, selectinload

from tracker.audit import trail as audit
from tracker.audit.trail import Actor
from tracker.errors import ApiKeyError
from tracker.models import ApiKey, KeyScope, Office

LIVE = "sa_live_"
SHOWN = 8  # characters of the key after ``sa_live_`` kept for recognition
NAME = re.compile(r"[a-z0-9][a-z0-9._-]{2,59}")
TOUCH_EVERY = dt.timedelta(minutes=1)  # last_used_at moves at most this often


def generate() -> str:
    """A new key: ``sa_live_`` and 32 random bytes, base32 without padding, lower case."""
    return LIVE + base64.b32encode(secrets.token_bytes(32)).decode().rstrip("=").lower()


def digest_of(token: str) -> str:
    return hashlib.sha256(token.encode()).hexdigest()


def prefix_of(token: str) -> str:
    return token[: len(LIVE) + SHOWN]


def looks_like_key(token: str) -> bool:
    return token.startswith(LIVE) and len(token) > len(LIVE) + SHOWN and len(token) <= 120


@dataclass(frozen=True)
class Holder:
    """A key as a call sees it once recognised: what it may do and for which offices."""

    id: int
    name: str
    scope: KeyScope
    office_ids: frozenset[int]
    office_codes: frozenset[str]
    stale: bool  # last_used_at is older than a minute (or unset): it is due to move

    @property
    def actor_name(self) -> str:
        return f"apikey:{self.name}"

    def may(self, scope: KeyScope) -> bool:
        """A write key may also read."""
        return self.scope == KeyScope.WRITE or scope == KeyScope.READ


def recognise(session: Session, token: str, now: dt.datetime) -> Holder | None:
    """The active key this token is, or None (unknown, revoked or malformed)."""
    if not looks_like_key(token):
        return None
    wanted = digest_of(token)
    query = (
        select(ApiKey)
        .where(ApiKey.prefix == prefix_of(token))
        .options(selectinload(ApiKey.offices))
    )
    for key in session.scalars(query):
        if hmac.compare_digest(key.digest, wanted) and key.revoked_at is None:
            return Holder(
                id=key.id,
                name=key.name,
                scope=key.scope,
                office_ids=frozenset(o.id for o in key.offices),
                office_codes=frozenset(o.code for o in key.offices),
                stale=key.last_used_at is None or now - key.last_used_at >= TOUCH_EVERY,
            )
    return None


def touch(session: Session, key_id: int, now: dt.datetime) -> None:
    """Note that the key was used: one conditional UPDATE, which moves ``last_used_at`` at
    most once a minute however many workers ask at once."""
    session.execute(
        update(ApiKey)
        .where(ApiKey.id == key_id)
        .where(or_(ApiKey.last_used_at.is_(None), ApiKey.last_used_at <= now - TOUCH_EVERY))
        .values(last_used_at=now)
        .execution_options(synchronize_session=False)
    )


def find(session: Session, name: str) -> ApiKey | None:
    return session.scalars(select(ApiKey).where(ApiKey.name == name.strip())).first()


def create(
    session: Session,
    now: dt.datetime,
    actor: Actor,
    *,
    name: str,
    offices: Iterable[Office],
    scope: KeyScope,
) -> tuple[ApiKey, str]:
    """Make a key for these offices; the key itself is returned once and kept nowhere."""
    name = name.strip()
    held = sorted(set(offices), key=lambda o: o.code)
    if not NAME.fullmatch(name):
        raise ApiKeyError(reason="name", name=name)
    if not held:
        raise ApiKeyError(reason="no_office", name=name)
    if find(session, name) is not None:
        raise ApiKeyError(reason="name_taken", name=name)
    token = generate()
    key = ApiKey(
        name=name, prefix=prefix_of(token), digest=digest_of(token), scope=scope,
        created_by=actor.name, created_at=now, offices=held,
    )  # fmt: skip
    session.add(key)
    session.flush()
    audit.record(
        session, "api_key_created", actor=actor, at=now, target=name, scope=scope.value,
        offices=[o.code for o in held], prefix=key.prefix,
    )  # fmt: skip
    return key, token


def revoke(session: Session, now: dt.datetime, actor: Actor, key: ApiKey) -> None:
    """Revoke a key: every call with it is refused from now on."""
    if key.revoked_at is not None:
        raise ApiKeyError(reason="revoked", name=key.name)
    key.revoked_at = now
    session.flush()
    audit.record(session, "api_key_revoked", actor=actor, at=now, target=key.name)
