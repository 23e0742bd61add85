"""The audit chain covers a digest of each row's details, so that retention can redact them;
staff searches keep a keyed hash instead of the searched text

Revision ID: 0005
Revises: 0004
Create Date: 2026-11-27 17:45:00.000000

Every row is chained again in id order: its ``details_digest`` is the SHA-256 of its
canonical details, and its ``digest`` covers that instead of the details. Search rows of
before (``{"query": TEXT}``) get the HMAC of their text under the ``AUDIT_HMAC_KEY`` that
``init-db`` hands over (``{"redacted": true}`` when none is given), so no NIK or name stays in
clear. The old and the new head are logged (and printed): keep them with the heads kept
before, since every digest changes here. A chain that was already broken is said so, with the
row, before it is chained again.

The digests and hashes are written out here as they are at this revision, so that later
changes to ``tracker.audit`` cannot change what this migration did.
"""

from __future__ import annotations

import datetime as dt
import hashlib
import hmac
import json
import logging
import re
from collections.abc import Callable
from typing import Any

import sqlalchemy as sa
from alembic import context, op

revision = "0005"
down_revision = "0004"
branch_labels = None
depends_on = None

log = logging.getLogger("alembic.runtime.migration")
GENESIS = "0" * 64
NIK_SEPARATORS = re.compile(r"[\s.\-]")

trail = sa.table(
    "audit_trail",
    sa.column("id", sa.Integer),
    sa.column("at", sa.DateTime(timezone=True)),
    sa.column("actor", sa.String),
    sa.column("action", sa.String),
    sa.column("target", sa.String),
    sa.column("address", sa.String),
    sa.column("details", sa.JSON),
    sa.column("details_digest", sa.String),
    sa.column("previous", sa.String),
    sa.column("digest", sa.String),
)


def _json(value: Any) -> bytes:
    return json.dumps(value, sort_keys=True, ensure_ascii=False, separators=(",", ":")).encode()


def _at(value: dt.datetime) -> str:
    """The row's time as it was digested: aware, in UTC (SQLite hands it back naive)."""
    value = value.replace(tzinfo=dt.UTC) if value.tzinfo is None else value.astimezone(dt.UTC)
    return value.isoformat(timespec="microseconds")


def _fields(row: dict[str, Any]) -> dict[str, Any]:
    keys = ("actor", "action", "target", "address", "previous")
    return {"at": _at(row["at"]), **{key: row[key] for key in keys}}


def digest_old(row: dict[str, Any]) -> str:
    """0004's digest: over the details themselves."""
    return hashlib.sha256(_json({**_fields(row), "details": row["details"]})).hexdigest()


def digest_new(row: dict[str, Any]) -> str:
    """0005's digest: over the details' digest."""
    fields = {**_fields(row), "details_digest": row["details_digest"]}
    return hashlib.sha256(_json(fields)).hexdigest()


def hashed_search(details: dict[str, Any], key: str | None) -> dict[str, Any]:
    """A search row's details without its text: an NIK or name becomes its keyed hash."""
    text = str(details.get("query", "")).strip()
    if key is None:
        return {"redacted": True}
    kept = {k: v for k, v in details.items() if k != "query"}
    digits = NIK_SEPARATORS.sub("", text)
    if len(digits) == 16 and digits.isascii() and digits.isdigit():
        kind, normalised = "nik", digits
    else:
        kind, normalised = "name", " ".join(text.casefold().split())
    mac = hmac.new(str(key).encode(), f"{kind}:{normalised}".encode(), hashlib.sha256)
    return {**kept, "kind": kind, f"{kind}_hmac": mac.hexdigest()}


def rechain(
    digest: Callable[[dict[str, Any]], str],
    fits: Callable[[dict[str, Any]], bool],
    key: str | None,
) -> None:
    """Chain every row again in id order with ``digest``; ``fits`` checks the old chain."""
    bind = op.get_bind()
    previous, old_previous, old_head, broken, count = GENESIS, GENESIS, GENESIS, None, 0
    last_id = 0
    while True:
        rows = bind.execute(
            sa.select(trail).where(trail.c.id > last_id).order_by(trail.c.id).limit(1000)
        ).mappings()
        rows = [dict(row) for row in rows]
        if not rows:
            break
        for row in rows:
            if broken is None and (row["previous"] != old_previous or not fits(row)):
                broken = row["id"]
            old_previous = old_head = row["digest"]
            _rewrite(bind, row, previous, digest, key)
            previous = row["digest"]
            count += 1
        last_id = rows[-1]["id"]
    _report(old_head, previous, count, broken)


def _rewrite(
    bind: Any, row: dict[str, Any], previous: str, digest: Callable[..., str], key: str | None
) -> None:
    if row["action"] == "search" and "query" in (row["details"] or {}):
        row["details"] = hashed_search(row["details"], key)
    row["details_digest"] = hashlib.sha256(_json(row["details"])).hexdigest()
    row["previous"] = previous
    row["digest"] = digest(row)
    bind.execute(
        sa.update(trail)
        .where(trail.c.id == row["id"])
        .values(
            details=row["details"],
            details_digest=row["details_digest"],
            previous=row["previous"],
            digest=row["digest"],
        )
    )


def _report(old_head: str, new_head: str, count: int, broken: int | None) -> None:
    lines = [f"audit trail: {count} rows chained again"]
    if broken is not None:
        lines.append(f"audit trail: the old chain was already broken at row {broken}")
    lines += [f"audit trail: old head {old_head} count {count}"]
    lines += [f"audit trail: new head {new_head} count {count}"]
    for line in lines:
        log.warning(line)
        print(line)


def upgrade() -> None:
    with op.batch_alter_table("audit_trail", schema=None) as batch_op:
        batch_op.add_column(sa.Column("details_digest", sa.String(length=64), nullable=True))
        batch_op.add_column(sa.Column("redacted_at", sa.DateTime(timezone=True), nullable=True))
        batch_op.create_index("ix_audit_trail_target", ["target"], unique=False)

    key = context.config.attributes.get("audit_hmac_key")
    rechain(digest_new, lambda row: digest_old(row) == row["digest"], key)

    with op.batch_alter_table("audit_trail", schema=None) as batch_op:
        batch_op.alter_column(
            "details_digest", existing_type=sa.String(length=64), nullable=False
        )


def downgrade() -> None:
    def fits(row: dict[str, Any]) -> bool:
        digested = hashlib.sha256(_json(row["details"])).hexdigest()
        return digest_new(row) == row["digest"] and (
            digested == row["details_digest"] or row["details"] == {"redacted": True}
        )

    rechain(digest_old, fits, None)  # search rows stay hashed: their text is gone
    with op.batch_alter_table("audit_trail", schema=None) as batch_op:
        batch_op.drop_index("ix_audit_trail_target")
        batch_op.drop_column("redacted_at")
        batch_op.drop_column("details_digest")
