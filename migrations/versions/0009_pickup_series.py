"""One pickup number per waiting document: numbers are drawn from series, not per day

Revision ID: 0009
Revises: 0008
Create Date: 2026-11-28 00:00:00.000000

Pickup numbers counted per point and day, so a point where documents wait ten days could
hold ``M-001`` four times. Now a point's numbers follow on from day to day (``pickup_series``),
every visit of an office draws from one series, a document kept at the main office after
its window gets a number of that point's returns series (``R-017``), and a partial unique
index lets one waiting document (ready or returned) hold a number at a point.

A database that already holds repeats is put right first: at each point (and across the
visits of an office) the first document to hold a number keeps it, the others get the next
free one; returned documents get a number of their point's returns series. Each series then
goes on from the highest number in use. The per-day unique constraint is dropped.
"""

from __future__ import annotations

from collections import defaultdict

import sqlalchemy as sa
from alembic import op

revision = "0009"
down_revision = "0008"
branch_labels = None
depends_on = None

WAITING = ("ready", "returned")
WAITING_SQL = "status IN ('ready', 'returned')"
OLD = "uq_requests_pickup_point_id"
NEW = "uq_requests_waiting_pickup_number"
NUMBERS = 999
RETURNS_PREFIX = "R"

requests = sa.table(
    "requests",
    sa.column("id", sa.Integer),
    sa.column("status", sa.String),
    sa.column("pickup_point_id", sa.Integer),
    sa.column("pickup_day", sa.Date),
    sa.column("pickup_number", sa.String),
)
points = sa.table(
    "pickup_points",
    sa.column("id", sa.Integer),
    sa.column("office_id", sa.Integer),
    sa.column("number_prefix", sa.String),
    sa.column("visit_starts", sa.DateTime),
)


def _series(point: tuple[int, int, str, bool], returned: bool) -> tuple[str, str]:
    """The series' key and prefix, as ``tracker.places.pickup.series_of`` has them."""
    point_id, office_id, prefix, visit = point
    if returned and prefix != RETURNS_PREFIX:
        return f"returns:{point_id}", RETURNS_PREFIX
    if visit:
        return f"visits:{office_id}", prefix
    return f"point:{point_id}", prefix


def _value(number: str | None, prefix: str) -> int | None:
    if not number or not number.startswith(f"{prefix}-"):
        return None
    digits = number[len(prefix) + 1 :]
    return int(digits) if digits.isdigit() else None


def _renumber(connection: sa.Connection) -> dict[str, int]:
    """Give every waiting document a number unique in its series; the last of each series."""
    places = {
        row.id: (row.id, row.office_id, row.number_prefix, row.visit_starts is not None)
        for row in connection.execute(
            sa.select(points.c.id, points.c.office_id, points.c.number_prefix, points.c.visit_starts)
        )
    }
    waiting = connection.execute(
        sa.select(requests.c.id, requests.c.status, requests.c.pickup_point_id, requests.c.pickup_number)
        .where(requests.c.status.in_(WAITING), requests.c.pickup_point_id.is_not(None))
        .order_by(requests.c.id)
    )
    groups: dict[tuple[str, str], list[tuple[int, str | None]]] = defaultdict(list)
    for row in waiting:
        key = _series(places[row.pickup_point_id], row.status == "returned")
        groups[key].append((row.id, row.pickup_number))
    lasts: dict[str, int] = {}
    changes: list[dict[str, object]] = []
    for (key, prefix), rows in groups.items():
        held: set[int] = set()
        again: list[int] = []
        for request_id, number in rows:
            value = _value(number, prefix)
            if value is None or value in held:
                again.append(request_id)
            else:
                held.add(value)
        last = max(held, default=0)
        size = NUMBERS
        while size - sum(1 for n in held if n <= size) < len(again):
            size = size * 10 + 9
        for request_id in again:
            last = last + 1 if last < size else 1
            while last in held:
                last = last + 1 if last < size else 1
            held.add(last)
            changes.append({"key_id": request_id, "number": f"{prefix}-{last:03d}"})
        lasts[key] = last
    if changes:
        connection.execute(
            requests.update()
            .where(requests.c.id == sa.bindparam("key_id"))
            .values(pickup_number=sa.bindparam("number")),
            changes,
        )
    return lasts


def _drop_old_constraint(connection: sa.Connection) -> None:
    if connection.dialect.name != "sqlite":
        op.drop_constraint(OLD, "requests", type_="unique")
        return
    as_index = connection.exec_driver_sql(
        "SELECT 1 FROM sqlite_master WHERE type = 'index' AND name = ? AND sql IS NOT NULL",
        (OLD,),
    ).first()
    if as_index:  # put back by a downgrade as an index
        op.drop_index(OLD, table_name="requests")
        return
    # A constraint written in CREATE TABLE goes only with the table: SQLite copies it
    # (foreign keys are off while migrating, tracker/schema.py).
    with op.batch_alter_table("requests", recreate="always") as batch_op:
        batch_op.drop_constraint(OLD, type_="unique")


def upgrade() -> None:
    connection = op.get_bind()
    series = op.create_table(
        "pickup_series",
        sa.Column("key", sa.String(length=40), nullable=False),
        sa.Column("last", sa.Integer(), nullable=False),
        sa.PrimaryKeyConstraint("key", name=op.f("pk_pickup_series")),
    )
    _drop_old_constraint(connection)
    lasts = _renumber(connection)
    if lasts:
        op.bulk_insert(series, [{"key": key, "last": last} for key, last in sorted(lasts.items())])
    op.create_index(
        NEW,
        "requests",
        ["pickup_point_id", "pickup_number"],
        unique=True,
        sqlite_where=sa.text(WAITING_SQL),
        postgresql_where=sa.text(WAITING_SQL),
    )
    op.drop_table("pickup_counters")


def downgrade() -> None:
    connection = op.get_bind()
    counters = op.create_table(
        "pickup_counters",
        sa.Column("point_id", sa.Integer(), nullable=False),
        sa.Column("day", sa.Date(), nullable=False),
        sa.Column("last", sa.Integer(), nullable=False),
        sa.ForeignKeyConstraint(
            ["point_id"],
            ["pickup_points.id"],
            name=op.f("fk_pickup_counters_point_id_pickup_points"),
        ),
        sa.PrimaryKeyConstraint("point_id", "day", name=op.f("pk_pickup_counters")),
    )
    # The per-day counters go on from the highest number each point and day holds.
    highest: dict[tuple[int, object], int] = {}
    numbered = connection.execute(
        sa.select(requests.c.pickup_point_id, requests.c.pickup_day, requests.c.pickup_number).where(
            requests.c.pickup_day.is_not(None), requests.c.pickup_number.is_not(None)
        )
    )
    for point_id, day, number in numbered:
        digits = number.rpartition("-")[2]
        if point_id is not None and digits.isdigit():
            key = (point_id, day)
            highest[key] = max(highest.get(key, 0), int(digits))
    if highest:
        op.bulk_insert(
            counters,
            [{"point_id": p, "day": d, "last": n} for (p, d), n in sorted(highest.items())],
        )
    op.drop_index(NEW, table_name="requests")
    op.drop_table("pickup_series")
    # Put back as an index on SQLite: a constraint would mean copying the table.
    if connection.dialect.name == "sqlite":
        op.create_index(OLD, "requests", ["pickup_point_id", "pickup_day", "pickup_number"], unique=True)
    else:
        op.create_unique_constraint(
            OLD, "requests", ["pickup_point_id", "pickup_day", "pickup_number"]
        )
