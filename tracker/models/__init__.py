"""The tables, in three groups: places (offices, pickup points, services), requests (with
their history and handovers) and staff (accounts and the audit trail)."""

from __future__ import annotations

from tracker.models.api import ApiIdempotency, ApiKey, KeyScope, api_key_offices
from tracker.models.base import TIMEZONES, Base, UTCDateTime, text_enum, utcnow
from tracker.models.places import (
    Closure,
    LeaveDay,
    Office,
    OfficeKind,
    OpeningHours,
    PickupPoint,
    PointKind,
    Service,
)
from tracker.models.publishing import (
    Announcement,
    AnnouncementItem,
    AnnouncementKind,
    JobLease,
    OutboxMessage,
    OutboxStatus,
)
from tracker.models.requests import (
    Channel,
    CollectorKind,
    Handover,
    PickupSeries,
    Request,
    StatusEvent,
)
from tracker.models.staff import AuditEntry, Role, StaffAccount
from tracker.models.statistics import DailyFigure
from tracker.models.webhooks import WebhookEvent, WebhookSubscription

__all__ = [
    "TIMEZONES",
    "ApiIdempotency",
    "ApiKey",
    "KeyScope",
    "api_key_offices",
    "Announcement",
    "AnnouncementItem",
    "AnnouncementKind",
    "JobLease",
    "OutboxMessage",
    "OutboxStatus",
    "AuditEntry",
    "Base",
    "Channel",
    "Closure",
    "DailyFigure",
    "CollectorKind",
    "Handover",
    "LeaveDay",
    "Office",
    "OfficeKind",
    "OpeningHours",
    "PickupSeries",
    "PickupPoint",
    "PointKind",
    "Request",
    "Role",
    "Service",
    "StaffAccount",
    "StatusEvent",
    "UTCDateTime",
    "text_enum",
    "utcnow",
    "WebhookEvent",
    "WebhookSubscription",
]
