"""Accounts made in the console: a one-time password that must be replaced at first sign-in

Revision ID: 0007
Revises: 0006
Create Date: 2026-11-27 21:40:00.000000

``staff_accounts.must_change_password`` is false for every account made before, so their
passwords keep working as they are.
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op


revision = "0007"
down_revision = "0006"
branch_labels = None
depends_on = None


def upgrade() -> None:
    with op.batch_alter_table("staff_accounts", schema=None) as batch_op:
        batch_op.add_column(
            sa.Column(
                "must_change_password", sa.Boolean(), nullable=False, server_default=sa.false()
            )
        )


def downgrade() -> None:
    with op.batch_alter_table("staff_accounts", schema=None) as batch_op:
        batch_op.drop_column("must_change_password")
