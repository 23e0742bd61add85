"""The schema is made and moved on by the Alembic migrations in ``migrations/``."""

from __future__ import annotations

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


def upgrade(engine: Engine, revision: str = "head", audit_key: str | None = None) -> None:
    """Bring the database's schema to ``revision`` (creating it when empty).

    ``audit_key`` (the app's ``AUDIT_HMAC_KEY``) lets migration 0005 keep the staff searches
    already in the audit trail findable by hash; without it their text is redacted.

    On SQLite, batch migrations copy a table and drop the old one; with foreign keys on, the
    drop would delete (or refuse) every row that refers to it. So, as Alembic advises, the
    checks are off while migrating (a pragma that only works outside a transaction) and
    ``PRAGMA foreign_key_check`` must find nothing broken before the migration commits."""
    config = alembic_config()
    sqlite = engine.dialect.name == "sqlite"
    with engine.execution_options(sqlite_writer=True).connect() as connection:
        driver = connection.connection.driver_connection
        if sqlite:
            driver.execute("PRAGMA foreign_keys=OFF")
        try:
            with connection.begin():
                config.attributes["connection"] = connection
                config.attributes["audit_hmac_key"] = audit_key
                command.upgrade(config, revision)
                if sqlite:
                    broken = connection.exec_driver_sql("PRAGMA foreign_key_check").fetchall()
                    if broken:
                        raise RuntimeError(f"the migration broke foreign keys: {broken[:5]}")
        finally:
            if sqlite:
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
