"""A service can be no longer offered at intake

Revision ID: 0014
Revises: 0013
Create Date: 2026-11-28 12:15:00.000000

One column, true for every service on file. Added and dropped in place (``ALTER TABLE``,
which SQLite has done for a column with a constant default, and since 3.35 for dropping
one), not in batch mode: a rebuilt ``services`` table would have to be dropped while every
request refers to it.
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op


revision = "0014"
down_revision = "0013"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.add_column(
        "services", sa.Column("offered", sa.Boolean(), server_default=sa.true(), nullable=False)
    )


def downgrade() -> None:
    op.drop_column("services", "offered")
