"""Staff accounts and the hash-chained audit trail of what they do."""

from __future__ import annotations

import datetime as dt
import enum
from typing import Any

from sqlalchemy import JSON, ForeignKey, Index, Integer, String, event
from sqlalchemy.orm import Mapped, mapped_column, relationship

from tracker.models.base import Base, UTCDateTime, text_enum, utcnow
from tracker.models.places import Office


class Role(enum.StrEnum):
    OPERATOR = "operator"
    SUPERVISOR = "supervisor"
    ADMIN = "admin"


class StaffAccount(Base):
    """A person behind the counter. ``session_version`` is part of every session cookie:
    raising it (sign-out, deactivation, a new password) ends every session at once.
    ``must_change_password``: the account signs in with a one-time password and must
    choose its own before anything else in the console."""

    __tablename__ = "staff_accounts"

    id: Mapped[int] = mapped_column(primary_key=True)
    username: Mapped[str] = mapped_column(String(60), unique=True)
    full_name: Mapped[str] = mapped_column(String(200), default="")
    password_hash: Mapped[str] = mapped_column(String(200))
    office_id: Mapped[int] = mapped_column(ForeignKey("offices.id"))
    role: Mapped[Role] = mapped_column(text_enum(Role))
    active: Mapped[bool] = mapped_column(default=True)
    session_version: Mapped[int] = mapped_column(Integer, default=1)
    must_change_password: Mapped[bool] = mapped_column(default=False)
    created_at: Mapped[dt.datetime] = mapped_column(UTCDateTime, default=utcnow)
    last_login_at: Mapped[dt.datetime | None] = mapped_column(UTCDateTime)

    office: Mapped[Office] = relationship()

    # Flask-Login's user protocol.
    @property
    def is_active(self) -> bool:
        return self.active

    is_authenticated = True
    is_anonymous = False

    def get_id(self) -> str:
        return f"{self.id}:{self.session_version}"


class AuditEntry(Base):
    """One staff action. Append-only; ``digest`` is SHA-256 over the row (its details through
    ``details_digest``) and the digest of the row before it, so a changed or removed row
    breaks the chain from there on. Retention may replace the details of a request's rows by
    ``{"redacted": true}`` and set ``redacted_at``: the only change the chain allows."""

    __tablename__ = "audit_trail"
    __table_args__ = (Index("ix_audit_trail_target", "target"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    at: Mapped[dt.datetime] = mapped_column(UTCDateTime, default=utcnow)
    actor: Mapped[str] = mapped_column(String(80))
    action: Mapped[str] = mapped_column(String(60))
    target: Mapped[str] = mapped_column(String(120), default="")
    address: Mapped[str] = mapped_column(String(64), default="")
    details: Mapped[dict[str, Any]] = mapped_column(JSON, default=dict)
    details_digest: Mapped[str] = mapped_column(String(64))
    redacted_at: Mapped[dt.datetime | None] = mapped_column(UTCDateTime)
    previous: Mapped[str] = mapped_column(String(64))
    digest: Mapped[str] = mapped_column(String(64), unique=True)


@event.listens_for(AuditEntry, "before_update")
@event.listens_for(AuditEntry, "before_delete")
def _audit_is_append_only(_mapper: Any, _connection: Any, target: AuditEntry) -> None:
    raise RuntimeError(f"audit entry {target.id} is history and cannot be changed")
