"""The public statistics: the daily roll-up (exact counts and durations across a local midnight,
idempotent, catching up), the percentiles, and /statistik with its CSV and JSON (the same
figures, bad arguments, ETags, and no personal data)."""

from __future__ import annotations

import csv
import datetime as dt
import io
import re
from typing import Any

import pytest
from flask_babel import force_locale, gettext
from lxml import html
from sqlalchemy import select

from jobs.commands import jobs as jobs_cli
from tracker.models import DailyFigure, Office, Request, Service, utcnow
from tracker.receipts import format_grouped
from tracker.statistics import figures as statistics
from tracker.statistics.figures import Period, percentile
from tracker.status import Status
from tracker.web.formatters import format_percent

S = Status
WITA = "Asia/Makassar"  # UTC+8
NOV = 11


def utc(day: int, hour: int, minute: int = 0) -> dt.datetime:
    return dt.datetime(2025, NOV, day, hour, minute, tzinfo=dt.UTC)


NOW = utc(14, 2)  # when the figures are read


def local(day: int) -> dt.date:
    return dt.date(2025, NOV, day)


def history(make_request: Any, office: str, steps: list[tuple[Status, dt.datetime]]) -> Request:
    """A request of ``office`` (KTP-el, 3 working days) taken in at the first moment and moved
    through each status at its moment."""
    (_first, created), *moves = steps
    request = make_request(S.SUBMITTED, office=office, at=created)
    for to, at in moves:
        make_request.move(request, to, at=at)
    make_request.session.commit()
    return request


@pytest.fixture
def wita_history(make_request: Any, session: Any) -> dict[str, Request]:
    """Four requests at Lebak, moved to WITA (UTC+8), some of them across local midnights,
    in a fortnight without public holidays (Monday 3 to Friday 14 November 2025)."""
    lebak = session.scalars(select(Office).where(Office.code == "36.02")).one()
    lebak.timezone = WITA
    session.commit()
    made = {
        # In at 00.30 on Tuesday 4 (local; still Monday in UTC and in WIB); ready at 00.10 on
        # Saturday 8: 3 working days (Wed, Thu, Fri), within target. Collected Sunday 9, 23.59.
        "a": [
            (S.SUBMITTED, utc(3, 16, 30)),
            (S.VERIFYING, utc(4, 2)),
            (S.PROCESSING, utc(5, 2)),
            (S.READY, utc(7, 16, 10)),
            (S.COLLECTED, utc(9, 15, 59)),
        ],
        # In Tuesday 4, ready Monday 10: 4 working days, late; delivered Tuesday 11.
        "b": [
            (S.SUBMITTED, utc(4, 1)),
            (S.VERIFYING, utc(4, 2)),
            (S.PROCESSING, utc(6, 2)),
            (S.READY, utc(10, 2)),
            (S.DELIVERING, utc(10, 3)),
            (S.DELIVERED, utc(11, 2)),
        ],
        # In Wednesday 5, never finished.
        "c": [(S.SUBMITTED, utc(5, 2)), (S.VERIFYING, utc(5, 3)), (S.PROCESSING, utc(5, 4))],
        # In and ready Wednesday 5 (0 days); returned Thursday 13, so it waits uncollected.
        "d": [
            (S.SUBMITTED, utc(5, 3)),
            (S.VERIFYING, utc(5, 4)),
            (S.PROCESSING, utc(5, 5)),
            (S.READY, utc(5, 7)),
            (S.RETURNED, utc(13, 2)),
        ],
    }
    found = {key: history(make_request, "36.02", steps) for key, steps in made.items()}
    # In WIB at the same moment as "a": never part of the WITA roll-up.
    found["wib"] = history(make_request, "36.73", made["a"][:1])
    return found


def rows(session: Any) -> set[tuple]:
    found = {
        (f.office_id, f.service_id, f.day, f.received, f.finished, f.within_target, f.collected,
         tuple(f.durations))
        for f in session.scalars(select(DailyFigure))
    }  # fmt: skip
    session.commit()
    return found


def expected(office_id: int, service_id: int) -> set[tuple]:
    return {
        (office_id, service_id, day, *counts)
        for day, counts in {
            local(4): (2, 0, 0, 0, ()),
            local(5): (2, 1, 1, 0, (1,)),
            local(8): (0, 1, 1, 0, (0, 0, 0, 1)),
            local(9): (0, 0, 0, 1, ()),
            local(10): (0, 1, 0, 0, (0, 0, 0, 0, 1)),
            local(11): (0, 0, 0, 1, ()),
        }.items()
    }


def test_roll_up_counts_local_days_and_working_days(session, wita_history) -> None:
    a = wita_history["a"]
    done = statistics.roll_up(session, WITA, today=local(14))
    session.commit()
    assert (done.first, done.last) == (local(4), local(13))
    assert rows(session) == expected(a.office_id, a.service_id)


def test_roll_up_twice_changes_nothing(session, wita_history) -> None:
    statistics.roll_up(session, WITA, today=local(14))
    session.commit()
    once = rows(session)
    again = statistics.roll_up(session, WITA, today=local(14))
    session.commit()
    assert rows(session) == once and again.first == local(10)  # the last row on file, less 1


def test_roll_up_catches_up_after_missed_days(session, wita_history) -> None:
    a = wita_history["a"]
    early = statistics.roll_up(session, WITA, today=local(7))
    session.commit()
    assert early.last == local(6) and {r[2] for r in rows(session)} == {local(4), local(5)}
    later = statistics.roll_up(session, WITA, today=local(14))  # a week of runs missed
    session.commit()
    assert later.first == local(4) and later.last == local(13)
    assert rows(session) == expected(a.office_id, a.service_id)
    wib = statistics.roll_up(session, "Asia/Jakarta", today=local(14))
    session.commit()
    assert wib.rows == 1 and len(rows(session)) == len(expected(0, 0)) + 1


def test_figures_of_a_period_add_up_the_days(session, wita_history) -> None:
    statistics.roll_up(session, WITA, today=local(14))
    session.commit()
    period = Period.ending(local(13), weeks=4)
    assert (period.first, period.last) == (dt.date(2025, 10, 20), local(13))
    found = statistics.gather(session, period, "36.02", now=NOW)
    session.commit()
    [office] = found.offices
    [ktp] = [s for s in office.services if s.code == "ktp-el"]
    f = ktp.figures
    assert (f.received, f.finished, f.within_target, f.collected, f.waiting) == (4, 3, 2, 2, 1)
    assert (f.median_days, f.p90_days) == (3, 4)
    assert office.total == f == found.total
    assert [(w.monday, w.received, w.finished, w.within_target) for w in found.weekly[-2:]] == [
        (local(3), 4, 2, 2),
        (local(10), 0, 1, 0),
    ]
    assert found.weekly[-1].last == local(13) and len(found.weekly) == 4
    with pytest.raises(LookupError):
        statistics.gather(session, period, "99.99", now=NOW)


@pytest.mark.parametrize(
    ("histogram", "median", "p90"),
    [
        ([], None, None),
        ([0, 0, 0], None, None),
        ([0, 0, 3], 2, 2),
        ([1, 1, 1, 1], 1, 3),  # ranks 2 and 4 of 4 (nearest rank: ceil(p * n))
        ([1] * 10, 4, 8),
        ([9, 0, 0, 1], 0, 0),  # nine in ten took no working day
        ([8, 0, 0, 2], 0, 3),
        ([1] + [0] * 59 + [1], 0, 60),  # 60 counts everything longer
    ],
)
def test_percentiles_take_the_nearest_rank(histogram, median, p90) -> None:
    assert (percentile(histogram, 0.5), percentile(histogram, 0.9)) == (median, p90)


@pytest.fixture
def demo(runner, session) -> dict[str, Any]:
    """The demo, whose command rolls its past up into the figures."""
    result = runner.invoke(args=["demo", "--per-status", "3", "--seed", "11"])
    assert result.exit_code == 0, result.output
    assert re.search(r"Statistics: [1-9]\d* daily figures", result.output)
    people = session.execute(
        select(Request.receipt, Request.nik, Request.phone, Request.email,
               Request.applicant_name)
    ).all()  # fmt: skip
    session.commit()
    return {"output": result.output, "people": people}


def cells(row: Any) -> list[str]:
    return [cell.text_content().strip() for cell in row.xpath("./th|./td")]


def test_page_csv_and_json_show_the_same_figures(client, demo) -> None:
    data = client.get("/statistik.json?minggu=52").get_json()
    assert data["period"]["weeks"] == 52 and set(data["definitions"]["median_days"]) == {
        "id",
        "en",
    }
    assert data["totals"]["finished"] > 0 and len(data["weekly"]) == 52
    assert sum(w["received"] for w in data["weekly"]) == data["totals"]["received"]
    table = list(csv.DictReader(io.StringIO(client.get("/statistik.csv?minggu=52").text)))
    services = {s["code"]: s for s in data["services"]}
    assert len(table) == len(data["offices"]) * len(services)
    for row in table:
        [office] = [o for o in data["offices"] if o["code"] == row["office_code"]]
        [shown] = [s for s in office["services"] if s["code"] == row["service_code"]]
        for key in ("received", "finished", "within_target", "collected", "waiting_uncollected"):
            assert int(row[key]) == shown[key]
    page = html.fromstring(
        client.get("/statistik?minggu=52", headers={"Accept-Language": "id"}).text
    )
    [body] = page.xpath('//table[@id="services-table"]/tbody')
    by_name = {s["name_id"]: s for s in data["services"]}
    for row in body.xpath("./tr"):
        name, received, finished, share, _median, _p90, collected, waiting = cells(row)
        service = by_name[name.rsplit(" (", 1)[0]]
        assert [int(received), int(finished), int(collected), int(waiting)] == [
            service["received"],
            service["finished"],
            service["collected"],
            service["waiting_uncollected"],
        ]
        fraction = service["within_target"] / service["finished"] if service["finished"] else None
        assert share == format_percent(fraction, "id")
    [total] = page.xpath('//table[@id="offices-table"]/..')  # every office has its row
    assert len(total.xpath(".//tbody/tr")) == len(data["offices"])
    assert len(page.xpath('//svg[@role="img"]/title[@id]')) == 8  # each chart wide and narrow


def test_a_chosen_office_is_all_that_is_shown(client, demo) -> None:
    data = client.get("/statistik.json?kantor=36.02&minggu=4").get_json()
    assert [o["code"] for o in data["offices"]] == ["36.02"] and data["office"] == "36.02"
    assert data["totals"] == data["offices"][0]["totals"]
    page = client.get("/statistik?kantor=36.02&minggu=4").text
    assert "offices-table" not in page and 'value="36.02" selected' in page


def expected_message(app: Any, text: str, **values: Any) -> str:
    with app.test_request_context(), force_locale("id"):
        return gettext(text, **values)


@pytest.mark.parametrize(
    ("query", "text", "values"),
    [
        ("minggu=5", "The period must be 4, 12, 26 or 52 weeks; “%(weeks)s” is not one of them.",
         {"weeks": "5"}),
        ("minggu=dua", "The period must be 4, 12, 26 or 52 weeks; “%(weeks)s” is not one of them.",
         {"weeks": "dua"}),
        ("kantor=99.99", "There is no office with the code “%(code)s”.", {"code": "99.99"}),
    ],
)  # fmt: skip
def test_bad_arguments_are_told_in_the_readers_language(app, client, query, text, values) -> None:
    message = expected_message(app, text, **values)
    headers = {"Accept-Language": "id"}
    page = client.get(f"/statistik?{query}", headers=headers)
    assert page.status_code == 400 and message in page.text and 'lang="id"' in page.text
    data = client.get(f"/statistik.json?{query}", headers=headers)
    assert data.status_code == 400 and data.get_json()["error"] == {
        "code": "bad_query",
        "message": message,
    }
    table = client.get(f"/statistik.csv?{query}", headers=headers)
    assert table.status_code == 400 and table.text.strip() == message


@pytest.mark.parametrize("path", ["/statistik", "/statistik.csv", "/statistik.json"])
def test_answers_are_cached_and_a_known_etag_gets_a_304(app, client, path) -> None:
    first = client.get(path)
    assert first.status_code == 200 and first.headers["ETag"].startswith('W/"')
    seconds = app.config["STATS_CACHE_SECONDS"]
    assert first.headers["Cache-Control"] == f"public, max-age={seconds}"
    again = client.get(path, headers={"If-None-Match": first.headers["ETag"]})
    assert again.status_code == 304 and not again.data
    other = client.get(f"{path}?minggu=4", headers={"If-None-Match": first.headers["ETag"]})
    assert other.status_code == 200


def test_charts_keep_to_the_content_security_policy(client) -> None:
    answer = client.get("/statistik")
    assert "style-src 'self'" in answer.headers["Content-Security-Policy"]
    svg = "".join(re.findall(r"<svg.*?</svg>", answer.text, re.S))
    assert svg.count("<svg") == 8  # four charts, each drawn wide and narrow
    for blocked in ("<style", "<script", "style=", "<!--", 'id="activate-serie'):
        assert blocked not in svg


def test_no_personal_data_in_any_statistics_answer(client, demo) -> None:
    paths = ("/statistik?minggu=52", "/statistik.csv?minggu=52", "/statistik.json?minggu=52")
    headers = [{"Accept-Language": language} for language in ("id", "en")]
    bodies = [client.get(path, headers=h).text for path in paths for h in headers]
    assert len(demo["people"]) == 3 * len(Status)
    for receipt, nik, phone, email, name in demo["people"]:
        for needle in (receipt, format_grouped(receipt), nik, phone, email, name):
            for body in bodies:
                assert not needle or needle not in body


def test_the_deadlines_job_rolls_yesterday_up(runner, make_request, session) -> None:
    make_request(S.READY, at=utcnow() - dt.timedelta(days=3))
    result = runner.invoke(jobs_cli, ["run-once", "deadlines-wib"])
    assert result.exit_code == 0, result.output
    assert "'figures': " in result.output and "'overdue': " in result.output
    made = session.scalars(select(DailyFigure)).all()
    assert sum(f.received for f in made) == 1
    ktp = session.scalars(select(Service).where(Service.code == "ktp-el")).one()
    assert {f.service_id for f in made} == {ktp.id}
    session.commit()


def test_a_name_a_spreadsheet_would_run_is_inert_in_the_csv(client, demo, session) -> None:
    """Office and service names are typed by staff, and the CSV is public: a name that
    begins like a formula gets a leading ``'`` in the CSV (a spreadsheet shows it as text),
    and stays as it is in the JSON. The control: every other name is as stored."""
    formula = '=HYPERLINK("http://calo.example","Klik")'
    office = session.scalars(select(Office).order_by(Office.id)).first()
    service = session.scalars(select(Service).order_by(Service.id)).first()
    office.name, service.name_id = formula, "@SUM(1+1)"
    session.commit()
    table = list(csv.DictReader(io.StringIO(client.get("/statistik.csv?minggu=52").text)))
    mine = [row for row in table if row["office_code"] == office.code]
    assert mine and all(row["office_name"] == "'" + formula for row in mine)
    assert {row["service_name_id"] for row in table if row["service_code"] == service.code} == {
        "'@SUM(1+1)"
    }
    others = [row for row in table if row["office_code"] != office.code]
    assert others and not any(row["office_name"].startswith("'") for row in others)
    data = client.get("/statistik.json?minggu=52").get_json()
    assert formula in [o["name"] for o in data["offices"]]
