"""Every page of the console, found from the URL map, checked against WCAG 2.1 AA with axe
in Chromium, as an admin (who may open every one)."""

from __future__ import annotations

from typing import Any

import pytest

from tests.test_browser_staff import no_violations, sign_in
from tracker.status import Status

pytestmark = pytest.mark.browser

JSON_ONLY = {"staff.batch_check"}  # answers a script, not a reader


def console_pages(app: Any, values: dict[str, str]) -> list[str]:
    """Every GET page under /staff, its path arguments filled from ``values``."""
    pages = []
    for rule in app.url_map.iter_rules():
        if not rule.rule.startswith("/staff") or "GET" not in rule.methods:
            continue
        if rule.endpoint in JSON_ONLY or rule.endpoint == "staff.login":
            continue
        pages.append(rule.rule.replace("<", "{").replace(">", "}").format(**values))
    return sorted(pages)


def test_every_console_page_passes_axe(desk, app, live_server, make_account, make_request, session):
    ready = make_request(Status.READY)
    values = {"receipt": ready.receipt, "status": "ready", "code": ready.pickup_point.code,
              "username": "x", "office_code": "36.73",
              "service_code": ready.service.code}  # fmt: skip
    pages = console_pages(app, values)
    assert len(pages) >= 12 and f"/staff/r/{ready.receipt}" in pages
    admin = make_account("admin")
    session.commit()
    sign_in(desk, live_server, admin.username)
    for path in [*pages, f"/staff/handover?no={ready.receipt}", "/staff/search?q=Budi"]:
        desk.goto(live_server + path)
        no_violations(desk)
