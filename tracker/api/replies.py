"""Answers to a citizen's own WhatsApp or SMS question: ``CEK <receipt>`` (Indonesian),
``CHECK <receipt>`` (English) or a bare receipt number.

``read`` says what a message asks; ``answer`` looks the receipt up with the status page's own
look-up (``tracker.requests.public.lookup``, so the reply shows only what that page shows,
the name masked) and queues the reply in the outbox, kind ``reply``: no consent, no quiet
hours, on the channel it came by, to its sender. An NIK or a name is never looked up: the
reply says that only the receipt number works, and why. Every reply is one SMS: at most 160
GSM-7 septets (``compose`` shortens the point's name, the note and what to bring to fit).
"""

from __future__ import annotations

import datetime as dt
import hashlib
import re
from collections.abc import Mapping
from dataclasses import dataclass

from sqlalchemy import Engine, select
from sqlalchemy.orm import Session

from tracker.errors import ReceiptMistyped, RequestNotFound
from tracker.models import Channel, Office
from tracker.outbox import operations as outbox
from tracker.outbox.texts import GSM7, SMS_LENGTH, gsm7, sms_text
from tracker.requests import public
from tracker.requests.public import PublicStatus
from tracker.status import Status
from tracker.web.formatters import format_ddmm

# The keyword, any case, then whatever people type between it and the number.
KEYWORD = re.compile(r"^\s*(CEK|CHECK)(?![A-Z0-9])[\s#:.,\-]*(.*)$", re.I | re.S)
SEPARATORS = re.compile(r"[#:,]")
NIK = re.compile(r"(?<!\d)\d{16}(?!\d)")
GSM7_EXTENDED = set("^{}\\[~]|€\f")
ANSWER, REFUSE, SILENT = "answer", "refuse", "silent"


@dataclass(frozen=True)
class Asked:
    """What a message asks: ``receipt`` (with the typed ``number``), ``nik``, ``name`` or
    ``help`` (nothing to look up), and in which language to answer."""

    kind: str
    language: str
    number: str = ""


def read(text: str) -> Asked:
    """What an inbound message asks, as people type it (``CEK 7KQ2-M9XA-4RTN``,
    ``cek#7kq2m9xa4rtn``, ``Check: 7KQ2 M9XA 4RTN``, the bare number)."""
    matched = KEYWORD.match(text or "")
    language = "en" if matched and matched.group(1).upper() == "CHECK" else "id"
    rest = matched.group(2) if matched else (text or "")
    rest = SEPARATORS.sub(" ", rest).strip()
    compact = re.sub(r"[\s.\-]", "", rest)
    if NIK.search(compact) or NIK.search(rest):
        return Asked("nik", language)
    if not compact:
        return Asked("help", language)
    if not any(c.isdigit() for c in compact) and len(compact) != 12:
        return Asked("name", language)  # letters only, not a receipt's length: a name
    return Asked("receipt", language, rest)


@dataclass(frozen=True)
class Inbound:
    """One message a citizen sent: its channel, sender, text, and the provider's id of it."""

    channel: Channel
    sender: str
    text: str
    message_id: str


def answer(
    session: Session,
    now: dt.datetime,
    *,
    engine: Engine,
    message: Inbound,
    allowance: str,
    fallback_office: int | None,
    fix_days: int,
) -> str:
    """Queue the reply to ``message`` (``allowance``: ``answer``; ``refuse``, the one polite
    refusal of a sender over the limit; ``silent``, nothing). What was answered, for the
    log: never anything of the message itself."""
    if allowance == SILENT:
        return "silent"
    asked = read(message.text)
    office_id = fallback_office
    if allowance == REFUSE:
        outcome, body = "limited", phrase("limited", asked.language)
    elif asked.kind != "receipt":
        outcome = asked.kind
        body = phrase("private" if asked.kind in ("nik", "name") else "help", asked.language)
    else:
        try:
            found = public.lookup(engine, asked.number, now)
        except ReceiptMistyped:
            outcome, body = "mistyped", phrase("mistyped", asked.language)
        except RequestNotFound:
            outcome, body = "not_found", phrase("not_found", asked.language)
        else:
            outcome, body = "status", compose(found, asked.language, fix_days)
            office_id = session.scalar(select(Office.id).where(Office.code == found.office_code))
    if office_id is None:
        return "no_office"
    queued = outbox.queue_text(
        session, kind="reply", channel=message.channel, recipient=message.sender, body=body,
        office_id=office_id, key=reply_key(message), now=now,
    )  # fmt: skip
    return outcome if queued else "repeated"


def answered(session: Session, message: Inbound) -> bool:
    """Whether ``message`` has its reply queued already (a webhook the provider sent again)."""
    return outbox.has_key(session, reply_key(message))


def reply_key(message: Inbound) -> str:
    """The outbox key of the reply: one reply per message the provider sent (a webhook sent
    again is answered once); the provider's id is hashed, whatever characters it holds."""
    digest = hashlib.sha256(message.message_id.encode("utf-8", "replace")).hexdigest()[:32]
    return f"reply:{message.channel.value}:{digest}"


PHRASES: Mapping[str, Mapping[str, str]] = {
    "id": {
        "help": "Kirim CEK dan nomor tanda terima (12 karakter), mis. CEK 7KQ2-M9XA-4RTN.",
        "private": (
            "Status hanya dicek dengan nomor tanda terima, bukan NIK atau nama: NIK dan nama "
            "mudah diketahui orang lain dan calo. Kirim CEK <nomor tanda terima>."
        ),
        "mistyped": (
            "Nomor itu tampaknya salah ketik: ada karakter yang tidak cocok. Periksa lagi pada "
            "tanda terima, lalu kirim CEK <nomor>."
        ),
        "not_found": (
            "Tidak ada permohonan dengan nomor itu. Periksa nomor pada tanda terima, atau "
            "tanyakan ke kantor tempat Anda mendaftar."
        ),
        "limited": (
            "Terlalu banyak pertanyaan dari nomor ini. Silakan coba lagi nanti; sementara itu "
            "pesan berikutnya tidak dijawab."
        ),
    },
    "en": {
        "help": "Send CHECK and the receipt number (12 characters), e.g. CHECK 7KQ2-M9XA-4RTN.",
        "private": (
            "Status is checked only by receipt number, never by NIK or name: others and "
            "brokers can know those. Send CHECK <receipt number>."
        ),
        "mistyped": (
            "That number looks mistyped: a character does not fit. Check it against your "
            "receipt and send CHECK <number> again."
        ),
        "not_found": (
            "No request has that number. Check it against your receipt, or ask at the office "
            "where you applied."
        ),
        "limited": (
            "Too many questions from this number. Please try again later; until then further "
            "messages are not answered."
        ),
    },
}

# One line per status: the status in capitals, and the next step. ``{s}`` the service,
# ``{n}`` the masked first name, ``{num}`` the pickup number, ``{point}``, ``{start}``,
# ``{end}``, ``{bring}``, ``{note}``, ``{office}``, ``{by}``, ``{exp}`` (expected date).
LINES: Mapping[str, Mapping[Status, str]] = {
    "id": {
        Status.SUBMITTED: "{s}: DITERIMA. Petugas akan memeriksa berkas; tak perlu ke kantor. "
        "Perkiraan selesai {exp}.",
        Status.VERIFYING: "{s}: SEDANG DIVERIFIKASI. Bila ada yang perlu diperbaiki, kami beri "
        "tahu. Perkiraan selesai {exp}.",
        Status.PROCESSING: "{s}: SEDANG DIPROSES. Perkiraan selesai {exp}. Kami beri tahu kapan "
        "dan di mana diambil.",
        Status.NEEDS_FIX: "{s}: PERLU PERBAIKAN: {note} Bawa ke {office} s.d. {by} dengan tanda "
        "terima.",
        Status.READY: "{s} a.n. {n} SIAP DIAMBIL no. {num} di {point}, {start}-{end}. Bawa "
        "tanda terima{bring}",
        Status.RETURNED: "{s} belum diambil; kini di {point} no. {num} s.d. {end}. Bawa tanda "
        "terima{bring}",
        Status.DELIVERING: "{s}: SEDANG DIANTAR oleh {courier}.",
        Status.DELIVERED: "{s}: SUDAH DIANTAR. Tidak ada lagi yang perlu dilakukan.",
        Status.COLLECTED: "{s}: SUDAH DIAMBIL. Tidak ada lagi yang perlu dilakukan.",
        Status.REJECTED: "{s}: DITOLAK: {note} Anda dapat mendaftar lagi; info di {office}.",
        Status.CANCELLED: "{s}: DIBATALKAN. Tidak ada proses lagi.",
    },
    "en": {
        Status.SUBMITTED: "{s}: RECEIVED. Officers will check your documents; no need to come "
        "in. Expected by {exp}.",
        Status.VERIFYING: "{s}: BEING VERIFIED. If something needs correcting, we will tell "
        "you. Expected by {exp}.",
        Status.PROCESSING: "{s}: BEING PROCESSED. Expected by {exp}. We will tell you when and "
        "where to collect it.",
        Status.NEEDS_FIX: "{s}: NEEDS A FIX: {note} Bring it to {office} by {by} with the receipt.",
        Status.READY: "{s} for {n} READY, no. {num} at {point}, {start}-{end}. Bring the "
        "receipt{bring}",
        Status.RETURNED: "{s} not collected; now at {point} no. {num} until {end}. Bring the "
        "receipt{bring}",
        Status.DELIVERING: "{s}: OUT FOR DELIVERY with {courier}.",
        Status.DELIVERED: "{s}: DELIVERED. Nothing more is needed.",
        Status.COLLECTED: "{s}: COLLECTED. Nothing more is needed.",
        Status.REJECTED: "{s}: REJECTED: {note} You may apply again; ask at {office}.",
        Status.CANCELLED: "{s}: CANCELLED. Nothing more will happen.",
    },
}
# Long words of place names, shortened as Indonesians write them, before anything is cut.
ABBREVIATIONS = (
    ("Mal Pelayanan Publik", "MPP"),
    ("Kantor Kecamatan", "Kec."),
    ("Kecamatan", "Kec."),
    ("Kelurahan", "Kel."),
    ("Kabupaten", "Kab."),
    ("Disdukcapil", "Dukcapil"),
    ("Layanan Keliling", "Keliling"),
)
# What may be shortened, in order, and how short each may become (under 8 characters drops
# it); "" abbreviates the place names (``ABBREVIATIONS``): what to bring is clipped first,
# then the names abbreviated before it goes altogether.
PLACES = ("point", "office")
ELASTIC = (("bring", 24), ("", 0), ("bring", 0), ("note", 24), ("point", 14), ("office", 14),
           ("s", 8), ("courier", 12))  # fmt: skip


def phrase(name: str, language: str) -> str:
    return PHRASES[language][name]


def compose(found: PublicStatus, language: str, fix_days: int) -> str:
    """The status and the next step in one SMS (at most 160 GSM-7 septets), masked as on the
    status page: a ready document's pickup number, place, window and what to bring."""
    zone = found.timezone
    place = found.place or found.office_place
    note = next((s.note for s in reversed(found.timeline) if s.status == found.status), "")
    delivery = found.delivery
    values = {
        "s": found.service_name_en if language == "en" else found.service_name_id,
        "n": found.masked_name.split()[0] if found.masked_name else "",
        "num": found.pickup_number or "",
        "point": place.name if place else found.office_name,
        "start": format_ddmm(found.window_starts, zone) if found.window_starts else "",
        "end": format_ddmm(found.window_ends, zone) if found.window_ends else "",
        "bring": " + " + (found.bring_en if language == "en" else found.bring_id),
        "note": (note.strip().rstrip(".") + ".") if note.strip() else "-",
        "office": (found.office_place.name if found.office_place else found.office_name),
        "by": found.fix_by(fix_days).strftime("%d/%m/%Y")
        if found.status == Status.NEEDS_FIX
        else "",
        "exp": found.expected_on.strftime("%d/%m/%Y"),
        "courier": " ".join(x for x in (delivery.courier, delivery.tracking_ref) if x)
        if delivery
        else "-",
    }
    if found.bring_en == "" or found.bring_id == "":
        values["bring"] = ""
    return fit(LINES[language][found.status], values)


def septets(text: str) -> int:
    """The GSM-7 length of a text: the extension table's characters count twice."""
    return sum(2 if c in GSM7_EXTENDED else 1 for c in text)


def fit(pattern: str, values: Mapping[str, str]) -> str:
    """``pattern`` filled with ``values``, in GSM-7, shortened to one SMS in ``ELASTIC``'s
    order: what to bring clipped, place names abbreviated, then the rest clipped."""
    values = dict(values)

    def render() -> str:
        text = "".join(c for c in gsm7(pattern.format(**values)) if c in GSM7 | GSM7_EXTENDED)
        return text if text.endswith((".", "!")) else text + "."

    for name, shortest in ELASTIC:
        excess = septets(render()) - SMS_LENGTH
        if excess <= 0:
            break
        if not name:
            values.update({k: abbreviate(v) for k, v in values.items() if k in PLACES})
        elif name in values:
            values[name] = clip(values[name], max(shortest, len(values[name]) - excess))
    text = render()
    if septets(text) <= SMS_LENGTH:
        return text
    return sms_text("".join(c for c in text if c not in GSM7_EXTENDED))  # cut, as a last resort


def abbreviate(name: str) -> str:
    for long, short in ABBREVIATIONS:
        name = name.replace(long, short)
    return name


def clip(value: str, length: int) -> str:
    """``value`` in at most ``length`` characters, cut at a word and marked with dots; empty
    when too little room is left to say anything."""
    if len(value) <= length:
        return value
    if length < 8:
        return ""
    cut = value[: length - 2]
    space = cut.rfind(" ")
    if space > length // 2:
        cut = cut[:space]
    return cut.rstrip(" ,;:.+") + ".."
