"""API keys: what another system (an office website, an app, a regency's SIAK bridge) signs
its calls with. Only a hash of each key is kept, with its first characters for recognition;
a key holds one or more offices and sees and changes only theirs."""

from __future__ import annotations

import datetime as dt
import enum

from sqlalchemy import Column, ForeignKey, Integer, String, Table, Text, UniqueConstraint
from sqlalchemy.orm import Mapped, mapped_column, relationship

from tracker.models.base import Base, UTCDateTime, text_enum, utcnow
from tracker.models.places import Office


class KeyScope(enum.StrEnum):
    READ = "read"  # the read routes that need a key
    WRITE = "write"  # those and the routes that change requests


api_key_offices = Table(
    "api_key_offices",
    Base.metadata,
    Column("key_id", ForeignKey("api_keys.id", ondelete="CASCADE"), primary_key=True),
    Column("office_id", ForeignKey("offices.id"), primary_key=True),
)


class ApiKey(Base):
    """``prefix``: ``sa_live_`` and the key's first characters, shown in lists; ``digest``:
    SHA-256 of the whole key, compared in constant time. ``last_used_at`` moves at most once
    a minute."""

    __tablename__ = "api_keys"

    id: Mapped[int] = mapped_column(primary_key=True)
    name: Mapped[str] = mapped_column(String(60), unique=True)
    prefix: Mapped[str] = mapped_column(String(20), index=True)
    digest: Mapped[str] = mapped_column(String(64), unique=True)
    scope: Mapped[KeyScope] = mapped_column(text_enum(KeyScope))
    created_by: Mapped[str] = mapped_column(String(80))
    created_at: Mapped[dt.datetime] = mapped_column(UTCDateTime, default=utcnow)
    revoked_at: Mapped[dt.datetime | None] = mapped_column(UTCDateTime)
    last_used_at: Mapped[dt.datetime | None] = mapped_column(UTCDateTime)

    offices: Mapped[list[Office]] = relationship(secondary=api_key_offices, order_by=Office.code)

    @property
    def active(self) -> bool:
        return self.revoked_at is None


class ApiIdempotency(Base):
    """What a write call answered, under the ``Idempotency-Key`` its key sent: the same key
    with the same call (``request_hash``: SHA-256 of method, path and body) gets this answer
    again without acting; kept 24 hours (``tracker.api.idempotency.KEPT``)."""

    __tablename__ = "api_idempotency"

    id: Mapped[int] = mapped_column(primary_key=True)
    api_key_id: Mapped[int] = mapped_column(ForeignKey("api_keys.id", ondelete="CASCADE"))
    key: Mapped[str] = mapped_column(String(200))
    request_hash: Mapped[str] = mapped_column(String(64))
    status_code: Mapped[int] = mapped_column(Integer)
    response_body: Mapped[str] = mapped_column(Text)
    created_at: Mapped[dt.datetime] = mapped_column(UTCDateTime, index=True)

    __table_args__ = (UniqueConstraint("api_key_id", "key"),)
