"""The tables: offices, pickup points, services, requests and their status history."""

from __future__ import annotations

import datetime as dt
import enum
from typing import Any

from sqlalchemy import (
    JSON,
    Date,
    DateTime,
    Enum,
    ForeignKey,
    Index,
    Integer,
    MetaData,
    String,
    Text,
    Time,
    TypeDecorator,
    UniqueConstraint,
    event,
)
from sqlalchemy.orm import DeclarativeBase, Mapped, mapped_column, relationship

from tracker.status import Status

NAMING_CONVENTION = {
    "ix": "ix_%(column_0_label)s",
    "uq": "uq_%(table_name)s_%(column_0_name)s",
    "ck": "ck_%(table_name)s_%(constraint_name)s",
    "fk": "fk_%(table_name)s_%(column_0_name)s_%(referred_table_name)s",
    "pk": "pk_%(table_name)s",
}

TIMEZONES = {"Asia/Jakarta": "WIB", "Asia/Makassar": "WITA", "Asia/Jayapura": "WIT"}


def utcnow() -> dt.datetime:
    return dt.datetime.now(dt.UTC)


class UTCDateTime(TypeDecorator[dt.datetime]):
    """An aware UTC datetime on every database (SQLite keeps no time zone).

    On SQLite it is stored as SQLAlchemy stores a DATETIME (``2026-12-01 01:00:00.000000``,
    UTC), but written and read with one C call each (``isoformat``/``fromisoformat``)
    instead of SQLAlchemy's chain of Python steps: look-ups read a dozen of these per
    answer, and ``demo --requests`` writes millions."""

    impl = DateTime(timezone=True)
    cache_ok = True

    def bind_processor(self, dialect: Any) -> Any:
        if dialect.name != "sqlite":
            return super().bind_processor(dialect)

        def process(value: dt.datetime | None) -> str | None:
            if value is None:
                return None
            if value.tzinfo is None:
                raise ValueError("naive datetime given; use an aware UTC datetime")
            return value.astimezone(dt.UTC).isoformat(" ", "microseconds")[:26]  # no "+00:00"

        return process

    def result_processor(self, dialect: Any, coltype: Any) -> Any:
        if dialect.name != "sqlite":
            return super().result_processor(dialect, coltype)

        def process(value: str | None) -> dt.datetime | None:
            if value is None:
                return None
            return dt.datetime.fromisoformat(value).replace(tzinfo=dt.UTC)

        return process

    def process_bind_param(self, value: dt.datetime | None, dialect: Any) -> dt.datetime | None:
        if value is None:
            return None
        if value.tzinfo is None:
            raise ValueError("naive datetime given; use an aware UTC datetime")
        value = value.astimezone(dt.UTC)
        return value.replace(tzinfo=None) if dialect.name == "sqlite" else value

    def process_result_value(self, value: dt.datetime | None, dialect: Any) -> dt.datetime | None:
        if value is None:
            return None
        return value.replace(tzinfo=dt.UTC) if value.tzinfo is None else value.astimezone(dt.UTC)


def text_enum(enum_class: type[enum.Enum]) -> Enum:
    """An enum stored as its string values (no native type, so adding a value needs no ALTER)."""
    return Enum(
        enum_class,
        native_enum=False,
        length=16,
        values_callable=lambda members: [m.value for m in members],
        validate_strings=True,
    )


class Base(DeclarativeBase):
    metadata = MetaData(naming_convention=NAMING_CONVENTION)


class OfficeKind(enum.StrEnum):
    DINAS = "dinas"
    UPT = "upt"
    KECAMATAN = "kecamatan"
    KELURAHAN = "kelurahan"
    MALL = "mall"
    MPP = "mpp"


class PointKind(enum.StrEnum):
    OFFICE = "office"
    KECAMATAN = "kecamatan"
    KELURAHAN = "kelurahan"
    MALL = "mall"
    MOBILE = "mobile"


class Office(Base):
    __tablename__ = "offices"

    id: Mapped[int] = mapped_column(primary_key=True)
    code: Mapped[str] = mapped_column(String(32), unique=True)
    name: Mapped[str] = mapped_column(String(200))
    kind: Mapped[OfficeKind] = mapped_column(text_enum(OfficeKind))
    timezone: Mapped[str] = mapped_column(String(40), default="Asia/Jakarta")
    address: Mapped[str] = mapped_column(String(300), default="")

    points: Mapped[list[PickupPoint]] = relationship(
        back_populates="office", order_by="PickupPoint.id"
    )

    @property
    def zone_abbreviation(self) -> str:
        return TIMEZONES.get(self.timezone, self.timezone)


class PickupPoint(Base):
    __tablename__ = "pickup_points"

    id: Mapped[int] = mapped_column(primary_key=True)
    code: Mapped[str] = mapped_column(String(40), unique=True)
    office_id: Mapped[int] = mapped_column(ForeignKey("offices.id"), index=True)
    name: Mapped[str] = mapped_column(String(200))
    kind: Mapped[PointKind] = mapped_column(text_enum(PointKind))
    address: Mapped[str] = mapped_column(String(300))
    counters: Mapped[list[str]] = mapped_column(JSON, default=list)
    number_prefix: Mapped[str] = mapped_column(String(2), default="A")
    is_main: Mapped[bool] = mapped_column(default=False)

    office: Mapped[Office] = relationship(back_populates="points")
    hours: Mapped[list[OpeningHours]] = relationship(
        back_populates="point",
        order_by="(OpeningHours.weekday, OpeningHours.opens)",
        cascade="all, delete-orphan",
    )


class OpeningHours(Base):
    """One opening period of a pickup point on one weekday (0 = Monday); a day may have two."""

    __tablename__ = "opening_hours"

    id: Mapped[int] = mapped_column(primary_key=True)
    point_id: Mapped[int] = mapped_column(ForeignKey("pickup_points.id"), index=True)
    weekday: Mapped[int] = mapped_column(Integer)
    opens: Mapped[dt.time] = mapped_column(Time)
    closes: Mapped[dt.time] = mapped_column(Time)

    point: Mapped[PickupPoint] = relationship(back_populates="hours")


class Service(Base):
    __tablename__ = "services"

    id: Mapped[int] = mapped_column(primary_key=True)
    code: Mapped[str] = mapped_column(String(32), unique=True)
    name_id: Mapped[str] = mapped_column(String(120))
    name_en: Mapped[str] = mapped_column(String(120))
    target_days: Mapped[int] = mapped_column(Integer)
    bring_id: Mapped[str] = mapped_column(Text, default="")
    bring_en: Mapped[str] = mapped_column(Text, default="")


class Request(Base):
    """One application for one document; ``status`` is kept in step with the last event."""

    __tablename__ = "requests"

    id: Mapped[int] = mapped_column(primary_key=True)
    receipt: Mapped[str] = mapped_column(String(12), unique=True)
    office_id: Mapped[int] = mapped_column(ForeignKey("offices.id"))
    service_id: Mapped[int] = mapped_column(ForeignKey("services.id"))
    applicant_name: Mapped[str] = mapped_column(String(200))
    nik: Mapped[str | None] = mapped_column(String(16), index=True)
    phone: Mapped[str | None] = mapped_column(String(20))
    email: Mapped[str | None] = mapped_column(String(200))
    address: Mapped[str | None] = mapped_column(String(300))
    status: Mapped[Status] = mapped_column(text_enum(Status), default=Status.SUBMITTED)
    version: Mapped[int] = mapped_column(Integer, default=1)
    created_at: Mapped[dt.datetime] = mapped_column(UTCDateTime, default=utcnow)
    updated_at: Mapped[dt.datetime] = mapped_column(UTCDateTime, default=utcnow)
    expected_on: Mapped[dt.date] = mapped_column(Date)
    pickup_point_id: Mapped[int | None] = mapped_column(ForeignKey("pickup_points.id"))
    window_starts: Mapped[dt.datetime | None] = mapped_column(UTCDateTime)
    window_ends: Mapped[dt.datetime | None] = mapped_column(UTCDateTime)
    pickup_day: Mapped[dt.date | None] = mapped_column(Date)
    pickup_number: Mapped[str | None] = mapped_column(String(12))

    office: Mapped[Office] = relationship()
    service: Mapped[Service] = relationship()
    pickup_point: Mapped[PickupPoint | None] = relationship()
    events: Mapped[list[StatusEvent]] = relationship(
        back_populates="request", order_by="StatusEvent.id", cascade="save-update, merge"
    )

    __mapper_args__ = {"version_id_col": version}
    __table_args__ = (
        Index("ix_requests_office_status", "office_id", "status"),
        UniqueConstraint("pickup_point_id", "pickup_day", "pickup_number"),
    )


class StatusEvent(Base):
    """One change of status. Append-only: rows are never updated or deleted."""

    __tablename__ = "status_events"

    id: Mapped[int] = mapped_column(primary_key=True)
    request_id: Mapped[int] = mapped_column(ForeignKey("requests.id"), index=True)
    from_status: Mapped[Status | None] = mapped_column(text_enum(Status))
    to_status: Mapped[Status] = mapped_column(text_enum(Status))
    at: Mapped[dt.datetime] = mapped_column(UTCDateTime, default=utcnow)
    actor: Mapped[str] = mapped_column(String(80))
    public_note: Mapped[str] = mapped_column(Text, default="")
    internal_note: Mapped[str] = mapped_column(Text, default="")

    request: Mapped[Request] = relationship(back_populates="events")


class PickupCounter(Base):
    """The last pickup number handed out at a point on a day."""

    __tablename__ = "pickup_counters"

    point_id: Mapped[int] = mapped_column(ForeignKey("pickup_points.id"), primary_key=True)
    day: Mapped[dt.date] = mapped_column(Date, primary_key=True)
    last: Mapped[int] = mapped_column(Integer, default=0)


@event.listens_for(StatusEvent, "before_update")
@event.listens_for(StatusEvent, "before_delete")
def _history_is_append_only(_mapper: Any, _connection: Any, target: StatusEvent) -> None:
    raise RuntimeError(f"status event {target.id} is history and cannot be changed")
