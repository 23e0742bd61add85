"""The kinds of message the outbox sends, and what applies to each.

A message's kind is its ``event``. The messages about a request (its change of status, a
reminder) go only to a citizen who agreed to messages, keep the quiet hours on SMS and
WhatsApp, and have their text rendered from ``templates/messages/<kind>.*`` when sent. A
reply to a citizen's own question and a webhook delivery answer something that just
happened: they belong to no request, go at once whatever the hour, and carry the text they
were queued with (``operations.queue_text``).
"""

from __future__ import annotations

from dataclasses import dataclass


@dataclass(frozen=True)
class Kind:
    consent: bool  # sent only while the request's citizen agrees to messages
    quiet: bool  # SMS and WhatsApp wait out the quiet hours (NOTIFY_QUIET_HOURS)
    rendered: bool  # the text comes from the templates when sent, not when queued


ABOUT_A_REQUEST = Kind(consent=True, quiet=True, rendered=True)
ANSWER = Kind(consent=False, quiet=False, rendered=False)

KINDS: dict[str, Kind] = {
    "ready": ABOUT_A_REQUEST,
    "needs_fix": ABOUT_A_REQUEST,
    "rejected": ABOUT_A_REQUEST,
    "returned": ABOUT_A_REQUEST,
    "reminder_closing": ABOUT_A_REQUEST,
    "reminder_waiting": ABOUT_A_REQUEST,
    "window_moved": ABOUT_A_REQUEST,  # a closure inside the pickup window lengthened it
    "reply": ANSWER,  # to a citizen's own WhatsApp or SMS question
    "webhook": ANSWER,  # a delivery to an office's endpoint
}
