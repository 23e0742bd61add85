"""The statuses a request passes through, with the words citizens read for each."""

from __future__ import annotations

import enum

from flask_babel import lazy_gettext as _l


class Status(enum.StrEnum):
    SUBMITTED = "submitted"
    VERIFYING = "verifying"
    NEEDS_FIX = "needs_fix"
    PROCESSING = "processing"
    READY = "ready"
    DELIVERING = "delivering"
    DELIVERED = "delivered"
    COLLECTED = "collected"
    RETURNED = "returned"
    REJECTED = "rejected"
    CANCELLED = "cancelled"

    @property
    def label(self) -> str:
        return str(LABELS[self])

    @property
    def next_step(self) -> str:
        return str(NEXT_STEPS[self])

    @property
    def is_open(self) -> bool:
        """Still being worked on, so the service-time target applies."""
        return self in OPEN

    @property
    def is_collectable(self) -> bool:
        return self in (Status.READY, Status.RETURNED)


OPEN = frozenset({Status.SUBMITTED, Status.VERIFYING, Status.NEEDS_FIX, Status.PROCESSING})
FINISHED = frozenset(set(Status) - OPEN)

LABELS = {
    Status.SUBMITTED: _l("Received"),
    Status.VERIFYING: _l("Being verified"),
    Status.NEEDS_FIX: _l("Needs correction"),
    Status.PROCESSING: _l("Being processed"),
    Status.READY: _l("Ready for pickup"),
    Status.DELIVERING: _l("Out for delivery"),
    Status.DELIVERED: _l("Delivered"),
    Status.COLLECTED: _l("Collected"),
    Status.RETURNED: _l("Held at the main office"),
    Status.REJECTED: _l("Rejected"),
    Status.CANCELLED: _l("Cancelled"),
}

NEXT_STEPS = {
    Status.SUBMITTED: _l(
        "Your application has been received. Officers will check your documents; "
        "you do not need to come to the office."
    ),
    Status.VERIFYING: _l(
        "Officers are checking your data and documents. If something needs correcting, "
        "this page will say what."
    ),
    Status.NEEDS_FIX: _l(
        "Something must be corrected before your document can be made. Read the note below "
        "and bring or send what is asked for."
    ),
    Status.PROCESSING: _l(
        "Your data has been verified and your document is being made. "
        "This page will say when and where to collect it."
    ),
    Status.READY: _l(
        "Your document is ready. Collect it at the place and time below, and bring what is listed."
    ),
    Status.DELIVERING: _l("Your document is on its way to the address you gave."),
    Status.DELIVERED: _l("Your document has been delivered. Nothing more is needed."),
    Status.COLLECTED: _l("Your document has been collected. Nothing more is needed."),
    Status.RETURNED: _l(
        "The pickup window has passed. Your document is kept at the main office below; "
        "collect it there during opening hours."
    ),
    Status.REJECTED: _l(
        "Your application could not be processed. The note below says why; you may apply again."
    ),
    Status.CANCELLED: _l("This application was cancelled. Nothing more will happen."),
}
