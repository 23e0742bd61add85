"""The service's Prometheus metrics.

Counters and histograms live in the process that counts them: the web workers count
requests, look-ups and moves. Under gunicorn each worker writes its values to files in
``PROMETHEUS_MULTIPROC_DIR`` (``prometheus_client``'s multiprocess mode; ``gunicorn.conf.py``
empties the directory at start and marks a worker dead when it exits), and a scrape builds
a fresh registry whose ``MultiProcessCollector`` sums them. Without that setting one
process serves its own values.

What reflects the database (messages in the outbox by status and channel, the age of the
oldest due one, the scheduler's heartbeat age) is read from it at scrape time, at the
instant the view read, and served as gauges of that scrape (``Snapshot``): nothing to
count in workers, nothing stale after a restart. So are the jobs' runs, failures and
durations: the scheduler (a process of its own, often on another host) counts each run in
its job's lease row (``jobs.lease.count_run``), and every web worker serves those counts,
the same on each (alert rules take the max over them, never the sum).
"""

from __future__ import annotations

import datetime as dt
import logging
import os
from collections.abc import Iterator
from dataclasses import dataclass, field

from prometheus_client import (
    CONTENT_TYPE_LATEST,
    CollectorRegistry,
    Counter,
    Histogram,
    generate_latest,
    multiprocess,
)
from prometheus_client.core import (
    CounterMetricFamily,
    GaugeMetricFamily,
    Metric,
    SummaryMetricFamily,
)
from sqlalchemy import event, func, select
from sqlalchemy.orm import Session

from tracker.models import JobLease, OutboxMessage, OutboxStatus, StatusEvent
from tracker.models.requests import Channel

CONTENT_TYPE = CONTENT_TYPE_LATEST
MULTIPROCESS_DIR = "PROMETHEUS_MULTIPROC_DIR"
# The outbox's states that still wait for something; sent and cancelled messages only grow,
# and counting them would cost a scan of the whole table at every scrape.
WAITING = (OutboxStatus.HELD, OutboxStatus.PENDING, OutboxStatus.SENDING, OutboxStatus.DEAD)
LOOKUP_OUTCOMES = ("found", "not_found", "mistyped", "limited")
LIMITER_LOGGER = "flask-limiter"

# The process's own metrics; never the global registry, so that what a scrape shows is
# exactly what is declared here.
REGISTRY = CollectorRegistry(auto_describe=True)

REQUESTS = Counter(
    "siapambil_http_requests",
    "HTTP requests answered, by route rule, method and status code.",
    ["route", "method", "status"],
    registry=REGISTRY,
)
LATENCY = Histogram(
    "siapambil_http_request_duration_seconds",
    "Time to answer an HTTP request, by route rule and method.",
    ["route", "method"],
    buckets=(0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1.0, 2.5, 5.0, 10.0),
    registry=REGISTRY,
)
LOOKUPS = Counter(
    "siapambil_lookups",
    "Look-ups by receipt number, by outcome: found, not_found, mistyped, limited.",
    ["outcome"],
    registry=REGISTRY,
)
TRANSITIONS = Counter(
    "siapambil_transitions",
    "Status changes committed, by target status.",
    ["to"],
    registry=REGISTRY,
)
RATE_LIMIT_STORAGE_ERRORS = Counter(
    "siapambil_rate_limit_storage_errors",
    "Requests served without their rate limits counted, the limits' storage (Redis) being "
    "unreachable: the limits fail open.",
    registry=REGISTRY,
)


def count_lookup(outcome: str) -> None:
    LOOKUPS.labels(outcome=outcome).inc()


class CountStorageErrors(logging.Filter):
    """Counts the errors Flask-Limiter swallows (``RATELIMIT_SWALLOW_ERRORS``): it logs each
    with its exception when its storage fails, and serves the request unlimited."""

    def filter(self, record: logging.LogRecord) -> bool:
        if record.exc_info and record.levelno >= logging.ERROR:
            RATE_LIMIT_STORAGE_ERRORS.inc()
        return True


def count_rate_limit_storage_errors() -> None:
    """Install the counting filter on Flask-Limiter's logger, once per process."""
    limiter_log = logging.getLogger(LIMITER_LOGGER)
    if not any(isinstance(f, CountStorageErrors) for f in limiter_log.filters):
        limiter_log.addFilter(CountStorageErrors())


def observe_request(route: str, method: str, status: int, seconds: float) -> None:
    REQUESTS.labels(route=route, method=method, status=str(status)).inc()
    LATENCY.labels(route=route, method=method).observe(seconds)


# Moves are counted when their unit of work commits, never when it rolls back: each flush
# notes the new status events of the session, and the commit counts what was noted. A
# registration (a first event, from nothing) is not a move.
_NOTED = "siapambil.watch.moves"


def _note_moves(session: Session, _context: object) -> None:
    moved = [
        e.to_status for e in session.new if isinstance(e, StatusEvent) and e.from_status is not None
    ]
    if moved:
        session.info.setdefault(_NOTED, []).extend(moved)


def _count_moves(session: Session) -> None:
    for to in session.info.pop(_NOTED, ()):
        TRANSITIONS.labels(to=str(to)).inc()


def _forget_moves(session: Session, *_args: object) -> None:
    session.info.pop(_NOTED, None)


def listen_for_moves() -> None:
    """Count committed status changes, in every session of this process (once)."""
    if not event.contains(Session, "after_flush", _note_moves):
        event.listen(Session, "after_flush", _note_moves)
        event.listen(Session, "after_commit", _count_moves)
        event.listen(Session, "after_rollback", _forget_moves)


@dataclass(frozen=True)
class JobRuns:
    """A job's counts, from its lease row."""

    job: str
    runs: int
    failures: int
    seconds_total: float
    last_seconds: float | None


@dataclass(eq=False)  # a collector is registered by identity
class Snapshot:
    """What the database says at the instant of one scrape."""

    outbox: dict[tuple[str, str], int] = field(default_factory=dict)
    oldest_due_age: float = 0.0
    heartbeat_age: float | None = None
    jobs: tuple[JobRuns, ...] = ()

    def collect(self) -> Iterator[Metric]:
        messages = GaugeMetricFamily(
            "siapambil_outbox_messages",
            "Messages in the outbox that still wait (held, pending, sending) or gave up "
            "(dead), by status and channel.",
            labels=["status", "channel"],
        )
        for status in WAITING:
            for channel in Channel:
                count = self.outbox.get((status.value, channel.value), 0)
                messages.add_metric([status.value, channel.value], count)
        yield messages
        yield GaugeMetricFamily(
            "siapambil_outbox_oldest_due_age_seconds",
            "How long the oldest message that is due to be sent has been due (0: none).",
            value=self.oldest_due_age,
        )
        if self.heartbeat_age is not None:
            yield GaugeMetricFamily(
                "siapambil_scheduler_heartbeat_age_seconds",
                "Seconds since a scheduled job last finished a run.",
                value=self.heartbeat_age,
            )
        yield from self._collect_jobs()

    def _collect_jobs(self) -> Iterator[Metric]:
        runs = CounterMetricFamily(
            "siapambil_job_runs", "Job runs that held the lease, by job.", labels=["job"]
        )
        failures = CounterMetricFamily(
            "siapambil_job_failures", "Job runs that raised, by job.", labels=["job"]
        )
        durations = SummaryMetricFamily(
            "siapambil_job_duration_seconds", "Time the job's runs took, by job.", labels=["job"]
        )
        last = GaugeMetricFamily(
            "siapambil_job_last_duration_seconds",
            "Time the job's last run took, by job.",
            labels=["job"],
        )
        for each in self.jobs:
            runs.add_metric([each.job], each.runs)
            failures.add_metric([each.job], each.failures)
            durations.add_metric([each.job], count_value=each.runs, sum_value=each.seconds_total)
            if each.last_seconds is not None:
                last.add_metric([each.job], each.last_seconds)
        yield from (runs, failures, durations, last)


def snapshot(session: Session, now: dt.datetime) -> Snapshot:
    """Read the gauges of one scrape: four small queries, each on an index or a tiny table
    (the jobs' lease rows, a few dozen)."""
    rows = session.execute(
        select(OutboxMessage.status, OutboxMessage.channel, func.count())
        .where(OutboxMessage.status.in_(WAITING))
        .group_by(OutboxMessage.status, OutboxMessage.channel)
    )
    outbox = {(str(s), str(c)): n for s, c, n in rows}
    oldest = oldest_due(session, now)
    beat = heartbeat(session)
    leases = session.execute(
        select(
            JobLease.name,
            JobLease.runs,
            JobLease.failures,
            JobLease.seconds_total,
            JobLease.last_seconds,
        ).order_by(JobLease.name)
    ).all()
    return Snapshot(
        outbox=outbox,
        oldest_due_age=seconds_between(oldest, now),
        heartbeat_age=None if beat is None else seconds_between(beat, now),
        jobs=tuple(
            JobRuns(row.name, row.runs, row.failures, row.seconds_total, row.last_seconds)
            for row in leases
        ),
    )


def oldest_due(session: Session, now: dt.datetime) -> dt.datetime | None:
    """Since when the oldest message that the dispatcher should have taken has been due."""
    return session.scalar(
        select(func.min(OutboxMessage.next_attempt_at)).where(
            OutboxMessage.status == OutboxStatus.PENDING, OutboxMessage.next_attempt_at <= now
        )
    )


def heartbeat(session: Session) -> dt.datetime | None:
    """When a scheduled job last finished a run (every run updates its lease row)."""
    return session.scalar(select(func.max(JobLease.last_finished_at)))


def seconds_between(earlier: dt.datetime | None, now: dt.datetime) -> float:
    if earlier is None:
        return 0.0
    if earlier.tzinfo is None:
        earlier = earlier.replace(tzinfo=dt.UTC)
    return max(0.0, (now - earlier).total_seconds())


def exposition(extra: Snapshot | None) -> bytes:
    """The text format of one scrape: a registry built for it, over every worker's files in
    multiprocess mode or this process's own metrics otherwise, and the scrape's gauges."""
    registry = CollectorRegistry()
    if os.environ.get(MULTIPROCESS_DIR):
        multiprocess.MultiProcessCollector(registry)
    else:
        registry.register(REGISTRY)  # type: ignore[arg-type]
    if extra is not None:
        registry.register(extra)  # type: ignore[arg-type]
    return generate_latest(registry)


for _outcome in LOOKUP_OUTCOMES:  # every outcome is a series from the start, at 0
    LOOKUPS.labels(outcome=_outcome)
