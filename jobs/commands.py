"""The ``jobs`` commands (registered through the ``flask.commands`` entry point, so that
``tracker`` never imports ``jobs``)."""

from __future__ import annotations

import datetime as dt
import logging

import click
from flask import current_app
from flask.cli import AppGroup

from jobs import runner, scheduler

jobs = AppGroup("jobs", help="The scheduled jobs.")


@jobs.command("list")
def list_jobs() -> None:
    """Each job, its schedule and its next run."""
    app = current_app._get_current_object()
    now = dt.datetime.now(dt.UTC)
    for job in scheduler.jobs():
        trigger = job.trigger(app.config)
        upcoming = trigger.get_next_fire_time(None, now)
        when = upcoming.isoformat(timespec="minutes") if upcoming else "never"
        click.echo(f"{job.id:<16} {trigger!s:<60} next {when}")


@jobs.command("run-once")
@click.argument("name")
def run_once(name: str) -> None:
    """Run one job now (under its lease, like the scheduler)."""
    try:
        job = scheduler.find(name)
    except KeyError:
        names = ", ".join(j.id for j in scheduler.jobs())
        raise click.UsageError(f"No job is called {name!r}. Jobs: {names}") from None
    app = current_app._get_current_object()
    result = runner.run(app, job.id, job.work, app.config[job.lease_setting])
    click.echo(f"{job.id}: {'skipped (another run holds the lease)' if result is None else result}")


@jobs.command("run")
def run() -> None:
    """The scheduler, in the foreground (SIGTERM or Ctrl+C stops it after the job in hand)."""
    logging.basicConfig(level=logging.INFO, format="%(asctime)s %(name)s %(message)s")
    click.echo("Scheduler running; Ctrl+C stops it.")
    scheduler.run_forever(current_app._get_current_object())
