"""The ``setup`` commands: ``setup load FILE.yaml`` loads a real office's places, services and
leave days (see ``deploy/setup.example.yaml``)."""

from __future__ import annotations

from pathlib import Path

import click
from flask import current_app
from flask.cli import AppGroup
from flask_babel import gettext as _
from flask_babel import ngettext
from sqlalchemy.exc import IntegrityError

from tracker.audit.trail import SYSTEM
from tracker.db import unit_of_work
from tracker.errors import DomainError, SetupInvalid
from tracker.models import utcnow
from tracker.requests import changes
from tracker.setup import load as setup
from tracker.web.wording import deferred_dates, explain, moved_windows

setup_group = AppGroup("setup", help="Set up real offices from a file.")

KINDS = ("offices", "points", "services", "leave_days")


@setup_group.command("load")
@click.argument("path", type=click.Path(exists=True, dir_okay=False, path_type=Path))
def load_command(path: Path) -> None:
    """Check FILE (every problem, with its place in the file), then make or change the offices,
    pickup points, services and leave days it names; nothing it does not name is deleted."""
    now = utcnow()
    try:
        with unit_of_work() as session:
            data = setup.read(path.read_text(encoding="utf-8"))
            summary = setup.load(session, now, SYSTEM, current_app.config, data)
    except SetupInvalid as error:
        click.echo(_("%(path)s was not loaded; nothing was changed:", path=path), err=True)
        click.echo(explain(error), err=True)
        raise SystemExit(1) from None
    except (DomainError, IntegrityError) as error:
        # Someone changed the same things meanwhile: a document waiting over a new leave day
        # (ConflictError), or an admin adding a code the file adds (the unique index).
        click.echo(_("%(path)s was not loaded; nothing was changed:", path=path), err=True)
        if isinstance(error, DomainError):
            click.echo(explain(error), err=True)
        click.echo(
            _("Something the file names was changed in the console meanwhile: load it again."),
            err=True,
        )
        raise SystemExit(1) from None
    ended = utcnow()  # the unit has committed
    with unit_of_work() as session:
        setup.refresh_calendar(session)
    names = {
        "offices": _("offices"),
        "points": _("pickup points"),
        "services": _("services"),
        "leave_days": _("leave days"),
    }
    for kind in KINDS:
        click.echo(
            _(
                "%(kind)s: %(made)d new, %(changed)d changed, %(same)d unchanged",
                kind=names[kind],
                made=summary.made.get(kind, 0),
                changed=summary.changed.get(kind, 0),
                same=summary.same.get(kind, 0),
            )
        )
    if summary.moved:
        click.echo(moved_windows(len(summary.moved)))
    if summary.deferred:
        click.echo(deferred_dates(summary.deferred))
    if (summary.moved or summary.deferred) and changes.committed_late(
        now, ended, current_app.config["CHANGES_SETTLE_SECONDS"]
    ):
        # The bridges' list shows a change CHANGES_SETTLE_SECONDS after its stamp; this
        # unit's changes carry ``now`` and committed later than that, behind where a bridge
        # that read meanwhile may have got to: list them again, as changed now.
        with unit_of_work() as session:
            relisted = changes.relist(session, now, ended)
        click.echo(
            ngettext(
                "Loading took longer than CHANGES_SETTLE_SECONDS (%(settle)s seconds): the "
                "%(num)d request it changed is listed to other systems again, as changed at "
                "%(at)s.",
                "Loading took longer than CHANGES_SETTLE_SECONDS (%(settle)s seconds): the "
                "%(num)d requests it changed are listed to other systems again, as changed at "
                "%(at)s.",
                relisted,
                settle=current_app.config["CHANGES_SETTLE_SECONDS"],
                at=ended.isoformat(timespec="seconds").replace("+00:00", "Z"),
            )
        )
    click.echo(
        _(
            "Running web workers and the scheduler count the leave days on file in what "
            "they store at once, and on their pages within %(seconds)d seconds: no restart "
            "is needed.",
            seconds=current_app.config["LEAVE_DAYS_CHECK_SECONDS"],
        )
    )
