"""Requests, their append-only status history, handovers and pickup-number series."""

from __future__ import annotations

import datetime as dt
import enum
from typing import Any

from sqlalchemy import Date, ForeignKey, Index, Integer, String, Text, event, text
from sqlalchemy.orm import Mapped, mapped_column, relationship

from tracker.models.base import Base, UTCDateTime, text_enum, utcnow
from tracker.models.places import Office, PickupPoint, Service
from tracker.status import Status


class Channel(enum.StrEnum):
    """How a citizen who agreed to notifications wants to hear from the office."""

    WHATSAPP = "whatsapp"
    SMS = "sms"
    EMAIL = "email"
    WEBHOOK = "webhook"  # an office's endpoint (``WebhookSubscription``), never a citizen's


CITIZEN_CHANNELS = (Channel.WHATSAPP, Channel.SMS, Channel.EMAIL)


class CollectorKind(enum.StrEnum):
    SELF = "self"
    REPRESENTATIVE = "representative"
    COURIER = "courier"


# The statuses in which a document waits at a point and holds its pickup number there.
WAITING_SQL = text("status IN ('ready', 'returned')")
# The statuses in which the service time runs (``tracker.status.CLOCK_RUNS``): the overdue
# list's index holds those requests only.
RUNNING_SQL = text("status IN ('submitted', 'verifying', 'processing')")


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
    # When what a bridge sees of it last changed (a move, a window moved by a closure or a
    # leave day): the order of ``GET /api/v1/requests``. ``updated_at`` stays the moment of
    # the last move.
    changed_at: Mapped[dt.datetime | None] = mapped_column(UTCDateTime, default=utcnow)
    expected_on: Mapped[dt.date] = mapped_column(Date)
    pickup_point_id: Mapped[int | None] = mapped_column(ForeignKey("pickup_points.id"))
    window_starts: Mapped[dt.datetime | None] = mapped_column(UTCDateTime)
    window_ends: Mapped[dt.datetime | None] = mapped_column(UTCDateTime)
    pickup_day: Mapped[dt.date | None] = mapped_column(Date)
    pickup_number: Mapped[str | None] = mapped_column(String(12))
    consent_notify: Mapped[bool] = mapped_column(default=False)
    channel: Mapped[Channel | None] = mapped_column(text_enum(Channel))
    wants_delivery: Mapped[bool] = mapped_column(default=False)
    preferred_point_id: Mapped[int | None] = mapped_column(ForeignKey("pickup_points.id"))
    representative_allowed: Mapped[bool] = mapped_column(default=True)
    # The batch announcement that published this document as ready (NULL: not yet).
    announced_id: Mapped[int | None] = mapped_column(ForeignKey("announcements.id"))
    anonymised_at: Mapped[dt.datetime | None] = mapped_column(UTCDateTime)
    # The counter a ready document was last called to, for the lobby board; calling does not
    # touch ``updated_at``, which for a ready document stays the moment it became ready.
    counter: Mapped[str | None] = mapped_column(String(40))
    called_at: Mapped[dt.datetime | None] = mapped_column(UTCDateTime)
    # The citizen's language ("id" or "en"): their messages and calendar entries use it.
    language: Mapped[str] = mapped_column(String(2), default="id", server_default="id")
    # Working days the office waited on the citizen (needs fix): the service-time clock
    # stops for them, so the expected date and lateness leave them out.
    paused_days: Mapped[int] = mapped_column(Integer, default=0, server_default="0")
    # The office's own reference of the application (SIAK's number), given by a bridge
    # through the API: unique within an office, so a bridge never registers one twice.
    external_ref: Mapped[str | None] = mapped_column(String(64))

    office: Mapped[Office] = relationship()
    service: Mapped[Service] = relationship()
    pickup_point: Mapped[PickupPoint | None] = relationship(foreign_keys=[pickup_point_id])
    preferred_point: Mapped[PickupPoint | None] = relationship(foreign_keys=[preferred_point_id])
    events: Mapped[list[StatusEvent]] = relationship(
        back_populates="request", order_by="StatusEvent.id", cascade="save-update, merge"
    )

    __mapper_args__ = {"version_id_col": version}
    __table_args__ = (
        # The console's lists: a status's requests, oldest change first, of one office or
        # of all (an admin's); the overdue list, by date, of those whose time runs.
        Index("ix_requests_office_status_updated", "office_id", "status", "updated_at", "id"),
        Index("ix_requests_status_updated", "status", "updated_at", "id"),
        Index("ix_requests_running_expected", "expected_on", "id", postgresql_where=RUNNING_SQL),
        Index("ix_requests_status_announced_id", "status", "announced_id"),
        Index("ix_requests_pickup_point_id_status", "pickup_point_id", "status"),
        # A pickup number is held by one waiting document at a point at a time.
        Index(
            "uq_requests_waiting_pickup_number",
            "pickup_point_id",
            "pickup_number",
            unique=True,
            sqlite_where=WAITING_SQL,
            postgresql_where=WAITING_SQL,
        ),
        Index("ix_requests_office_changed", "office_id", "changed_at", "id"),
        Index("uq_requests_office_external_ref", "office_id", "external_ref", unique=True),
    )


class StatusEvent(Base):
    """One change of status. Append-only: rows are never updated or deleted."""

    __tablename__ = "status_events"
    __table_args__ = (Index("ix_status_events_at", "at"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    request_id: Mapped[int] = mapped_column(ForeignKey("requests.id"), index=True)
    from_status: Mapped[Status | None] = mapped_column(text_enum(Status))
    to_status: Mapped[Status] = mapped_column(text_enum(Status))
    at: Mapped[dt.datetime] = mapped_column(UTCDateTime, default=utcnow)
    actor: Mapped[str] = mapped_column(String(80))
    public_note: Mapped[str] = mapped_column(Text, default="")
    internal_note: Mapped[str] = mapped_column(Text, default="")

    request: Mapped[Request] = relationship(back_populates="events")


class Handover(Base):
    """Who took a document away: the applicant, a representative, or a courier for delivery."""

    __tablename__ = "handovers"

    id: Mapped[int] = mapped_column(primary_key=True)
    request_id: Mapped[int] = mapped_column(ForeignKey("requests.id"), index=True)
    event_id: Mapped[int] = mapped_column(ForeignKey("status_events.id"))
    kind: Mapped[CollectorKind] = mapped_column(text_enum(CollectorKind))
    collector_name: Mapped[str] = mapped_column(String(200), default="")
    relation: Mapped[str] = mapped_column(String(80), default="")
    id_checked: Mapped[bool] = mapped_column(default=False)
    attorney_checked: Mapped[bool] = mapped_column(default=False)
    courier: Mapped[str] = mapped_column(String(80), default="")
    tracking_ref: Mapped[str] = mapped_column(String(80), default="")
    at: Mapped[dt.datetime] = mapped_column(UTCDateTime, default=utcnow)
    actor: Mapped[str] = mapped_column(String(80))

    event: Mapped[StatusEvent] = relationship()


class PickupSeries(Base):
    """The last pickup number handed out in a series: a fixed point's own (``point:ID``), the
    visits of an office (``visits:OFFICE_ID``), or the returns kept at a point
    (``returns:ID``). See ``tracker.places.pickup.series_of``."""

    __tablename__ = "pickup_series"

    key: Mapped[str] = mapped_column(String(40), primary_key=True)
    last: Mapped[int] = mapped_column(Integer, default=0)


@event.listens_for(StatusEvent, "before_update")
@event.listens_for(StatusEvent, "before_delete")
def _history_is_append_only(_mapper: Any, _connection: Any, target: StatusEvent) -> None:
    raise RuntimeError(f"status event {target.id} is history and cannot be changed")
