"""What the scheduled jobs publish and send: announcements with their items, the outbox of
messages to citizens, and the leases that let one scheduler at a time run a job."""

from __future__ import annotations

import datetime as dt
import enum

from sqlalchemy import Date, Float, ForeignKey, Index, Integer, String, Text, UniqueConstraint
from sqlalchemy.orm import Mapped, mapped_column, relationship

from tracker.models.base import Base, UTCDateTime, text_enum, utcnow
from tracker.models.places import PickupPoint, Service
from tracker.models.requests import Channel


class AnnouncementKind(enum.StrEnum):
    BATCH = "batch"  # what became ready since the point's last announcement
    DIGEST = "digest"  # the morning list of everything waiting at the point


class Announcement(Base):
    """A published batch: these documents are ready at this point, in these windows."""

    __tablename__ = "announcements"
    __table_args__ = (
        UniqueConstraint("point_id", "kind", "day"),
        Index("ix_announcements_published_at", "published_at"),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    point_id: Mapped[int] = mapped_column(ForeignKey("pickup_points.id"))
    kind: Mapped[AnnouncementKind] = mapped_column(text_enum(AnnouncementKind))
    # A digest is one per point and local day; a batch has no day (NULLs never clash).
    day: Mapped[dt.date | None] = mapped_column(Date)
    published_at: Mapped[dt.datetime] = mapped_column(UTCDateTime, default=utcnow)
    count: Mapped[int] = mapped_column(Integer, default=0)

    point: Mapped[PickupPoint] = relationship()
    items: Mapped[list[AnnouncementItem]] = relationship(
        back_populates="announcement", order_by="AnnouncementItem.pickup_number"
    )


class AnnouncementItem(Base):
    """One document in an announcement, as the public may see it: no receipt, no name."""

    __tablename__ = "announcement_items"

    id: Mapped[int] = mapped_column(primary_key=True)
    announcement_id: Mapped[int] = mapped_column(ForeignKey("announcements.id"), index=True)
    request_id: Mapped[int] = mapped_column(ForeignKey("requests.id"))
    pickup_number: Mapped[str] = mapped_column(String(12))
    masked_name: Mapped[str] = mapped_column(String(200))
    service_id: Mapped[int] = mapped_column(ForeignKey("services.id"))
    window_starts: Mapped[dt.datetime] = mapped_column(UTCDateTime)
    window_ends: Mapped[dt.datetime] = mapped_column(UTCDateTime)

    announcement: Mapped[Announcement] = relationship(back_populates="items")
    service: Mapped[Service] = relationship()


class OutboxStatus(enum.StrEnum):
    HELD = "held"  # waits for the announcement of its document
    PENDING = "pending"
    SENDING = "sending"
    SENT = "sent"
    DEAD = "dead"  # gave up after the last retry; supervisors see it
    CANCELLED = "cancelled"  # the citizen opted out, or the document moved on


class OutboxMessage(Base):
    """A message, written in the transaction of the change that causes it and sent later by
    the dispatcher. Most are about a request (``idempotency_key`` is then unique per
    request, event and channel); a reply to a citizen's own question or a webhook delivery
    belongs to no request, only to an office, and its text is fixed when it is queued.
    ``event`` names its kind (``tracker.outbox.kinds``). The key travels with the message
    so that a receiver can drop a repeat."""

    __tablename__ = "outbox"
    __table_args__ = (Index("ix_outbox_status_next_attempt_at", "status", "next_attempt_at"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    request_id: Mapped[int | None] = mapped_column(ForeignKey("requests.id"), index=True)
    office_id: Mapped[int] = mapped_column(ForeignKey("offices.id"))
    event: Mapped[str] = mapped_column(String(40))
    channel: Mapped[Channel] = mapped_column(text_enum(Channel))
    idempotency_key: Mapped[str] = mapped_column(String(120), unique=True)
    recipient: Mapped[str] = mapped_column(String(200))
    subject: Mapped[str] = mapped_column(String(200), default="")
    body: Mapped[str] = mapped_column(Text)
    status: Mapped[OutboxStatus] = mapped_column(text_enum(OutboxStatus))
    attempts: Mapped[int] = mapped_column(Integer, default=0)
    next_attempt_at: Mapped[dt.datetime] = mapped_column(UTCDateTime, default=utcnow)
    claimed_at: Mapped[dt.datetime | None] = mapped_column(UTCDateTime)
    sent_at: Mapped[dt.datetime | None] = mapped_column(UTCDateTime)
    last_error: Mapped[str] = mapped_column(String(500), default="")
    created_at: Mapped[dt.datetime] = mapped_column(UTCDateTime, default=utcnow)
    # A webhook delivery's subscription: its URL and secrets are read when it is sent.
    webhook_id: Mapped[int | None] = mapped_column(ForeignKey("webhook_subscriptions.id"))


class JobLease(Base):
    """Who runs a job now, and until when: a scheduler takes the lease with one conditional
    UPDATE, so two schedulers (or a hand-run job) never run the same job at once. The row
    also counts the job's runs, failures and time, for ``/metrics`` on any web host: the
    scheduler is a process of its own, often on another host."""

    __tablename__ = "job_leases"

    name: Mapped[str] = mapped_column(String(60), primary_key=True)
    holder: Mapped[str] = mapped_column(String(120), default="")
    until: Mapped[dt.datetime] = mapped_column(UTCDateTime)
    last_finished_at: Mapped[dt.datetime | None] = mapped_column(UTCDateTime)
    runs: Mapped[int] = mapped_column(Integer, default=0, server_default="0")
    failures: Mapped[int] = mapped_column(Integer, default=0, server_default="0")
    seconds_total: Mapped[float] = mapped_column(Float, default=0.0, server_default="0")
    last_seconds: Mapped[float | None] = mapped_column(Float)
