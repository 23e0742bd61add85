"""Calls to a counter for the lobby board; daily figures for the public statistics

Revision ID: 0004
Revises: 0003
Create Date: 2026-11-24 09:05:39.140435
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op


revision = "0004"
down_revision = "0003"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table(
        "daily_figures",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("office_id", sa.Integer(), nullable=False),
        sa.Column("service_id", sa.Integer(), nullable=False),
        sa.Column("day", sa.Date(), nullable=False),
        sa.Column("received", sa.Integer(), nullable=False),
        sa.Column("finished", sa.Integer(), nullable=False),
        sa.Column("within_target", sa.Integer(), nullable=False),
        sa.Column("collected", sa.Integer(), nullable=False),
        sa.Column("durations", sa.JSON(), nullable=False),
        sa.ForeignKeyConstraint(
            ["office_id"], ["offices.id"], name=op.f("fk_daily_figures_office_id_offices")
        ),
        sa.ForeignKeyConstraint(
            ["service_id"], ["services.id"], name=op.f("fk_daily_figures_service_id_services")
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_daily_figures")),
        sa.UniqueConstraint(
            "office_id", "service_id", "day", name=op.f("uq_daily_figures_office_id")
        ),
    )
    with op.batch_alter_table("daily_figures", schema=None) as batch_op:
        batch_op.create_index(batch_op.f("ix_daily_figures_day"), ["day"], unique=False)

    with op.batch_alter_table("requests", schema=None) as batch_op:
        batch_op.add_column(sa.Column("counter", sa.String(length=40), nullable=True))
        batch_op.add_column(sa.Column("called_at", sa.DateTime(timezone=True), nullable=True))
        batch_op.create_index(
            "ix_requests_pickup_point_id_status", ["pickup_point_id", "status"], unique=False
        )

    with op.batch_alter_table("status_events", schema=None) as batch_op:
        batch_op.create_index("ix_status_events_at", ["at"], unique=False)


def downgrade() -> None:
    with op.batch_alter_table("status_events", schema=None) as batch_op:
        batch_op.drop_index("ix_status_events_at")

    with op.batch_alter_table("requests", schema=None) as batch_op:
        batch_op.drop_index("ix_requests_pickup_point_id_status")
        batch_op.drop_column("called_at")
        batch_op.drop_column("counter")

    with op.batch_alter_table("daily_figures", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_daily_figures_day"))

    op.drop_table("daily_figures")
