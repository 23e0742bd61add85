"""The year's collective leave days (cuti bersama): closed like a public holiday

Revision ID: 0012
Revises: 0011
Create Date: 2026-11-28 01:00:00.000000

A new table only. Another migration (0011) is made at the same time; the chain 0010 → 0011 →
0012 is fixed when both are merged.
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op


revision = "0012"
down_revision = "0011"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table(
        "leave_days",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("day", sa.Date(), nullable=False),
        sa.Column("name", sa.String(length=200), nullable=False),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_leave_days")),
        sa.UniqueConstraint("day", name=op.f("uq_leave_days_day")),
    )


def downgrade() -> None:
    op.drop_table("leave_days")
