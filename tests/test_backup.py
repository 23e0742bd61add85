"""Backups, on SQLite and on PostgreSQL (each PostgreSQL test in databases of its own): a
backup taken while writers commit holds every row committed before it began, and restored
into a fresh database it passes ``audit verify``; a restore over a database that holds data
is refused without ``--force`` and changes nothing; a wrong key, a changed byte or a file
cut short is refused with a clear message; no backup is written without a key; on
PostgreSQL a restore leaves the planner statistics of what it brought back."""

from __future__ import annotations

import io
import os
import shutil
import threading
import time
import uuid
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import pytest
from flask import Flask
from sqlalchemy import func, inspect, select, text
from sqlalchemy.engine import make_url

from tests.conftest import _prepare as prepare
from tests.conftest import missing
from tracker import create_app
from tracker.audit import trail as audit
from tracker.audit.trail import Actor
from tracker.backup import operations, sealed
from tracker.db import make_engine, unit_of_work
from tracker.errors import BackupError
from tracker.models import AuditEntry, Office, OfficeKind, utcnow

KEY = "k" * 20 + "-backup-key-for-tests-only"
OTHER_KEY = "o" * 20 + "-another-key-for-tests-only"
KINDS = ["sqlite", pytest.param("postgresql", marks=[pytest.mark.postgres, pytest.mark.slow])]


@dataclass
class Databases:
    source: str  # migrated, with the demo's places (offices)
    target: str  # empty: no table at all


@pytest.fixture(scope="module")
def sqlite_template(tmp_path_factory: pytest.TempPathFactory) -> Path:
    template = tmp_path_factory.mktemp("backup") / "template.sqlite"
    engine = make_engine(f"sqlite:///{template}")
    prepare(engine)
    engine.dispose()
    return template


@pytest.fixture(params=KINDS)
def databases(request: pytest.FixtureRequest, tmp_path: Path) -> Iterator[Databases]:
    """A source with data and an empty target, of the kind asked, this test's own."""
    if request.param == "sqlite":
        source = tmp_path / "source.sqlite"
        shutil.copy(request.getfixturevalue("sqlite_template"), source)
        yield Databases(f"sqlite:///{source}", f"sqlite:///{tmp_path / 'target.sqlite'}")
        return
    base = os.environ.get("TEST_DATABASE_URL")
    if not base:
        missing("PostgreSQL (set TEST_DATABASE_URL)")
    admin = make_engine(base, isolation_level="AUTOCOMMIT")
    names = [f"siapambil_backup_{uuid.uuid4().hex[:10]}" for _ in range(2)]
    try:
        with admin.connect() as connection:
            for name in names:
                connection.execute(text(f'CREATE DATABASE "{name}"'))
    except Exception as error:  # noqa: BLE001 - any failure to reach the server is "missing"
        missing(f"PostgreSQL at {base} ({error.__class__.__name__})")
    urls = [make_url(base).set(database=n).render_as_string(hide_password=False) for n in names]
    engine = make_engine(urls[0])
    prepare(engine)
    engine.dispose()
    try:
        yield Databases(*urls)
    finally:
        with admin.connect() as connection:
            for name in names:
                connection.execute(text(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)'))
        admin.dispose()


def app_on(url: str, **settings: Any) -> Flask:
    return create_app(
        {"TESTING": True, "SECRET_KEY": "test-secret", "DATABASE_URL": url,
         "RATELIMIT_ENABLED": False, "BACKUP_KEY": KEY, **settings}
    )  # fmt: skip


def run(app: Flask, *args: str) -> Any:
    return app.test_cli_runner().invoke(args=list(args))


def audit_ids(app: Flask) -> set[int]:
    with unit_of_work(app) as session:
        return set(session.scalars(select(AuditEntry.id)))


def table_counts(app: Flask) -> dict[str, int]:
    engine = app.extensions["siapambil.db"]["engine"]
    with engine.connect() as connection:
        return {
            name: connection.execute(text(f'SELECT count(*) FROM "{name}"')).scalar_one()
            for name in sorted(inspect(engine).get_table_names())
        }


class Writers:
    """Threads that each commit audit rows, one unit of work per row, until stopped; the ids
    of the rows whose commit has returned are in ``committed``, in order."""

    def __init__(self, app: Flask, threads: int = 2) -> None:
        self.app = app
        self.committed: list[int] = []
        self.failures: list[BaseException] = []
        self.stop = threading.Event()
        self.threads = [threading.Thread(target=self._write, args=(n,)) for n in range(threads)]

    def _write(self, number: int) -> None:
        writer = Actor(f"writer-{number}")
        try:
            while not self.stop.is_set():
                with unit_of_work(self.app) as session:
                    entry = audit.record(session, "test_write", actor=writer, at=utcnow())
                    session.flush()
                    written = entry.id
                self.committed.append(written)
        except BaseException as error:  # noqa: BLE001 - the test reports it
            self.failures.append(error)

    def __enter__(self) -> Writers:
        for thread in self.threads:
            thread.start()
        return self

    def __exit__(self, *_exc: Any) -> None:
        self.stop.set()
        for thread in self.threads:
            thread.join(timeout=60)

    def wait_for(self, count: int) -> None:
        deadline = time.monotonic() + 60
        while len(self.committed) < count and time.monotonic() < deadline:
            time.sleep(0.01)
        assert len(self.committed) >= count, self.failures


def test_a_backup_taken_while_writers_commit_restores_every_row_committed_before_it(
    databases: Databases, tmp_path: Path
) -> None:
    source = app_on(databases.source)
    target = app_on(databases.target)
    backup = tmp_path / "siapambil.backup"
    with Writers(source) as writers:
        writers.wait_for(30)
        before = list(writers.committed)  # every row whose commit returned before the backup
        made = run(source, "backup", str(backup))
        during = len(writers.committed) - len(before)
        writers.wait_for(len(writers.committed) + 5)  # they go on after it, too
    assert writers.failures == []
    assert made.exit_code == 0, made.output
    assert during > 0  # the writers committed while the backup ran
    assert backup.is_file() and b"test_write" not in backup.read_bytes()  # encrypted
    restored = run(target, "restore", str(backup))
    assert restored.exit_code == 0, restored.output
    found = audit_ids(target)
    assert set(before) <= found
    verified = run(target, "audit", "verify")
    assert verified.exit_code == 0 and "intact" in verified.output, verified.output
    with unit_of_work(target) as session:
        assert session.scalar(select(func.count()).select_from(Office)) > 0
        assert session.scalars(
            select(AuditEntry.action).order_by(AuditEntry.id.desc())
        ).first() == ("database_restored")
    # Control: the copy is the backup's, not the source as it is now.
    assert set(writers.committed) - found


def test_a_restore_over_a_database_that_holds_data_is_refused_without_force(
    databases: Databases, tmp_path: Path
) -> None:
    source = app_on(databases.source)
    backup = tmp_path / "siapambil.backup"
    with unit_of_work(source) as session:
        audit.record(session, "only_in_the_backup", actor=Actor("test"), at=utcnow())
    assert run(source, "backup", str(backup)).exit_code == 0
    # The target holds data: offices, and an account the backup does not have.
    target = app_on(databases.target)
    assert run(target, "init-db").exit_code == 0
    assert not operations.holds_data(target.extensions["siapambil.db"]["engine"])  # control
    with unit_of_work(target) as session:
        audit.record(session, "only_in_the_target", actor=Actor("test"), at=utcnow())
        session.add(Office(code="99.01", name="Kantor Uji", kind=OfficeKind.DINAS))
    assert operations.holds_data(target.extensions["siapambil.db"]["engine"])
    before = table_counts(target)
    refused = run(target, "restore", str(backup))
    assert refused.exit_code != 0
    assert "--force" in refused.output and "Traceback" not in refused.output
    assert table_counts(target) == before
    forced = run(target, "restore", "--force", str(backup))
    assert forced.exit_code == 0, forced.output
    with unit_of_work(target) as session:
        actions = set(session.scalars(select(AuditEntry.action)))
        assert session.scalar(select(Office).where(Office.code == "99.01")) is None
    assert {"only_in_the_backup", "database_restored"} <= actions
    assert "only_in_the_target" not in actions
    assert run(target, "audit", "verify").exit_code == 0


def flipped(path: Path, offset: int, tmp_path: Path) -> Path:
    data = bytearray(path.read_bytes())
    data[offset] ^= 0x01
    changed = tmp_path / f"flipped-{offset}.backup"
    changed.write_bytes(bytes(data))
    return changed


def test_a_wrong_key_a_changed_byte_or_a_cut_file_is_refused_and_changes_nothing(
    databases: Databases, tmp_path: Path
) -> None:
    source = app_on(databases.source)
    backup = tmp_path / "siapambil.backup"
    assert run(source, "backup", str(backup)).exit_code == 0
    target = app_on(databases.target, BACKUP_KEY=OTHER_KEY)
    wrong = run(target, "restore", str(backup))
    assert wrong.exit_code != 0 and "BACKUP_KEY" in wrong.output, wrong.output
    target = app_on(databases.target)
    engine = target.extensions["siapambil.db"]["engine"]
    size = backup.stat().st_size
    cut = tmp_path / "cut.backup"
    cut.write_bytes(backup.read_bytes()[: size - 100])
    for changed in (flipped(backup, 20, tmp_path), flipped(backup, size // 2, tmp_path),
                    flipped(backup, size - 1, tmp_path), cut):  # fmt: skip
        refused = run(target, "restore", str(changed))
        assert refused.exit_code != 0, changed
        assert "Traceback" not in refused.output and refused.output.startswith("Error:")
        assert inspect(engine).get_table_names() == [], changed  # nothing was written
    rotated = app_on(databases.target, BACKUP_KEY=OTHER_KEY, BACKUP_KEY_FALLBACKS=[KEY])
    assert run(rotated, "restore", str(cut)).exit_code != 0  # the right key, a cut file
    not_one = tmp_path / "notes.txt"
    not_one.write_text("not a backup")
    assert "SiapAmbil" in run(target, "restore", str(not_one)).output
    # Control: the file as written restores, with the key it was made with among the
    # earlier ones after a rotation of BACKUP_KEY.
    restored = run(rotated, "restore", str(backup))
    assert restored.exit_code == 0, restored.output


def test_no_backup_is_written_without_a_key(databases: Databases, tmp_path: Path) -> None:
    backup = tmp_path / "siapambil.backup"
    for key in (None, "short"):
        refused = run(app_on(databases.source, BACKUP_KEY=key), "backup", str(backup))
        assert refused.exit_code != 0 and "BACKUP_KEY" in refused.output, refused.output
        assert list(tmp_path.glob("siapambil.backup*")) == []
    nowhere = run(app_on(databases.source), "backup", str(tmp_path / "missing" / "x.backup"))
    assert nowhere.exit_code != 0 and nowhere.output.startswith("Error:"), nowhere.output
    assert run(app_on(databases.source), "backup", str(backup)).exit_code == 0  # control


def sealed_bytes(data: bytes, key: str = KEY) -> bytes:
    target = io.BytesIO()
    sealed.seal(io.BytesIO(data), target, key, {"kind": "test"})
    return target.getvalue()


def opened(blob: bytes, key: str = KEY) -> bytes:
    _header, chunks = sealed.open_sealed(io.BytesIO(blob), key)
    return b"".join(chunks)


def reason(blob: bytes, key: str = KEY) -> str:
    with pytest.raises(BackupError) as refused:
        opened(blob, key)
    return refused.value.details["reason"]


def test_the_sealed_format_round_trips_and_refuses_moved_dropped_or_added_chunks(
    monkeypatch,
) -> None:
    monkeypatch.setattr(sealed, "CHUNK", 64)
    for size in (0, 1, 63, 64, 65, 64 * 5, 64 * 5 + 7):
        data = os.urandom(size)
        assert opened(sealed_bytes(data)) == data, size
    data = os.urandom(64 * 3)
    blob = sealed_bytes(data)  # three chunks, the third marked as the last
    size = 4 + 64 + 16  # length, ciphertext, tag
    first = len(blob) - 3 * size
    start = blob[:first]
    one, two, three = (blob[first + i * size : first + (i + 1) * size] for i in range(3))
    assert opened(start + one + two + three) == data  # control: the pieces as cut
    assert reason(start + two + one + three) == "tampered"  # moved
    assert reason(start + one + three) == "tampered"  # dropped
    assert reason(start + one + two) == "tampered"  # the last one dropped: cut short
    assert reason(blob + b"\0") == "tampered"  # something added after the last
    assert reason(blob, OTHER_KEY) == "wrong_key"
    assert reason(b"SQLite format 3\0" + blob[16:]) == "not_a_backup"


def _columns_counted(app: Flask, name: str) -> int:
    """How many of the table's columns PostgreSQL's planner has statistics of."""
    engine = app.extensions["siapambil.db"]["engine"]
    with engine.connect() as connection:
        return connection.execute(
            text(
                "SELECT count(*) FROM pg_stats "
                "WHERE schemaname = current_schema() AND tablename = :name"
            ),
            {"name": name},
        ).scalar_one()


@pytest.mark.parametrize("databases", KINDS[1:], indirect=True)
def test_a_restore_on_postgresql_leaves_the_planner_statistics_of_what_it_brought_back(
    databases: Databases, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    source = app_on(databases.source)
    backup = tmp_path / "siapambil.backup"
    with unit_of_work(source) as session:
        for _ in range(30):
            audit.record(session, "counted", actor=Actor("test"), at=utcnow())
    assert run(source, "backup", str(backup)).exit_code == 0
    target = app_on(databases.target)
    # Control: pg_restore alone brings the rows back without their statistics.
    with monkeypatch.context() as patched:
        patched.setattr(operations, "analyze", lambda _engine: None)
        restored = run(target, "restore", str(backup))
        assert restored.exit_code == 0, restored.output
    assert _columns_counted(target, "audit_trail") == 0
    restored = run(target, "restore", "--force", str(backup))
    assert restored.exit_code == 0, restored.output
    assert _columns_counted(target, "audit_trail") > 0
    assert _columns_counted(target, "offices") > 0
