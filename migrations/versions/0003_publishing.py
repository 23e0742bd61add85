"""Announcements and their items, the outbox, job leases; requests know their announcement

Revision ID: 0003
Revises: 0002
Create Date: 2026-11-24 08:02:25.599310
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op


revision = "0003"
down_revision = "0002"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table(
        "job_leases",
        sa.Column("name", sa.String(length=60), nullable=False),
        sa.Column("holder", sa.String(length=120), nullable=False),
        sa.Column("until", sa.DateTime(timezone=True), nullable=False),
        sa.Column("last_finished_at", sa.DateTime(timezone=True), nullable=True),
        sa.PrimaryKeyConstraint("name", name=op.f("pk_job_leases")),
    )
    op.create_table(
        "announcements",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("point_id", sa.Integer(), nullable=False),
        sa.Column(
            "kind",
            sa.Enum("batch", "digest", name="announcementkind", native_enum=False, length=16),
            nullable=False,
        ),
        sa.Column("day", sa.Date(), nullable=True),
        sa.Column("published_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("count", sa.Integer(), nullable=False),
        sa.ForeignKeyConstraint(
            ["point_id"], ["pickup_points.id"], name=op.f("fk_announcements_point_id_pickup_points")
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_announcements")),
        sa.UniqueConstraint("point_id", "kind", "day", name=op.f("uq_announcements_point_id")),
    )
    with op.batch_alter_table("announcements", schema=None) as batch_op:
        batch_op.create_index("ix_announcements_published_at", ["published_at"], unique=False)

    op.create_table(
        "announcement_items",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("announcement_id", sa.Integer(), nullable=False),
        sa.Column("request_id", sa.Integer(), nullable=False),
        sa.Column("pickup_number", sa.String(length=12), nullable=False),
        sa.Column("masked_name", sa.String(length=200), nullable=False),
        sa.Column("service_id", sa.Integer(), nullable=False),
        sa.Column("window_starts", sa.DateTime(timezone=True), nullable=False),
        sa.Column("window_ends", sa.DateTime(timezone=True), nullable=False),
        sa.ForeignKeyConstraint(
            ["announcement_id"],
            ["announcements.id"],
            name=op.f("fk_announcement_items_announcement_id_announcements"),
        ),
        sa.ForeignKeyConstraint(
            ["request_id"], ["requests.id"], name=op.f("fk_announcement_items_request_id_requests")
        ),
        sa.ForeignKeyConstraint(
            ["service_id"], ["services.id"], name=op.f("fk_announcement_items_service_id_services")
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_announcement_items")),
    )
    with op.batch_alter_table("announcement_items", schema=None) as batch_op:
        batch_op.create_index(
            batch_op.f("ix_announcement_items_announcement_id"), ["announcement_id"], unique=False
        )

    op.create_table(
        "outbox",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("request_id", sa.Integer(), nullable=False),
        sa.Column("office_id", sa.Integer(), nullable=False),
        sa.Column("event", sa.String(length=40), nullable=False),
        sa.Column(
            "channel",
            sa.Enum("whatsapp", "sms", "email", name="channel", native_enum=False, length=16),
            nullable=False,
        ),
        sa.Column("idempotency_key", sa.String(length=120), nullable=False),
        sa.Column("recipient", sa.String(length=200), nullable=False),
        sa.Column("subject", sa.String(length=200), nullable=False),
        sa.Column("body", sa.Text(), nullable=False),
        sa.Column(
            "status",
            sa.Enum(
                "held",
                "pending",
                "sending",
                "sent",
                "dead",
                "cancelled",
                name="outboxstatus",
                native_enum=False,
                length=16,
            ),
            nullable=False,
        ),
        sa.Column("attempts", sa.Integer(), nullable=False),
        sa.Column("next_attempt_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("claimed_at", sa.DateTime(timezone=True), nullable=True),
        sa.Column("sent_at", sa.DateTime(timezone=True), nullable=True),
        sa.Column("last_error", sa.String(length=500), nullable=False),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
        sa.ForeignKeyConstraint(
            ["office_id"], ["offices.id"], name=op.f("fk_outbox_office_id_offices")
        ),
        sa.ForeignKeyConstraint(
            ["request_id"], ["requests.id"], name=op.f("fk_outbox_request_id_requests")
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_outbox")),
        sa.UniqueConstraint("idempotency_key", name=op.f("uq_outbox_idempotency_key")),
    )
    with op.batch_alter_table("outbox", schema=None) as batch_op:
        batch_op.create_index(batch_op.f("ix_outbox_request_id"), ["request_id"], unique=False)
        batch_op.create_index(
            "ix_outbox_status_next_attempt_at", ["status", "next_attempt_at"], unique=False
        )

    with op.batch_alter_table("requests", schema=None) as batch_op:
        batch_op.add_column(sa.Column("announced_id", sa.Integer(), nullable=True))
        batch_op.add_column(sa.Column("anonymised_at", sa.DateTime(timezone=True), nullable=True))
        batch_op.create_index(
            "ix_requests_status_announced_id", ["status", "announced_id"], unique=False
        )
        batch_op.create_foreign_key(
            batch_op.f("fk_requests_announced_id_announcements"),
            "announcements",
            ["announced_id"],
            ["id"],
        )


def downgrade() -> None:
    with op.batch_alter_table("requests", schema=None) as batch_op:
        batch_op.drop_constraint(
            batch_op.f("fk_requests_announced_id_announcements"), type_="foreignkey"
        )
        batch_op.drop_index("ix_requests_status_announced_id")
        batch_op.drop_column("anonymised_at")
        batch_op.drop_column("announced_id")

    with op.batch_alter_table("outbox", schema=None) as batch_op:
        batch_op.drop_index("ix_outbox_status_next_attempt_at")
        batch_op.drop_index(batch_op.f("ix_outbox_request_id"))

    op.drop_table("outbox")
    with op.batch_alter_table("announcement_items", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_announcement_items_announcement_id"))

    op.drop_table("announcement_items")
    with op.batch_alter_table("announcements", schema=None) as batch_op:
        batch_op.drop_index("ix_announcements_published_at")

    op.drop_table("announcements")
    op.drop_table("job_leases")
