"""The words people read when a look-up cannot be answered, in one place for pages and API."""

from __future__ import annotations

import datetime as dt

from flask_babel import gettext as _
from flask_babel import ngettext

from tracker.errors import (
    AccountError,
    ApiKeyError,
    BackupError,
    BodyInvalid,
    CannotCall,
    ConflictError,
    DomainError,
    DuplicateRequest,
    ExternalRefTaken,
    FieldRefused,
    HandoverAtCounter,
    IdempotencyMismatch,
    InboundRefused,
    KeyForbidden,
    KeyRefused,
    LeaveDayError,
    MissingDetails,
    PointNotFound,
    ReceiptMistyped,
    RequestNotFound,
    SavedMeanwhile,
    SetupInvalid,
    TransitionError,
    WebhookError,
)
from tracker.status import Status
from tracker.web.formatters import format_count, format_moment


def explain(error: DomainError) -> str:
    """A plain sentence for a domain error, in the current language."""
    if isinstance(error, ReceiptMistyped):
        return _mistyped(error.details.get("reason", "check"), error.details.get("length", 0))
    if isinstance(error, RequestNotFound):
        return _(
            "No request has this receipt number. Check it against your receipt, "
            "or ask at the office where you applied."
        )
    if isinstance(error, MissingDetails):
        return _missing(error.details.get("missing", ""))
    if isinstance(error, TransitionError):
        return _not_allowed(error.details.get("current"), error.details.get("to"))
    if isinstance(error, AccountError):
        return _account(error.details)
    if isinstance(error, PointNotFound):
        return _("There is no pickup point with the code %(codes)s.", codes=error.details["codes"])
    if isinstance(error, CannotCall):
        if error.details.get("reason") == "counter":
            return _("Choose one of the counters of %(point)s.", point=error.details.get("point"))
        return _("Only a document that is ready at a pickup point can be called.")
    if isinstance(error, ConflictError):
        return _conflict_of(error)
    return _other(error)


def _other(error: DomainError) -> str:
    if isinstance(error, SetupInvalid):
        return "\n".join(setup_problem(p) for p in error.details.get("problems", []))
    if isinstance(error, BackupError):
        return _backup(error.details)
    if isinstance(error, LeaveDayError):
        if error.details.get("reason") == "taken":
            return _("%(day)s is a collective leave day already.", day=error.details.get("day"))
        if error.details.get("reason") == "busy":
            return _(
                "The leave day was not added: the calendar is being changed by someone else, "
                "or a long task that counts with it is still running. Try again in a minute."
            )
        if error.details.get("reason") == "too_many":
            return _(
                "%(day)s was not added: it would move the pickup windows and expected dates of "
                "about %(count)s documents and requests, more than the console moves within a "
                "page's time (%(most)s). Add it with flask --app wsgi setup load (see the "
                "production guide): it moves them all, however many.",
                day=error.details.get("day"),
                count=format_count(error.details.get("count", 0)),
                most=format_count(error.details.get("most", 0)),
            )
        return _("This collective leave day was removed already.")
    return _api(error)


def _backup(details: dict) -> str:
    reason = details.get("reason")
    messages = {
        "no_key": lambda: _("BACKUP_KEY is not set: a backup is never written unencrypted."),
        "short_key": lambda: _(
            "BACKUP_KEY is too short: use a random value of at least %(count)d characters.",
            count=details.get("count", 32),
        ),
        "not_a_backup": lambda: _("This file is not a SiapAmbil backup."),
        "wrong_key": lambda: _(
            "BACKUP_KEY does not fit this backup: it was made with another key."
        ),
        "tampered": lambda: _(
            "This backup was changed or cut short after it was made: nothing was restored."
        ),
        "holds_data": lambda: _(
            "The database already holds requests, staff accounts or offices: nothing was "
            "restored. Give --force to replace them."
        ),
        "kind": lambda: _(
            "This backup is of a %(made)s database and cannot go into a %(target)s one.",
            made=details.get("made"),
            target=details.get("target"),
        ),
        "no_tool": lambda: _(
            "%(tool)s for PostgreSQL %(major)s or newer was not found (apt-get install "
            "postgresql-client).",
            tool=details.get("tool"),
            major=details.get("major"),
        ),
        "tool_failed": lambda: _(
            "%(tool)s failed: %(said)s", tool=details.get("tool"), said=details.get("said", "")
        ),
        "no_file": lambda: _("There is no file %(path)s.", path=details.get("path")),
        "cannot_write": lambda: _(
            "A backup cannot be written at %(path)s: its folder does not exist.",
            path=details.get("path"),
        ),
    }
    return messages.get(reason, lambda: _("This cannot be done."))()


def status_label(status: Status | str | None) -> str:
    return _(Status(status).label_source) if status else "—"


def _not_allowed(current: Status | None, to: Status | None) -> str:
    return _(
        "A request that is “%(current)s” cannot be moved to “%(to)s”.",
        current=status_label(current),
        to=status_label(to),
    )


def _conflict_of(error: ConflictError) -> str:
    if isinstance(error, SavedMeanwhile):
        return _(
            "Someone else saved the same thing a moment ago. Nothing of yours was saved: "
            "reload the page, check and try again."
        )
    details = error.details
    if details.get("reason") == "unknown_version":
        return _(
            "This request has never had version %(asked)d: it is at version %(current)d. "
            "Nothing was saved: read it again and send the version you read.",
            asked=details.get("asked", 0),
            current=details.get("current", 0),
        )
    return _conflict(details.get("changed_by"), details.get("changed_at"), details.get("zone"))


def _conflict(changed_by: str | None, changed_at: dt.datetime | None, zone: str | None) -> str:
    if changed_by and changed_at is not None:
        return _(
            "Someone else changed this request first (%(who)s, %(when)s). Nothing of yours "
            "was saved: check the request as it is now and try again.",
            who=changed_by,
            when=format_moment(changed_at, zone or "Asia/Jakarta"),
        )
    return _(
        "Someone else changed these requests first. Nothing was saved: "
        "check them as they are now and try again."
    )


def _account(details: dict) -> str:
    reason = details.get("reason")
    if reason == "password_short":
        return _("A password needs at least %(count)d characters.", count=details["count"])
    if reason == "password_long":
        return _("A password may have at most %(count)d characters.", count=details["count"])
    if reason == "password_weak":
        return _(
            "This password is too common or too easy to guess. "
            "Use a few unrelated words or a longer password."
        )
    if reason == "password_wrong":
        return _("The current password is wrong.")
    if reason == "password_same":
        return _("Choose a new password, not the one you have now.")
    if reason == "username_taken":
        return _("The username %(name)s is taken.", name=details.get("name", ""))
    return _("A username has 3 to 60 lower-case letters, digits, dots, dashes or underscores.")


def _missing(what: str) -> str:
    messages = {
        "reason": _("Write the reason the citizen will read."),
        "window": _("Choose the pickup point."),
        "point": _("Choose a pickup point of the request's own office."),
        "id_checked": _("Check the collector's identity card first."),
        "representative": _("Write the representative's name and relation to the applicant."),
        "attorney": _("Check the power of attorney (surat kuasa) first."),
        "representative_not_allowed": _(
            "The applicant did not allow a representative to collect this document."
        ),
        "courier": _("Write the courier's name."),
        "handover": _(
            "A document is handed over on the handover page, where the collector's identity "
            "(and a representative's power of attorney) is checked and recorded."
        ),
        "opening_hours": _(
            "This pickup point is not open in the coming weeks (no opening hours, or the "
            "visit is over). Choose another point, or set its opening hours first."
        ),
    }
    return messages.get(what, _("Something needed for this change is missing."))


def _mistyped(reason: str, length: int) -> str:
    if reason == "empty":
        return _("Type the receipt number printed on your receipt.")
    if reason == "length":
        return _(
            "A receipt number has 12 characters; you typed %(count)d. "
            "Check it against your receipt.",
            count=length,
        )
    if reason == "character":
        return _(
            "A receipt number has only digits and the letters A–Z without I, L, O and U. "
            "Check it against your receipt."
        )
    return _(
        "This number looks mistyped: one of its characters does not fit. "
        "Check each character against your receipt."
    )


def moved_windows(count: int) -> str:
    """What staff read when a closure or a leave day lengthened waiting documents' windows."""
    return ngettext(
        "The pickup window of %(num)d waiting document is now longer; its citizen is told.",
        "The pickup windows of %(num)d waiting documents are now longer; their citizens are told.",
        count,
    )


def deferred_dates(count: int) -> str:
    """What staff read when a new leave day moved open requests' expected dates."""
    return ngettext(
        "The expected date of %(num)d request in progress is now a working day later.",
        "The expected dates of %(num)d requests in progress are now a working day later.",
        count,
    )


def rate_limited() -> str:
    return _("Too many look-ups from your connection. Please wait a minute and try again.")


def _api(error: DomainError) -> str:
    """The API's refusals (a key, a key's office or scope, a body), else the error's own."""
    if isinstance(error, InboundRefused):
        return _inbound(error)
    if isinstance(error, KeyForbidden):
        return _key_forbidden(error.details)
    if isinstance(error, KeyRefused):
        return _(
            "This call needs a valid API key, sent as “Authorization: Bearer KEY”. "
            "The key given is missing, unknown or revoked."
        )
    if isinstance(error, ApiKeyError):
        return _api_key(error.details)
    if isinstance(error, WebhookError):
        return _webhook(error.details)
    if (written := _writes(error)) is not None:
        return written
    if isinstance(error, FieldRefused):
        return _(
            "The field %(field)s is not valid: %(problem)s",
            field=error.details.get("field", ""),
            problem=_field_rule(error.details.get("rule", ""), error.details.get("field", "")),
        )
    if isinstance(error, BodyInvalid):
        if error.details.get("reason") == "not_json":
            return _("The body is not JSON: send one JSON object of fields.")
        return _(
            "The field %(field)s is not valid: %(problem)s",
            field=error.details.get("field") or "(body)",
            problem=_body_problem(error.details),
        )
    return error.message or _("This cannot be done.")


def _writes(error: DomainError) -> str | None:
    """The API's write refusals: a handover, a duplicate, a reference, an idempotency key."""
    if isinstance(error, HandoverAtCounter):
        return _(
            "A document is handed over only at a counter, where the collector's identity "
            "is seen: “collected” cannot be set through the API."
        )
    if isinstance(error, DuplicateRequest):
        return _(
            "This NIK already has %(count)d unfinished request(s) for this service. "
            "Send “confirm_duplicate”: true to register it anyway.",
            count=error.details.get("count", 0),
        )
    if isinstance(error, ExternalRefTaken):
        return _("The office already has a request with this external_ref.")
    if isinstance(error, IdempotencyMismatch):
        return _(
            "This Idempotency-Key was used for another call in the last 24 hours. "
            "Use a new key for a new call."
        )
    return None


def _type_name(kind: str, *, in_yaml: bool = False) -> str:
    """A JSON Schema type as a reader knows it; a setup file's texts and groups in YAML's
    words."""
    names = {
        "string": lambda: _("text (put it in quotes)") if in_yaml else _("text"),
        "integer": lambda: _("a whole number"),
        "number": lambda: _("a number"),
        "array": lambda: _("a list"),
        "object": lambda: _("a group of fields") if in_yaml else _("an object of fields"),
        "boolean": lambda: _("true or false"),
    }
    return names.get(kind, lambda: str(kind))()


def _body_problem(details: dict) -> str:
    """What the contract asks of a field of a JSON body (``contract.refusal``)."""
    d = details
    said = {
        "required": lambda: _("is missing."),
        "unknown": lambda: _("is not a field of this call."),
        "type": lambda: _(
            "must be %(type)s.",
            type=_(" or ").join(_type_name(t) for t in d.get("types", ())),
        ),
        "empty": lambda: _("must not be empty."),
        "too_long": lambda: _("is too long (at most %(count)d).", count=d.get("count") or 0),
        "enum": lambda: _("must be one of: %(choices)s.", choices=d.get("choices", "")),
        "range": lambda: _(
            "must be between %(low)s and %(high)s.",
            low="-" if d.get("low") is None else d["low"],
            high="-" if d.get("high") is None else d["high"],
        ),
        "pattern": lambda: _("is not written in the form the contract gives (see its docs)."),
        "twice": lambda: _("names the same thing twice."),
    }
    return said.get(d.get("reason", ""), lambda: _("is not valid."))()


def _field_rule(rule: str, field: str) -> str:
    """Why a field of an API write is refused, by the intake's and the moves' own rules."""
    rules = {
        "control": _(
            "“%(field)s” contains a control character that cannot be stored "
            "(such as a line break or NUL).",
            field=field,
        ),
        "control_lines": _(
            "“%(field)s” contains a control character that cannot be stored "
            "(only line breaks and tabs are allowed).",
            field=field,
        ),
        "surrogate": _(
            "“%(field)s” holds a character that is not valid Unicode (a lone surrogate, "
            "such as \\ud800).",
            field=field,
        ),
        "unknown": _("No service has this code."),
        "not_offered": _("This service is no longer offered."),
        "name": _(
            "“%(field)s” may hold only Latin letters, spaces and an apostrophe "
            "(as in Ma'ruf), at most %(max)d characters: no digits or other symbols "
            "(Permendagri 73/2022).",
            field="applicant_name",
            max=60,
        ),
        "nik_length": _("A NIK has 16 digits."),
        "nik_region": _("The first six digits of this NIK are not a region code."),
        "nik_birth_date": _(
            "Digits 7 to 12 of this NIK are not a date of birth (a woman's day is plus 40)."
        ),
        "nik_serial": _("The last four digits of a NIK cannot be 0000."),
        "phone": _("Type a mobile number such as 0812 3456 7890."),
        "email": _("This e-mail address is not valid."),
        "phone_for_channel": _("WhatsApp and SMS need a mobile number."),
        "email_for_channel": _("E-mail notifications need an e-mail address."),
        "address": _("Delivery needs an address."),
        "required": _("This field is required."),
        "point": _("No pickup point of this office has this code."),
        "office": _("This key holds several offices: name one in “office”."),
        "reason": _("Write the reason the citizen will read."),
        "idempotency_key": _("An Idempotency-Key has 1 to 200 visible ASCII characters."),
    }
    return rules.get(rule, _("This cannot be done."))


def _key_forbidden(details: dict) -> str:
    if details.get("reason") == "scope":
        return _("This API key may only read; this call changes data and needs a write key.")
    return _("This API key does not hold the office %(office)s.", office=details.get("office", ""))


def _api_key(details: dict) -> str:
    reason = details.get("reason")
    if reason == "name_taken":
        return _("An API key called %(name)s exists already.", name=details.get("name", ""))
    if reason == "no_office":
        return _("Choose at least one office for the key.")
    if reason == "unknown":
        return _("No API key is called %(name)s.", name=details.get("name", ""))
    if reason == "revoked":
        return _("The API key %(name)s is revoked already.", name=details.get("name", ""))
    return _("A key's name has 3 to 60 lower-case letters, digits, dots, dashes or underscores.")


def _webhook(details: dict) -> str:
    reason = details.get("reason")
    if reason == "url":
        return _(
            "The URL of a webhook must start with http:// or https:// and name a host, "
            "at most 200 characters."
        )
    if reason == "events":
        return _(
            "Choose the events of the webhook among %(known)s (unknown: %(unknown)s).",
            known=", ".join(details.get("known", [])),
            unknown=", ".join(details.get("unknown", [])) or "-",
        )
    if reason == "office":
        return _("No office has the code %(code)s.", code=details.get("office", ""))
    if reason == "removed":
        return _("The webhook %(id)s is removed already.", id=details.get("id", ""))
    return _("No webhook has the number %(id)s.", id=details.get("id", ""))


def setup_problem(problem: dict) -> str:
    """One problem of a setup file, as ``path: what is wrong``."""
    p = problem
    messages = {
        "yaml": lambda: _("The file is not valid YAML (line %(line)d).", line=p.get("line", 0)),
        "required": lambda: _("is missing."),
        "unknown": lambda: _("unknown field(s): %(names)s.", names=p.get("names")),
        "pattern": lambda: _(
            "%(value)s is not written as %(form)s.", value=p.get("value"), form=p.get("form")
        ),
        "type": lambda: _(
            "%(value)s must be %(type)s.",
            value=p.get("value"),
            type=_type_name(str(p.get("type")), in_yaml=True),
        ),
        "enum": lambda: _(
            "%(value)s is not one of: %(choices)s.", value=p.get("value"), choices=p.get("choices")
        ),
        "empty": lambda: _("must not be empty."),
        "too_long": lambda: _("is too long (at most %(count)d).", count=p.get("count", 0)),
        "range": lambda: _(
            "%(value)s must be between %(low)s and %(high)s.",
            value=p.get("value"),
            low=p.get("low"),
            high=p.get("high"),
        ),
        "twice": lambda: _("names the same thing twice."),
        "code_twice": lambda: _("%(value)s is named twice.", value=p.get("value")),
        "phone": lambda: _(
            "%(value)s must be a telephone number in Indonesia: with its area code, such as "
            "(0254) 200-123, or a service number, such as 1500 537.",
            value=p.get("value"),
        ),
        "whatsapp": lambda: _(
            "%(value)s must be a mobile number, such as 0812 3456 7890.", value=p.get("value")
        ),
        "one_main": lambda: _(
            "exactly one point must be the main one (main: true); %(count)d are.",
            count=p.get("count", 0),
        ),
        "hours": lambda: _(
            "%(value)s: each period must open before it closes, and periods must not overlap.",
            value=p.get("value"),
        ),
        "date": lambda: _("%(value)s is not a date.", value=p.get("value")),
    }
    said = messages.get(
        p.get("reason"), lambda: _("%(value)s is not valid.", value=p.get("value"))
    )()
    return f"{p['path']}: {said}" if p.get("path") else said


def _inbound(error: InboundRefused) -> str:
    """An inbound channel's refusals: not set up, a wrong token, a missing signature."""
    if error.status == 404:
        return _("This inbound channel is not set up.")
    if error.status == 403:
        return _("The verification token does not match.")
    return _("This call is not signed with the channel's secret.")
