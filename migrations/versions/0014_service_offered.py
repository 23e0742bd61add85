"""A service can be no longer offered at intake

Revision ID: 0014
Revises: 0013
Create Date: 2026-11-28 12:15:00.000000

One column, true for every service on file (added in batch mode, so SQLite rebuilds the
table).
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op


revision = "0014"
down_revision = "0013"
branch_labels = None
depends_on = None


def upgrade() -> None:
    with op.batch_alter_table("services", schema=None) as batch_op:
        batch_op.add_column(
            sa.Column("offered", sa.Boolean(), server_default=sa.true(), nullable=False)
        )


def downgrade() -> None:
    with op.batch_alter_table("services", schema=None) as batch_op:
        batch_op.drop_column("offered")
