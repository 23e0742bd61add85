"""Webhook subscriptions: an office's endpoint that is told of its changes as they happen.

A delivery is signed with the signing secret when sent, so it cannot be a one-way hash as an
API key is; it is kept sealed by ``WEBHOOK_SECRET_KEY`` instead (``tracker.webhooks.sealing``:
``sealed.`` and base64; one stored by an earlier release may still be ``whsec_`` in the clear
until ``webhook reseal``). After a rotation the previous secret still signs, beside the new
one, until ``previous_until``.
"""

from __future__ import annotations

import datetime as dt
import enum

from sqlalchemy import Boolean, ForeignKey, Index, String
from sqlalchemy.orm import Mapped, mapped_column, relationship

from tracker.models.base import Base, UTCDateTime, utcnow
from tracker.models.places import Office


class WebhookEvent(enum.StrEnum):
    STATUS_CHANGED = "request.status_changed"  # a request of the office changed status
    ANNOUNCEMENT_PUBLISHED = "announcement.published"  # one of its points announced documents


class WebhookSubscription(Base):
    """``events``: the names of the events it wants, comma-separated, in ``WebhookEvent``
    order. A removed subscription keeps its row (its deliveries point to it), inactive."""

    __tablename__ = "webhook_subscriptions"
    __table_args__ = (Index("ix_webhook_subscriptions_office_active", "office_id", "active"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    office_id: Mapped[int] = mapped_column(ForeignKey("offices.id"))
    url: Mapped[str] = mapped_column(String(200))
    events: Mapped[str] = mapped_column(String(200))
    secret: Mapped[str] = mapped_column(String(80))
    previous_secret: Mapped[str | None] = mapped_column(String(80))
    previous_until: Mapped[dt.datetime | None] = mapped_column(UTCDateTime)
    active: Mapped[bool] = mapped_column(Boolean, default=True)
    created_by: Mapped[str] = mapped_column(String(80))
    created_at: Mapped[dt.datetime] = mapped_column(UTCDateTime, default=utcnow)
    removed_at: Mapped[dt.datetime | None] = mapped_column(UTCDateTime)
    last_delivery_at: Mapped[dt.datetime | None] = mapped_column(UTCDateTime)

    office: Mapped[Office] = relationship()

    @property
    def event_names(self) -> list[str]:
        return [name for name in self.events.split(",") if name]

    def wants(self, event: WebhookEvent) -> bool:
        return event.value in self.event_names

    def secrets_at(self, now: dt.datetime) -> list[str]:
        """The stored secrets that sign a delivery sent at ``now`` (sealed: the keyring opens
        them): the current one, and the previous one while it is still valid."""
        valid = self.previous_secret and self.previous_until and now < self.previous_until
        return [self.secret, self.previous_secret] if valid else [self.secret]  # type: ignore[list-item]
