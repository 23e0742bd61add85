"""Each job's runs, failures and time, counted in its lease row

Revision ID: 0017
Revises: 0016
Create Date: 2026-11-29 12:00:00.000000

The scheduler is a process of its own, often on another host than any web worker, so the
counters it kept in its own memory never reached ``/metrics``. Its runs are now counted in
the job's lease row, which every web worker reads at a scrape. Four columns added in place
(``ALTER TABLE``, a constant default), which the release before never reads.
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0017"
down_revision = "0016"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.add_column(
        "job_leases", sa.Column("runs", sa.Integer(), server_default="0", nullable=False)
    )
    op.add_column(
        "job_leases", sa.Column("failures", sa.Integer(), server_default="0", nullable=False)
    )
    op.add_column(
        "job_leases", sa.Column("seconds_total", sa.Float(), server_default="0", nullable=False)
    )
    op.add_column("job_leases", sa.Column("last_seconds", sa.Float(), nullable=True))


def downgrade() -> None:
    for column in ("last_seconds", "seconds_total", "failures", "runs"):
        op.drop_column("job_leases", column)
