"""The sweep's baselines: for every route, what it is sent when nothing is wrong, and the
targets (requests in the right state, a point, a closure, a dead message, a colleague) those
baselines name, made again when an accepted answer uses them up."""

from __future__ import annotations

import datetime as dt
import re
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any

from sqlalchemy import select

from tests.factories import PASSWORD, week
from tracker.api import keys
from tracker.audit.trail import Actor
from tracker.models import (
    Channel,
    Closure,
    KeyScope,
    LeaveDay,
    Office,
    OutboxMessage,
    OutboxStatus,
    PickupPoint,
    utcnow,
)
from tracker.status import Status
from tracker.webhooks import sealing, subscriptions

HOME_POINT = "srg-dinas"
HOURS = week(
    **{
        f"d{d}_p0_{edge}": t
        for d in range(5)
        for edge, t in (("opens", "08:00"), ("closes", "15:00"))
    }
)


@dataclass(frozen=True)
class Baseline:
    """What a route is sent when nothing is wrong: path values and form fields, with
    ``{key}`` naming a target; ``uses`` are the targets an accepted answer consumes."""

    path: dict[str, str] = field(default_factory=dict)
    form: dict[str, str] = field(default_factory=dict)
    uses: tuple[str, ...] = ()
    prefix: str = ""  # the form's field prefix (a move's form is prefixed by its status)


RECEIPT = {"receipt": "{processing}"}
POINT = {"code": "{point}"}
BASELINES: dict[str, Baseline] = {
    "announcements.feed": Baseline(),
    "announcements.page": Baseline(),
    "api.announcements": Baseline(),
    "api.changed_requests": Baseline(),  # sent with a write key of the supervisor's office
    "api.docs": Baseline(),
    "api.openapi": Baseline(),
    "api.board": Baseline(POINT),
    "api.points": Baseline(),
    "api.request_status": Baseline(RECEIPT),
    # The writes read a JSON body: the sweep's form bodies are refused (422) with no change,
    # and each path argument's bad inputs are swept.
    "api.register_request": Baseline(),
    "api.transition": Baseline({"ref": "{processing}"}),
    "open311.discovery_json": Baseline(),
    "open311.discovery_xml": Baseline(),
    "open311.services_json": Baseline(),
    "open311.services_xml": Baseline(),
    "open311.request_json": Baseline(RECEIPT),
    "open311.request_xml": Baseline(RECEIPT),
    "open311.requests_json": Baseline(),  # swept without service_request_id: refused (400)
    "open311.requests_xml": Baseline(),
    # The inbound channels are off without their secrets (the sweep's app sets none): each
    # answers 404 to every input, and the handshake's query arguments are swept.
    "inbound.sms": Baseline(),
    "inbound.whatsapp": Baseline(),
    "inbound.whatsapp_verify": Baseline(),
    "board.index": Baseline(),
    "board.screen": Baseline(POINT),
    "lookup.check": Baseline(),
    "lookup.index": Baseline(),
    "lookup.pickup_calendar": Baseline({"receipt": "{ready}"}),
    "lookup.printable": Baseline(RECEIPT),
    "lookup.qr": Baseline(RECEIPT),
    "lookup.qr_png": Baseline(RECEIPT),
    "lookup.status": Baseline(RECEIPT),
    "lookup.resume_messages": Baseline({"receipt": "{stopped}"}, uses=("stopped",)),
    "lookup.stop_messages": Baseline(RECEIPT, {"yakin": "1"}, uses=("processing",)),
    "static": Baseline({"filename": "css/site.css"}),
    "statistik.as_csv": Baseline(),
    "statistik.as_json": Baseline(),
    "watch.healthz": Baseline(),
    "watch.jobs": Baseline(),
    "watch.readyz": Baseline(),
    "watch.scrape": Baseline(),
    "statistik.page": Baseline(),
    "staff.accounts_page": Baseline(),
    "staff.api_keys_page": Baseline(),
    "staff.create_api_key": Baseline(
        form={"name": "{new_key_name}", "scope": "read"}, uses=("new_key_name",)
    ),
    "staff.revoke_api_key": Baseline({"name": "{api_key}"}, uses=("api_key",)),
    "staff.webhooks_page": Baseline(),
    "staff.add_webhook": Baseline(
        form={"url": "https://siak.example.go.id/hook", "events": "request.status_changed"}
    ),
    "staff.rotate_webhook": Baseline({"subscription_id": "{webhook_id}"}, uses=("webhook_id",)),
    "staff.remove_webhook": Baseline({"subscription_id": "{webhook_id}"}, uses=("webhook_id",)),
    "staff.add_closure": Baseline(POINT, {"day": "2031-01-07", "reason": "Rapat dinas"}),
    "staff.add_visit": Baseline(
        form={
            "name": "Desa Sukajaya",
            "address": "Balai desa",
            "day": "2099-06-01",  # a visit must lie ahead: far enough for any real clock
            "opens": "09:00",
            "closes": "13:00",
        }
    ),
    "staff.create_account": Baseline(
        form={"username": "{new_username}", "full_name": "Dewi Lestari", "role": "operator"},
        uses=("new_username",),
    ),
    "staff.batch_check": Baseline(),
    "staff.batch_move": Baseline(
        form={"receipts": "{processing}", "to": "ready", "point": "{point_id}"},
        uses=("processing",),
    ),
    "staff.batch_page": Baseline(),
    "staff.call": Baseline(
        {"receipt": "{callable}"},
        {"counter": "{counter}", "version": "{callable_version}"},
        uses=("callable",),
    ),
    "staff.hand_over": Baseline(
        {"receipt": "{ready}"},
        {
            "version": "{ready_version}",
            "collector": "representative",
            "id_checked": "y",
            "collector_name": "Ahmad Fauzi",
            "relation": "Kakak",
            "attorney_checked": "y",
        },
        uses=("ready",),
    ),
    "staff.handover_page": Baseline(),
    "staff.home": Baseline(),
    "staff.intake_page": Baseline(
        form={
            "service": "{service_id}",
            "applicant_name": "Dewi Lestari",
            "nik": "3673015212900003",
            "phone": "081234567890",
            "email": "dewi@example.id",
            "consent_notify": "y",
            "channel": "sms",
            "handover": "pickup",
            "point": "{point_id}",
            "address": "Jl. Veteran 1",
            "representative_allowed": "y",
            "confirm_duplicate": "y",
        }
    ),
    "staff.login": Baseline(
        form={"username": "{username}", "password": PASSWORD, "next": "/staff/"}
    ),
    "staff.logout": Baseline(),  # sent last, once: it ends the session
    "staff.move": Baseline(
        {"receipt": "{spare}", "to": "needs_fix"},
        {"to": "needs_fix", "version": "{spare_version}", "public_note": "Bawa KK asli."},
        uses=("spare",),
        prefix="needs_fix",
    ),
    "staff.outbox_page": Baseline(),
    "staff.overdue": Baseline(),
    # Accepted once (the current password sent twice, the right one first); after that the
    # baseline's current password is wrong and every input is refused.
    "staff.password_page": Baseline(
        form={"current": PASSWORD, "new": "teh-manis-sore-hari-9", "again": "teh-manis-sore-hari-9"}
    ),
    "staff.point_counters": Baseline(POINT, {"counters": "Loket 1, Loket 2"}, uses=("counters",)),
    "staff.point_hours": Baseline(POINT, HOURS),
    "staff.point_page": Baseline(POINT),
    "staff.point_location": Baseline(POINT, {"latitude": "-6.1203", "longitude": "106.1503"}),
    "staff.point_details": Baseline(
        POINT, {"name": "MPP Kota Serang", "kind": "mall", "address": "Jl. Veteran No. 2"}
    ),
    "staff.new_service_page": Baseline(),
    "staff.add_service": Baseline(
        form={
            "code": "{new_service_code}",
            "name_id": "Aktivasi IKD",
            "name_en": "Digital ID activation",
            "target_days": "1",
            "bring_id": "KTP-el",
            "bring_en": "The KTP-el",
        },  # fmt: skip
        uses=("new_service_code",),
    ),
    "staff.new_point_page": Baseline(),
    "staff.add_point": Baseline(
        form={
            "office": "36.73",
            "code": "{new_point_code}",
            "name": "Kantor Kecamatan Walantaka",
            "kind": "kecamatan",
            "address": "Jl. Raya Walantaka",
            "counters": "Loket Adminduk",
            "number_prefix": "W",
        },  # fmt: skip
        uses=("new_point_code",),
    ),
    "staff.office_page": Baseline({"office_code": "36.73"}),
    "staff.office_contact": Baseline(
        {"office_code": "36.73"},
        {"phone": "(0254) 200123", "whatsapp": "0812 3456 7890", "email": "dukcapil@example.go.id"},
    ),
    "staff.points": Baseline(),
    "staff.printable": Baseline(RECEIPT),
    "staff.queue": Baseline({"status": "processing"}),
    "staff.remove_closure": Baseline(
        {"code": "{point}", "closure_id": "{closure_id}"}, uses=("closure_id",)
    ),
    "staff.request_page": Baseline(RECEIPT),
    "staff.services_page": Baseline(),
    "staff.service_page": Baseline({"service_code": "kk"}),
    "staff.change_service": Baseline(
        {"service_code": "kk"},
        {
            "name_id": "Kartu Keluarga",
            "name_en": "Family card",
            "target_days": "4",
            "bring_id": "KK lama",
            "bring_en": "The old card",
            "offered": "y",
        },
    ),  # fmt: skip
    "staff.leave_days_page": Baseline(),
    "staff.add_leave_day": Baseline(
        form={"day": "{new_leave_day}", "name": "Cuti bersama"}, uses=("new_leave_day",)
    ),
    "staff.remove_leave_day": Baseline({"leave_id": "{leave_id}"}, uses=("leave_id",)),
    "staff.office_details": Baseline(
        {"office_code": "36.73"},
        {
            "name": "Disdukcapil Kota Serang",
            "kind": "dinas",
            "timezone": "Asia/Jakarta",
            "address": "Jl. Jenderal Sudirman No. 5",
        },
    ),  # fmt: skip
    "staff.retry_dead": Baseline(form={"channel": "sms"}),
    "staff.retry_message": Baseline({"message_id": "{dead_id}"}, uses=("dead_id",)),
    "staff.search": Baseline(),
    "staff.switch_account": Baseline(
        {"username": "{colleague}", "state": "off"}, uses=("colleague",)
    ),
}


class Targets:
    """The things a baseline names, made on first use and made again once consumed."""

    def __init__(self, make_request: Any, make_account: Any, boss: Any) -> None:
        self.make_request, self.make_account, self.boss = make_request, make_account, boss
        self.values: dict[str, Any] = {}
        self.made = False
        self.opened = 0  # accounts opened by the sweep, each under a new name
        self.makers: dict[str, Callable[[], dict[str, Any]]] = {
            "processing": lambda: self._request("processing", Status.PROCESSING),
            "spare": lambda: self._request("spare", Status.VERIFYING),
            "stopped": self._stopped,
            "ready": lambda: self._request("ready", Status.READY),
            "callable": self._callable,
            "counter": self._callable,
            "point": self._point,
            "point_id": self._point,
            "counters": self._counters,
            "closure_id": self._closure,
            "dead_id": self._dead,
            "colleague": lambda: {"colleague": self.make_account("operator").username},
            "service_id": lambda: {"service_id": self.make_request.service("kk").id},
            "username": lambda: {"username": self.boss.username},
            "new_username": self._new_username,
            "new_key_name": self._new_key_name,
            "api_key": self._api_key,
            "webhook_id": self._webhook,
            "bearer": self._bearer,
            "new_leave_day": self._new_leave_day,
            "new_point_code": lambda: self._new_code("new_point_code"),
            "new_service_code": lambda: self._new_code("new_service_code"),
            "leave_id": self._leave_day,
        }

    def _new_username(self) -> dict[str, Any]:
        self.opened += 1
        return {"new_username": f"baru-{self.opened}"}

    def _new_key_name(self) -> dict[str, Any]:
        self.opened += 1
        return {"new_key_name": f"kunci-{self.opened}"}

    def _api_key(self) -> dict[str, Any]:
        self.opened += 1
        session = self.make_request.session
        office = session.get(Office, self.boss.office_id)
        key, _token = keys.create(
            session, utcnow(), Actor("sweep"), name=f"dicabut-{self.opened}", offices=[office],
            scope=KeyScope.READ,
        )  # fmt: skip
        session.commit()
        return {"api_key": key.name}

    def _webhook(self) -> dict[str, Any]:
        session = self.make_request.session
        office = session.get(Office, self.boss.office_id)
        made, _secret = subscriptions.add(
            session, utcnow(), Actor("sweep"), office=office, url="https://siak.example/hook",
            events=["request.status_changed"], ring=sealing.keyring(self.make_request.app.config),
        )  # fmt: skip
        session.commit()
        return {"webhook_id": made.id}

    def _bearer(self) -> dict[str, Any]:
        """A write key of the supervisor's office, noted as just used (so that the sweep's
        calls do not move its ``last_used_at``, which would change a table)."""
        session = self.make_request.session
        office = session.get(Office, self.boss.office_id)
        key, token = keys.create(
            session, utcnow(), Actor("sweep"), name="sweep-bridge", offices=[office],
            scope=KeyScope.WRITE,
        )  # fmt: skip
        key.last_used_at = utcnow() + dt.timedelta(hours=1)
        session.commit()
        return {"bearer": token}

    def _request(self, key: str, status: Status) -> dict[str, Any]:
        made = self.make_request(status, point=HOME_POINT)
        return {key: made.receipt, f"{key}_version": made.version}

    def _stopped(self) -> dict[str, Any]:
        """A request whose citizen stopped the WhatsApp messages they had agreed to."""
        made = self.make_request(Status.PROCESSING, point=HOME_POINT)
        made.channel, made.consent_notify = Channel.WHATSAPP, False
        self.make_request.session.commit()
        return {"stopped": made.receipt}

    def _callable(self) -> dict[str, Any]:
        self._counters()
        made = self.make_request(Status.READY, point=HOME_POINT)
        return {"callable": made.receipt, "callable_version": made.version, "counter": "Loket 1"}

    def _point(self) -> dict[str, Any]:
        point = self.make_request.point(HOME_POINT)
        return {"point": point.code, "point_id": point.id}

    def _counters(self) -> dict[str, Any]:
        session = self.make_request.session
        point = session.scalars(select(PickupPoint).where(PickupPoint.code == HOME_POINT)).one()
        point.counters = ["Loket 1", "Loket 2"]
        session.commit()
        return {"counters": True}

    def _closure(self) -> dict[str, Any]:
        session = self.make_request.session
        point = session.scalars(select(PickupPoint).where(PickupPoint.code == HOME_POINT)).one()
        closure = Closure(day=point_free_day(point), reason="Rapat")
        point.closures.append(closure)
        session.commit()
        return {"closure_id": closure.id}

    def _new_code(self, key: str) -> dict[str, Any]:
        """A code no point or service has yet (each accepted form uses one)."""
        self.opened += 1
        return {key: f"baru-{self.opened}"}

    def _new_leave_day(self) -> dict[str, Any]:
        self.opened += 1
        return {"new_leave_day": (dt.date(2040, 1, 1) + dt.timedelta(days=self.opened)).isoformat()}

    def _leave_day(self) -> dict[str, Any]:
        self.opened += 1
        session = self.make_request.session
        leave = LeaveDay(day=dt.date(2050, 1, 1) + dt.timedelta(days=self.opened), name="Cuti")
        session.add(leave)
        session.commit()
        return {"leave_id": leave.id}

    def _dead(self) -> dict[str, Any]:
        ready = self.make_request(Status.READY, point=HOME_POINT)
        dead = OutboxMessage(
            request_id=ready.id, office_id=ready.office_id, event="ready", channel=Channel.SMS,
            idempotency_key=f"dead-{ready.receipt}", recipient="081234567890", body="",
            status=OutboxStatus.DEAD, attempts=8,
        )  # fmt: skip
        self.make_request.session.add(dead)
        self.make_request.session.commit()
        return {"dead_id": dead.id}

    def __getitem__(self, key: str) -> Any:
        if key not in self.values:
            maker = next(m for k, m in self.makers.items() if k == key or key.startswith(k))
            self.values.update(maker())
            self.made = True
        return self.values[key]

    def consume(self, keys: tuple[str, ...]) -> None:
        """An accepted answer used these up: make them again."""
        for key in keys:
            self.values.update(self.makers[key]())
            self.made = True

    def fill(self, template: str) -> str:
        return re.sub(r"\{(\w+)\}", lambda m: str(self[m.group(1)]), template)


def point_free_day(point: PickupPoint) -> dt.date:
    taken = {c.day for c in point.closures}
    day = dt.date(2031, 3, 1)
    while day in taken:
        day += dt.timedelta(days=1)
    return day
