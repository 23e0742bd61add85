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
    with op.batch_alter_table("requests", schema=None) as batch_op:
        batch_op.add_column(
            sa.Column("language", sa.String(length=2), nullable=False, server_default="id")
        )
        batch_op.add_column(
            sa.Column("paused_days", sa.Integer(), nullable=False, server_default="0")
        )
    with op.batch_alter_table("offices", schema=None) as batch_op:
        batch_op.add_column(
            sa.Column("phone", sa.String(length=20), nullable=False, server_default="")
        )
        batch_op.add_column(
            sa.Column("whatsapp", sa.String(length=20), nullable=False, server_default="")
        )
        batch_op.add_column(
            sa.Column("email", sa.String(length=200), nullable=False, server_default="")
        )
    with op.batch_alter_table("pickup_points", schema=None) as batch_op:
        batch_op.add_column(sa.Column("latitude", sa.Float(), nullable=True))
        batch_op.add_column(sa.Column("longitude", sa.Float(), nullable=True))


def downgrade() -> None:
    with op.batch_alter_table("pickup_points", schema=None) as batch_op:
        batch_op.drop_column("longitude")
        batch_op.drop_column("latitude")
    with op.batch_alter_table("offices", schema=None) as batch_op:
        batch_op.drop_column("email")
        batch_op.drop_column("whatsapp")
        batch_op.drop_column("phone")
    with op.batch_alter_table("requests", schema=None) as batch_op:
        batch_op.drop_column("paused_days")
        batch_op.drop_column("language")
