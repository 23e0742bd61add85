"""The domain errors.

DomainError                   anything the product refuses, with a message for people
├── ReceiptError              a receipt number that cannot be looked up
│   ├── ReceiptMistyped       wrong length, a character that is not in the alphabet,
│   │                         or a check character that does not fit: a typo
│   └── RequestNotFound       well formed, but no request has it (or it may not be shown)
├── PointNotFound             no pickup point has this code (the board, the points API)
├── QueryError                a public page's argument that cannot be read
│                             (the statistics' office or period)
├── TransitionError           a status change the workflow does not allow
│   └── MissingDetails        the change needs something that was not given
│       │                     (a reason, a pickup point, a collector)
│       └── NoOpeningHours    the pickup point opens on no day in the weeks ahead, or
│                             its visit is over: there is no pickup window
├── AccountError              a username or a password that will not do (``reason``)
├── CannotCall                a document that is not ready at a point, or a counter the
│                             point does not have, cannot be called to the counter
├── MessageMoveRefused        a move the outbox's table does not allow a message to make
│                             from its state (send again one that was sent, say)
├── ConflictError             the request changed since the caller read it (optimistic lock)
├── BackupError               a backup or a restore that cannot be done (no key, a wrong key,
                              a changed file, a database that holds data, a missing tool)
├── KeyRefused                an API call without a valid key (401: missing, unknown,
│   │                         revoked)
│   └── KeyForbidden          a valid key of the wrong scope, or another office (403)
├── ApiKeyError               a key that cannot be made or revoked (``reason``)
├── WebhookError              a subscription that cannot be made, rotated or removed
│                             (``reason``: url, events, office, removed, unknown)
├── BodyInvalid               a JSON body that does not fit the contract (422, ``field``)
│   └── FieldRefused          a field the intake's or a move's rules refuse (``field``,
│                             ``rule``)
├── HandoverAtCounter         ``collected`` asked through the API: a handover is done at a
│                             counter, with the identity seen (422)
├── DuplicateRequest          the same NIK has an unfinished request for the service (409)
├── ExternalRefTaken          the office has a request with this external reference (409)
├── IdempotencyMismatch       an Idempotency-Key used again with another call (422)
├── InboundRefused            an inbound WhatsApp or SMS call without a valid signature (401)
│   ├── VerifyRefused         a WhatsApp verification handshake with the wrong token (403)
│   └── ChannelOff            an inbound channel whose secret is not set (404)
├── SetupInvalid              a setup file with problems (``problems``: each with its
│                             ``path`` and ``reason``); nothing of it was loaded
└── LeaveDayError             a collective leave day that cannot be added (its date is one
                              already: ``reason="taken"``; more moves than the console makes:
                              ``"too_many"``; the calendar's lock not had in time: ``"busy"``)
                              or removed (``"missing"``)

Each error carries a stable ``code`` for the JSON API and details; the words people read
come from ``tracker.web.wording.explain``, in their language, so nothing below the views
translates.
"""

from __future__ import annotations

from typing import Any


class DomainError(Exception):
    code = "domain_error"
    status = 400

    def __init__(self, message: str | None = None, **details: Any) -> None:
        super().__init__(message or self.__class__.__name__)
        self.message = message
        self.details = details


class ReceiptError(DomainError):
    code = "receipt_error"


class ReceiptMistyped(ReceiptError):
    code = "receipt_mistyped"
    status = 400


class RequestNotFound(ReceiptError):
    code = "not_found"
    status = 404


class TransitionError(DomainError):
    code = "transition_not_allowed"
    status = 409


class MissingDetails(TransitionError):
    code = "missing_details"
    status = 400


class NoOpeningHours(MissingDetails):
    code = "no_opening_hours"

    def __init__(self, **details: Any) -> None:
        super().__init__(None, missing="opening_hours", **details)


class PointNotFound(DomainError):
    code = "point_not_found"
    status = 404


class QueryError(DomainError):
    code = "bad_query"
    status = 400


class AccountError(DomainError):
    code = "account_error"


class CannotCall(DomainError):
    code = "cannot_call"
    status = 400


class MessageMoveRefused(DomainError):
    code = "message_move_refused"
    status = 409


class ConflictError(DomainError):
    code = "conflict"
    status = 409


class SavedMeanwhile(ConflictError):
    """Another writer saved the same thing a moment before (a unique index refused the row,
    after this one's own check had found it free); the API's code stays ``conflict``."""


class CodeTaken(DomainError):
    """A new service or pickup point with a code that another one has (``kind``: "service"
    or "point"), found before the insert or, when two admins add the same code at once, by
    the unique index."""

    code = "code_taken"
    status = 409


class BackupError(DomainError):
    """A backup or a restore that cannot be done; ``reason`` says why: ``no_key``,
    ``short_key``, ``not_a_backup``, ``wrong_key``, ``tampered``, ``holds_data``, ``kind``,
    ``no_tool``, ``tool_failed``, ``no_file``, ``cannot_write``."""

    code = "backup_refused"


class KeyRefused(DomainError):
    code = "unauthorized"
    status = 401


class KeyForbidden(KeyRefused):
    code = "forbidden"
    status = 403


class ApiKeyError(DomainError):
    code = "api_key_error"
    status = 400


class WebhookError(DomainError):
    code = "webhook_error"
    status = 400


class BodyInvalid(DomainError):
    code = "invalid_body"
    status = 422


class SetupInvalid(DomainError):
    code = "setup_invalid"
    status = 400


class FieldRefused(BodyInvalid):
    """A field the API's write refuses by the product's own rules; ``rule`` names which."""

    code = "invalid_field"


class HandoverAtCounter(DomainError):
    code = "handover_at_counter"
    status = 422


class DuplicateRequest(DomainError):
    """``count`` unfinished requests; ``receipts`` only those of the caller's office."""

    code = "duplicate"
    status = 409


class ExternalRefTaken(DomainError):
    code = "external_ref_taken"
    status = 409


class IdempotencyMismatch(DomainError):
    code = "idempotency_key_reused"
    status = 422


class InboundRefused(DomainError):
    code = "unauthorized"
    status = 401


class VerifyRefused(InboundRefused):
    code = "forbidden"
    status = 403


class ChannelOff(InboundRefused):
    code = "not_found"
    status = 404


class LeaveDayError(DomainError):
    code = "leave_day_error"
    status = 409
