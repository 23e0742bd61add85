"""The schema is made and moved on by the Alembic migrations in ``migrations/``."""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path

from alembic import command
from alembic.config import Config
from alembic.runtime.migration import MigrationContext
from alembic.script import ScriptDirectory
from sqlalchemy import Engine

MIGRATIONS = Path(__file__).resolve().parent.parent / "migrations"


def alembic_config() -> Config:
    config = Config()
    config.set_main_option("script_location", str(MIGRATIONS))
    return config


def upgrade(
    engine: Engine,
    revision: str = "head",
    audit_key: str | None = None,
    progress: Callable[[str], None] | None = None,
    batch_rows: int | None = None,
) -> None:
    """Bring the database's schema to ``revision`` (creating it when empty).

    ``audit_key`` (the app's ``AUDIT_HMAC_KEY``) lets migration 0005 keep the staff searches
    already in the audit trail findable by hash; without it their text is redacted.
    ``progress`` is told, in a line, how far a long migration has come (0015's backfill), and
    ``batch_rows`` is how many rows such a migration writes per transaction (its own default
    unless given)."""
    _migrate(engine, command.upgrade, revision, audit_key, progress, batch_rows)


def downgrade(engine: Engine, revision: str) -> None:
    """Take the database's schema back to ``revision``."""
    _migrate(engine, command.downgrade, revision, None, None, None)


def _migrate(
    engine: Engine,
    how: Callable[[Config, str], None],
    revision: str,
    audit_key: str | None,
    progress: Callable[[str], None] | None,
    batch_rows: int | None,
) -> None:
    """Run the migrations to ``revision``, each in a transaction of its own.

    On PostgreSQL Alembic begins and commits each migration's transaction (the environment's
    ``transaction_per_migration``), so that a migration may commit what it has done and go on
    outside a transaction: 0015 fills a new column in batches and builds its index
    ``CONCURRENTLY`` that way, so that the release before keeps reading and writing meanwhile.

    On SQLite, batch migrations copy a table and drop the old one; with foreign keys on, the
    drop would delete (or refuse) every row that refers to it. So, as Alembic advises, the
    checks are off while migrating (a pragma that only works outside a transaction), all of
    it runs in one transaction, and ``PRAGMA foreign_key_check`` must find nothing broken
    before it commits."""
    config = alembic_config()
    config.attributes["audit_hmac_key"] = audit_key
    config.attributes["progress"] = progress or (lambda line: None)
    if batch_rows is not None:
        config.attributes["batch_rows"] = batch_rows
    sqlite = engine.dialect.name == "sqlite"
    with engine.execution_options(sqlite_writer=True).connect() as connection:
        config.attributes["connection"] = connection
        if not sqlite:
            how(config, revision)
            return
        driver = connection.connection.driver_connection
        driver.execute("PRAGMA foreign_keys=OFF")
        try:
            with connection.begin():
                how(config, revision)
                broken = connection.exec_driver_sql("PRAGMA foreign_key_check").fetchall()
                if broken:
                    raise RuntimeError(f"the migration broke foreign keys: {broken[:5]}")
        finally:
            driver.execute("PRAGMA foreign_keys=ON")


def revision(engine: Engine, message: str) -> None:
    """Write a new migration from the difference between the models and the database."""
    config = alembic_config()
    with engine.execution_options(sqlite_writer=True).begin() as connection:
        config.attributes["connection"] = connection
        command.revision(config, message=message, autogenerate=True)


def is_current(engine: Engine) -> bool:
    head = ScriptDirectory.from_config(alembic_config()).get_current_head()
    with engine.connect() as connection:
        return MigrationContext.configure(connection).get_current_revision() == head
