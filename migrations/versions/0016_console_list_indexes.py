"""Indexes the console's lists read in order

Revision ID: 0016
Revises: 0015
Create Date: 2026-11-29 01:20:00.000000

A status's list (oldest change first), of one office or of all offices, and the overdue list
(by the expected date, of the requests whose service time runs) were sorted in full at each
page: about 0.1 s each on a million requests. Each is now read in order from an index, and
the index of office and status gives way to the one of office, status and change (the same
look-ups use its first columns). On PostgreSQL the overdue list's index holds the running
requests only, and every index is built ``CONCURRENTLY``, so that the release before keeps
serving meanwhile; run again after a stop half-way, a build left invalid is made again.
"""

from __future__ import annotations

from alembic import context, op

revision = "0016"
down_revision = "0015"
branch_labels = None
depends_on = None

RUNNING = "status IN ('submitted', 'verifying', 'processing')"
NEW = {
    "ix_requests_office_status_updated": "requests (office_id, status, updated_at, id)",
    "ix_requests_status_updated": "requests (status, updated_at, id)",
    "ix_requests_running_expected": f"requests (expected_on, id) WHERE {RUNNING}",
}


def upgrade() -> None:
    bind = op.get_bind()
    if bind.dialect.name != "postgresql":
        op.create_index(
            "ix_requests_office_status_updated",
            "requests",
            ["office_id", "status", "updated_at", "id"],
        )
        op.create_index("ix_requests_status_updated", "requests", ["status", "updated_at", "id"])
        op.create_index("ix_requests_running_expected", "requests", ["expected_on", "id"])
        op.drop_index("ix_requests_office_status", table_name="requests")
        return
    tell = context.config.attributes.get("progress") or (lambda line: None)
    with op.get_context().autocommit_block():
        bind = op.get_bind()
        for name, target in NEW.items():
            invalid = bind.exec_driver_sql(
                "SELECT NOT i.indisvalid FROM pg_index i JOIN pg_class c ON c.oid = i.indexrelid"
                f" WHERE c.relname = '{name}'"
            ).scalar()
            if invalid:  # a build stopped half-way leaves an index that is not used: again
                bind.exec_driver_sql(f"DROP INDEX CONCURRENTLY {name}")
            tell(f"0016: building {name}")
            bind.exec_driver_sql(f"CREATE INDEX CONCURRENTLY IF NOT EXISTS {name} ON {target}")
        bind.exec_driver_sql("DROP INDEX CONCURRENTLY IF EXISTS ix_requests_office_status")


def downgrade() -> None:
    op.create_index("ix_requests_office_status", "requests", ["office_id", "status"])
    for name in NEW:
        op.drop_index(name, table_name="requests")
