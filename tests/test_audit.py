"""The audit trail: a removed row is caught where it was, a cut at the end is caught against
a head kept elsewhere, two writers at once keep one chain, retention's redaction keeps the
chain whole, and staff searches keep a keyed hash, never the NIK or name typed."""

from __future__ import annotations

import datetime as dt
import hashlib
import json
import logging
import re
import threading
import time
from types import SimpleNamespace
from typing import Any

from sqlalchemy import delete, insert, select, update

from jobs.commands import jobs as jobs_cli
from tracker import receipts, schema
from tracker.audit import search as audit_search
from tracker.audit import trail as audit
from tracker.audit.trail import SYSTEM
from tracker.models import AuditEntry, utcnow
from tracker.status import Status

NIK = "3673015508900002"
NAME = "Sulastri Wahyuningsih"
HEAD = re.compile(r"head ([0-9a-f]{64}) count (\d+)")


def fill(session: Any, count: int, action: str = "test") -> list[int]:
    entries = [
        audit.record(session, action, actor=SYSTEM, at=utcnow(), target=f"t{n}", n=n)
        for n in range(count)
    ]
    session.commit()
    return [entry.id for entry in entries]


def remove(session: Any, *ids: int) -> None:
    """Rows deleted behind the product's back (as someone with the database could)."""
    session.execute(delete(AuditEntry).where(AuditEntry.id.in_(ids)))
    session.commit()


def verify(runner: Any, *args: str) -> tuple[int, str, str, int]:
    result = runner.invoke(args=["audit", "verify", *args])
    found = HEAD.search(result.output)
    digest, count = (found.group(1), int(found.group(2))) if found else ("", -1)
    return result.exit_code, result.output, digest, count


def one_line(rows: list[Any]) -> bool:
    """Each row links to the one before it in id order, from the genesis: no fork, no gap."""
    previous = audit.GENESIS
    for row in rows:
        if row.previous != previous:
            return False
        previous = row.digest
    return len({row.digest for row in rows}) == len(rows)


def test_a_deleted_middle_row_is_named_by_the_row_after_it(session, runner) -> None:
    ids = fill(session, 5)
    assert verify(runner)[0] == 0  # the control: the whole trail fits
    remove(session, ids[2])
    code, output, _, _ = verify(runner)
    assert code == 1 and f"row {ids[3]} " in output
    broken = audit.verify(session)
    assert broken is not None and broken.id == ids[3]
    session.rollback()


def test_a_cut_at_the_end_fails_only_against_the_head_kept_before(session, runner) -> None:
    ids = fill(session, 5)
    code, output, digest, count = verify(runner)
    assert code == 0 and count == 5 and digest == audit.head(session)[0]
    session.rollback()
    kept = f"{digest}:{count}"
    assert verify(runner, "--expect", kept)[0] == 0
    remove(session, *ids[3:])
    # The shorter trail still fits: without the kept head the cut goes unseen.
    code, output, _, shorter = verify(runner)
    assert code == 0 and shorter == 3
    code, output, _, _ = verify(runner, "--expect", kept)
    assert code == 1 and "fewer than the 5" in output
    # Rows written again after the cut reach the count, but not the head that was kept.
    fill(session, 2)
    code, output, _, again = verify(runner, "--expect", kept)
    assert again == 5 and code == 1 and "row number 5 no longer has the digest" in output
    earlier = audit.check(session, expected_count=2).at_expected
    session.rollback()
    assert verify(runner, "--expect", f"{earlier}:2")[0] == 0  # a head the trail still reaches


def test_expect_refuses_a_pair_it_cannot_read(runner) -> None:
    for bad, says in (("abc:5", "64 hexadecimal"), ("f" * 64 + ":x", "whole number")):
        result = runner.invoke(args=["audit", "verify", "--expect", bad])
        assert result.exit_code == 2 and says in result.output


def test_two_writers_at_once_keep_one_chain(app, session) -> None:
    """On PostgreSQL the advisory lock, on SQLite ``BEGIN IMMEDIATE``, keeps writers in line."""
    writer = app.extensions["siapambil.db"]["writer"]
    start = threading.Barrier(2)
    errors: list[BaseException] = []

    def write(name: str) -> None:
        try:
            start.wait()
            for n in range(40):
                with writer() as own:
                    audit.record(own, "test", actor=SYSTEM, at=utcnow(), target=name, n=n)
                    time.sleep(0.001)  # another writer would slip in here, if it could
                    audit.record(
                        own, "test", actor=SYSTEM, at=utcnow(), target=name, n=n, second=True
                    )
                    own.commit()
        except BaseException as error:  # noqa: BLE001 - reported below
            errors.append(error)

    threads = [threading.Thread(target=write, args=(name,)) for name in ("a", "b")]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    assert errors == []
    rows = session.scalars(select(AuditEntry).order_by(AuditEntry.id)).all()
    assert len(rows) == 160 and {row.target for row in rows} == {"a", "b"}
    assert one_line(rows)
    assert audit.verify(session) is None
    session.rollback()
    # The control: the check sees a fork, two rows after the same one.
    fork = [SimpleNamespace(previous=audit.GENESIS, digest="1"), *rows[:1]]
    assert not one_line(fork)


def test_redacted_details_keep_the_chain_and_any_other_change_is_caught(session) -> None:
    kept = audit.record(session, "view_request", actor=SYSTEM, at=utcnow(), target="RECEIPTAAAAA")
    gone = audit.record(
        session, "note", actor=SYSTEM, at=utcnow(), target="RECEIPTBBBBB", text=f"{NAME} menelepon"
    )
    other = audit.record(session, "test", actor=SYSTEM, at=utcnow(), target="x")
    session.commit()
    assert audit.redact(session, ["RECEIPTBBBBB"], utcnow()) == 1
    session.commit()
    assert audit.verify(session) is None
    session.rollback()
    row = session.get(AuditEntry, gone.id)
    assert row.details == {"redacted": True} and row.redacted_at is not None
    assert session.get(AuditEntry, kept.id).details == {}
    session.rollback()
    # The control: details changed any other way no longer fit their digest.
    session.execute(update(AuditEntry).where(AuditEntry.id == other.id).values(details={"n": 2}))
    session.commit()
    broken = audit.verify(session)
    assert broken is not None and broken.id == other.id
    session.rollback()


def test_a_redacted_row_that_says_more_than_redacted_is_caught(session) -> None:
    entry = audit.record(
        session, "note", actor=SYSTEM, at=utcnow(), target="RECEIPTBBBBB", text="x"
    )
    session.commit()
    audit.redact(session, ["RECEIPTBBBBB"], utcnow())
    session.commit()
    assert audit.verify(session) is None
    session.execute(
        update(AuditEntry)
        .where(AuditEntry.id == entry.id)
        .values(details={"redacted": True, "text": "y"})
    )
    session.commit()
    broken = audit.verify(session)
    assert broken is not None and broken.id == entry.id
    session.rollback()


def test_a_staff_search_keeps_a_keyed_hash_that_audit_search_finds(
    app, client, operator, make_request, session, runner
) -> None:
    username = operator.username
    request = make_request(Status.PROCESSING, name=NAME, nik=NIK)
    client.get("/staff/search", query_string={"q": "3673 0155 0890 0002"})
    client.get("/staff/search", query_string={"q": "  sulastri   WAHYUNINGSIH "})
    client.get("/staff/search", query_string={"q": receipts.format_grouped(request.receipt)})
    rows = session.scalars(
        select(AuditEntry).where(AuditEntry.action == "search").order_by(AuditEntry.id)
    ).all()
    assert [row.details["kind"] for row in rows] == ["nik", "name", "receipt"]
    stored = json.dumps([[row.target, row.details] for row in rows]).lower()
    assert NIK not in stored and "sulastri" not in stored and "wahyuningsih" not in stored
    assert rows[2].target == request.receipt and rows[2].details["found"] == 1
    key = app.config["AUDIT_HMAC_KEY"]
    assert rows[0].details["nik_hmac"] == audit_search.keyed("nik", NIK, key)
    assert rows[0].details["nik_hmac"] != audit_search.keyed("nik", NIK, key + "x")
    session.rollback()

    found = runner.invoke(args=["audit", "search", "--nik", "3673-0155-0890-0002"])
    assert found.exit_code == 0 and "Searches: 1" in found.output
    assert username in found.output and "found 1" in found.output
    other = runner.invoke(args=["audit", "search", "--nik", "3673015508900003"])
    assert other.exit_code == 0 and "Searches: 0" in other.output  # the control
    by_name = runner.invoke(args=["audit", "search", "--name", "Sulastri Wahyuningsih"])
    assert "Searches: 1" in by_name.output
    bad = runner.invoke(args=["audit", "search", "--nik", "3673"])
    assert bad.exit_code == 2 and "16 digits" in bad.output
    neither = runner.invoke(args=["audit", "search"])
    assert neither.exit_code == 2 and "--nik or --name" in neither.output


def test_the_deadlines_job_logs_the_head_that_verify_prints(app, session, runner, caplog):
    fill(session, 3)
    caplog.set_level(logging.INFO, logger="jobs")
    pairs = []
    for _ in range(2):
        with app.app_context():
            result = runner.invoke(jobs_cli, ["run-once", "deadlines-wib"])
        assert result.exit_code == 0, result.output
        logged = re.findall(r"audit trail head ([0-9a-f]{64}:\d+)", caplog.text)
        _, _, digest, count = verify(runner)
        assert logged and logged[-1] == f"{digest}:{count}"
        pairs.append(logged[-1])
        fill(session, 1)
    assert pairs[0] != pairs[1]  # the control: the pair follows the trail


def _old_digest(fields: dict[str, Any]) -> str:
    """The digest of revision 0004: over the details themselves."""
    shown = {**fields, "at": fields["at"].isoformat(timespec="microseconds")}
    text = json.dumps(shown, sort_keys=True, ensure_ascii=False, separators=(",", ":"))
    return hashlib.sha256(text.encode()).hexdigest()


def test_migration_0005_chains_the_trail_again_and_hashes_old_searches(
    app, session, runner, capsys
) -> None:
    engine = app.extensions["siapambil.db"]["engine"]
    schema.downgrade(engine, "0004")
    try:
        previous, at = audit.GENESIS, dt.datetime(2026, 1, 5, 2, 0, tzinfo=dt.UTC)
        searched = [{"query": "3673 0155 0890 0002", "found": 1}, {"query": NAME, "found": 0}]
        with engine.execution_options(sqlite_writer=True).begin() as connection:
            for n, details in enumerate([{"n": 1}, *searched]):
                fields = {
                    "at": at + dt.timedelta(minutes=n),
                    "actor": "operator1",
                    "action": "search" if "query" in details else "test",
                    "target": "",
                    "address": "127.0.0.1",
                    "details": details,
                    "previous": previous,
                }
                previous = _old_digest(fields)
                connection.execute(insert(AuditEntry.__table__).values(**fields, digest=previous))
        capsys.readouterr()
        schema.upgrade(engine, "head", app.config["AUDIT_HMAC_KEY"])
    finally:
        schema.upgrade(engine)  # the database stays at head for the tests after, whatever
    printed = capsys.readouterr().out
    assert f"old head {previous} count 3" in printed and "already broken" not in printed
    code, _, digest, count = verify(runner)
    assert code == 0 and count == 3 and f"new head {digest} count 3" in printed
    rows = session.scalars(select(AuditEntry).order_by(AuditEntry.id)).all()
    assert "0155" not in json.dumps([r.details for r in rows])
    assert not any("query" in r.details for r in rows)
    session.rollback()
    found = runner.invoke(args=["audit", "search", "--nik", NIK]).output
    assert "Searches: 1" in found
    assert "Searches: 1" in runner.invoke(args=["audit", "search", "--name", NAME]).output


def _old_chain_fits(engine: Any) -> bool:
    """Whether the trail, at revision 0004, is chained as 0004 chained it."""
    table = AuditEntry.__table__
    names = ("at", "actor", "action", "target", "address", "details", "previous")
    query = select(table.c.digest, *[table.c[name] for name in names]).order_by(table.c.id)
    previous = audit.GENESIS
    with engine.connect() as connection:
        for row in connection.execute(query).mappings():
            fields = {name: row[name] for name in names}
            if row["previous"] != previous or _old_digest(fields) != row["digest"]:
                return False
            previous = row["digest"]
    return True


def test_migrating_down_and_up_keeps_the_chain_and_says_when_it_was_broken(
    app, session, runner, capsys
) -> None:
    """A trail broken before 0005 is chained again like any other (there is no other way to
    move on), but the migration says at which row it was broken."""
    ids = fill(session, 3)
    audit.record(session, "note", actor=SYSTEM, at=utcnow(), target="RECEIPTBBBBB", text=NAME)
    session.commit()
    audit.redact(session, ["RECEIPTBBBBB"], utcnow())
    session.commit()
    engine = app.extensions["siapambil.db"]["engine"]
    schema.downgrade(engine, "0004")
    try:
        assert _old_chain_fits(engine)
        with engine.execution_options(sqlite_writer=True).begin() as connection:
            connection.execute(
                update(AuditEntry.__table__)
                .where(AuditEntry.__table__.c.id == ids[1])
                .values(actor="someone-else")
            )
        assert not _old_chain_fits(engine)  # the control
        capsys.readouterr()
        schema.upgrade(engine, "head", app.config["AUDIT_HMAC_KEY"])
    finally:
        schema.upgrade(engine)
    printed = capsys.readouterr().out
    assert f"the old chain was already broken at row {ids[1]}" in printed
    code, _, digest, count = verify(runner)
    assert code == 0 and count == 4 and f"new head {digest} count 4" in printed


def test_the_search_key_is_its_own_setting_or_drawn_from_the_secret_key(
    database_url, caplog
) -> None:
    from tracker import create_app
    from tracker.config import derived_audit_key

    def key(**settings: Any) -> str:
        app = create_app({"TESTING": True, "DATABASE_URL": database_url, **settings})
        app.extensions["siapambil.db"]["engine"].dispose()
        return app.config["AUDIT_HMAC_KEY"]

    assert key(SECRET_KEY="s1", AUDIT_HMAC_KEY="k1") == "k1"
    assert "AUDIT_HMAC_KEY is not set" not in caplog.text
    drawn = key(SECRET_KEY="s1")
    assert "AUDIT_HMAC_KEY is not set" in caplog.text
    assert drawn == derived_audit_key("s1") and drawn not in ("s1", "k1")
    assert key(SECRET_KEY="s2") != drawn
