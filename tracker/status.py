"""The statuses a request passes through, with the words citizens read for each."""

from __future__ import annotations

import enum


def N_(text: str) -> str:
    """Marks a text for translation where it is defined; it is translated where it is shown."""
    return text


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
    def label_source(self) -> str:
        """The untranslated label, for templates to translate with their own ``_``."""
        return LABELS[self]

    @property
    def next_step_source(self) -> str:
        return NEXT_STEPS[self]

    @property
    def is_open(self) -> bool:
        """Still being worked on, so the service-time target applies."""
        return self in OPEN

    @property
    def is_collectable(self) -> bool:
        return self in (Status.READY, Status.RETURNED)


OPEN = frozenset({Status.SUBMITTED, Status.VERIFYING, Status.NEEDS_FIX, Status.PROCESSING})
FINISHED = frozenset(set(Status) - OPEN)
# Open, and the service-time clock runs: not while the office waits on the citizen (needs fix).
CLOCK_RUNS = OPEN - {Status.NEEDS_FIX}
# Ended: nothing can follow (the document left the office, or the request was closed). A
# document that is ready, returned or out with a courier has not ended: it still waits.
ENDED = frozenset({Status.COLLECTED, Status.DELIVERED, Status.REJECTED, Status.CANCELLED})

LABELS = {
    Status.SUBMITTED: N_("Received"),
    Status.VERIFYING: N_("Being verified"),
    Status.NEEDS_FIX: N_("Needs correction"),
    Status.PROCESSING: N_("Being processed"),
    Status.READY: N_("Ready for pickup"),
    Status.DELIVERING: N_("Out for delivery"),
    Status.DELIVERED: N_("Delivered"),
    Status.COLLECTED: N_("Collected"),
    Status.RETURNED: N_("Held at the main office"),
    Status.REJECTED: N_("Rejected"),
    Status.CANCELLED: N_("Cancelled"),
}

NEXT_STEPS = {
    Status.SUBMITTED: N_(
        "Your application has been received. Officers will check your documents; "
        "you do not need to come to the office."
    ),
    Status.VERIFYING: N_(
        "Officers are checking your data and documents. If something needs correcting, "
        "this page will say what."
    ),
    Status.NEEDS_FIX: N_(
        "Something must be corrected before your document can be made. Read the note below "
        "and bring or send what is asked for."
    ),
    Status.PROCESSING: N_(
        "Your data has been verified and your document is being made. "
        "This page will say when and where to collect it."
    ),
    Status.READY: N_(
        "Your document is ready. Collect it at the place and time below, and bring what is listed."
    ),
    Status.DELIVERING: N_("Your document is on its way to the address you gave."),
    Status.DELIVERED: N_("Your document has been delivered. Nothing more is needed."),
    Status.COLLECTED: N_("Your document has been collected. Nothing more is needed."),
    Status.RETURNED: N_(
        "The pickup window has passed. Your document is kept at the main office below; "
        "collect it there during opening hours."
    ),
    Status.REJECTED: N_(
        "Your application could not be processed. The note below says why; you may apply again."
    ),
    Status.CANCELLED: N_("This application was cancelled. Nothing more will happen."),
}
