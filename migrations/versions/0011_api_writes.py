"""The API's writes: a request's external reference (unique per office) and the answers kept
under an Idempotency-Key

Revision ID: 0011
Revises: 0010
Create Date: 2026-11-28 01:00:00.000000

One nullable column and one index on requests, one new table: nothing existing is rebuilt.
A plain unique index allows NULL many times on SQLite and PostgreSQL alike.
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op


revision = "0011"
down_revision = "0010"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.add_column("requests", sa.Column("external_ref", sa.String(length=64), nullable=True))
    op.create_index(
        "uq_requests_office_external_ref",
        "requests",
        ["office_id", "external_ref"],
        unique=True,
    )
    op.create_table(
        "api_idempotency",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("api_key_id", sa.Integer(), nullable=False),
        sa.Column("key", sa.String(length=200), nullable=False),
        sa.Column("request_hash", sa.String(length=64), nullable=False),
        sa.Column("status_code", sa.Integer(), nullable=False),
        sa.Column("response_body", sa.Text(), nullable=False),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
        sa.ForeignKeyConstraint(
            ["api_key_id"],
            ["api_keys.id"],
            name=op.f("fk_api_idempotency_api_key_id_api_keys"),
            ondelete="CASCADE",
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_api_idempotency")),
        sa.UniqueConstraint("api_key_id", "key", name=op.f("uq_api_idempotency_api_key_id")),
    )
    op.create_index(
        op.f("ix_api_idempotency_created_at"), "api_idempotency", ["created_at"], unique=False
    )


def downgrade() -> None:
    op.drop_index(op.f("ix_api_idempotency_created_at"), table_name="api_idempotency")
    op.drop_table("api_idempotency")
    op.drop_index("uq_requests_office_external_ref", table_name="requests")
    op.drop_column("requests", "external_ref")
