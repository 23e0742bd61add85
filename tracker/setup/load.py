"""Reading, checking and loading the setup file.

``read`` turns the YAML into plain data (dates and times stay text, so the schema checks
them); ``check`` lists every problem with its path (``offices[0].points[1].hours.monday``);
``load`` refuses with ``SetupInvalid`` if there is any, else upserts by code: offices,
services and pickup points are made or changed, a point's hours and counters replaced, leave
days made or renamed by date; a new leave day lengthens the windows of the documents waiting
over it, as one added in the console does. Nothing the file does not name is deleted. One
audit row counts what was made and changed. ``refresh_calendar`` hands the leave days to
``tracker.places.workdays`` in this process; every other worker reads them again within
``LEAVE_DAYS_CHECK_SECONDS`` (``tracker.places.leave``).
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import Any

import yaml
from jsonschema import Draft202012Validator, FormatChecker
from sqlalchemy import select
from sqlalchemy.orm import Session, selectinload

from tracker.audit import trail as audit
from tracker.audit.trail import Actor
from tracker.errors import SetupInvalid
from tracker.intake.checks import is_office_phone, normalise_phone
from tracker.models import (
    LeaveDay,
    Office,
    OfficeKind,
    OpeningHours,
    PickupPoint,
    PointKind,
    Service,
)
from tracker.places import closures, workdays
from tracker.places.leave import LOAD_WAIT_MS, take_calendar
from tracker.setup.schema import SCHEMA, WEEKDAYS

_validator = Draft202012Validator(SCHEMA, format_checker=FormatChecker())


class _TextDates(yaml.SafeLoader):
    """YAML without implicit dates and times: ``2026-12-24`` stays text for the schema."""


_TextDates.yaml_implicit_resolvers = {
    first: [(tag, regexp) for tag, regexp in resolvers if tag != "tag:yaml.org,2002:timestamp"]
    for first, resolvers in yaml.SafeLoader.yaml_implicit_resolvers.items()
}


def read(text: str) -> Any:
    """The file's data; a file that is not YAML at all is one problem at its top."""
    try:
        return yaml.load(text, Loader=_TextDates)  # noqa: S506 - a SafeLoader
    except yaml.YAMLError as error:
        mark = getattr(error, "problem_mark", None)
        line = mark.line + 1 if mark is not None else 0
        raise SetupInvalid(problems=[_problem("", "yaml", line=line)]) from None


def _problem(path: str, reason: str, **details: Any) -> dict[str, Any]:
    return {"path": path, "reason": reason, **details}


def _path(parts: Any) -> str:
    text = ""
    for part in parts:
        text += f"[{part}]" if isinstance(part, int) else (f".{part}" if text else str(part))
    return text


def _from_schema(error: Any) -> dict[str, Any]:
    path = _path(error.absolute_path)
    kind = error.validator
    value = _shown(error.instance)
    if kind == "required":
        missing = error.message.split("'")[1]
        return _problem(_path([*error.absolute_path, missing]), "required")
    if kind == "additionalProperties":
        extra = sorted(set(error.instance) - set(error.schema.get("properties", {})))
        return _problem(path, "unknown", names=", ".join(map(str, extra)))
    if kind in ("pattern", "anyOf"):  # anyOf: an hours entry, one period or a list of them
        form = error.schema.get("x-form", "08:00-15:00")
        return _problem(path, "pattern", value=value, form=form)
    if kind in ("minimum", "maximum"):
        low, high = error.schema.get("minimum"), error.schema.get("maximum")
        return _problem(path, "range", value=value, low=low, high=high)
    simple = {
        "format": lambda: _problem(path, "date", value=value),
        "type": lambda: _problem(path, "type", value=value, type=error.validator_value),
        "enum": lambda: _problem(
            path, "enum", value=value, choices=", ".join(map(str, error.validator_value))
        ),
        "minLength": lambda: _problem(path, "empty"),
        "minItems": lambda: _problem(path, "empty"),
        "minProperties": lambda: _problem(path, "empty"),
        "maxLength": lambda: _problem(path, "too_long", count=error.validator_value),
        "maxItems": lambda: _problem(path, "too_long", count=error.validator_value),
        "uniqueItems": lambda: _problem(path, "twice"),
    }
    return simple.get(kind, lambda: _problem(path, "invalid", value=value))()


def _shown(value: Any) -> str:
    text = repr(value) if not isinstance(value, str) else f'"{value}"'
    return text if len(text) <= 60 else text[:57] + "…"


def _periods(value: Any) -> list[tuple[dt.time, dt.time]]:
    texts = [value] if isinstance(value, str) else list(value)
    periods = []
    for text in texts:
        opens, closes = (dt.time.fromisoformat(part.replace(".", ":")) for part in text.split("-"))
        periods.append((opens, closes))
    return sorted(periods)


SECTIONS = ("offices", "services", "leave_days")


def _in_file_order(error: Any) -> list[tuple[int, int, str]]:
    """Sections in the example's order, items by index, fields by name."""
    key = []
    for depth, part in enumerate(error.absolute_path):
        if isinstance(part, int):
            key.append((0, part, ""))
        elif depth == 0 and part in SECTIONS:
            key.append((0, SECTIONS.index(part), ""))
        else:
            key.append((1, 0, str(part)))
    return key


def check(data: Any) -> list[dict[str, Any]]:
    """Every problem of the file: all that the schema finds; once there is none, what a
    schema cannot say (one main point per office, periods in order, codes named once, a
    WhatsApp number)."""
    if data is None:
        data = {}
    errors = sorted(_validator.iter_errors(data), key=_in_file_order)
    problems = [_from_schema(e) for e in errors]
    if problems or not isinstance(data, dict):
        return problems
    seen_points: set[str] = set()
    for index, office in enumerate(data.get("offices", [])):
        problems += _office_problems(f"offices[{index}]", office, seen_points)
    for section in ("offices", "services"):
        codes = [item["code"] for item in data.get(section, [])]
        for index, code in enumerate(codes):
            if code in codes[:index]:
                problems.append(_problem(f"{section}[{index}].code", "code_twice", value=code))
    days: list[str] = []
    for index, leave in enumerate(data.get("leave_days", [])):
        if leave["day"] in days:
            problems.append(_problem(f"leave_days[{index}].day", "code_twice", value=leave["day"]))
        days.append(leave["day"])
    return problems


def _office_problems(where: str, office: Any, seen_points: set[str]) -> list[dict[str, Any]]:
    problems = []
    if office.get("phone") and not is_office_phone(office["phone"]):
        problems.append(_problem(f"{where}.phone", "phone", value=office["phone"]))
    if office.get("whatsapp") and normalise_phone(office["whatsapp"]) is None:
        problems.append(_problem(f"{where}.whatsapp", "whatsapp", value=office["whatsapp"]))
    mains = [p for p in office["points"] if p.get("main")]
    if len(mains) != 1:
        problems.append(_problem(f"{where}.points", "one_main", count=len(mains)))
    for p_index, point in enumerate(office["points"]):
        p_where = f"{where}.points[{p_index}]"
        if point["code"] in seen_points:
            problems.append(_problem(f"{p_where}.code", "code_twice", value=point["code"]))
        seen_points.add(point["code"])
        for day, value in point["hours"].items():
            periods = _periods(value)
            ordered = all(opens < closes for opens, closes in periods) and all(
                a[1] <= b[0] for a, b in zip(periods, periods[1:], strict=False)
            )
            if not ordered:
                problems.append(_problem(f"{p_where}.hours.{day}", "hours", value=_shown(value)))
    return problems


@dataclass
class Summary:
    """What a load did: per kind of thing, how many were made, changed and left as they were."""

    made: dict[str, int] = field(default_factory=dict)
    changed: dict[str, int] = field(default_factory=dict)
    same: dict[str, int] = field(default_factory=dict)
    moved: list[str] = field(default_factory=list)  # windows lengthened by new leave days
    deferred: int = 0  # expected dates they moved

    def count(self, kind: str, outcome: str) -> None:
        tally = getattr(self, outcome)
        tally[kind] = tally.get(kind, 0) + 1


def _update(row: Any, values: Mapping[str, Any]) -> bool:
    changed = False
    for name, value in values.items():
        if getattr(row, name) != value:
            setattr(row, name, value)
            changed = True
    return changed


def _upsert(
    session: Session, summary: Summary, kind: str, row: Any, new: Any, values: dict[str, Any]
) -> Any:
    if row is None:
        row = new(**values)
        session.add(row)
        summary.count(kind, "made")
    elif _update(row, values):
        summary.count(kind, "changed")
    else:
        summary.count(kind, "same")
    return row


def load(
    session: Session, now: dt.datetime, actor: Actor, config: Mapping[str, Any], data: Any
) -> Summary:
    """Check ``data`` and, if it has no problem, upsert everything it names (see the module)."""
    del config  # nothing in the file depends on the settings
    problems = check(data)
    if problems:
        raise SetupInvalid(problems=problems)
    data = data or {}
    summary = Summary()
    offices = {o.code: o for o in session.scalars(select(Office))}
    points = {
        p.code: p
        for p in session.scalars(select(PickupPoint).options(selectinload(PickupPoint.hours)))
    }
    for item in data.get("offices", []):
        values = {
            "name": item["name"],
            "kind": OfficeKind(item["kind"]),
            "timezone": item.get("timezone", "Asia/Jakarta"),
            "address": item.get("address", ""),
            "phone": item.get("phone", ""),
            "whatsapp": normalise_phone(item["whatsapp"]) if item.get("whatsapp") else "",
            "email": item.get("email", ""),
        }
        office = _upsert(
            session, summary, "offices", offices.get(item["code"]), Office,
            {"code": item["code"], **values},
        )  # fmt: skip
        for spec in item["points"]:
            _load_point(session, summary, office, points.get(spec["code"]), spec)
    services = {s.code: s for s in session.scalars(select(Service))}
    for item in data.get("services", []):
        _upsert(session, summary, "services", services.get(item["code"]), Service, dict(item))
    leaves = {d.day: d for d in session.scalars(select(LeaveDay))}
    new_days = []
    for item in data.get("leave_days", []):
        day = dt.date.fromisoformat(item["day"])
        if day not in leaves:
            if not new_days:
                take_calendar(session, LOAD_WAIT_MS)  # the writers in flight finish first
            new_days.append(day)
        _upsert(session, summary, "leave_days", leaves.get(day), LeaveDay,
                {"day": day, "name": item["name"]})  # fmt: skip
    session.flush()
    summary.moved = closures.lengthen_for_leave_days(session, new_days, actor=actor, now=now)
    summary.deferred = closures.defer_expected_dates(session, new_days, actor=actor, now=now)
    audit.record(
        session, "setup_loaded", actor=actor, at=now,
        made=summary.made, changed=summary.changed, same=summary.same, moved=len(summary.moved),
        deferred=summary.deferred,
    )  # fmt: skip
    return summary


def _load_point(
    session: Session, summary: Summary, office: Office, point: PickupPoint | None, spec: Any
) -> None:
    values = {
        "code": spec["code"],
        "office": office,
        "name": spec["name"],
        "kind": PointKind(spec["kind"]),
        "address": spec["address"],
        "counters": list(spec["counters"]),
        "number_prefix": spec.get("number_prefix", "A"),
        "is_main": bool(spec.get("main", False)),
        "latitude": spec.get("latitude"),
        "longitude": spec.get("longitude"),
    }
    hours = sorted(
        (WEEKDAYS.index(day), opens, closes)
        for day, value in spec["hours"].items()
        for opens, closes in _periods(value)
    )
    if point is None:
        point = PickupPoint(**values)
        point.hours = [OpeningHours(weekday=d, opens=o, closes=c) for d, o, c in hours]
        session.add(point)
        summary.count("points", "made")
        return
    changed = _update(point, values)
    if sorted((h.weekday, h.opens, h.closes) for h in point.hours) != hours:
        point.hours = [OpeningHours(weekday=d, opens=o, closes=c) for d, o, c in hours]
        changed = True
    summary.count("points", "changed" if changed else "same")


def refresh_calendar(session: Session) -> frozenset[dt.date]:
    """Hand the leave days on file to ``workdays`` (after a load, or at start)."""
    days = frozenset(session.scalars(select(LeaveDay.day)))
    workdays.set_leave_days(days)
    return days
