"""A ready document's pickup window as a calendar entry (iCalendar), so that a citizen can
put it in their phone's calendar. The entry names the place and what to bring; it carries
no receipt number and no name, and its UID is a keyed digest of the receipt. It is in the
citizen's language (``Request.language``), and its ``SEQUENCE`` is the request's version, so
that a calendar that imported it replaces it when the window moves (a closure lengthened
it, the document was returned)."""

from __future__ import annotations

import hashlib
import hmac
from zoneinfo import ZoneInfo

from icalendar import Calendar, Event, vText

from tracker.requests.public import PublicStatus


def pickup_entry(status: PublicStatus, secret: str, host: str) -> bytes:
    """The window of a document that has one (the caller checks ``window_starts``)."""
    assert status.window_starts is not None and status.window_ends is not None
    zone = ZoneInfo(status.timezone)
    calendar = Calendar()
    calendar.add("prodid", "-//SiapAmbil//Jadwal pengambilan//ID")
    calendar.add("version", "2.0")
    calendar.add("method", "PUBLISH")
    event = Event()
    digest = hmac.new(secret.encode(), status.receipt.encode(), hashlib.sha256).hexdigest()[:24]
    event.add("uid", f"{digest}@{host}")
    event.add("dtstamp", status.as_of)
    event.add("sequence", status.version)
    event.add("dtstart", status.window_starts.astimezone(zone))
    event.add("dtend", status.window_ends.astimezone(zone))
    english = status.language == "en"
    number = status.pickup_number or "-"
    if english:
        summary = f"Collect {status.service_name_en} ({number})"
        description = "Bring the receipt. " + (status.bring_en or "")
    else:
        summary = f"Ambil {status.service_name_id} ({number})"
        description = "Bawa tanda terima. " + (status.bring_id or "")
    event.add("summary", summary)
    if status.place is not None:
        event.add("location", vText(f"{status.place.name}, {status.place.address}"))
    event.add("description", description.strip())
    calendar.add_component(event)
    calendar.add_missing_timezones()
    return calendar.to_ical()
