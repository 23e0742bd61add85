"""Staff accounts, the audit trail, handovers, closures, mobile-service visits and intake choices

Revision ID: 0002
Revises: 0001
Create Date: 2026-11-24 07:20:17.937640
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op


revision = "0002"
down_revision = "0001"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table(
        "audit_trail",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("actor", sa.String(length=80), nullable=False),
        sa.Column("action", sa.String(length=60), nullable=False),
        sa.Column("target", sa.String(length=120), nullable=False),
        sa.Column("address", sa.String(length=64), nullable=False),
        sa.Column("details", sa.JSON(), nullable=False),
        sa.Column("previous", sa.String(length=64), nullable=False),
        sa.Column("digest", sa.String(length=64), nullable=False),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_audit_trail")),
        sa.UniqueConstraint("digest", name=op.f("uq_audit_trail_digest")),
    )
    op.create_table(
        "staff_accounts",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("username", sa.String(length=60), nullable=False),
        sa.Column("full_name", sa.String(length=200), nullable=False),
        sa.Column("password_hash", sa.String(length=200), nullable=False),
        sa.Column("office_id", sa.Integer(), nullable=False),
        sa.Column(
            "role",
            sa.Enum("operator", "supervisor", "admin", name="role", native_enum=False, length=16),
            nullable=False,
        ),
        sa.Column("active", sa.Boolean(), nullable=False),
        sa.Column("session_version", sa.Integer(), nullable=False),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("last_login_at", sa.DateTime(timezone=True), nullable=True),
        sa.ForeignKeyConstraint(
            ["office_id"], ["offices.id"], name=op.f("fk_staff_accounts_office_id_offices")
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_staff_accounts")),
        sa.UniqueConstraint("username", name=op.f("uq_staff_accounts_username")),
    )
    op.create_table(
        "closures",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("point_id", sa.Integer(), nullable=False),
        sa.Column("day", sa.Date(), nullable=False),
        sa.Column("reason", sa.String(length=200), nullable=False),
        sa.ForeignKeyConstraint(
            ["point_id"], ["pickup_points.id"], name=op.f("fk_closures_point_id_pickup_points")
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_closures")),
        sa.UniqueConstraint("point_id", "day", name=op.f("uq_closures_point_id")),
    )
    op.create_table(
        "handovers",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("request_id", sa.Integer(), nullable=False),
        sa.Column("event_id", sa.Integer(), nullable=False),
        sa.Column(
            "kind",
            sa.Enum(
                "self",
                "representative",
                "courier",
                name="collectorkind",
                native_enum=False,
                length=16,
            ),
            nullable=False,
        ),
        sa.Column("collector_name", sa.String(length=200), nullable=False),
        sa.Column("relation", sa.String(length=80), nullable=False),
        sa.Column("id_checked", sa.Boolean(), nullable=False),
        sa.Column("attorney_checked", sa.Boolean(), nullable=False),
        sa.Column("courier", sa.String(length=80), nullable=False),
        sa.Column("tracking_ref", sa.String(length=80), nullable=False),
        sa.Column("at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("actor", sa.String(length=80), nullable=False),
        sa.ForeignKeyConstraint(
            ["event_id"], ["status_events.id"], name=op.f("fk_handovers_event_id_status_events")
        ),
        sa.ForeignKeyConstraint(
            ["request_id"], ["requests.id"], name=op.f("fk_handovers_request_id_requests")
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_handovers")),
    )
    with op.batch_alter_table("handovers", schema=None) as batch_op:
        batch_op.create_index(batch_op.f("ix_handovers_request_id"), ["request_id"], unique=False)

    with op.batch_alter_table("pickup_points", schema=None) as batch_op:
        batch_op.add_column(sa.Column("visit_starts", sa.DateTime(timezone=True), nullable=True))
        batch_op.add_column(sa.Column("visit_ends", sa.DateTime(timezone=True), nullable=True))

    with op.batch_alter_table("requests", schema=None) as batch_op:
        batch_op.add_column(
            sa.Column("consent_notify", sa.Boolean(), nullable=False, server_default=sa.false())
        )
        batch_op.add_column(
            sa.Column(
                "channel",
                sa.Enum("whatsapp", "sms", "email", name="channel", native_enum=False, length=16),
                nullable=True,
            )
        )
        batch_op.add_column(
            sa.Column("wants_delivery", sa.Boolean(), nullable=False, server_default=sa.false())
        )
        batch_op.add_column(sa.Column("preferred_point_id", sa.Integer(), nullable=True))
        batch_op.add_column(
            sa.Column(
                "representative_allowed", sa.Boolean(), nullable=False, server_default=sa.true()
            )
        )
        batch_op.create_foreign_key(
            batch_op.f("fk_requests_preferred_point_id_pickup_points"),
            "pickup_points",
            ["preferred_point_id"],
            ["id"],
        )


def downgrade() -> None:
    with op.batch_alter_table("requests", schema=None) as batch_op:
        batch_op.drop_constraint(
            batch_op.f("fk_requests_preferred_point_id_pickup_points"), type_="foreignkey"
        )
        batch_op.drop_column("representative_allowed")
        batch_op.drop_column("preferred_point_id")
        batch_op.drop_column("wants_delivery")
        batch_op.drop_column("channel")
        batch_op.drop_column("consent_notify")

    with op.batch_alter_table("pickup_points", schema=None) as batch_op:
        batch_op.drop_column("visit_ends")
        batch_op.drop_column("visit_starts")

    with op.batch_alter_table("handovers", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_handovers_request_id"))

    op.drop_table("handovers")
    op.drop_table("closures")
    op.drop_table("staff_accounts")
    op.drop_table("audit_trail")
