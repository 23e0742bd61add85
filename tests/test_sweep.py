"""Bad input everywhere, from the URL map.

The sweep walks ``app.url_map``. Every route must declare what it reads
(``tracker.arguments.declare``); every path argument, every declared query argument and
every field of every declared form gets each of ``NASTY`` in turn (and twice over, as a
duplicate), from an admin (who may use every console route) signed in with a valid CSRF
token, each time on top of a baseline that would otherwise be accepted. For each answer:

- never a 5xx;
- a refusal (4xx) shows no English WTForms message on an Indonesian page, and changes no
  table; the audit trail may gain only the row a refusal records (``denied``, a failed
  sign-in) or, for a read, the row the read records;
- an accepted input is stored as sent; the next input gets fresh targets;
- an HTML page never carries the ``<script>`` it was sent, and a feed and every XML answer
  (Open311's, errors included) stay well formed.

85 routes; 173 arguments and fields × 20 inputs: 3,460 requests per database (the
opening hours' 28 alike fields are swept on the first and last day; ``?lang=``, which
every page reads the same way, on the home page).
"""

from __future__ import annotations

import datetime as dt
import html
import json
import re
import xml.etree.ElementTree as ET
from collections.abc import Iterator
from dataclasses import dataclass, field
from typing import Any
from urllib.parse import quote

import pytest
from flask import Flask
from sqlalchemy import Engine, select, text
from werkzeug.datastructures import MultiDict
from wtforms import StringField, TextAreaField

from tests.factories import csrf_token, sign_in
from tests.sweep_baselines import BASELINES, Baseline, Targets
from tracker.announcements import operations as announce
from tracker.api.guard import keyed_views
from tracker.models import Base
from tracker.web.arguments import COMMON, declaration

SCRIPT = "<script>alert(1)</script>"
NASTY = [
    "",
    "x" * 10_000,
    "a\x00b",
    "\x01Budi",
    "Budi\nSan\ttoso",
    "c1\x85\x9f\ufffe",
    "\u200b\u200c\u200d",
    "\u200e\u200f\u202e",
    "Ma\u200fruf \u202eabc",
    "😀 catatan",
    SCRIPT,
    str(2**63),
    str(10**20),
    "-1",
    "²٤",  # digits to str.isdigit(), not to int()
    "2026-02-30",
    "0001-01-01",
    "9999-12-31",
    "25:61",
]
DUPLICATE = object()  # the argument sent twice, with two different values
INPUTS = [*NASTY, DUPLICATE]
REFUSAL_ROWS = {"denied", "sign_in_failed"}
READ_ROWS = {"view_request", "search"}
AUDIT = "audit_trail"
WTFORMS_ENGLISH = [
    "Not a valid",
    "Invalid Choice",
    "Invalid choice",
    "Field cannot be longer",
    "Field must be",
    "This field is required",
    "Number must be",
    "Invalid input",
]
HOURS_FIELD = re.compile(r"d\d_p\d_(opens|closes)")
COMMON_ON = "lookup.index"  # the arguments every page reads (?lang=) are swept on one route
SHARDS = 4  # the cases are dealt into this many tests, for the workers of pytest -n


def dump(engine: Engine, audit_after: int = 0) -> dict[str, Any]:
    """Every table's rows, in key order: what the database holds (on PostgreSQL, a digest of
    each table's sorted rows, made by the server in one statement). The audit trail only
    grows (its rows refuse changes), so of it only the rows after ``audit_after`` are read."""
    tables = [t for t in Base.metadata.sorted_tables if t.name != AUDIT]
    audit = Base.metadata.tables[AUDIT]
    with engine.connect() as connection:
        if engine.dialect.name == "postgresql":
            digests = " UNION ALL ".join(
                f"SELECT '{t.name}', md5(coalesce(string_agg(r::text, '|' ORDER BY r::text), ''))"
                f' FROM "{t.name}" r'
                for t in tables
            )
            found: dict[str, Any] = dict(connection.execute(text(digests)).all())
        else:
            found = {t.name: list(connection.execute(t.select().order_by(*key(t)))) for t in tables}
        query = select(audit.c.id, audit.c.action).where(audit.c.id > audit_after)
        found[AUDIT] = list(connection.execute(query.order_by(audit.c.id)))
    return found


def key(table: Any) -> list[Any]:
    return list(table.primary_key.columns) or list(table.columns)


def stored_text(engine: Engine) -> str:
    """Every row of every table but the audit trail, as text."""
    with engine.connect() as connection:
        return "\n".join(
            repr(tuple(row))
            for table in Base.metadata.sorted_tables
            if table.name != AUDIT
            for row in connection.execute(table.select())
        )


@dataclass
class Case:
    endpoint: str
    method: str
    where: str  # "path", "query" or "form"
    name: str
    value: Any
    stored: bool = False  # a text field whose value the database keeps as typed
    query: Any = None  # the declared query form, whose refusals must name the argument


@dataclass
class Sweep:
    app: Flask
    client: Any
    targets: Targets
    engine: Engine
    token: str = ""
    sent: int = 0
    problems: list[str] = field(default_factory=list)
    state: dict[str, list[str]] = field(default_factory=dict)

    def refresh(self) -> None:
        self.token = csrf_token(self.client, "/staff/")
        self.state = self.dump()

    def dump(self) -> dict[str, Any]:
        rows = self.state.get(AUDIT) or [(0, "")]
        self.state = dump(self.engine, audit_after=rows[-1][0])
        self.state[AUDIT] = [rows[-1], *self.state[AUDIT]]
        return self.state

    def send(self, case: Case) -> None:
        baseline = BASELINES[case.endpoint]
        rule = self.app.url_map._rules_by_endpoint[case.endpoint][0]
        path = self._path(rule.rule, baseline, case)
        data = self._form(baseline, case) if case.method == "POST" else None
        headers = {}
        if case.endpoint in keyed_views(self.app):  # an API route that needs a key: a valid one
            headers["Authorization"] = "Bearer " + self.targets["bearer"]
        if self.targets.made:  # targets were made for this case: they are the state now
            self.targets.made = False
            self.dump()
            self.state[AUDIT] = self.state[AUDIT][-1:]
        if case.method == "GET":
            args = self._values(case) if case.where == "query" else MultiDict()
            answer = self.client.get(path, query_string=args, headers=headers)
        else:
            answer = self.client.post(path, data=data, headers=headers)
        self.sent += 1
        self._judge(case, baseline, answer)

    def _path(self, rule: str, baseline: Baseline, case: Case) -> str:
        def value(match: re.Match[str]) -> str:
            name = match.group(1)
            if case.where == "path" and case.name == name:
                typed = case.value if case.value is not DUPLICATE else "a/b"
                return quote(typed, safe="")
            return quote(self.targets.fill(baseline.path[name]), safe="/")

        return re.sub(r"<(?:[^:<>]+:)?(\w+)>", value, rule)

    def _values(self, case: Case) -> MultiDict[str, str]:
        if case.value is DUPLICATE:
            return MultiDict([(case.name, "1"), (case.name, "2")])
        return MultiDict([(case.name, case.value)])

    def _form(self, baseline: Baseline, case: Case) -> MultiDict[str, str]:
        prefix = baseline.prefix + "-" if baseline.prefix else ""
        data = MultiDict(
            [(prefix + k, self.targets.fill(v)) for k, v in baseline.form.items()]
            + [("csrf_token", self.token)]
        )
        if case.where == "form":
            key = prefix + case.name
            data.poplist(key)
            if case.value is DUPLICATE:
                data.setlist(key, [self.targets.fill(baseline.form.get(case.name, "1")), "2"])
            else:
                data[key] = case.value
        return data

    def _judge(self, case: Case, baseline: Baseline, answer: Any) -> None:
        where = f"{case.method} {case.endpoint} {case.where}:{case.name}={_short(case.value)}"
        body = answer.get_data(as_text=True)
        if answer.status_code >= 500:
            self.problems.append(f"{answer.status_code} from {where}")
            return
        if answer.mimetype == "text/html" and SCRIPT in body:
            self.problems.append(f"unescaped <script> in {where}")
        feed = answer.mimetype == "application/atom+xml" and answer.status_code == 200
        if feed or answer.mimetype == "application/xml":  # Open311's answers, errors included
            try:
                ET.fromstring(answer.data)
            except ET.ParseError as error:
                self.problems.append(f"malformed XML from {where}: {error}")
        before = self.state
        after = self.dump()
        self.state = before
        accepted = case.method == "POST" and answer.status_code < 400
        if accepted:
            self._accepted(case, baseline, after, where)
        else:
            self._unchanged(case, answer, body, after, where)
        self.state = after

    def _unchanged(self, case: Case, answer: Any, body: str, after: Any, where: str) -> None:
        for table, rows in after.items():
            if table != AUDIT and rows != self.state[table]:
                self.problems.append(f"{where} ({answer.status_code}) changed {table}")
        allowed = REFUSAL_ROWS | (READ_ROWS if case.method == "GET" else set())
        extra = {action for _, action in after[AUDIT][1:]} - allowed
        if extra:
            self.problems.append(f"{where} ({answer.status_code}) wrote audit rows {extra}")
        if answer.status_code >= 400:
            english = [text for text in WTFORMS_ENGLISH if text in body]
            if english:
                self.problems.append(f"{where} answers in English: {english}")
        label = self._refusing_label(case)
        if label:
            told = json.dumps(answer.get_json(), ensure_ascii=False) if answer.is_json else body
            if answer.status_code != 400 or f"“{label}”" not in html.unescape(told):
                self.problems.append(f"{where} is refused without naming “{label}”")

    def _refusing_label(self, case: Case) -> str:
        """The argument's Indonesian name, if its declaration refuses the value."""
        if case.query is None:
            return ""
        with self.app.test_request_context(headers={"Accept-Language": "id"}):
            form = case.query(self._values(case))
            return "" if form.validate() else str(form[case.name].label.text)

    def _accepted(self, case: Case, baseline: Baseline, after: Any, where: str) -> None:
        value = case.value
        if case.stored and isinstance(value, str) and value.strip():
            stored = stored_text(self.engine)
            if value.strip() not in stored and repr(value.strip())[1:-1] not in stored:
                self.problems.append(f"{where} was accepted but not stored as sent")
        self.targets.consume(baseline.uses)
        if case.endpoint == "staff.login":
            self.token = csrf_token(self.client, "/staff/")


def _short(value: Any) -> str:
    if value is DUPLICATE:
        return "<twice>"
    return repr(value if len(value) < 30 else value[:12] + f"…({len(value)})")


def cases(app: Flask) -> Iterator[Case]:
    """Every route × every argument it declares × every input."""
    for rule in sorted(app.url_map.iter_rules(), key=lambda r: (r.endpoint, r.rule)):
        declared = declaration(app.view_functions[rule.endpoint])
        if rule.endpoint == "staff.logout":
            continue
        for method in sorted((rule.methods or set()) & {"GET", "POST"}):
            places = [("path", name, False) for name in sorted(rule.arguments)]
            if method == "GET":
                names = query_names(declared) - (COMMON if rule.endpoint != COMMON_ON else set())
                places += [("query", name, False) for name in sorted(names)]
            elif declared is not None and declared.form is not None:
                places += [("form", *named) for named in form_fields(app, declared.form)]
            for where, name, stored in places:
                query = declared.query if declared is not None and where == "query" else None
                for value in INPUTS:
                    yield Case(rule.endpoint, method, where, name, value, stored, query)


def query_names(declared: Any) -> frozenset[str]:
    return declared.query_names() if declared is not None else COMMON


def form_fields(app: Flask, form_class: Any) -> list[tuple[str, bool]]:
    """A form's fields, and whether each is text the database keeps as typed. Of the
    opening hours' 28 alike fields (one validator, made in a loop) the first day's and
    the last day's are swept."""
    with app.test_request_context():
        fields = form_class(meta={"csrf": False})._fields.items()
        return [
            (name, type(f) in (StringField, TextAreaField))
            for name, f in fields
            if not HOURS_FIELD.fullmatch(name) or name[1] in "06"
        ]


def test_every_route_declares_what_it_reads_and_has_a_baseline(app: Flask) -> None:
    """A new route cannot escape the sweep: it needs a declaration and a baseline."""
    missing = [
        rule.endpoint
        for rule in app.url_map.iter_rules()
        if rule.endpoint != "static" and declaration(app.view_functions[rule.endpoint]) is None
    ]
    assert missing == []
    assert sorted({r.endpoint for r in app.url_map.iter_rules()}) == sorted(BASELINES)


@pytest.fixture
def sweep(app: Flask, client: Any, make_request: Any, make_account: Any) -> Sweep:
    boss = make_account("admin")
    assert sign_in(client, boss.username).status_code == 303
    engine = app.extensions["siapambil.db"]["engine"]
    found = Sweep(app, client, Targets(make_request, make_account, boss), engine)
    found.refresh()
    return found


@pytest.mark.parametrize("shard", range(SHARDS))
def test_the_sweep(app: Flask, sweep: Sweep, session: Any, shard: int) -> None:
    """Every route × every declared argument × every bad input: no 5xx, no changed table.
    The cases are dealt round into ``SHARDS`` shards, each on a database of its own, so that
    the workers of ``pytest -n`` share them out."""
    for number, case in enumerate(cases(app)):
        if number % SHARDS == shard:
            sweep.send(case)
    announce.publish(session, dt.datetime(2099, 6, 1, 2, 0, tzinfo=dt.UTC))
    session.commit()  # what the sweep stored, announced: the feed must still parse
    feed = sweep.client.get("/pengumuman.atom")
    assert feed.status_code == 200 and ET.fromstring(feed.data) is not None
    answer = sweep.client.post("/staff/logout", data={"csrf_token": sweep.token})
    assert answer.status_code == 303
    print(f"sweep, shard {shard}: {sweep.sent} requests")  # noqa: T201 - the docstring's sums
    assert not sweep.problems, "\n".join(sweep.problems)
