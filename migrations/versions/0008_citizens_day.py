"""The citizen's day: the citizen's language, the time the office waits on the citizen, office
contacts for complaints, and where pickup points are on a map

Revision ID: 0008
Revises: 0007
Create Date: 2026-11-27 23:30:00.000000

Every request made before reads Indonesian and has waited on nobody; offices start without
contacts and points without coordinates, which pages then leave out.
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op


revision = "0008"
down_revision = "0007"
branch_labels = None
depends_on = None


def upgrade() -> None:
    # Plain ADD/DROP COLUMN, not a batch: SQLite would rebuild these tables, which other
    # tables point at.
    op.add_column(
        "requests", sa.Column("language", sa.String(length=2), nullable=False, server_default="id")
    )
    op.add_column(
        "requests", sa.Column("paused_days", sa.Integer(), nullable=False, server_default="0")
    )
    for name, length in (("phone", 20), ("whatsapp", 20), ("email", 200)):
        op.add_column(
            "offices",
            sa.Column(name, sa.String(length=length), nullable=False, server_default=""),
        )
    op.add_column("pickup_points", sa.Column("latitude", sa.Float(), nullable=True))
    op.add_column("pickup_points", sa.Column("longitude", sa.Float(), nullable=True))


def downgrade() -> None:
    for table, column in (
        ("pickup_points", "longitude"),
        ("pickup_points", "latitude"),
        ("offices", "email"),
        ("offices", "whatsapp"),
        ("offices", "phone"),
        ("requests", "paused_days"),
        ("requests", "language"),
    ):
        op.drop_column(table, column)
