"""The JSON Schema of the setup file (``deploy/setup.example.yaml`` is a commented example).

``x-form`` names, for a pattern, the form people should write (the error messages show it).
"""

from __future__ import annotations

from typing import Any

from tracker.models import TIMEZONES, OfficeKind, PointKind

WEEKDAYS = ("monday", "tuesday", "wednesday", "thursday", "friday", "saturday", "sunday")
PERIOD = r"^([01][0-9]|2[0-3])[:.][0-5][0-9]-([01][0-9]|2[0-3])[:.][0-5][0-9]$"
DAY = r"^[0-9]{4}-[0-9]{2}-[0-9]{2}$"
CODE = r"^[A-Za-z0-9][A-Za-z0-9._-]*$"

_period: dict[str, Any] = {"type": "string", "pattern": PERIOD, "x-form": "08:00-15:00"}
_text = {"type": "string"}


def _words(length: int) -> dict[str, Any]:
    return {"type": "string", "minLength": 1, "maxLength": length}


def _code(length: int) -> dict[str, Any]:
    return {"type": "string", "pattern": CODE, "maxLength": length, "x-form": "36.02, lbk-dinas"}


POINT: dict[str, Any] = {
    "type": "object",
    "additionalProperties": False,
    "required": ["code", "name", "kind", "address", "counters", "hours"],
    "properties": {
        "code": _code(40),
        "name": _words(200),
        "kind": {"enum": [k.value for k in PointKind if k is not PointKind.MOBILE]},
        "address": _words(300),
        "main": {"type": "boolean"},
        "number_prefix": {"type": "string", "pattern": "^[A-Z]{1,2}$", "x-form": "A"},
        "counters": {
            "type": "array",
            "minItems": 1,
            "maxItems": 20,
            "uniqueItems": True,
            "items": _words(40),
        },
        "latitude": {"type": "number", "minimum": -90, "maximum": 90},
        "longitude": {"type": "number", "minimum": -180, "maximum": 180},
        "hours": {
            "type": "object",
            "additionalProperties": False,
            "minProperties": 1,
            "properties": {
                day: {
                    "anyOf": [
                        _period,
                        {"type": "array", "minItems": 1, "maxItems": 3, "items": _period},
                    ],
                }
                for day in WEEKDAYS
            },
        },
    },
}

OFFICE: dict[str, Any] = {
    "type": "object",
    "additionalProperties": False,
    "required": ["code", "name", "kind", "points"],
    "properties": {
        "code": _code(32),
        "name": _words(200),
        "kind": {"enum": [k.value for k in OfficeKind]},
        "timezone": {"enum": list(TIMEZONES)},
        "address": {"type": "string", "maxLength": 300},
        "phone": {"type": "string", "maxLength": 20},
        "whatsapp": {"type": "string", "maxLength": 20},
        "email": {"type": "string", "maxLength": 200},
        "points": {"type": "array", "minItems": 1, "items": POINT},
    },
}

SERVICE: dict[str, Any] = {
    "type": "object",
    "additionalProperties": False,
    "required": ["code", "name_id", "name_en", "target_days", "bring_id", "bring_en"],
    "properties": {
        "code": _code(32),
        "name_id": _words(120),
        "name_en": _words(120),
        "target_days": {"type": "integer", "minimum": 1, "maximum": 90},
        "bring_id": _text,
        "bring_en": _text,
        "offered": {"type": "boolean"},
    },
}

LEAVE_DAY: dict[str, Any] = {
    "type": "object",
    "additionalProperties": False,
    "required": ["day", "name"],
    "properties": {
        "day": {"type": "string", "pattern": DAY, "format": "date", "x-form": "2026-12-24"},
        "name": {"type": "string", "maxLength": 200},
    },
}

SCHEMA: dict[str, Any] = {
    "$schema": "https://json-schema.org/draft/2020-12/schema",
    "type": "object",
    "additionalProperties": False,
    "properties": {
        "offices": {"type": "array", "items": OFFICE},
        "services": {"type": "array", "items": SERVICE},
        "leave_days": {"type": "array", "items": LEAVE_DAY},
    },
}
