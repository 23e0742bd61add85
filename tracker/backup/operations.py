"""Backing the database up into one encrypted file, and putting such a file back.

SQLite is copied with its online backup API (``sqlite3.Connection.backup`` in one step:
one read transaction, so the copy is the database as it was at one instant while writers
go on, in WAL mode, beside it); PostgreSQL with ``pg_dump --format=custom`` (one snapshot
too). The copy is sealed with ``BACKUP_KEY`` (``sealed``) as it is written. A restore opens
and checks the whole file before it touches the database, refuses a database that holds
data unless forced, and puts the copy back with the backup API or ``pg_restore``.

The plain copy lives only in a private temporary folder (mode 0700) while it is sealed or
opened, and is removed at once.
"""

from __future__ import annotations

import datetime as dt
import glob
import os
import re
import shutil
import sqlite3
import subprocess
import tempfile
from collections.abc import Iterator, Mapping
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path
from typing import IO, Any

from alembic.runtime.migration import MigrationContext
from sqlalchemy import Engine, inspect, literal, select, table
from sqlalchemy.engine import make_url

from tracker.backup import sealed
from tracker.db import analyze
from tracker.errors import BackupError

# A database "holds data" when any of these tables has a row: a request, a staff account
# or an office. A fresh or only migrated database has none.
HOLDING = ("requests", "staff_accounts", "offices")
FORMATS = {"sqlite": "sqlite-database", "postgresql": "pg_dump-custom"}


@dataclass(frozen=True)
class Made:
    path: Path
    kind: str
    size: int  # bytes before encryption
    revision: str | None


@dataclass(frozen=True)
class Restored:
    kind: str
    made_at: str
    revision: str | None


def backup(engine: Engine, path: Path, config: Mapping[str, Any], now: dt.datetime) -> Made:
    """Write an encrypted backup of the database to ``path`` (through ``PATH.part``, so a
    failed backup never leaves a file that looks whole)."""
    key = config.get("BACKUP_KEY")
    sealed.check_key(key)
    kind = _kind(engine)
    revision = current_revision(engine)
    header = {
        "kind": kind,
        "format": FORMATS[kind],
        "made_at": now.isoformat(),
        "revision": revision,
    }
    part = path.with_name(path.name + ".part")
    if not path.parent.is_dir() or path.is_dir():
        raise BackupError(reason="cannot_write", path=str(path))
    try:
        with _private_file(part) as target:
            if kind == "sqlite":
                size = _seal_sqlite(engine, target, key, header)
            else:
                size = _seal_pg_dump(engine, target, key, header)
        os.replace(part, path)
    finally:
        part.unlink(missing_ok=True)
    return Made(path=path, kind=kind, size=size, revision=revision)


def restore(engine: Engine, path: Path, config: Mapping[str, Any], force: bool) -> Restored:
    """Put the backup at ``path`` into the database. The whole file is decrypted and checked
    first; a database that holds data is refused unless ``force``."""
    if not path.is_file():
        raise BackupError(reason="no_file", path=str(path))
    kind = _kind(engine)
    with path.open("rb") as source, _private_folder() as folder:
        header, chunks = sealed.open_sealed(
            source, config.get("BACKUP_KEY"), config.get("BACKUP_KEY_FALLBACKS") or ()
        )
        if header.get("kind") != kind or header.get("format") != FORMATS[kind]:
            raise BackupError(reason="kind", made=header.get("kind"), target=kind)
        copy = folder / "copy"
        with copy.open("wb") as plain:
            for chunk in chunks:
                plain.write(chunk)
        if holds_data(engine) and not force:
            raise BackupError(reason="holds_data")
        engine.dispose()
        if kind == "sqlite":
            _restore_sqlite(engine, copy)
        else:
            _restore_pg(engine, copy)
            analyze(engine)  # pg_restore brings rows back, not the planner's statistics
        engine.dispose()
    return Restored(kind=kind, made_at=str(header.get("made_at")), revision=header.get("revision"))


def holds_data(engine: Engine) -> bool:
    """Whether any request, staff account or office is stored."""
    present = set(inspect(engine).get_table_names())
    with engine.connect() as connection:
        return any(
            connection.execute(select(literal(1)).select_from(table(name)).limit(1)).first()
            for name in HOLDING
            if name in present
        )


def current_revision(engine: Engine) -> str | None:
    """The migration the database is at (None before the first)."""
    with engine.connect() as connection:
        return MigrationContext.configure(connection).get_current_revision()


def _kind(engine: Engine) -> str:
    kind = engine.dialect.name
    if kind not in FORMATS:
        raise BackupError(reason="kind", made=kind, target=kind)
    return kind


@contextmanager
def _private_folder() -> Iterator[Path]:
    folder = Path(tempfile.mkdtemp(prefix="siapambil-backup-"))  # mode 0700
    try:
        yield folder
    finally:
        shutil.rmtree(folder, ignore_errors=True)


@contextmanager
def _private_file(path: Path) -> Iterator[IO[bytes]]:
    descriptor = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o600)
    with os.fdopen(descriptor, "wb") as target:
        yield target
        target.flush()
        os.fsync(target.fileno())


def _sqlite_file(engine: Engine) -> str:
    database = engine.url.database
    if not database or database == ":memory:":
        raise BackupError(reason="kind", made="sqlite", target=":memory:")
    return database


def _seal_sqlite(engine: Engine, target: IO[bytes], key: str, header: dict[str, Any]) -> int:
    with _private_folder() as folder:
        copy = folder / "copy.sqlite"
        source = sqlite3.connect(_sqlite_file(engine), timeout=30)
        plain = sqlite3.connect(copy)
        try:
            source.backup(plain)  # every page in one step: one consistent read transaction
            plain.execute("PRAGMA journal_mode=DELETE")  # the copy is one file
        finally:
            plain.close()
            source.close()
        with copy.open("rb") as stream:
            return sealed.seal(stream, target, key, header)


def _restore_sqlite(engine: Engine, copy: Path) -> None:
    source = sqlite3.connect(copy)
    try:
        verdict = source.execute("PRAGMA integrity_check").fetchone()
        if verdict is None or verdict[0] != "ok":
            raise BackupError(reason="tampered")
        target = sqlite3.connect(_sqlite_file(engine), timeout=30)
        try:
            source.backup(target)
        finally:
            target.close()
    finally:
        source.close()


def _libpq(engine: Engine) -> tuple[str, dict[str, str]]:
    """The database as a libpq URL without its password, and an environment that carries
    the password (PGPASSWORD) so that it never shows on a command line."""
    url = make_url(engine.url)
    environment = dict(os.environ)
    if url.password:
        environment["PGPASSWORD"] = str(url.password)
    plain = url.set(drivername="postgresql", password=None)
    return plain.render_as_string(hide_password=False), environment


def _server_major(engine: Engine) -> int:
    with engine.connect() as connection:
        return int(connection.dialect.server_version_info[0])


def find_tool(name: str, server_major: int) -> str:
    """The newest ``pg_dump`` or ``pg_restore`` on this machine, if it is at least as new as
    the server (an older one refuses a newer server)."""
    candidates = {shutil.which(name), *glob.glob(f"/usr/lib/postgresql/*/bin/{name}")}
    found = []
    for candidate in filter(None, candidates):
        said = subprocess.run([candidate, "--version"], capture_output=True, text=True).stdout
        version = re.search(r"\)\s*(\d+)", said)
        if version and int(version.group(1)) >= server_major:
            found.append((int(version.group(1)), candidate))
    if not found:
        raise BackupError(reason="no_tool", tool=name, major=server_major)
    return max(found)[1]


def _seal_pg_dump(engine: Engine, target: IO[bytes], key: str, header: dict[str, Any]) -> int:
    dsn, environment = _libpq(engine)
    tool = find_tool("pg_dump", _server_major(engine))
    with tempfile.TemporaryFile() as said:
        dump = subprocess.Popen(
            [tool, "--format=custom", "--dbname", dsn],
            stdout=subprocess.PIPE,
            stderr=said,
            env=environment,
        )
        assert dump.stdout is not None
        try:
            size = sealed.seal(dump.stdout, target, key, header)
        finally:
            dump.stdout.close()
            code = dump.wait()
        if code != 0:
            said.seek(0)
            raise BackupError(reason="tool_failed", tool="pg_dump", said=_last_line(said.read()))
    return size


def _restore_pg(engine: Engine, copy: Path) -> None:
    dsn, environment = _libpq(engine)
    tool = find_tool("pg_restore", _server_major(engine))
    done = subprocess.run(
        [
            tool,
            "--clean",
            "--if-exists",
            "--no-owner",
            "--no-privileges",
            "--single-transaction",
            "--exit-on-error",
            "--dbname",
            dsn,
            str(copy),
        ],
        capture_output=True,
        env=environment,
    )
    if done.returncode != 0:
        raise BackupError(reason="tool_failed", tool="pg_restore", said=_last_line(done.stderr))


def _last_line(said: bytes) -> str:
    lines = said.decode(errors="replace").strip().splitlines()
    return lines[-1] if lines else ""
