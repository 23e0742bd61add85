"""Where requests are made and collected: offices, pickup points, their hours and closures,
and the services offered."""

from __future__ import annotations

import datetime as dt
import enum

from sqlalchemy import (
    JSON,
    Boolean,
    Date,
    Float,
    ForeignKey,
    Integer,
    String,
    Text,
    Time,
    UniqueConstraint,
    true,
)
from sqlalchemy.orm import Mapped, mapped_column, relationship

from tracker.models.base import TIMEZONES, Base, UTCDateTime, text_enum


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
    # Where citizens can ask or complain; a supervisor keeps these up to date.
    phone: Mapped[str] = mapped_column(String(20), default="", server_default="")
    whatsapp: Mapped[str] = mapped_column(String(20), default="", server_default="")
    email: Mapped[str] = mapped_column(String(200), default="", server_default="")

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
    # A mobile-service visit is a pickup point for one window only.
    visit_starts: Mapped[dt.datetime | None] = mapped_column(UTCDateTime)
    visit_ends: Mapped[dt.datetime | None] = mapped_column(UTCDateTime)
    # Where the point is, for map links (WGS 84 degrees); NULL: not known.
    latitude: Mapped[float | None] = mapped_column(Float)
    longitude: Mapped[float | None] = mapped_column(Float)

    office: Mapped[Office] = relationship(back_populates="points")
    hours: Mapped[list[OpeningHours]] = relationship(
        back_populates="point",
        order_by="(OpeningHours.weekday, OpeningHours.opens)",
        cascade="all, delete-orphan",
    )
    closures: Mapped[list[Closure]] = relationship(
        back_populates="point", order_by="Closure.day", cascade="all, delete-orphan"
    )

    @property
    def is_visit(self) -> bool:
        return self.visit_starts is not None


class OpeningHours(Base):
    """One opening period of a pickup point on one weekday (0 = Monday); a day may have two."""

    __tablename__ = "opening_hours"

    id: Mapped[int] = mapped_column(primary_key=True)
    point_id: Mapped[int] = mapped_column(ForeignKey("pickup_points.id"), index=True)
    weekday: Mapped[int] = mapped_column(Integer)
    opens: Mapped[dt.time] = mapped_column(Time)
    closes: Mapped[dt.time] = mapped_column(Time)

    point: Mapped[PickupPoint] = relationship(back_populates="hours")


class Closure(Base):
    """A day a pickup point stays shut besides public holidays (an event, a renovation)."""

    __tablename__ = "closures"
    __table_args__ = (UniqueConstraint("point_id", "day"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    point_id: Mapped[int] = mapped_column(ForeignKey("pickup_points.id"))
    day: Mapped[dt.date] = mapped_column(Date)
    reason: Mapped[str] = mapped_column(String(200), default="")

    point: Mapped[PickupPoint] = relationship(back_populates="closures")


class Service(Base):
    __tablename__ = "services"

    id: Mapped[int] = mapped_column(primary_key=True)
    code: Mapped[str] = mapped_column(String(32), unique=True)
    name_id: Mapped[str] = mapped_column(String(120))
    name_en: Mapped[str] = mapped_column(String(120))
    target_days: Mapped[int] = mapped_column(Integer)
    bring_id: Mapped[str] = mapped_column(Text, default="")
    bring_en: Mapped[str] = mapped_column(Text, default="")
    # False: no longer offered at intake (console or API); its requests and figures stay.
    offered: Mapped[bool] = mapped_column(Boolean, default=True, server_default=true())


class LeaveDay(Base):
    """A collective leave day (cuti bersama): every office is closed, as on a public holiday."""

    __tablename__ = "leave_days"

    id: Mapped[int] = mapped_column(primary_key=True)
    day: Mapped[dt.date] = mapped_column(Date, unique=True)
    name: Mapped[str] = mapped_column(String(200), default="")
