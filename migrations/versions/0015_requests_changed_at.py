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
those requests changed as it starts (``tracker.requests.changes.catch_up``). The backfill
writes every request once: 92 s for a million on PostgreSQL on the 2-core test box, while
the release before's writes to requests wait (reads go on).
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0015"
down_revision = "0014"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.add_column("requests", sa.Column("changed_at", sa.DateTime(timezone=True), nullable=True))
    op.execute("UPDATE requests SET changed_at = updated_at")
    op.drop_index("ix_requests_office_updated", table_name="requests")
    op.create_index(
        "ix_requests_office_changed", "requests", ["office_id", "changed_at", "id"], unique=False
    )


def downgrade() -> None:
    op.drop_index("ix_requests_office_changed", table_name="requests")
    op.create_index(
        "ix_requests_office_updated", "requests", ["office_id", "updated_at", "id"], unique=False
    )
    op.drop_column("requests", "changed_at")
