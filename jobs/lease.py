"""One run of a job at a time, across processes and hosts: a lease row per job, taken with
one conditional UPDATE and given back when the run ends (or left to expire if the process
dies). It works the same on SQLite and PostgreSQL."""

from __future__ import annotations

import datetime as dt
import os
import socket
import uuid

from sqlalchemy import select, update
from sqlalchemy.dialects import postgresql, sqlite
from sqlalchemy.orm import Session

from tracker.models import JobLease

HOLDER = f"{socket.gethostname()}:{os.getpid()}:{uuid.uuid4().hex[:6]}"
EPOCH = dt.datetime(2000, 1, 1, tzinfo=dt.UTC)


def take(session: Session, name: str, seconds: int, now: dt.datetime) -> bool:
    """Take the lease of ``name`` for ``seconds`` if nobody holds it at ``now`` (the caller's
    unit of work commits it before the run starts)."""
    insert = postgresql.insert if session.get_bind().dialect.name == "postgresql" else sqlite.insert
    session.execute(
        insert(JobLease).values(name=name, holder="", until=EPOCH).on_conflict_do_nothing()
    )
    taken = session.execute(
        update(JobLease)
        .where(JobLease.name == name, JobLease.until < now)
        .values(holder=HOLDER, until=now + dt.timedelta(seconds=seconds))
        .execution_options(synchronize_session=False)
    )
    return taken.rowcount == 1


def give_back(session: Session, name: str, now: dt.datetime) -> None:
    """Give the lease back at ``now`` (when the run ended), in the caller's unit of work."""
    session.execute(
        update(JobLease)
        .where(JobLease.name == name, JobLease.holder == HOLDER)
        .values(until=now, last_finished_at=now)
        .execution_options(synchronize_session=False)
    )


def count_run(session: Session, name: str, seconds: float, failed: bool) -> None:
    """Count one run of ``name`` that took ``seconds`` in its row, in the caller's unit of work
    (``/metrics`` reads the counts on every web host). Counted whoever holds the lease now: a
    run that outlived its lease still ran."""
    session.execute(
        update(JobLease)
        .where(JobLease.name == name)
        .values(
            runs=JobLease.runs + 1,
            failures=JobLease.failures + (1 if failed else 0),
            seconds_total=JobLease.seconds_total + seconds,
            last_seconds=seconds,
        )
        .execution_options(synchronize_session=False)
    )


def last_finished(session: Session, name: str) -> dt.datetime | None:
    return session.scalar(select(JobLease.last_finished_at).where(JobLease.name == name))
