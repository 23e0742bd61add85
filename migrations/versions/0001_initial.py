"""offices, pickup points, services, requests and their history

Revision ID: 0001
Revises: 
Create Date: 2026-11-24 05:55:56.214467
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op


revision = '0001'
down_revision = None
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table('offices',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('code', sa.String(length=32), nullable=False),
    sa.Column('name', sa.String(length=200), nullable=False),
    sa.Column('kind', sa.Enum('dinas', 'upt', 'kecamatan', 'kelurahan', 'mall', 'mpp', name='officekind', native_enum=False, length=16), nullable=False),
    sa.Column('timezone', sa.String(length=40), nullable=False),
    sa.Column('address', sa.String(length=300), nullable=False),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_offices')),
    sa.UniqueConstraint('code', name=op.f('uq_offices_code'))
    )
    op.create_table('services',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('code', sa.String(length=32), nullable=False),
    sa.Column('name_id', sa.String(length=120), nullable=False),
    sa.Column('name_en', sa.String(length=120), nullable=False),
    sa.Column('target_days', sa.Integer(), nullable=False),
    sa.Column('bring_id', sa.Text(), nullable=False),
    sa.Column('bring_en', sa.Text(), nullable=False),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_services')),
    sa.UniqueConstraint('code', name=op.f('uq_services_code'))
    )
    op.create_table('pickup_points',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('code', sa.String(length=40), nullable=False),
    sa.Column('office_id', sa.Integer(), nullable=False),
    sa.Column('name', sa.String(length=200), nullable=False),
    sa.Column('kind', sa.Enum('office', 'kecamatan', 'kelurahan', 'mall', 'mobile', name='pointkind', native_enum=False, length=16), nullable=False),
    sa.Column('address', sa.String(length=300), nullable=False),
    sa.Column('counters', sa.JSON(), nullable=False),
    sa.Column('number_prefix', sa.String(length=2), nullable=False),
    sa.Column('is_main', sa.Boolean(), nullable=False),
    sa.ForeignKeyConstraint(['office_id'], ['offices.id'], name=op.f('fk_pickup_points_office_id_offices')),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_pickup_points')),
    sa.UniqueConstraint('code', name=op.f('uq_pickup_points_code'))
    )
    with op.batch_alter_table('pickup_points', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_pickup_points_office_id'), ['office_id'], unique=False)

    op.create_table('opening_hours',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('point_id', sa.Integer(), nullable=False),
    sa.Column('weekday', sa.Integer(), nullable=False),
    sa.Column('opens', sa.Time(), nullable=False),
    sa.Column('closes', sa.Time(), nullable=False),
    sa.ForeignKeyConstraint(['point_id'], ['pickup_points.id'], name=op.f('fk_opening_hours_point_id_pickup_points')),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_opening_hours'))
    )
    with op.batch_alter_table('opening_hours', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_opening_hours_point_id'), ['point_id'], unique=False)

    op.create_table('pickup_counters',
    sa.Column('point_id', sa.Integer(), nullable=False),
    sa.Column('day', sa.Date(), nullable=False),
    sa.Column('last', sa.Integer(), nullable=False),
    sa.ForeignKeyConstraint(['point_id'], ['pickup_points.id'], name=op.f('fk_pickup_counters_point_id_pickup_points')),
    sa.PrimaryKeyConstraint('point_id', 'day', name=op.f('pk_pickup_counters'))
    )
    op.create_table('requests',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('receipt', sa.String(length=12), nullable=False),
    sa.Column('office_id', sa.Integer(), nullable=False),
    sa.Column('service_id', sa.Integer(), nullable=False),
    sa.Column('applicant_name', sa.String(length=200), nullable=False),
    sa.Column('nik', sa.String(length=16), nullable=True),
    sa.Column('phone', sa.String(length=20), nullable=True),
    sa.Column('email', sa.String(length=200), nullable=True),
    sa.Column('address', sa.String(length=300), nullable=True),
    sa.Column('status', sa.Enum('submitted', 'verifying', 'needs_fix', 'processing', 'ready', 'delivering', 'delivered', 'collected', 'returned', 'rejected', 'cancelled', name='status', native_enum=False, length=16), nullable=False),
    sa.Column('version', sa.Integer(), nullable=False),
    sa.Column('created_at', sa.DateTime(timezone=True), nullable=False),
    sa.Column('updated_at', sa.DateTime(timezone=True), nullable=False),
    sa.Column('expected_on', sa.Date(), nullable=False),
    sa.Column('pickup_point_id', sa.Integer(), nullable=True),
    sa.Column('window_starts', sa.DateTime(timezone=True), nullable=True),
    sa.Column('window_ends', sa.DateTime(timezone=True), nullable=True),
    sa.Column('pickup_day', sa.Date(), nullable=True),
    sa.Column('pickup_number', sa.String(length=12), nullable=True),
    sa.ForeignKeyConstraint(['office_id'], ['offices.id'], name=op.f('fk_requests_office_id_offices')),
    sa.ForeignKeyConstraint(['pickup_point_id'], ['pickup_points.id'], name=op.f('fk_requests_pickup_point_id_pickup_points')),
    sa.ForeignKeyConstraint(['service_id'], ['services.id'], name=op.f('fk_requests_service_id_services')),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_requests')),
    sa.UniqueConstraint('pickup_point_id', 'pickup_day', 'pickup_number', name=op.f('uq_requests_pickup_point_id')),
    sa.UniqueConstraint('receipt', name=op.f('uq_requests_receipt'))
    )
    with op.batch_alter_table('requests', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_requests_nik'), ['nik'], unique=False)
        batch_op.create_index('ix_requests_office_status', ['office_id', 'status'], unique=False)

    op.create_table('status_events',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('request_id', sa.Integer(), nullable=False),
    sa.Column('from_status', sa.Enum('submitted', 'verifying', 'needs_fix', 'processing', 'ready', 'delivering', 'delivered', 'collected', 'returned', 'rejected', 'cancelled', name='status', native_enum=False, length=16), nullable=True),
    sa.Column('to_status', sa.Enum('submitted', 'verifying', 'needs_fix', 'processing', 'ready', 'delivering', 'delivered', 'collected', 'returned', 'rejected', 'cancelled', name='status', native_enum=False, length=16), nullable=False),
    sa.Column('at', sa.DateTime(timezone=True), nullable=False),
    sa.Column('actor', sa.String(length=80), nullable=False),
    sa.Column('public_note', sa.Text(), nullable=False),
    sa.Column('internal_note', sa.Text(), nullable=False),
    sa.ForeignKeyConstraint(['request_id'], ['requests.id'], name=op.f('fk_status_events_request_id_requests')),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_status_events'))
    )
    with op.batch_alter_table('status_events', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_status_events_request_id'), ['request_id'], unique=False)



def downgrade() -> None:
    with op.batch_alter_table('status_events', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_status_events_request_id'))

    op.drop_table('status_events')
    with op.batch_alter_table('requests', schema=None) as batch_op:
        batch_op.drop_index('ix_requests_office_status')
        batch_op.drop_index(batch_op.f('ix_requests_nik'))

    op.drop_table('requests')
    op.drop_table('pickup_counters')
    with op.batch_alter_table('opening_hours', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_opening_hours_point_id'))

    op.drop_table('opening_hours')
    with op.batch_alter_table('pickup_points', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_pickup_points_office_id'))

    op.drop_table('pickup_points')
    op.drop_table('services')
    op.drop_table('offices')
