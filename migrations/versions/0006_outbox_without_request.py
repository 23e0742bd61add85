"""Outbox messages that belong to no request: replies to a citizen's question, webhooks

Revision ID: 0006
Revises: 0005
Create Date: 2026-11-27 20:50:26.187798

``outbox.request_id`` may be empty; every message still belongs to an office. Going back
to 0005 deletes the messages without a request, which that revision cannot hold.
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op


revision = "0006"
down_revision = "0005"
branch_labels = None
depends_on = None


def upgrade() -> None:
    with op.batch_alter_table("outbox", schema=None) as batch_op:
        batch_op.alter_column("request_id", existing_type=sa.Integer(), nullable=True)


def downgrade() -> None:
    outbox = sa.table("outbox", sa.column("request_id", sa.Integer))
    op.execute(outbox.delete().where(outbox.c.request_id.is_(None)))
    with op.batch_alter_table("outbox", schema=None) as batch_op:
        batch_op.alter_column("request_id", existing_type=sa.Integer(), nullable=False)
