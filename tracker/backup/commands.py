"""The ``backup PATH`` and ``restore PATH [--force]`` commands."""

from __future__ import annotations

from pathlib import Path

import click
from flask import current_app
from flask.cli import with_appcontext

from tracker import schema
from tracker.audit import trail as audit
from tracker.audit.trail import SYSTEM
from tracker.backup import operations
from tracker.db import get_engine, unit_of_work
from tracker.errors import BackupError
from tracker.models import utcnow
from tracker.web.wording import explain

FILE = click.Path(dir_okay=False, path_type=Path)


@click.command("backup")
@click.argument("path", type=FILE)
@with_appcontext
def backup_command(path: Path) -> None:
    """Write an encrypted backup of the database to PATH (needs BACKUP_KEY). SQLite is copied
    with its online backup API, PostgreSQL with pg_dump; the service may go on writing."""
    now = utcnow()
    config = current_app.config
    try:
        made = operations.backup(get_engine(), path, config, now)
    except BackupError as error:
        raise click.ClickException(explain(error)) from None
    with unit_of_work() as session:
        audit.record(
            session, "database_backed_up", actor=SYSTEM, at=now, target=path.name,
            kind=made.kind, size=made.size, revision=made.revision,
        )  # fmt: skip
    click.echo(
        f"Backup written: {path} ({made.kind}, {made.size:,} bytes before encryption, "
        f"schema {made.revision})."
    )
    click.echo(
        "It holds personal data that retention removes later: keep it no longer than "
        f"RETENTION_DAYS ({config['RETENTION_DAYS']} days)."
    )


@click.command("restore")
@click.argument("path", type=FILE)
@click.option("--force", is_flag=True, help="Replace a database that holds data.")
@with_appcontext
def restore_command(path: Path, force: bool) -> None:
    """Put the backup at PATH into the database (needs the BACKUP_KEY it was made with). A
    database that holds any request, staff account or office is refused unless --force."""
    now = utcnow()
    engine = get_engine()
    try:
        restored = operations.restore(engine, path, current_app.config, force)
    except BackupError as error:
        raise click.ClickException(explain(error)) from None
    click.echo(f"Restored the backup made at {restored.made_at} (schema {restored.revision}).")
    if not schema.is_current(engine):
        click.echo("Its schema is older than this release's: run `flask --app wsgi init-db`.")
        return
    with unit_of_work() as session:
        audit.record(
            session, "database_restored", actor=SYSTEM, at=now, target=path.name,
            made_at=restored.made_at, forced=force,
        )  # fmt: skip
