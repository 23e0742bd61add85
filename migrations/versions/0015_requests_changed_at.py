"""Requests say when what a bridge sees of them last changed

Revision ID: 0015
Revises: 0014
Create Date: 2026-11-28 15:20:00.000000

``updated_at`` is the moment of a request's last move (for a ready document, when it became
ready: the board and the pause count read it so), and a closure or a new leave day that
moves a waiting document's window leaves it as it is. A bridge's list of what changed
(``GET /api/v1/requests``) is ordered by the new ``changed_at`` instead, which every move
and every window moved sets. It starts as ``updated_at``; its index takes the place of the
list's index on ``updated_at``. Added in place (``ALTER TABLE``), nullable on SQLite as on
PostgreSQL, not in batch mode: a rebuilt ``requests`` table would have to be dropped while
its events refer to it. What the release before writes between this migration and the
restart of the last web host sets ``updated_at`` only; the scheduler, restarted last, marks
those requests changed as it starts (``tracker.requests.changes.catch_up``).

On PostgreSQL the release before keeps serving while this runs: the column is added and
committed at once (``ALTER TABLE`` locks the table against reads too, so only for a moment),
then filled ``BATCH_ROWS`` requests a transaction, each batch holding those rows only, and
the index is built ``CONCURRENTLY``. Run again after a stop half-way, it goes on from where
it stopped. On SQLite (a single office's laptop or server) it is one transaction.
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import context, op

revision = "0015"
down_revision = "0014"
branch_labels = None
depends_on = None


BATCH_ROWS = 10_000  # requests filled per transaction on PostgreSQL


def upgrade() -> None:
    if op.get_bind().dialect.name != "postgresql":
        op.add_column(
            "requests", sa.Column("changed_at", sa.DateTime(timezone=True), nullable=True)
        )
        op.execute("UPDATE requests SET changed_at = updated_at")
        op.drop_index("ix_requests_office_updated", table_name="requests")
        op.create_index(
            "ix_requests_office_changed", "requests", ["office_id", "changed_at", "id"]
        )
        return
    attributes = context.config.attributes
    tell = attributes.get("progress") or (lambda line: None)
    batch = attributes.get("batch_rows", BATCH_ROWS)
    with op.get_context().autocommit_block():
        bind = op.get_bind()
        bind.exec_driver_sql(
            "ALTER TABLE requests ADD COLUMN IF NOT EXISTS changed_at TIMESTAMP WITH TIME ZONE"
        )
        first, last, total = bind.execute(
            sa.text("SELECT min(id), max(id), count(*) FROM requests WHERE changed_at IS NULL")
        ).one()
        if total:
            tell(f"0015: marking when each of {total:,} requests last changed")
            done = 0
            for n, start in enumerate(range(first, last + 1, batch), start=1):
                done += bind.execute(
                    sa.text(
                        "UPDATE requests SET changed_at = updated_at"
                        " WHERE id >= :start AND id < :end AND changed_at IS NULL"
                    ),
                    {"start": start, "end": start + batch},
                ).rowcount
                if n % 10 == 0 or start + batch > last:
                    tell(f"0015: {done:,} of {total:,} requests")
        invalid = bind.execute(
            sa.text(
                "SELECT NOT i.indisvalid FROM pg_index i JOIN pg_class c ON c.oid = i.indexrelid"
                " WHERE c.relname = 'ix_requests_office_changed'"
            )
        ).scalar()
        if invalid:  # a build stopped half-way leaves an index that is not used: again
            bind.exec_driver_sql("DROP INDEX CONCURRENTLY ix_requests_office_changed")
        tell("0015: building the index of the list of changes")
        bind.exec_driver_sql(
            "CREATE INDEX CONCURRENTLY IF NOT EXISTS ix_requests_office_changed"
            " ON requests (office_id, changed_at, id)"
        )
        bind.exec_driver_sql("DROP INDEX CONCURRENTLY IF EXISTS ix_requests_office_updated")


def downgrade() -> None:
    op.drop_index("ix_requests_office_changed", table_name="requests")
    op.create_index(
        "ix_requests_office_updated", "requests", ["office_id", "updated_at", "id"], unique=False
    )
    op.drop_column("requests", "changed_at")
