"""Webhook subscriptions per office; an outbox delivery names its subscription

Revision ID: 0013
Revises: 0012
Create Date: 2026-11-28 02:30:00.000000

A new table, and one nullable column on the outbox (added in batch mode, so SQLite rebuilds
the table). The outbox's channel is stored as text, so ``webhook`` needs no change there.
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op


revision = "0013"
down_revision = "0012"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table(
        "webhook_subscriptions",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("office_id", sa.Integer(), nullable=False),
        sa.Column("url", sa.String(length=200), nullable=False),
        sa.Column("events", sa.String(length=200), nullable=False),
        sa.Column("secret", sa.String(length=80), nullable=False),
        sa.Column("previous_secret", sa.String(length=80), nullable=True),
        sa.Column("previous_until", sa.DateTime(timezone=True), nullable=True),
        sa.Column("active", sa.Boolean(), nullable=False),
        sa.Column("created_by", sa.String(length=80), nullable=False),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("removed_at", sa.DateTime(timezone=True), nullable=True),
        sa.Column("last_delivery_at", sa.DateTime(timezone=True), nullable=True),
        sa.ForeignKeyConstraint(
            ["office_id"], ["offices.id"], name=op.f("fk_webhook_subscriptions_office_id_offices")
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_webhook_subscriptions")),
    )
    op.create_index(
        "ix_webhook_subscriptions_office_active",
        "webhook_subscriptions",
        ["office_id", "active"],
        unique=False,
    )
    with op.batch_alter_table("outbox", schema=None) as batch_op:
        batch_op.add_column(sa.Column("webhook_id", sa.Integer(), nullable=True))
        batch_op.create_foreign_key(
            batch_op.f("fk_outbox_webhook_id_webhook_subscriptions"),
            "webhook_subscriptions",
            ["webhook_id"],
            ["id"],
        )


def downgrade() -> None:
    with op.batch_alter_table("outbox", schema=None) as batch_op:
        batch_op.drop_constraint(
            batch_op.f("fk_outbox_webhook_id_webhook_subscriptions"), type_="foreignkey"
        )
        batch_op.drop_column("webhook_id")
    op.drop_index("ix_webhook_subscriptions_office_active", table_name="webhook_subscriptions")
    op.drop_table("webhook_subscriptions")
