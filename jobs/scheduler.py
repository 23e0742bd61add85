"""The scheduler: every job declared once, run by APScheduler 3 in its own process.

    flask --app wsgi jobs run          # or: python -m jobs.scheduler

Each job has an id, ``coalesce=True`` (a backlog of missed runs is one run), an explicit
misfire grace time, one instance at a time in this process, and a lease in the database so
that a second scheduler, or a hand-run ``jobs run-once``, never runs it at the same time.
Times are each office's own: the daily jobs are declared once per time zone in use.
SIGTERM and Ctrl+C stop the scheduler after the job in hand.
"""

from __future__ import annotations

import datetime as dt
import logging
import signal
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

from apscheduler.schedulers.base import BaseScheduler
from apscheduler.schedulers.blocking import BlockingScheduler
from apscheduler.triggers.cron import CronTrigger
from apscheduler.triggers.interval import IntervalTrigger
from flask import Flask

from jobs import runner, work
from tracker.audit.trail import SYSTEM
from tracker.config import JOB_INTERVALS
from tracker.db import unit_of_work
from tracker.models import TIMEZONES, utcnow
from tracker.requests import changes
from tracker.webhooks import sealing, subscriptions

MISFIRE_GRACE_SECONDS = 300


@dataclass(frozen=True)
class Job:
    id: str
    work: runner.Work
    trigger: Callable[[dict[str, Any]], Any]
    lease_setting: str = "JOB_LEASE_SECONDS"  # how long a run may take before it is presumed dead


def jobs() -> list[Job]:
    """Every job, in one place."""
    declared = [
        Job("announce", work.announce, _every("announce")),
        Job("notify", work.notify, _every("notify"), lease_setting="NOTIFY_CLAIM_SECONDS"),
    ]
    for zone, short in TIMEZONES.items():
        key = short.lower()
        declared += [
            Job(f"digest-{key}", work.digest(zone), _at(7, 0, zone)),
            Job(f"remind-{key}", work.remind(zone), _at(9, 0, zone)),
            Job(f"expire-{key}", work.expire(zone), _at(0, 30, zone)),
            Job(f"deadlines-{key}", work.deadlines(zone), _at(6, 0, zone)),
        ]
    declared.append(Job("retention", work.retention, _at(2, 0, "Asia/Jakarta")))
    return declared


def _every(name: str) -> Callable[[dict[str, Any]], IntervalTrigger]:
    """Every so many seconds, as the job's setting in ``JOB_INTERVALS`` says (the heartbeat
    check of ``/healthz/jobs`` reads the same table)."""
    return lambda config: IntervalTrigger(seconds=config[JOB_INTERVALS[name]])


def _at(hour: int, minute: int, zone: str) -> Callable[[dict[str, Any]], CronTrigger]:
    return lambda _config: CronTrigger(hour=hour, minute=minute, timezone=zone)


def find(name: str) -> Job:
    for job in jobs():
        if job.id == name:
            return job
    raise KeyError(name)


def build(app: Flask, kind: type[BaseScheduler] = BlockingScheduler) -> BaseScheduler:
    scheduler = kind(
        job_defaults={
            "coalesce": True,
            "max_instances": 1,
            "misfire_grace_time": MISFIRE_GRACE_SECONDS,
        },
        timezone="Asia/Jakarta",
    )
    for job in jobs():
        scheduler.add_job(
            runner.run,
            job.trigger(app.config),
            args=(app, job.id, job.work, app.config[job.lease_setting]),
            id=job.id,
            name=job.id,
            replace_existing=True,
        )
    return scheduler


def prepare(app: Flask, now: dt.datetime) -> None:
    """What the scheduler does once as it starts (at ``now``), restarted last in an upgrade
    (after every web host runs the new release): requests the release before made or moved
    meanwhile are marked changed (``tracker.requests.changes.catch_up``), and the webhooks'
    signing secrets are sealed by the current ``WEBHOOK_SECRET_KEY`` (those an earlier
    release kept in the clear, and those sealed by a key now among the fallbacks: as
    ``webhook reseal`` does; two schedulers starting at once write the same values)."""
    log = logging.getLogger("jobs")
    with app.app_context(), unit_of_work(app) as session:
        if caught := changes.catch_up(session, now):
            log.info("changed_at set on %d requests at start", caught)
        done = subscriptions.reseal(session, now, SYSTEM, sealing.keyring(app.config))
        if done.sealed:
            log.info("webhook secrets sealed by the current key at start: %d", done.sealed)
        if done.unreadable:
            log.error(
                "no key opens the signing secrets of webhook %s: name the key they were "
                "sealed by in WEBHOOK_SECRET_KEY_FALLBACKS",
                ", ".join(map(str, done.unreadable)),
            )


def run_forever(app: Flask) -> None:
    """Run the scheduler until SIGTERM or Ctrl+C; the job in hand finishes first."""
    prepare(app, utcnow())
    scheduler = build(app)

    def stop(signum: int, _frame: Any) -> None:
        logging.getLogger("jobs").info("signal %s: stopping after the job in hand", signum)
        scheduler.shutdown(wait=True)

    signal.signal(signal.SIGTERM, stop)
    signal.signal(signal.SIGINT, stop)
    scheduler.start()


if __name__ == "__main__":
    from tracker import create_app

    logging.basicConfig(level=logging.INFO, format="%(asctime)s %(name)s %(message)s")
    run_forever(create_app())
